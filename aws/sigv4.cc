// SigV4 as specified in the AWS General Reference ("Create a signed AWS API request"), with the
// S3 exceptions (no path normalisation, no double encoding, x-amz-content-sha256).
#define OPENSSL_SUPPRESS_DEPRECATED  // low-level SHA256_* is the fastest path for short inputs
#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "aws/url.h"

namespace containctl::aws {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

void append_hex(std::string& out, const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 0xf]);
  }
}

Digest sha256(std::string_view data) {
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data());
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

std::string_view as_view(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Per-thread cache of derived signing keys. Keys change once a day per (secret, region,
// service); a handful of entries covers every client a thread uses.
struct CachedKey {
  std::string secret;
  std::string date;
  std::string region;
  std::string service;
  std::unique_ptr<HmacKey> key;
};

const HmacKey& signing_key(const std::string& secret, std::string_view date, const std::string& region,
                           const std::string& service) {
  thread_local std::vector<CachedKey> cache;
  for (auto& e : cache) {
    if (e.date == date && e.region == region && e.service == service && e.secret == secret) return *e.key;
  }
  std::string k = "AWS4" + secret;
  Digest kdate = hmac(k, date);
  OPENSSL_cleanse(k.data(), k.size());
  Digest kregion = hmac(as_view(kdate), region);
  Digest kservice = hmac(as_view(kregion), service);
  Digest ksigning = hmac(as_view(kservice), "aws4_request");
  if (cache.size() >= 16) cache.erase(cache.begin());
  cache.push_back({secret, std::string(date), region, service, std::make_unique<HmacKey>(as_view(ksigning))});
  OPENSSL_cleanse(ksigning.data(), ksigning.size());
  return *cache.back().key;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

// Headers the SDKs never sign: hop-by-hop headers and ones proxies rewrite.
bool never_signed(std::string_view lower_name) {
  static constexpr std::string_view kSkip[] = {
      "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
      "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"};
  return std::find(std::begin(kSkip), std::end(kSkip), lower_name) != std::end(kSkip);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trim and collapse runs of spaces/tabs to one space.
void append_trimmed(std::string& out, std::string_view v) {
  size_t b = 0, e = v.size();
  while (b < e && (v[b] == ' ' || v[b] == '\t')) ++b;
  while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t')) --e;
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

struct CanonicalHeaders {
  std::string canonical;  // "name:value\n" lines
  std::string signed_names;
};

Result<CanonicalHeaders> canonical_headers(const std::vector<Header>& headers) {
  struct Entry {
    std::string name;
    std::string_view value;
    size_t order;
  };
  std::vector<Entry> entries;
  entries.reserve(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) {
    const auto& h = headers[i];
    if (h.name.empty() || h.name.find_first_of("\r\n:") != std::string::npos)
      return Error::invalid("header name '" + h.name + "' is empty or contains CR, LF or ':'", "InvalidHeader");
    if (h.value.find_first_of("\r\n") != std::string::npos)
      return Error::invalid("header '" + h.name + "' value contains CR or LF", "InvalidHeader");
    std::string name = lower(h.name);
    if (never_signed(name)) continue;
    entries.push_back({std::move(name), h.value, i});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.name != b.name ? a.name < b.name : a.order < b.order;
  });
  CanonicalHeaders out;
  out.canonical.reserve(256);
  for (size_t i = 0; i < entries.size(); ++i) {
    bool repeat = i > 0 && entries[i].name == entries[i - 1].name;
    if (repeat) {
      out.canonical.back() = ',';  // replace the '\n' of the previous value
    } else {
      if (!out.signed_names.empty()) out.signed_names.push_back(';');
      out.signed_names += entries[i].name;
      out.canonical += entries[i].name;
      out.canonical.push_back(':');
    }
    append_trimmed(out.canonical, entries[i].value);
    out.canonical.push_back('\n');
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    i = j + 1;
  }
  bool trailing = path.ends_with("/") || path.ends_with("/.") || path.ends_with("/..");
  std::string out;
  for (auto s : segments) {
    out.push_back('/');
    out += s;
  }
  if (out.empty() || trailing) out.push_back('/');
  return out;
}

std::string credential_scope(std::string_view date, const SigningParams& p) {
  std::string s;
  s.reserve(date.size() + p.region.size() + p.service.size() + 16);
  s.append(date).append("/").append(p.region).append("/").append(p.service).append("/aws4_request");
  return s;
}

Status check(const Credentials& c, const SigningParams& p) {
  if (c.empty()) return Error{ErrorKind::kAuth, "MissingCredentials", "no credentials to sign with"};
  if (p.region.empty()) return Error::invalid("signing region is empty", "InvalidSigningParams");
  if (p.service.empty()) return Error::invalid("signing service is empty", "InvalidSigningParams");
  return Ok{};
}

std::string payload_hash(const HttpRequest& r, const SigningParams& p) {
  if (auto h = r.header("x-amz-content-sha256"); !h.empty()) return std::string(h);
  if (p.payload == PayloadMode::kUnsigned) return std::string(kUnsignedPayload);
  if (r.body.empty()) return std::string(kEmptySha256);
  return sha256_hex(r.body);
}

}  // namespace

std::string uri_encode(std::string_view in, bool keep_slash) {
  std::string out;
  out.reserve(in.size() + 8);
  for (unsigned char c : in) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back("0123456789ABCDEF"[c >> 4]);
      out.push_back("0123456789ABCDEF"[c & 0xf]);
    }
  }
  return out;
}

std::string uri_decode(std::string_view in) {
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
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
  if (raw_path.empty()) return "/";
  if (s3_mode) return std::string(raw_path);
  return uri_encode(normalize_path(raw_path), true);
}

std::string canonical_query(std::string_view raw_query) {
  if (raw_query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> params;
  size_t i = 0;
  while (i <= raw_query.size()) {
    size_t j = raw_query.find('&', i);
    if (j == std::string_view::npos) j = raw_query.size();
    std::string_view piece = raw_query.substr(i, j - i);
    if (!piece.empty()) {
      size_t eq = piece.find('=');
      std::string_view k = piece.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
      params.emplace_back(uri_encode(uri_decode(k), false), uri_encode(uri_decode(v), false));
    }
    i = j + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
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
  CC_ASSIGN(Url url, parse_url(request.url));
  const std::string amz_date = format_amz_date(p.time);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);

  std::erase_if(request.headers, [](const Header& h) {
    return iequals(h.name, "authorization") || iequals(h.name, "x-amz-date") ||
           iequals(h.name, "x-amz-security-token");
  });
  if (request.header("host").empty()) request.headers.push_back({"host", url.host_header()});
  request.headers.push_back({"x-amz-date", amz_date});
  if (!creds.session_token.empty()) request.headers.push_back({"x-amz-security-token", creds.session_token});
  std::string body_hash = payload_hash(request, p);
  if (p.content_sha256_header && request.header("x-amz-content-sha256").empty())
    request.headers.push_back({"x-amz-content-sha256", body_hash});

  CC_ASSIGN(CanonicalHeaders ch, canonical_headers(request.headers));
  SigningResult r;
  r.canonical_request.reserve(256 + ch.canonical.size() + url.query.size());
  r.canonical_request.append(request.method).push_back('\n');
  r.canonical_request.append(canonical_uri(url.path, p.s3_mode)).push_back('\n');
  r.canonical_request.append(canonical_query(url.query)).push_back('\n');
  r.canonical_request.append(ch.canonical).push_back('\n');
  r.canonical_request.append(ch.signed_names).push_back('\n');
  r.canonical_request.append(body_hash);

  std::string scope = credential_scope(date, p);
  r.string_to_sign.reserve(160);
  r.string_to_sign.append(kAlgorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  r.string_to_sign.append(sha256_hex(r.canonical_request));

  Digest sig = signing_key(creds.secret_access_key, date, p.region, p.service).mac(r.string_to_sign);
  append_hex(r.signature, sig.data(), sig.size());
  r.signed_headers = std::move(ch.signed_names);
  r.authorization.reserve(200);
  r.authorization.append(kAlgorithm)
      .append(" Credential=")
      .append(creds.access_key_id)
      .append("/")
      .append(scope)
      .append(", SignedHeaders=")
      .append(r.signed_headers)
      .append(", Signature=")
      .append(r.signature);
  request.headers.push_back({"Authorization", r.authorization});
  return r;
}

Result<SigningResult> presign_url(const HttpRequest& request, const Credentials& creds, const SigningParams& p,
                                  int expires_seconds) {
  CC_TRY(check(creds, p));
  if (expires_seconds < 1 || expires_seconds > 604800)
    return Error::invalid("presign expiry must be between 1 and 604800 seconds", "InvalidExpiry");
  CC_ASSIGN(Url url, parse_url(request.url));
  const std::string amz_date = format_amz_date(p.time);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  std::string scope = credential_scope(date, p);

  std::vector<Header> headers = request.headers;
  if (request.header("host").empty()) headers.push_back({"host", url.host_header()});
  CC_ASSIGN(CanonicalHeaders ch, canonical_headers(headers));

  std::string query = url.query;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!query.empty()) query.push_back('&');
    query.append(k).append("=").append(uri_encode(v, false));
  };
  add("X-Amz-Algorithm", kAlgorithm);
  add("X-Amz-Credential", creds.access_key_id + "/" + scope);
  add("X-Amz-Date", amz_date);
  add("X-Amz-Expires", std::to_string(expires_seconds));
  if (!creds.session_token.empty()) add("X-Amz-Security-Token", creds.session_token);
  add("X-Amz-SignedHeaders", ch.signed_names);

  std::string body_hash = p.s3_mode || p.payload == PayloadMode::kUnsigned ? std::string(kUnsignedPayload)
                                                                          : payload_hash(request, p);
  SigningResult r;
  r.canonical_request = request.method + "\n" + canonical_uri(url.path, p.s3_mode) + "\n" + canonical_query(query) +
                        "\n" + ch.canonical + "\n" + ch.signed_names + "\n" + body_hash;
  r.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope + "\n" + sha256_hex(r.canonical_request);
  Digest sig = signing_key(creds.secret_access_key, date, p.region, p.service).mac(r.string_to_sign);
  append_hex(r.signature, sig.data(), sig.size());
  r.signed_headers = std::move(ch.signed_names);
  r.url = url.origin() + url.path + "?" + query + "&X-Amz-Signature=" + r.signature;
  return r;
}

std::string redact_auth(std::string_view text) {
  std::string out(text);
  for (std::string_view marker : {"Signature=", "X-Amz-Signature=", "X-Amz-Security-Token="}) {
    size_t pos = 0;
    while ((pos = out.find(marker, pos)) != std::string::npos) {
      size_t start = pos + marker.size();
      size_t end = out.find_first_of("&, \"", start);
      if (end == std::string::npos) end = out.size();
      out.replace(start, end - start, "*****");
      pos = start + 5;
    }
  }
  return out;
}

}  // namespace containctl::aws
