#include "actions/registry.h"

#include <memory>

#include "actions/ec2_isolate.h"
#include "actions/iam_contain.h"
#include "actions/iam_rotate_keys.h"
#include "actions/s3_contain.h"

// Each family's factory. Add one line here and one in make_all() when a family lands.

namespace containctl::actions {
namespace {

std::vector<std::unique_ptr<ActionFamily>> make_all() {
  std::vector<std::unique_ptr<ActionFamily>> out;
  out.push_back(make_ec2_isolate());
  out.push_back(make_iam_contain());
  out.push_back(make_iam_rotate_keys());
  out.push_back(make_s3_contain());
  return out;
}

}  // namespace

const std::vector<ActionFamily*>& all_families() {
  static const auto owned = make_all();
  static const std::vector<ActionFamily*> view = [] {
    std::vector<ActionFamily*> v;
    for (const auto& f : owned) v.push_back(f.get());
    return v;
  }();
  return view;
}

ActionFamily* find_family(const std::string& name) {
  for (ActionFamily* f : all_families())
    if (f->name() == name) return f;
  return nullptr;
}

std::string family_names() {
  std::string out;
  for (ActionFamily* f : all_families()) out += (out.empty() ? "" : ", ") + f->name();
  return out;
}

}  // namespace containctl::actions
