#include "orchestrator/audit_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <openssl/crypto.h>

#include "approvals/keys.h"
#include "aws/sigv4.h"

namespace containctl::orch {

using nlohmann::json;

namespace {

constexpr const char* kReserved[] = {"seq", "time", "event", "prev_hash", "hash"};
constexpr const char* kSecretWords[] = {"secret",     "password",   "passwd", "token",
                                        "signature",  "authorization", "credential", "private_key"};

bool looks_secret(const std::string& key) {
  std::string k = key;
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  k.erase(std::remove(k.begin(), k.end(), '-'), k.end());
  for (const char* w : kSecretWords) {
    std::string word = w;
    if (k.find(word) != std::string::npos) return true;
    word.erase(std::remove(word.begin(), word.end(), '_'), word.end());
    if (k.find(word) != std::string::npos) return true;
  }
  return false;
}

class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() { ::flock(fd_, LOCK_UN); }

 private:
  int fd_;
};

Status write_all(int fd, const std::string& text, const std::string& path) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t w = ::write(fd, text.data() + off, text.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Error::io(path + ": write failed: " + std::strerror(errno));
    }
    off += static_cast<size_t>(w);
  }
  return Ok{};
}

Status write_head(const std::string& head, uint64_t seq, const std::string& hash, const std::string& signature) {
  std::string tmp = head + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Error::io(tmp + ": cannot write audit anchor: " + std::strerror(errno));
  ::fchmod(fd, 0600);
  Status st = write_all(fd, json{{"seq", seq}, {"hash", hash}, {"signature", signature}}.dump() + "\n", tmp);
  if (st.ok() && ::fsync(fd) != 0) st = Error::io(tmp + ": fsync failed: " + std::strerror(errno));
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), head.c_str()) != 0)
    st = Error::io(head + ": cannot replace audit anchor: " + std::strerror(errno));
  return st;
}

// Reads a small file without following a symlink at its last component.
Result<std::string> read_nofollow(const std::string& path, const char* what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return Error::io(std::string("cannot read ") + what + " " + path + ": " + std::strerror(errno) +
                     (errno == ELOOP ? " (a symbolic link: refused)" : ""));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int err = n < 0 ? errno : 0;
  ::close(fd);
  if (err) return Error::io(std::string("cannot read ") + what + " " + path + ": " + std::strerror(err));
  return out;
}

