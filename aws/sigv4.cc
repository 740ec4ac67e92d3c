// SigV4 as specified in the AWS General Reference ("Create a signed AWS API request"), with the
// S3 exceptions (no path normalisation, no double encoding, x-amz-content-sha256).
//
// Speed: signing sits on every AWS call, and the retry loop re-signs, so the hot path avoids
// per-call allocation where it can: the URL is split into views, headers are sorted as views, the
// canonical request is written once into a reserved buffer, and the derived key's HMAC pad states
// are cached per (secret, date, region, service).
#define OPENSSL_SUPPRESS_DEPRECATED  // low-level SHA256_* is the fastest path for short inputs
#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "aws/url.h"

namespace containctl::aws {
namespace {

constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

void append_hex(std::string& out, const unsigned char* p, size_t n) {
  size_t at = out.size();
  out.resize(at + 2 * n);
  char* o = out.data() + at;
  for (size_t i = 0; i < n; ++i) {
    o[2 * i] = kHexLower[p[i] >> 4];
    o[2 * i + 1] = kHexLower[p[i] & 0xf];
  }
}

Digest sha256(std::string_view data) {
  Digest d;
  // SHA256_Init/Update/Final, not the one-shot SHA256(): in OpenSSL 3 the latter fetches an
  // EVP_MD (a lock and a refcount) on every call.
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, data.data(), data.size());
  SHA256_Final(d.data(), &c);
  return d;
}

// HMAC-SHA256 with the key's inner and outer pad states precomputed, so a signature costs two
// short SHA-256 finishes instead of four block compressions plus setup.
struct HmacKey {
  SHA256_CTX inner;
  SHA256_CTX outer;

  explicit HmacKey(std::string_view key) {
    unsigned char block[SHA256_CBLOCK] = {0};
    if (key.size() > SHA256_CBLOCK) {
      Digest d = sha256(key);
      std::memcpy(block, d.data(), d.size());
    } else {
      std::memcpy(block, key.data(), key.size());
    }
    unsigned char pad[SHA256_CBLOCK];
    for (size_t i = 0; i < SHA256_CBLOCK; ++i) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&inner);
    SHA256_Update(&inner, pad, sizeof pad);
    for (size_t i = 0; i < SHA256_CBLOCK; ++i) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&outer);
    SHA256_Update(&outer, pad, sizeof pad);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
  }
  HmacKey(const HmacKey&) = delete;
  HmacKey& operator=(const HmacKey&) = delete;
  ~HmacKey() {
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
  }

  Digest mac(std::string_view data) const {
    SHA256_CTX c = inner;
    Digest d;
    SHA256_Update(&c, data.data(), data.size());
    SHA256_Final(d.data(), &c);
    c = outer;
    SHA256_Update(&c, d.data(), d.size());
    SHA256_Final(d.data(), &c);
    OPENSSL_cleanse(&c, sizeof c);
    return d;
  }
};

Digest hmac(std::string_view key, std::string_view data) { return HmacKey(key).mac(data); }

