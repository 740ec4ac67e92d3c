#include "aws/http.h"

#include <cctype>

namespace containctl::aws {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

static std::string_view find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

std::string_view HttpRequest::header(std::string_view name) const { return find_header(headers, name); }
std::string_view HttpResponse::header(std::string_view name) const { return find_header(headers, name); }

void HttpRequest::set_header(std::string name, std::string value) {
  std::erase_if(headers, [&](const Header& h) { return iequals(h.name, name); });
  headers.push_back({std::move(name), std::move(value)});
}

}  // namespace containctl::aws
