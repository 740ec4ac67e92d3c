#include "aws/debug_sign.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "aws/http.h"
#include "aws/sigv4.h"
#include "aws/url.h"

namespace containctl::aws {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<Header> parse_header(const std::string& text) {
  size_t colon = text.find(':');
  // Only the header's name is ever quoted back: its value may be a token.
  std::string shown = text.substr(0, std::min<size_t>(colon == std::string::npos ? 40 : colon, 40));
  if (colon == std::string::npos)
    return Error::invalid("--header '" + shown + "...' has no ':' (expected 'Name: value')", "InvalidHeader");
  std::string_view name = trim(std::string_view(text).substr(0, colon));
  std::string_view value = trim(std::string_view(text).substr(colon + 1));
  if (name.empty()) return Error::invalid("--header has an empty name (expected 'Name: value')", "InvalidHeader");
  if (text.find_first_of("\r\n") != std::string::npos)
    return Error::invalid("--header '" + std::string(name) + "' contains CR or LF", "InvalidHeader");
  return Header{std::string(name), std::string(value)};
}

Result<std::string> read_body(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io("cannot read --body-file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error::io("error reading --body-file '" + path + "'");
  return ss.str();
}

Status check_method(const std::string& m) {
  if (m.empty() || m.size() > 16) return Error::invalid("--method must be an HTTP method such as GET or POST", "InvalidMethod");
  for (unsigned char c : m)
    if (!std::isupper(c)) return Error::invalid("--method '" + m + "' must be an upper-case HTTP method such as GET", "InvalidMethod");
  return Ok{};
}

}  // namespace

Result<nlohmann::json> debug_sign(const DebugSignInput& in, const Credentials& creds, Clock& clock) {
  CC_TRY(check_method(in.method));
  CC_TRY(split_url(in.url));
  HttpRequest req;
  req.method = in.method;
  req.url = in.url;
  for (const auto& h : in.headers) {
    CC_ASSIGN(Header parsed, parse_header(h));
    req.headers.push_back(std::move(parsed));
  }
  if (in.body_file) {
    CC_ASSIGN(req.body, read_body(*in.body_file));
  }

  SigningParams p{in.region, in.service, clock.now()};
  // Only the compact form: it is what X-Amz-Date carries, so what a user copies from a failed call.
  if (in.timestamp && (in.timestamp->size() != 16 || !parse_time(*in.timestamp, p.time)))
    return Error::invalid("--timestamp '" + in.timestamp->substr(0, 32) + "' is not YYYYMMDDTHHMMSSZ", "InvalidTimestamp");
  p.s3_mode = in.s3;
  p.content_sha256_header = in.s3 && !in.presign_seconds;
  // S3 presigned URLs carry no body hash (botocore's S3SigV4QueryAuth, the S3 documentation).
  if (in.s3 && in.presign_seconds) p.payload = PayloadMode::kUnsigned;

  nlohmann::json out;
  Result<SigningResult> r = Error::internal("unsigned");
  if (in.presign_seconds) {
    r = presign_url(req, creds, p, *in.presign_seconds);
  } else {
    r = sign_request(req, creds, p);
  }
  if (!r.ok()) return r.error();
  // The session token is in the canonical request (header or query) and in a presigned URL; it is
  // masked in everything printed, raw and URI-encoded, whatever the case of its name.
  auto mask = [&creds](std::string text) {
    for (const std::string& secret : {creds.session_token, uri_encode(creds.session_token, false)}) {
      if (secret.empty()) continue;
      for (size_t p = text.find(secret); p != std::string::npos; p = text.find(secret, p + 5))
        text.replace(p, secret.size(), "*****");
    }
    return text;
  };
  out["canonical_request"] = mask(r->canonical_request);
  out["string_to_sign"] = mask(r->string_to_sign);
  out["signed_headers"] = r->signed_headers;
  out["signature"] = r->signature;
  {
    // Third line of the string to sign.
    std::string_view sts = r->string_to_sign;
    size_t a = sts.find('\n'), b = sts.find('\n', a + 1), c = sts.find('\n', b + 1);
    out["credential_scope"] = std::string(sts.substr(b + 1, c - b - 1));
  }
  out["service"] = in.service;
  out["region"] = in.region;
  if (in.presign_seconds) {
    out["url"] = mask(r->url);
    out["expires"] = *in.presign_seconds;
  } else {
    out["authorization"] = r->authorization;
    nlohmann::json headers = nlohmann::json::array();
    for (const auto& h : req.headers) {
      bool token = iequals(h.name, "x-amz-security-token");
      headers.push_back(nlohmann::json::array({h.name, token ? std::string("*****") : h.value}));
    }
    out["headers"] = headers;
  }
  return out;
}

}  // namespace containctl::aws