std::string_view as_view(const Digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

// Per-thread cache of derived signing keys. Keys change once a day per (secret, region,
// service); a handful of entries covers every client a thread uses.
struct CachedKey {
  std::string secret;
  std::string date;
  std::string region;
  std::string service;
  std::unique_ptr<HmacKey> key;
  CachedKey() = default;
  CachedKey(CachedKey&&) = default;
  CachedKey& operator=(CachedKey&&) = default;
  ~CachedKey() { OPENSSL_cleanse(secret.data(), secret.size()); }
};

const HmacKey& signing_key(std::string_view secret, std::string_view date, std::string_view region,
                           std::string_view service) {
  thread_local std::vector<CachedKey> cache;
  thread_local size_t last = 0;
  auto match = [&](const CachedKey& e) {
    return e.date == date && e.region == region && e.service == service && e.secret == secret;
  };
  if (last < cache.size() && match(cache[last])) return *cache[last].key;
  for (size_t i = 0; i < cache.size(); ++i) {
    if (match(cache[i])) {
      last = i;
      return *cache[i].key;
    }
  }
  std::string k;
  k.reserve(4 + secret.size());
  k.append("AWS4").append(secret);
  Digest kdate = hmac(k, date);
  OPENSSL_cleanse(k.data(), k.size());
  Digest kregion = hmac(as_view(kdate), region);
  Digest kservice = hmac(as_view(kregion), service);
  Digest ksigning = hmac(as_view(kservice), "aws4_request");
  if (cache.size() >= 16) cache.erase(cache.begin());
  CachedKey e;
  e.secret = std::string(secret);
  e.date = std::string(date);
  e.region = std::string(region);
  e.service = std::string(service);
  e.key = std::make_unique<HmacKey>(as_view(ksigning));
  cache.push_back(std::move(e));
  for (auto* d : {&kdate, &kregion, &kservice, &ksigning}) OPENSSL_cleanse(d->data(), d->size());
  last = cache.size() - 1;
  return *cache.back().key;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

// string_view::find_first_of(set) calls memchr once per character; these loops do not.
bool has_cr_or_lf(std::string_view s) {
  return std::memchr(s.data(), '\n', s.size()) != nullptr || std::memchr(s.data(), '\r', s.size()) != nullptr;
}

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

// Case-insensitive three-way compare, as if both names were lower-cased first.
int icompare(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = static_cast<unsigned char>(lower_ascii(a[i]));
    unsigned char y = static_cast<unsigned char>(lower_ascii(b[i]));
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

// Headers the SDKs never sign: hop-by-hop headers, ones proxies rewrite, and user-agent (which
// botocore, aws-c-auth and moto all leave out, so signing it breaks verification).
bool never_signed(std::string_view name) {
  static constexpr std::string_view kSkip[] = {
      "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
      "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"};
  // Most names (host, x-amz-*, content-type) share no length with the list; skip them cheaply.
  constexpr unsigned kLengths = (1u << 13) | (1u << 10) | (1u << 6) | (1u << 18) | (1u << 19) | (1u << 2) |
                                (1u << 7) | (1u << 17) | (1u << 15);
  if (name.size() > 19 || !(kLengths & (1u << name.size()))) return false;
  for (auto s : kSkip)
    if (ieq(name, s)) return true;
  return false;
}

// Trim and collapse runs of spaces/tabs to one space.
void append_trimmed(std::string& out, std::string_view v) {
  size_t b = 0, e = v.size();
  while (b < e && (v[b] == ' ' || v[b] == '\t')) ++b;
  while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t')) --e;
  bool plain = true;  // no tab and no double space: copy in one go
  for (size_t i = b; i < e && plain; ++i)
    plain = v[i] != '\t' && !(v[i] == ' ' && v[i + 1] == ' ');
  if (plain) {
    out.append(v.substr(b, e - b));
    return;
  }
  bool space = false;
  for (size_t i = b; i < e; ++i) {
    char c = v[i];
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
}

void append_lower(std::string& out, std::string_view s) {
  size_t at = out.size();
  out.append(s);
  for (size_t i = at; i < out.size(); ++i) out[i] = lower_ascii(out[i]);
}

// Small-buffer vector for the per-request sort: requests carry a handful of headers and query
// parameters, so the common case never touches the heap.
template <class T, size_t N>
class SmallVec {
 public:
  void push_back(const T& v) {
    if (size_ < N) {
      inline_[size_++] = v;
      return;
    }
    if (heap_.empty()) heap_.assign(inline_.begin(), inline_.end());
    heap_.push_back(v);
    ++size_;
  }
  T* begin() { return heap_.empty() ? inline_.data() : heap_.data(); }
  T* end() { return begin() + size_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return begin()[i]; }

 private:
  std::array<T, N> inline_{};
  std::vector<T> heap_;
  size_t size_ = 0;
};

Status check_header(std::string_view name, std::string_view value) {
  if (name.empty()) return Error::invalid("a header name is empty", "InvalidHeader");
  for (unsigned char c : name) {
    if (c <= 0x20 || c == ':' || c == 0x7f)
      return Error::invalid("header name '" + std::string(name.substr(0, 64)) +
                                "' contains whitespace, a control character or ':'",
                            "InvalidHeader");
  }
  // Only the name is quoted: values can be tokens or other secrets.
  if (has_cr_or_lf(value))
    return Error::invalid("header '" + std::string(name) + "' value contains CR or LF", "InvalidHeader");
  return Ok{};
}

struct HeaderRef {
  std::string_view name;
  std::string_view value;
  unsigned order = 0;
};

// Appends the canonical headers block ("name:value\n" lines) to `out` and the signed header
// names to `signed_names`. Repeated headers are joined with ',' in the order they were sent.
Status canonical_headers(const std::vector<Header>& headers, std::string& out, std::string& signed_names,
                         bool validated) {
  SmallVec<HeaderRef, 24> refs;
  for (size_t i = 0; i < headers.size(); ++i) {
    const auto& h = headers[i];
    if (!validated) CC_TRY(check_header(h.name, h.value));
    if (never_signed(h.name)) continue;
    refs.push_back({h.name, h.value, static_cast<unsigned>(i)});
  }
  auto less = [](const HeaderRef& a, const HeaderRef& b) {
    int c = icompare(a.name, b.name);
    return c != 0 ? c < 0 : a.order < b.order;
  };
  // Insertion sort: a few elements, mostly already ordered.
  HeaderRef* first = refs.begin();
  size_t n = refs.size();
  for (size_t i = 1; i < n; ++i) {
    HeaderRef x = first[i];
    size_t j = i;
    while (j > 0 && less(x, first[j - 1])) {
      first[j] = first[j - 1];
      --j;
    }
    first[j] = x;
  }
  for (size_t i = 0; i < n; ++i) {
    bool repeat = i > 0 && ieq(first[i].name, first[i - 1].name);
    if (repeat) {
      out.back() = ',';  // replace the '\n' of the previous value
    } else {
      if (!signed_names.empty()) signed_names.push_back(';');
      append_lower(signed_names, first[i].name);
      append_lower(out, first[i].name);
      out.push_back(':');
    }
    append_trimmed(out, first[i].value);
    out.push_back('\n');
  }
  return Ok{};
}

void append_encoded(std::string& out, std::string_view in, bool keep_slash) {
  for (unsigned char c : in) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0xf]);
    }
  }
}

