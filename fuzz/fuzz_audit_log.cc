// The audit log as found after a crash or an edit, with its anchor and key beside it: open (to
// continue the chain), verify and read must report, never crash. Appending to a log verify
// accepted must leave one it still accepts.
//
// Input: byte 0 says what lies beside the log; byte 1 picks a record; then the log, and after the
// first NUL byte the anchor's text.
//   bit 0  an anchor file is there
//   bit 1  ...signed with the state directory's key for the picked record, its seq moved by bits
//          2-3 (0, +1, -1, +5), so verify gets past the signature to the seq and hash checks;
//          otherwise the anchor is the text after the NUL (garbled, unsigned or forged)
//   bit 4  the key pair is there (else a log whose key was removed)
//   bit 5  --expect-head is the picked record's hash
//   bit 6  the log is opened for append (repairing a torn tail) and one record appended
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "approvals/keys.h"
#include "aws/clock.h"
#include "fuzz/fuzz_util.h"
#include "orchestrator/audit_log.h"

namespace {
using namespace containctl;
using nlohmann::json;

struct Place {
  std::string dir, log, key_pem, pub_pem;
  ~Place() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

// A private directory per process, with one key pair made once and put back for every input.
const Place& place() {
  static const Place p = [] {
    Place p;  // removed with its directory at exit
    const char* env = std::getenv("TMPDIR");
    std::string base = env && *env ? env : (::access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp");
    p.dir = base + "/containctl-fuzz-audit-" + std::to_string(getpid());
    std::filesystem::remove_all(p.dir);
    auto made = approvals::generate_keypair_files("audit", p.dir);
    if (!made.ok()) fuzz::invariant_failed("audit key", made.error().message);
    p.log = p.dir + "/audit.jsonl";
    p.key_pem = fuzz::read_file(orch::audit_private_key_path(p.log));
    p.pub_pem = fuzz::read_file(orch::audit_public_key_path(p.log));
    return p;
  }();
  return p;
}

// The picked line's seq and hash when it is a record, so a signed anchor can name it.
bool record_at(const std::string& log, uint8_t pick, uint64_t& seq, std::string& hash) {
  std::vector<std::string> lines;
  for (size_t start = 0; start < log.size();) {
    size_t nl = log.find('\n', start);
    lines.push_back(log.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    start = nl == std::string::npos ? log.size() : nl + 1;
  }
  if (lines.empty()) return false;
  json rec = json::parse(lines[pick % lines.size()], nullptr, false);
  if (!rec.is_object() || !rec.contains("seq") || !rec["seq"].is_number_unsigned() || !rec.contains("hash") ||
      !rec["hash"].is_string())
    return false;
  seq = rec["seq"].get<uint64_t>();
  hash = rec["hash"].get<std::string>();
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const Place& p = place();
  const uint8_t flags = data[0], pick = data[1];
  std::string rest = fuzz::as_string(data + 2, size - 2);
  size_t nul = rest.find('\0');
  std::string log = rest.substr(0, nul);
  std::string anchor = nul == std::string::npos ? std::string() : rest.substr(nul + 1);

  std::filesystem::remove_all(p.dir);
  std::filesystem::create_directory(p.dir);
  ::chmod(p.dir.c_str(), 0700);
  fuzz::write_file(p.log, log);
  if (flags & 0x10) {
    fuzz::write_file(orch::audit_private_key_path(p.log), p.key_pem);
    fuzz::write_file(orch::audit_public_key_path(p.log), p.pub_pem);
  }
  uint64_t seq = 0;
  std::string hash;
  const bool picked = record_at(log, pick, seq, hash);
  if (flags & 0x01) {
    if ((flags & 0x02) && picked) {
      static const int64_t kMove[] = {0, 1, -1, 5};
      uint64_t named = seq + static_cast<uint64_t>(kMove[(flags >> 2) & 3]);
      auto sig = approvals::sign_with_pem(p.key_pem, orch::audit_head_payload(named, hash), "fuzz");
      if (!sig.ok()) fuzz::invariant_failed("sign anchor", sig.error().message);
      anchor = json{{"seq", named}, {"hash", hash}, {"signature", *sig}}.dump() + "\n";
    }
    fuzz::write_file(orch::audit_head_path(p.log), anchor);
  }

  const std::string expect = (flags & 0x20) && picked ? hash : "";
  auto verified = orch::verify_audit_log(p.log, expect);
  (void)orch::read_audit_log(p.log);
  if (flags & 0x40) {
    aws::TimePoint start;
    aws::parse_time("2026-12-02T08:00:00Z", start);
    aws::ManualClock clock(start);
    auto opened = orch::AuditLog::open(p.log, clock, {.repair_torn_tail = true});
    if (opened.ok() && (*opened)->append("fuzz_appended", {{"n", size}}).ok() && verified.ok() && verified->ok &&
        expect.empty()) {
      auto again = orch::verify_audit_log(p.log);
      FUZZ_CHECK(again.ok() && again->ok, again.ok() ? again->problem : again.error().message);
    }
  }
  return 0;
}
