#include "aws/url.h"

#include <algorithm>
#include <cctype>

namespace containctl::aws {
namespace {

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

bool UrlView::https() const { return ieq(scheme, "https"); }

std::string UrlView::host_header() const {
  std::string out;
  out.reserve(host.size() + 6);
  for (char c : host) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (!default_port()) out.append(":").append(std::to_string(port));
  return out;
}

Result<UrlView> split_url(std::string_view text) {
  // The URL is not echoed in errors: a presigned URL carries a session token and a signature.
  auto bad = [](std::string_view why) { return Error::invalid("malformed URL: " + std::string(why), "MalformedURL"); };
  UrlView url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return bad("no scheme (expected https://host/...)");
  url.scheme = text.substr(0, sep);
  if (!ieq(url.scheme, "https") && !ieq(url.scheme, "http"))
    return bad("unsupported scheme '" + std::string(url.scheme.substr(0, 16)) + "' (expected http or https)");
  std::string_view rest = text.substr(sep + 3);
  size_t path_start = 0;
  while (path_start < rest.size() && rest[path_start] != '/' && rest[path_start] != '?' && rest[path_start] != '#')
    ++path_start;
  if (path_start == rest.size()) path_start = std::string_view::npos;
  std::string_view authority = rest.substr(0, path_start);
  std::string_view tail = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  for (unsigned char c : authority) {
    if (c <= 0x20 || c == 0x7f) return bad("whitespace or a control character in the host");
  }
  for (unsigned char c : tail) {
    if (c < 0x20 || c == 0x7f) return bad("contains a control character (CR, LF, tab...)");
  }
  if (authority.find('@') != std::string_view::npos) return bad("user info is not allowed");
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("junk after IPv6 literal");
      port = authority.substr(close + 2);
      has_port = true;
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return bad("empty host");
  // Only what a DNS name, an IPv4 address or an IPv6 literal holds: anything else (a second ':',
  // '%', '\\', brackets) makes the signed Host header name a host curl would not connect to.
  if (host.front() == '[') {
    std::string_view inner = host.substr(1, host.size() - 2);
    if (inner.empty() || !std::all_of(inner.begin(), inner.end(), [](unsigned char c) {
          return std::isxdigit(c) || c == ':' || c == '.';
        }))
      return bad("bad IPv6 literal (hex digits, ':' and '.' only)");
  } else if (!std::all_of(host.begin(), host.end(), [](unsigned char c) {
               return std::isalnum(c) || c == '-' || c == '.' || c == '_';
             })) {
    return bad("the host may hold only letters, digits, '-', '.' and '_' (or be a bracketed IPv6 literal)");
  }
  if (has_port) {
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit))
      return bad("bad port '" + std::string(port.substr(0, 8)) + "'");
    int p = 0;
    for (char c : port) p = p * 10 + (c - '0');
    if (p < 1 || p > 65535) return bad("port out of range");
    url.port = p;
  }
  url.host = host;
  if (size_t hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  size_t q = tail.find('?');
  url.path = tail.substr(0, q);
  if (q != std::string_view::npos) url.query = tail.substr(q + 1);
  return url;
}

Result<Url> parse_url(std::string_view text) {
  CC_ASSIGN(UrlView v, split_url(text));
  Url url;
  url.scheme = std::string(v.scheme);
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(), ::tolower);
  url.host = std::string(v.host);
  std::transform(url.host.begin(), url.host.end(), url.host.begin(), ::tolower);
  url.port = v.port;
  url.path = v.path.empty() ? std::string("/") : std::string(v.path);
  url.query = std::string(v.query);
  return url;
}

}  // namespace containctl::aws