// RFC 3986 dot-segment removal plus collapsing of empty segments ("//"), as botocore and
// aws-c-auth do for every service but S3; the result is then percent-encoded.
void append_normalized_path(std::string& out, std::string_view path) {
  if (path.empty() || path == "/") {
    out.push_back('/');
    return;
  }
  SmallVec<std::string_view, 32> segments;
  size_t keep = 0;  // segments[0, keep) are live; ".." pops
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg == "..") {
      if (keep > 0) --keep;
    } else if (!seg.empty() && seg != ".") {
      if (keep < segments.size()) {
        segments[keep] = seg;
      } else {
        segments.push_back(seg);
      }
      ++keep;
    }
    i = j + 1;
  }
  bool trailing = path.ends_with("/") || path.ends_with("/.") || path.ends_with("/..");
  for (size_t s = 0; s < keep; ++s) {
    out.push_back('/');
    append_encoded(out, segments[s], false);
  }
  if (keep == 0 || trailing) out.push_back('/');
}

void append_canonical_uri(std::string& out, std::string_view path, bool s3_mode) {
  if (path.empty()) {
    out.push_back('/');
  } else if (s3_mode) {
    out.append(path);
  } else {
    append_normalized_path(out, path);
  }
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when `s` is already in canonical form (unreserved characters, and %XX with upper-case
// hex for bytes that must be encoded), so the common case can be used without a copy.
bool is_canonical_component(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (is_unreserved(c)) continue;
    if (c != '%' || i + 2 >= s.size()) return false;
    char h = s[i + 1], l = s[i + 2];
    int hv = hexval(h), lv = hexval(l);
    if (hv < 0 || lv < 0 || (h >= 'a' && h <= 'f') || (l >= 'a' && l <= 'f')) return false;
    if (is_unreserved(static_cast<unsigned char>(hv * 16 + lv))) return false;
    i += 2;
  }
  return true;
}

struct QueryParam {
  std::string_view key;
  std::string_view value;
};

// Canonical query: each name and value decoded then encoded with the SigV4 rules, sorted by name
// then value. Components that are already canonical are used in place; the rest are rewritten
// into `storage` (which must not reallocate while the views are alive, hence the reserve).
void append_canonical_query(std::string& out, std::string_view raw, std::string_view extra) {
  if (raw.empty() && extra.empty()) return;
  SmallVec<QueryParam, 24> params;
  std::vector<std::string> storage;
  auto component = [&](std::string_view s) -> std::string_view {
    if (is_canonical_component(s)) return s;
    std::string& fixed = storage.emplace_back();
    append_encoded(fixed, uri_decode(s), false);
    return fixed;
  };
  storage.reserve(std::count(raw.begin(), raw.end(), '&') * 2 + std::count(extra.begin(), extra.end(), '&') * 2 + 4);
  for (std::string_view q : {raw, extra}) {
    size_t i = 0;
    while (i <= q.size() && !q.empty()) {
      size_t j = q.find('&', i);
      if (j == std::string_view::npos) j = q.size();
      std::string_view piece = q.substr(i, j - i);
      if (!piece.empty()) {
        size_t eq = piece.find('=');
        std::string_view k = piece.substr(0, eq);
        std::string_view v = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
        params.push_back({component(k), component(v)});
      }
      i = j + 1;
    }
  }
  std::sort(params.begin(), params.end(), [](const QueryParam& a, const QueryParam& b) {
    return a.key != b.key ? a.key < b.key : a.value < b.value;
  });
  for (size_t i = 0; i < params.size(); ++i) {
    if (i) out.push_back('&');
    out.append(params[i].key).push_back('=');
    out.append(params[i].value);
  }
}

// "YYYYMMDDTHHMMSSZ" without gmtime/strftime (civil-from-days, H. Hinnant).
void format_amz_date_into(TimePoint t, char out[16]) {
  using namespace std::chrono;
  auto secs = floor<seconds>(t.time_since_epoch()).count();
  long long days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  long long rem = secs - days * 86400;
  long long z = days + 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long y = static_cast<long long>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  auto put = [&](int at, long long v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      out[at + i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, y, 4);
  put(4, m, 2);
  put(6, d, 2);
  out[8] = 'T';
  put(9, rem / 3600, 2);
  put(11, rem % 3600 / 60, 2);
  put(13, rem % 60, 2);
  out[15] = 'Z';
}

bool valid_scope_part(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s)
    if (!(is_unreserved(c) && c != '~')) return false;
  return true;
}

Status check(const Credentials& c, const SigningParams& p) {
  if (c.empty()) return Error{ErrorKind::kAuth, "MissingCredentials", "no credentials to sign with"};
  for (unsigned char ch : c.access_key_id) {
    if (ch <= 0x20 || ch == 0x7f || ch == '/' || ch == ',' || ch == '=')
      return Error{ErrorKind::kAuth, "InvalidCredentials", "the access key id contains a character SigV4 cannot carry"};
  }
  if (has_cr_or_lf(c.session_token))
    return Error{ErrorKind::kAuth, "InvalidCredentials", "the session token contains CR or LF"};
  if (!valid_scope_part(p.region))
    return Error::invalid("signing region '" + p.region.substr(0, 64) + "' is empty or not a region name",
                          "InvalidSigningParams");
  if (!valid_scope_part(p.service))
    return Error::invalid("signing service '" + p.service.substr(0, 64) + "' is empty or not a service name",
                          "InvalidSigningParams");
  return Ok{};
}

std::string_view find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (ieq(h.name, name)) return h.value;
  return {};
}

