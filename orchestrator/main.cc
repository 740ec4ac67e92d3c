#include "orchestrator/cli.h"

int main(int argc, char** argv) { return containctl::orch::run_cli(argc, argv); }