std::string dir_of(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

Result<std::string> slurp(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io(std::string("cannot read ") + what + " " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Lines of `text`; `partial` is set when the last one has no newline.
std::vector<std::string> split_lines(const std::string& text, bool& partial) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      partial = true;
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace

std::string audit_head_path(const std::string& log_path) {
  const std::string ext = ".jsonl";
  if (log_path.size() > ext.size() && log_path.compare(log_path.size() - ext.size(), ext.size(), ext) == 0)
    return log_path.substr(0, log_path.size() - ext.size()) + ".head";
  return log_path + ".head";
}

std::string audit_private_key_path(const std::string& log_path) { return dir_of(log_path) + "/audit.key.pem"; }
std::string audit_public_key_path(const std::string& log_path) { return dir_of(log_path) + "/audit.pub.pem"; }

std::string audit_head_payload(uint64_t seq, const std::string& hash) {
  return "containctl-audit-head-v1\n" + std::to_string(seq) + "\n" + hash + "\n";
}

std::string audit_record_hash(const json& record) {
  json copy = record;
  copy.erase("hash");
  return aws::sha256_hex(copy.dump(-1, ' ', false, json::error_handler_t::replace));
}

json redact_secrets(const json& fields) {
  if (fields.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : fields.items()) out[k] = looks_secret(k) ? json("[REDACTED]") : redact_secrets(v);
    return out;
  }
  if (fields.is_array()) {
    json out = json::array();
    for (const auto& v : fields) out.push_back(redact_secrets(v));
    return out;
  }
  if (fields.is_string()) {
    // Case-insensitive, and canonical-request / string-to-sign blocks cut (an AWS error text).
    return aws::redact_service_text(fields.get_ref<const std::string&>());
  }
  return fields;
}

std::string format_time_ms(aws::TimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  if (secs > t) secs -= std::chrono::seconds(1);
  std::string s = aws::format_iso8601(secs);  // "...:SSZ"
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(((ms % 1000) + 1000) % 1000));
  return s.substr(0, s.size() - 1) + frac + "Z";
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path, aws::Clock& clock,
                                                 const AuditOpenOptions& options) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return Error::io("cannot create " + parent.string() + ": " + ec.message());
    ::chmod(parent.c_str(), 0700);
  }
  const std::string key_path = audit_private_key_path(path);
  const bool key_existed = std::filesystem::exists(std::filesystem::symlink_status(key_path, ec));
  const bool log_existed = std::filesystem::exists(std::filesystem::symlink_status(path, ec));
  const bool head_existed = std::filesystem::exists(std::filesystem::symlink_status(audit_head_path(path), ec));
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return Error::io(path + ": cannot open audit log: " + std::strerror(errno) +
                     (errno == ELOOP ? " (a symbolic link: refused)" : ""));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::io(path + ": the audit log is not a regular file");
  }
  if ((st.st_mode & 077) && st.st_uid == ::geteuid()) ::fchmod(fd, 0600);
  std::unique_ptr<AuditLog> log(new AuditLog(path, fd, clock));
  {
    FileLock lock(fd);
    // The key is made with the first record, under this lock (see write_signed_head): while it
    // exists the log is never legitimately empty, and it is never read half-written.
    if (std::filesystem::exists(std::filesystem::symlink_status(key_path, ec))) {
      CC_ASSIGN(log->key_pem_, read_nofollow(key_path, "audit key"));
    }
    uint64_t seq;
    std::string hash;
    Status tail = log->read_tail(seq, hash);
    if (!tail.ok()) {
      if (!options.repair_torn_tail || tail.error().code != "TornAuditRecord") return tail.error();
    }
  }
  if (options.repair_torn_tail) {
    // Outside the lock: repair takes it itself.
    uint64_t seq;
    std::string hash;
    bool torn = false;
    {
      FileLock lock(fd);
      auto t = log->read_tail(seq, hash);
      torn = !t.ok() && t.error().code == "TornAuditRecord";
    }
    if (torn) {
      log.reset();
      CC_TRY(repair_audit_log(path, clock, "automatic: the last record was cut short; repaired so recovery can start"));
      return AuditLog::open(path, clock, {});
    }
  }
  if (key_existed && st.st_size == 0 && !head_existed) {
    // The key says a log was kept here; the log and its anchor are gone.
    CC_TRY(log->append("audit_chain_restarted",
                       {{"reason", std::string("the audit log ") + (log_existed ? "was empty" : "was missing") +
                                       " and its anchor missing while the state directory's audit key exists: "
                                       "they were deleted; this record starts a new chain"}}));
  }
  return log;
}


Status AuditLog::read_tail(uint64_t& seq, std::string& hash) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return Error::io(path_ + ": fstat failed: " + std::strerror(errno));
  if (st.st_size == known_size_) {
    seq = last_seq_;
    hash = last_hash_;
    return Ok{};
  }
  if (st.st_size == 0) {
    seq = 0;
    hash = kGenesisHash;
  } else {
    // Read backwards until the start of the last line is inside the buffer.
    int64_t size = st.st_size;
    int64_t chunk = 4096;
    std::string buf;
    size_t line_start = std::string::npos;
    while (true) {
      int64_t from = std::max<int64_t>(0, size - chunk);
      buf.resize(static_cast<size_t>(size - from));
      ssize_t n = ::pread(fd_, buf.data(), buf.size(), from);
      if (n != static_cast<ssize_t>(buf.size())) return Error::io(path_ + ": cannot read the last record");
      if (buf.back() != '\n')
        return Error{ErrorKind::kIo, "TornAuditRecord",
                     path_ + ": the audit log ends with a partial record (a crash mid-append?); run `containctl "
                             "audit verify`, then `containctl audit repair` to quarantine it"};
      size_t nl = buf.size() >= 2 ? buf.rfind('\n', buf.size() - 2) : std::string::npos;
      if (nl != std::string::npos) {
        line_start = nl + 1;
        break;
      }
      if (from == 0) {
        line_start = 0;
        break;
      }
      chunk *= 4;
    }
    json last = json::parse(buf.substr(line_start, buf.size() - 1 - line_start), nullptr, false);
    if (last.is_discarded() || !last.is_object() || !last.contains("seq") || !last["seq"].is_number_unsigned() ||
        !last.contains("hash") || !last["hash"].is_string())
      return Error::io(path_ + ": the last audit record is garbled; run `containctl audit verify`");
    seq = last["seq"].get<uint64_t>();
    hash = last["hash"].get<std::string>();
  }
  known_size_ = st.st_size;
  last_seq_ = seq;
  last_hash_ = hash;
  return Ok{};
}