void append_payload_hash(std::string& out, const HttpRequest& r, const SigningParams& p) {
  if (auto h = find_header(r.headers, "x-amz-content-sha256"); !h.empty()) {
    out.append(h);
  } else if (p.payload == PayloadMode::kUnsigned) {
    out.append(kUnsignedPayload);
  } else if (r.body.empty()) {
    out.append(kEmptySha256);
  } else {
    Digest d = sha256(r.body);
    append_hex(out, d.data(), d.size());
  }
}

void append_scope(std::string& out, std::string_view date, const SigningParams& p) {
  out.append(date).append("/").append(p.region).append("/").append(p.service).append("/aws4_request");
}

// Phases 2 and 3: string to sign from the finished canonical request, then the signature.
void finish(SigningResult& r, const Credentials& creds, const SigningParams& p, std::string_view amz_date) {
  std::string_view date = amz_date.substr(0, 8);
  r.string_to_sign.reserve(kAlgorithm.size() + amz_date.size() + 50 + p.region.size() + p.service.size() + 64);
  r.string_to_sign.append(kAlgorithm).push_back('\n');
  r.string_to_sign.append(amz_date).push_back('\n');
  append_scope(r.string_to_sign, date, p);
  r.string_to_sign.push_back('\n');
  Digest creq_hash = sha256(r.canonical_request);
  append_hex(r.string_to_sign, creq_hash.data(), creq_hash.size());
  Digest sig = signing_key(creds.secret_access_key, date, p.region, p.service).mac(r.string_to_sign);
  r.signature.reserve(64);
  append_hex(r.signature, sig.data(), sig.size());
}

}  // namespace

