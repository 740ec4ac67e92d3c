// `stackset generate`: the selection flags, their validation, and the set of templates each
// deployment model needs (one per file).
#pragma once

#include <string>
#include <vector>

#include "actions/action.h"
#include "stacksets/emit.h"
#include "stacksets/policy.h"

namespace containctl::stacksets {

enum class Variant { kContainctl, kAwsSir };
enum class Model { kServiceManaged, kSelfManaged, kStack };

Result<Variant> parse_variant(const std::string& text);
Result<Model> parse_model(const std::string& text);
const char* to_string(Variant v);
const char* to_string(Model m);

struct Selection {
  Variant variant = Variant::kContainctl;
  std::string model;  // "" = inferred: --accounts -> self-managed, --org-root/--ou -> service-managed, else stack
  Format format = Format::kYaml;
  std::string org_root;
  std::vector<std::string> ous;
  std::vector<std::string> accounts;  // entries may themselves be comma-separated
  std::vector<std::string> regions;   // entries may be comma-separated; exactly one after resolution
  std::vector<std::string> trusted_principals;
  std::string actions;  // --actions, comma-separated; "" = all families
  std::string member_role_name = "ContainctlContainment";
  std::string stack_set_name;  // "" = ContainctlContainmentRoles / SecurityIRContainmentRoles
};

// A Selection after validation: lists split, sorted and deduplicated, names defaulted.
struct Resolved {
  Variant variant = Variant::kContainctl;
  Model model = Model::kStack;
  Format format = Format::kYaml;
  std::vector<std::string> ous;  // org root and OUs
  std::vector<std::string> accounts;
  std::string region;
  std::vector<std::string> trusted_principals;
  std::vector<const actions::ActionFamily*> families;  // containctl variant only
  std::string member_role_name;
  std::string stack_set_name;
  std::string management_stack_name;  // service-managed: the plain stack for the management account
  std::string file_prefix;            // "containctl" or "aws-sir"
};

// Flag combinations that cannot work are ErrorKind::kUsage (exit 2); bad values (ids, ARNs, region
// count, unknown families) are kInvalidInput (exit 1). `default_region` applies when --regions is empty.
Result<Resolved> resolve(const Selection& s, const std::vector<actions::ActionFamily*>& catalog,
                         const std::string& default_region);

struct GeneratedFile {
  std::string name;     // file name with extension, e.g. containctl-stackset.yaml
  std::string purpose;  // one line: where to deploy it
  Doc doc;
};

struct Bundle {
  Doc member_template;  // the role template every target account gets
  std::vector<GeneratedFile> files;
};

// The member-role template of the variant.
Result<Doc> member_role_template(const Resolved& r);
Result<Bundle> generate(const Resolved& r);

// One template: the template itself. Several: YAML documents separated by "---", each headed by a
// comment naming its file, or (JSON) one object keyed by file name.
std::string render(const Bundle& b, Format f);
// Writes the bundle: a file path for one template, a directory (created) for several. Existing
// files are replaced.
Status write_bundle(const Bundle& b, Format f, const std::string& path);

}  // namespace containctl::stacksets