Status AuditLog::append(const std::string& event, const json& fields) {
  if (event.empty()) return Error::internal("audit event name is empty");
  if (!fields.is_null() && !fields.is_object()) return Error::internal("audit fields must be a JSON object");
  json record = fields.is_null() ? json::object() : redact_secrets(fields);
  for (const char* r : kReserved) {
    if (record.contains(r)) return Error::internal(std::string("audit field '") + r + "' is reserved");
  }
  if (record.contains("run_id") && !record["run_id"].is_string())
    return Error::internal("audit field 'run_id' must be a string");

  std::lock_guard guard(mu_);
  FileLock lock(fd_);
  uint64_t seq;
  std::string prev;
  CC_TRY(read_tail(seq, prev));
  record["seq"] = seq + 1;
  record["time"] = format_time_ms(clock_.now());
  record["event"] = event;
  record["prev_hash"] = prev;
  // Round-trip through text so the hash covers exactly what verify will parse back.
  record = json::parse(record.dump(-1, ' ', false, json::error_handler_t::replace));
  std::string hash = audit_record_hash(record);
  record["hash"] = hash;
  std::string line = record.dump() + "\n";
  CC_TRY(write_all(fd_, line, path_));
  if (::fsync(fd_) != 0) return Error::io(path_ + ": fsync failed: " + std::strerror(errno));
  struct stat st {};
  ::fstat(fd_, &st);
  known_size_ = st.st_size;
  last_seq_ = seq + 1;
  last_hash_ = hash;
  return write_signed_head(last_seq_, hash);
}

Status AuditLog::write_signed_head(uint64_t seq, const std::string& hash) {
  if (key_pem_.empty()) {
    // The first record of this state directory: make its audit key now, after the record is on
    // disk (created 0600 with O_EXCL: never over, or through, anything already there; another
    // process may have made it a moment ago).
    const std::string key_path = audit_private_key_path(path_);
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(key_path, ec))) {
      auto made = approvals::generate_keypair_files("audit", dir_of(path_));
      if (!made.ok() && !std::filesystem::exists(std::filesystem::symlink_status(key_path, ec)))
        return Error::io("cannot create the audit key in " + dir_of(path_) + ": " + made.error().message);
    }
    CC_ASSIGN(key_pem_, read_nofollow(key_path, "audit key"));
  }
  CC_ASSIGN(std::string sig, approvals::sign_with_pem(key_pem_, audit_head_payload(seq, hash),
                                                      audit_private_key_path(path_)));
  return write_head(audit_head_path(path_), seq, hash, sig);
}

AuditLog::~AuditLog() {
  ::close(fd_);
  OPENSSL_cleanse(key_pem_.data(), key_pem_.size());
}