std::string uri_encode(std::string_view in, bool keep_slash) {
  std::string out;
  out.reserve(in.size() + 8);
  append_encoded(out, in, keep_slash);
  return out;
}

std::string uri_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hexval(in[i + 1]);
      int lo = hexval(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

std::string canonical_uri(std::string_view raw_path, bool s3_mode) {
  std::string out;
  out.reserve(raw_path.size() + 8);
  append_canonical_uri(out, raw_path, s3_mode);
  return out;
}

std::string canonical_query(std::string_view raw_query) {
  std::string out;
  out.reserve(raw_query.size() + 8);
  append_canonical_query(out, raw_query, {});
  return out;
}

std::string sha256_hex(std::string_view data) {
  Digest d = sha256(data);
  std::string out;
  out.reserve(64);
  append_hex(out, d.data(), d.size());
  return out;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  Digest d = hmac(key, data);
  std::string out;
  append_hex(out, d.data(), d.size());
  return out;
}

Result<SigningResult> sign_request(HttpRequest& request, const Credentials& creds, const SigningParams& p) {
  CC_TRY(check(creds, p));
  CC_ASSIGN(UrlView url, split_url(request.url));
  char date_buf[16];
  format_amz_date_into(p.time, date_buf);
  const std::string_view amz_date(date_buf, sizeof date_buf);

  // Validate before touching the request, so a rejected request is left as it came. The
  // headers this function owns are replaced, not validated.
  auto own = [](const Header& h) {
    return ieq(h.name, "authorization") || ieq(h.name, "x-amz-date") || ieq(h.name, "x-amz-security-token");
  };
  for (const auto& h : request.headers)
    if (!own(h)) CC_TRY(check_header(h.name, h.value));
  std::erase_if(request.headers, own);
  request.headers.reserve(request.headers.size() + 5);
  if (find_header(request.headers, "host").empty()) request.headers.push_back({"host", url.host_header()});
  request.headers.push_back({"x-amz-date", std::string(amz_date)});
  const bool token = !creds.session_token.empty();
  if (token && p.sign_session_token) request.headers.push_back({"x-amz-security-token", creds.session_token});

  SigningResult r;
  r.canonical_request.reserve(request.method.size() + url.path.size() * 3 / 2 + url.query.size() * 3 / 2 + 96 * request.headers.size() +
                              200);
  std::string& creq = r.canonical_request;
  creq.append(request.method).push_back('\n');
  append_canonical_uri(creq, url.path, p.s3_mode);
  creq.push_back('\n');
  append_canonical_query(creq, url.query, {});
  creq.push_back('\n');
  // The payload hash goes last in the canonical request but may also be a signed header.
  std::string body_hash;
  body_hash.reserve(64);
  append_payload_hash(body_hash, request, p);
  if (p.content_sha256_header && find_header(request.headers, "x-amz-content-sha256").empty())
    request.headers.push_back({"x-amz-content-sha256", body_hash});
  r.signed_headers.reserve(64);
  CC_TRY(canonical_headers(request.headers, creq, r.signed_headers, /*validated=*/true));
  creq.push_back('\n');
  creq.append(r.signed_headers).push_back('\n');
  creq.append(body_hash);

  finish(r, creds, p, amz_date);
  r.authorization.reserve(kAlgorithm.size() + creds.access_key_id.size() + r.signed_headers.size() + 180);
  r.authorization.append(kAlgorithm).append(" Credential=").append(creds.access_key_id).push_back('/');
  append_scope(r.authorization, amz_date.substr(0, 8), p);
  r.authorization.append(", SignedHeaders=").append(r.signed_headers).append(", Signature=").append(r.signature);
  request.headers.push_back({"Authorization", r.authorization});
  if (token && !p.sign_session_token) request.headers.push_back({"x-amz-security-token", creds.session_token});
  return r;
}

Result<SigningResult> presign_url(const HttpRequest& request, const Credentials& creds, const SigningParams& p,
                                  int expires_seconds) {
  CC_TRY(check(creds, p));
  if (expires_seconds < 1 || expires_seconds > 604800)
    return Error::invalid("presign expiry must be between 1 and 604800 seconds", "InvalidExpiry");
  CC_ASSIGN(UrlView url, split_url(request.url));
  char date_buf[16];
  format_amz_date_into(p.time, date_buf);
  const std::string_view amz_date(date_buf, sizeof date_buf);

  std::vector<Header> headers;
  headers.reserve(request.headers.size() + 1);
  for (const auto& h : request.headers) {
    // Auth travels in the query; these headers would contradict it.
    if (ieq(h.name, "authorization") || ieq(h.name, "x-amz-date") || ieq(h.name, "x-amz-security-token")) continue;
    headers.push_back(h);
  }
  if (find_header(request.headers, "host").empty()) headers.push_back({"host", url.host_header()});
  SigningResult r;
  std::string canonical_hdrs;
  CC_TRY(canonical_headers(headers, canonical_hdrs, r.signed_headers, /*validated=*/false));

  std::string auth_query;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!auth_query.empty()) auth_query.push_back('&');
    auth_query.append(k).push_back('=');
    append_encoded(auth_query, v, false);
  };
  std::string credential = creds.access_key_id + "/";
  append_scope(credential, amz_date.substr(0, 8), p);
  add("X-Amz-Algorithm", kAlgorithm);
  add("X-Amz-Credential", credential);
  add("X-Amz-Date", amz_date);
  add("X-Amz-Expires", std::to_string(expires_seconds));
  const bool token = !creds.session_token.empty();
  if (token && p.sign_session_token) add("X-Amz-Security-Token", creds.session_token);
  add("X-Amz-SignedHeaders", r.signed_headers);

  std::string& creq = r.canonical_request;
  creq.append(request.method).push_back('\n');
  append_canonical_uri(creq, url.path, p.s3_mode);
  creq.push_back('\n');
  append_canonical_query(creq, url.query, auth_query);
  creq.push_back('\n');
  creq.append(canonical_hdrs).push_back('\n');
  creq.append(r.signed_headers).push_back('\n');
  if (p.payload == PayloadMode::kUnsigned) {
    creq.append(kUnsignedPayload);
  } else {
    append_payload_hash(creq, request, p);
  }
  finish(r, creds, p, amz_date);

  std::string_view path = url.path.empty() ? std::string_view("/") : url.path;
  r.url.reserve(request.url.size() + auth_query.size() + 100);
  r.url.append(url.scheme).append("://").append(url.host);
  if (url.port) r.url.append(":").append(std::to_string(url.port));
  r.url.append(path).push_back('?');
  if (!url.query.empty()) r.url.append(url.query).push_back('&');
  r.url.append(auth_query);
  if (token && !p.sign_session_token) {
    r.url.append("&X-Amz-Security-Token=");
    append_encoded(r.url, creds.session_token, false);
  }
  r.url.append("&X-Amz-Signature=").append(r.signature);
  return r;
}

