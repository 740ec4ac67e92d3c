// `containctl debug sign`: see aws/debug_sign.h. Credentials come from the chain, the region from
// the global --region (then the environment and the profile), never from this command's flags.
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/credential_chain.h"
#include "aws/curl_transport.h"
#include "aws/debug_sign.h"
#include "orchestrator/cli_common.h"

namespace containctl::orch {
namespace {

struct DebugSignFlags {
  std::string method;
  std::string url;
  std::vector<std::string> headers;
  std::string body_file;
  std::string service;
  std::string timestamp;
  bool s3 = false;
  int presign = 0;
};

int run_debug_sign(const GlobalOptions& g, const DebugSignFlags& f, const CLI::App& cmd) {
  aws::DebugSignInput in;
  in.method = f.method;
  in.url = f.url;
  in.headers = f.headers;
  if (cmd.count("--body-file")) in.body_file = f.body_file;
  in.service = f.service;
  in.region = aws::resolve_region(g.region, g.profile);
  if (cmd.count("--timestamp")) in.timestamp = f.timestamp;
  in.s3 = f.s3;
  if (cmd.count("--presign")) in.presign_seconds = f.presign;

  aws::ChainOptions chain;
  chain.profile = g.profile;
  chain.region = in.region;
  chain.transport = std::make_shared<aws::CurlTransport>();
  chain.endpoints = aws::EndpointOverrides::from_environment(g.endpoint_url);
  auto provider = aws::default_credentials_provider(chain);
  if (!provider.ok()) return report_error(g, provider.error());
  auto creds = (*provider)->credentials();
  if (!creds.ok()) return report_error(g, creds.error());
  auto doc = aws::debug_sign(in, *creds);
  if (!doc.ok()) return report_error(g, doc.error());
  // The command exists to print JSON, whatever --output says.
  std::cout << doc->dump(2) << std::endl;
  return kExitOk;
}

}  // namespace

void add_debug_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  auto* debug = app.add_subcommand("debug", "diagnostics");
  debug->require_subcommand(1);
  auto flags = std::make_shared<DebugSignFlags>();
  auto* sign = debug->add_subcommand("sign", "sign a request with the credential chain and print every SigV4 step");
  sign->add_option("--method", flags->method, "HTTP method (GET, POST, PUT...)")->required();
  sign->add_option("--url", flags->url, "absolute URL, path and query encoded as on the wire")->required();
  sign->add_option("--header", flags->headers, "'Name: value' (repeatable)");
  sign->add_option("--body-file", flags->body_file, "file holding the request body");
  sign->add_option("--service", flags->service, "signing name (ec2, iam, s3, ...)")->required();
  sign->add_option("--timestamp", flags->timestamp, "signing time YYYYMMDDTHHMMSSZ (default: now)");
  sign->add_flag("--s3", flags->s3, "S3 rules: path signed as given, x-amz-content-sha256");
  sign->add_option("--presign", flags->presign, "presigned URL valid for SECONDS instead of a header")
      ->check(CLI::Range(1, 604800));
  sign->callback([&g, &rc, flags, sign] { rc = run_debug_sign(g, *flags, *sign); });
}

}  // namespace containctl::orch