Result<AuditVerifyResult> verify_audit_log(const std::string& path, const std::string& expect_head) {
  std::error_code ec;
  const bool key_exists = std::filesystem::exists(audit_public_key_path(path), ec) ||
                          std::filesystem::exists(audit_private_key_path(path), ec);
  if (!std::filesystem::exists(path, ec)) {
    if (!key_exists) return Error::io("no audit log at " + path);
    AuditVerifyResult gone;
    gone.ok = false;
    gone.problem = "the audit log " + path + " is missing although the state directory's audit key exists: it was "
                   "deleted";
    return gone;
  }
  // A shared lock: a concurrent append is either wholly in what we read or not at all, and the
  // anchor we read belongs to the same moment.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Error::io("cannot read audit log " + path + ": " + std::strerror(errno));
  std::string text;
  std::string head_path = audit_head_path(path);
  bool head_exists = false;
  Result<std::string> head_text = std::string();
  {
    while (::flock(fd, LOCK_SH) != 0 && errno == EINTR) {
    }
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    int read_errno = n < 0 ? errno : 0;
    head_exists = std::filesystem::exists(head_path, ec);
    if (head_exists) head_text = read_nofollow(head_path, "audit anchor");
    ::flock(fd, LOCK_UN);
    ::close(fd);
    if (read_errno) return Error::io("cannot read audit log " + path + ": " + std::strerror(read_errno));
  }
  AuditVerifyResult r;
  auto fail = [&](uint64_t line, uint64_t seq, std::string problem) {
    r.ok = false;
    r.bad_line = line;
    r.bad_seq = seq;
    r.problem = std::move(problem);
    return r;
  };
  bool partial = false;
  std::vector<std::string> lines = split_lines(text, partial);

  // Parse everything first so a gap can be told apart from a reordering.
  std::vector<json> recs(lines.size());
  std::map<uint64_t, size_t> first_line_of_seq;  // seq -> 1-based line
  for (size_t i = 0; i < lines.size(); ++i) {
    recs[i] = json::parse(lines[i], nullptr, false);
    if (recs[i].is_object() && recs[i].contains("seq") && recs[i]["seq"].is_number_unsigned())
      first_line_of_seq.emplace(recs[i]["seq"].get<uint64_t>(), i + 1);
  }

  uint64_t prev_seq = 0;
  std::string prev_hash = kGenesisHash, prev_prev_hash;
  std::map<uint64_t, std::string> hash_of_seq;
  for (size_t i = 0; i < lines.size(); ++i) {
    uint64_t ln = i + 1;
    std::string at = " (line " + std::to_string(ln) + ")";
    if (partial && i + 1 == lines.size())
      return fail(ln, 0, "line " + std::to_string(ln) + " is a truncated record (no end of line): the log was cut "
                         "off or garbled after record seq " + std::to_string(prev_seq));
    const json& rec = recs[i];
    if (rec.is_discarded() || !rec.is_object())
      return fail(ln, 0, "line " + std::to_string(ln) + " is not a valid JSON record (garbled or truncated), after "
                         "record seq " + std::to_string(prev_seq));
    for (const char* f : {"time", "event", "prev_hash", "hash"}) {
      if (!rec.contains(f) || !rec[f].is_string())
        return fail(ln, 0, "line " + std::to_string(ln) + " lacks a valid '" + f + "' field: the record was changed");
    }
    if (!rec.contains("seq") || !rec["seq"].is_number_unsigned())
      return fail(ln, 0, "line " + std::to_string(ln) + " lacks a valid 'seq' field: the record was changed");
    uint64_t seq = rec["seq"].get<uint64_t>();
    std::string s = "record seq " + std::to_string(seq) + at;
    const std::string hash = rec["hash"].get<std::string>();
    const std::string prev = rec["prev_hash"].get<std::string>();
    if (audit_record_hash(rec) != hash) return fail(ln, seq, s + " was changed: its content does not match its hash");
    if (rec.value("event", "") == "audit_chain_restarted")
      return fail(ln, seq, s + " restarts the chain: " + rec.value("reason", "the log was deleted") +
                               " (everything recorded before it is lost)");
    if (rec.value("event", "") == "audit_repaired")
      r.notes.push_back(s + ": a torn record was quarantined to " + rec.value("quarantine", "?") + " (" +
                        rec.value("reason", "") + ")");

    uint64_t expected = prev_seq + 1;
    bool chains = prev == prev_hash;
    if (seq == expected && chains) {
      hash_of_seq[seq] = hash;
      prev_prev_hash = prev_hash;
      prev_hash = hash;
      prev_seq = seq;
      ++r.records;
      continue;
    }
    std::string prev_rec = "record seq " + std::to_string(prev_seq) + " (line " + std::to_string(ln - 1) + ")";
    if (i > 0 && prev == prev_prev_hash)
      return fail(ln - 1, prev_seq, prev_rec + " was inserted: " + s + " chains to the record before it");
    if (seq > expected) {
      auto later = first_line_of_seq.find(expected);
      if (later != first_line_of_seq.end() && later->second > ln)
        return fail(ln, seq, "records were reordered: " + s + " comes before record seq " + std::to_string(expected) +
                                 " (line " + std::to_string(later->second) + ")");
      std::string gap = expected == seq - 1 ? "record seq " + std::to_string(expected)
                                            : "records seq " + std::to_string(expected) + ".." + std::to_string(seq - 1);
      return fail(ln, seq, gap + (expected == seq - 1 ? " was" : " were") + " removed before " + s);
    }
    if (seq < expected) {
      auto seen = hash_of_seq.find(seq);
      if (seen != hash_of_seq.end() && seen->second == hash)
        return fail(ln, seq, s + " is a copy of an earlier record: it was inserted");
      return fail(ln, seq, "records were reordered: " + s + " comes after record seq " + std::to_string(prev_seq));
    }
    if (i == 0) return fail(ln, seq, s + " does not start the chain (its prev_hash is not 64 zeros): it was changed");
    return fail(ln - 1, prev_seq, prev_rec + " was changed or replaced: " + s + " does not chain to it");
  }

  // An anchor kept elsewhere: the log must still hold that record, chained from the first.
  if (!expect_head.empty()) {
    bool found = false;
    for (const auto& [seq, h] : hash_of_seq) {
      if (h == expect_head) {
        found = true;
        r.expected_head_seq = seq;
      }
    }
    if (!found)
      return fail(0, 0, "the expected head " + expect_head + " is not a record of this log: the log was rewritten, "
                        "cut before it, or replaced (" + std::to_string(r.records) + " records now)");
  }
  // The anchor catches records cut off the end.
  if (!head_exists) {
    if (r.records == 0 && !key_exists) return r;
    return fail(0, 0, "the anchor " + head_path + " is missing, so records removed from the end cannot be ruled out");
  }
  if (!head_text.ok()) return head_text.error();
  json head = json::parse(*head_text, nullptr, false);
  if (head.is_discarded() || !head.is_object() || !head.contains("seq") || !head["seq"].is_number_unsigned() ||
      !head.contains("hash") || !head["hash"].is_string())
    return fail(0, 0, "the anchor " + head_path + " is garbled");
  uint64_t head_seq = head["seq"].get<uint64_t>();
  std::string head_hash = head["hash"].get<std::string>();
  // Only the audit key can write an anchor: a rewritten or truncated log needs it re-signed.
  if (key_exists) {
    if (!head.contains("signature") || !head["signature"].is_string())
      return fail(0, head_seq, "the anchor " + head_path + " is not signed (rewritten without the audit key)");
    auto pub = approvals::read_public_key(audit_public_key_path(path));
    if (!pub.ok()) return fail(0, head_seq, "cannot check the anchor's signature: " + pub.error().message);
    auto good = approvals::verify_message(*pub, audit_head_payload(head_seq, head_hash), head["signature"].get<std::string>());
    if (!good.ok() || !*good)
      return fail(0, head_seq, "the anchor " + head_path + " is not signed by the state directory's audit key (" +
                                   audit_public_key_path(path) + "): it was rewritten");
  }
  if (head_seq > prev_seq) {
    std::string gap = head_seq == prev_seq + 1 ? "record seq " + std::to_string(head_seq)
                                               : "records seq " + std::to_string(prev_seq + 1) + ".." +
                                                     std::to_string(head_seq);
    return fail(0, prev_seq + 1, gap + (head_seq == prev_seq + 1 ? " was" : " were") +
                                     " removed from the end of the log (" + head_path + " says the last record is seq " +
                                     std::to_string(head_seq) + ")");
  }
  if (head_seq == prev_seq && head_hash != prev_hash)
    return fail(lines.size(), prev_seq, "record seq " + std::to_string(prev_seq) + " (line " +
                                            std::to_string(lines.size()) + ") was changed or replaced: its hash differs "
                                            "from " + head_path);
  if (head_seq < prev_seq) {
    auto it = hash_of_seq.find(head_seq);
    bool head_matches = head_seq == 0 ? head_hash == kGenesisHash : (it != hash_of_seq.end() && it->second == head_hash);
    if (!head_matches)
      return fail(0, head_seq, head_path + " does not match record seq " + std::to_string(head_seq));
    return fail(head_seq + 1, head_seq + 1,
                "record seq " + std::to_string(head_seq + 1) + " (line " + std::to_string(head_seq + 1) +
                    ") and after are not covered by " + head_path +
                    ": appended outside containctl (or a crash between writing the record and the anchor)");
  }
  r.last_hash = prev_hash;
  r.anchored = true;
  return r;
}