namespace {

// The first case-insensitive occurrence of the lower-case marker `m` in `s` at or after `from`,
// or npos. Error text can be megabytes: most positions are ruled out on their first character.
size_t ifind(std::string_view s, std::string_view m, size_t from) {
  if (m.empty() || m.size() > s.size()) return std::string_view::npos;
  const char first = m[0];
  for (size_t i = from, last = s.size() - m.size(); i <= last; ++i)
    if (lower_ascii(s[i]) == first && ieq(s.substr(i, m.size()), m)) return i;
  return std::string_view::npos;
}

// One pass over `in` masking the value after each occurrence of `marker` (the value runs from
// after the marker, and after `skip` characters, to the first of `stops`). Builds a new string
// rather than replacing in place: error text is anyone's to fill with markers, and one in-place
// replace per marker made a long message quadratic (a 2 MB message took minutes).
// keep(value) leaves a value as it is.
template <class Keep>
std::string mask_after(std::string_view in, std::string_view marker, std::string_view skip, std::string_view stops,
                       Keep keep) {
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = ifind(in, marker, pos)) != std::string_view::npos;) {
    if (out.capacity() == 0) out.reserve(in.size());
    size_t start = hit + marker.size();
    while (start < in.size() && skip.find(in[start]) != std::string_view::npos) ++start;
    size_t end = in.find_first_of(stops, start);
    if (end == std::string_view::npos) end = in.size();
    if (keep(in.substr(start, end - start))) {
      out.append(in.substr(pos, end - pos));
    } else {
      out.append(in.substr(pos, start - pos)).append("*****");
    }
    pos = end;
  }
  if (pos == 0) return std::string(in);
  out.append(in.substr(pos));
  return out;
}

}  // namespace

