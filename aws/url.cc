#include "aws/url.h"

#include <algorithm>
#include <cctype>

namespace containctl::aws {

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error::invalid("malformed URL '" + std::string(text) + "': " + why, "MalformedURL");
  };
  Url url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return bad("no scheme (expected https://host/...)");
  url.scheme = std::string(text.substr(0, sep));
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(), ::tolower);
  if (url.scheme != "https" && url.scheme != "http") return bad("unsupported scheme '" + url.scheme + "'");
  std::string_view rest = text.substr(sep + 3);
  for (char c : rest) {
    if (c == ' ' || c == '\r' || c == '\n' || c == '\t') return bad("contains whitespace");
  }
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view tail = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not allowed");
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("junk after IPv6 literal");
      port = authority.substr(close + 2);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad("empty host");
  url.host = std::string(host);
  std::transform(url.host.begin(), url.host.end(), url.host.begin(), ::tolower);
  if (!port.empty() || (authority.size() && authority.back() == ':')) {
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit))
      return bad("bad port '" + std::string(port) + "'");
    url.port = std::stoi(std::string(port));
    if (url.port < 1 || url.port > 65535) return bad("port out of range");
  }
  if (size_t hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  size_t q = tail.find('?');
  url.path = std::string(tail.substr(0, q));
  if (q != std::string_view::npos) url.query = std::string(tail.substr(q + 1));
  if (url.path.empty()) url.path = "/";
  return url;
}

}  // namespace containctl::aws