Result<AuditRepairResult> repair_audit_log(const std::string& path, aws::Clock& clock, const std::string& reason) {
  AuditRepairResult r;
  int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Error::io(path + ": cannot open audit log: " + std::strerror(errno));
  std::string torn;
  {
    FileLock lock(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return Error::io(path + ": fstat failed");
    }
    std::string text(static_cast<size_t>(st.st_size), '\0');
    if (::pread(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      ::close(fd);
      return Error::io(path + ": cannot read the audit log");
    }
    if (text.empty() || text.back() == '\n') {
      ::close(fd);
      return r;  // nothing torn
    }
    size_t keep = text.rfind('\n');
    keep = keep == std::string::npos ? 0 : keep + 1;
    torn = text.substr(keep);
    // The torn bytes go to their own file first (kept as evidence), then the log is cut back.
    std::string stamp = aws::format_amz_date(clock.now());
    r.quarantine = path + ".quarantine-" + stamp;
    int q = ::open(r.quarantine.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (q < 0) {
      ::close(fd);
      return Error::io(r.quarantine + ": cannot create the quarantine file: " + std::strerror(errno));
    }
    Status w = write_all(q, torn, r.quarantine);
    if (w.ok() && ::fsync(q) != 0) w = Error::io(r.quarantine + ": fsync failed");
    ::close(q);
    if (!w.ok()) {
      ::close(fd);
      return w.error();
    }
    if (::ftruncate(fd, static_cast<off_t>(keep)) != 0 || ::fsync(fd) != 0) {
      ::close(fd);
      return Error::io(path + ": cannot cut the torn record off: " + std::strerror(errno));
    }
    r.bytes = torn.size();
    r.repaired = true;
  }
  ::close(fd);
  CC_ASSIGN(auto log, AuditLog::open(path, clock));
  CC_TRY(log->append("audit_repaired", {{"quarantine", r.quarantine}, {"bytes", r.bytes},
                                        {"sha256", aws::sha256_hex(torn)}, {"reason", reason}}));
  return r;
}

Result<std::vector<json>> read_audit_log(const std::string& path, const std::string& run_id) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Error::io("no audit log at " + path);
  CC_ASSIGN(std::string text, slurp(path, "audit log"));
  bool partial = false;
  std::vector<std::string> lines = split_lines(text, partial);
  std::vector<json> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    json rec = json::parse(lines[i], nullptr, false);
    if (rec.is_discarded() || !rec.is_object())
      return Error::invalid(path + ": line " + std::to_string(i + 1) +
                                " is not a valid JSON record (run `containctl audit verify`)",
                            "InvalidAuditLog");
    if (!run_id.empty() && !(rec.contains("run_id") && rec["run_id"] == run_id)) continue;
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace containctl::orch