std::string redact_auth(std::string_view text) {
  // Case-insensitive markers; the value runs to the next separator. "signature=" also covers
  // X-Amz-Signature=; the ':' form covers the token header in a canonical request or header dump.
  struct Marker {
    std::string_view text;
    std::string_view stops;
  };
  static constexpr Marker kMarkers[] = {
      {"signature=", "&, \"\n\r\t;"},
      {"x-amz-security-token=", "&, \"\n\r\t;"},
      {"x-amz-security-token:", "\"\n\r"},
      {"x-amz-security-token\":\"", "\""},  // a JSON dump of headers
  };
  auto mask_all = [](std::string_view) { return false; };
  std::string out(text);
  for (const auto& m : kMarkers) out = mask_after(out, m.text, m.text.back() == ':' ? " " : "", m.stops, mask_all);
  // Authorization values: a SigV4 one keeps its key id, scope and signed headers (its Signature=
  // was masked above); any other scheme (a bearer token, SigV2 "AWS id:signature") is masked whole.
  auto sigv4_or_masked = [](std::string_view value) { return value.starts_with("AWS4-") || value == "*****"; };
  out = mask_after(out, "authorization:", " \"", "\"\n\r", sigv4_or_masked);
  out = mask_after(out, "authorization=", " \"", "&\"\n\r", sigv4_or_masked);
  return out;
}

std::string redact_service_text(std::string_view text) {
  // Markers of the blocks AWS appends to SignatureDoesNotMatch ("The Canonical String for this
  // request should have been ...", "The String-to-Sign should have been ...") and the S3 forms.
  static constexpr std::string_view kBlocks[] = {"canonical string", "canonical request", "canonicalrequest",
                                                 "canonical_request", "string-to-sign", "string to sign",
                                                 "stringtosign", "string_to_sign"};
  size_t cut = std::string_view::npos;
  for (std::string_view m : kBlocks) {
    // Only a block starting before the earliest found so far matters.
    std::string_view before = cut == std::string_view::npos ? text : text.substr(0, cut + m.size() - 1);
    cut = std::min(cut, ifind(before, m, 0));
  }
  std::string out(text.substr(0, cut));
  if (cut != std::string_view::npos) {
    while (!out.empty() && (out.back() == ' ' || out.back() == '\n' || out.back() == '\r' || out.back() == '\t'))
      out.pop_back();
    out += " [canonical request and string-to-sign removed by containctl]";
  }
  return redact_auth(out);
}

}  // namespace containctl::aws
