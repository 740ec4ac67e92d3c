// Which document is this, which findings does it hold, and the output of `targets`.
#include "orchestrator/findings.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "orchestrator/findings_internal.h"
#include "orchestrator/settings.h"

namespace containctl::orch {

namespace {

using nlohmann::json;
using findings::field;
using findings::str;

Error not_a_finding(const std::string& source, const std::string& what) {
  return Error::invalid(source + ": " + what, "InvalidFinding");
}

bool looks_asff(const json& f) {
  return f.is_object() && (field(f, "Resources") || field(f, "ProductArn") || field(f, "AwsAccountId"));
}
bool looks_guardduty(const json& f) {
  return f.is_object() && (field(f, "Resource") || (field(f, "AccountId") && (field(f, "Service") || field(f, "Type"))));
}

// GuardDuty's and Security Hub's own products; everything else was imported by someone else.
bool aws_own_product(const std::string& product_arn) {
  auto a = aws::parse_arn(product_arn);
  if (!a.ok() || a->service != "securityhub" || a->region.empty() || !a->account.empty()) return false;
  std::string r = a->resource_text();
  return r == "product/aws/guardduty" || r == "product/aws/securityhub";
}

struct Reader {
  std::string source;
  FindingTargets out;

  void finding(const json& f, const std::string& where, const std::string& envelope_account) {
    findings::Judge j{&out, source};
    bool asff = looks_asff(f);
    if (!asff && !looks_guardduty(f)) {
      j.finding_id = str(f, "Id");
      return j.skip(where, "not a GuardDuty finding (no Resource) nor a Security Hub ASFF finding (no Resources)");
    }
    j.finding_id = str(f, "Id");
    j.account = str(f, asff ? "AwsAccountId" : "AccountId");
    if (asff) {
      // A control check's result names a resource that failed a configuration rule (IMDSv2, key
      // rotation), not one under attack: Security Hub sets Compliance, and BatchUpdateFindings cannot
      // add it to a threat finding, so an adversary cannot use it to hide one.
      // Writers that print absent members as null (or an empty object) say nothing by it.
      if (const json* c = field(f, "Compliance"); c && c->is_object() && !c->empty())
        return j.skip(where + "Compliance", "a compliance check result (a resource failed a control), not a threat "
                                            "finding: nothing is contained for it");
      if (const json* types = field(f, "Types"); types && types->is_array() && !types->empty() && (*types)[0].is_string())
        j.finding_type = (*types)[0].get<std::string>();
      std::string product = str(f, "ProductArn");
      j.product_arn = product;
      j.first_seen = str(f, "FirstObservedAt").empty() ? str(f, "CreatedAt") : str(f, "FirstObservedAt");
      if (!aws_own_product(product))
        j.note_suffix += "; imported by product '" + product +
                         "', not GuardDuty or Security Hub: anyone allowed BatchImportFindings could have written it";
    } else {
      j.finding_type = str(f, "Type");
      const json* service = field(f, "Service");
      j.first_seen = service && service->is_object() ? str(*service, "EventFirstSeen") : "";
      if (j.first_seen.empty()) j.first_seen = str(f, "CreatedAt");
      if (!str(f, "Partition").empty()) j.partition = str(f, "Partition");
    }
    if (!envelope_account.empty() && envelope_account != j.account)
      j.note_suffix += "; the event came from account " + envelope_account + ", the finding is about account " +
                       j.account + ", which is used";
    if (!findings::known_partition(j.partition))
      return j.skip(where + "Partition", "partition '" + j.partition + "' is not supported (aws, aws-cn, aws-us-gov)");
    if (!findings::is_account_id(j.account))
      return j.skip(where + (asff ? "AwsAccountId" : "AccountId"),
                    "the finding's account '" + j.account + "' is not a 12-digit account id");
    if (asff) {
      findings::securityhub_finding(j, f);
    } else {
      findings::guardduty_finding(j, f);
    }
  }

  // An array of findings: each judged on its own. Returns how many looked like findings.
  Status many(const json& arr, const std::string& where, const std::string& envelope_account) {
    if (!arr.is_array()) return not_a_finding(source, where + " must be an array of findings");
    if (arr.empty()) return not_a_finding(source, where + " holds no findings");
    size_t recognised = 0;
    for (size_t i = 0; i < arr.size(); ++i) {
      recognised += looks_asff(arr[i]) || looks_guardduty(arr[i]);
      finding(arr[i], where + "[" + std::to_string(i) + "].", envelope_account);
    }
    if (recognised == 0)
      return not_a_finding(source, where + " holds no GuardDuty or Security Hub finding");
    return Ok{};
  }

  Status event(const json& doc) {
    const json& dt = doc["detail-type"];
    if (!dt.is_string()) return not_a_finding(source, "detail-type must be a string");
    std::string type = dt.get<std::string>();
    const json* detail = field(doc, "detail");
    if (!detail || !detail->is_object()) return not_a_finding(source, "detail is missing or not an object");
    std::string account = str(doc, "account");
    if (type == "GuardDuty Finding") {
      if (!looks_guardduty(*detail)) return not_a_finding(source, "detail is not a GuardDuty finding");
      finding(*detail, "detail.", account);
      return Ok{};
    }
    if (type.rfind("Security Hub Findings", 0) == 0) {
      const json* arr = field(*detail, "findings");
      if (!arr) return not_a_finding(source, "detail.findings is missing");
      return many(*arr, "detail.findings", account);
    }
    return not_a_finding(source, "detail-type '" + type +
                                     "' is not a finding event (expected 'GuardDuty Finding', 'Security Hub Findings - Imported' "
                                     "or 'Security Hub Findings - Custom Action')");
  }

  Status document(const json& doc) {
    if (doc.is_array()) return many(doc, "", "");
    if (!doc.is_object())
      return not_a_finding(source, "expected a GuardDuty or Security Hub finding (a JSON object or array)");
    if (doc.contains("detail-type")) return event(doc);
    if (const json* arr = field(doc, "Findings")) return many(*arr, "Findings", "");
    if (!looks_asff(doc) && !looks_guardduty(doc))
      return not_a_finding(source,
                           "expected a GuardDuty finding (with Resource), a Security Hub ASFF finding (with "
                           "Resources), a {\"Findings\": [...]} response or an EventBridge finding event");
    finding(doc, "", "");
    return Ok{};
  }
};

}  // namespace

Result<FindingTargets> targets_from_finding(const json& doc, const std::string& source_name) {
  Reader r{source_name, {}};
  CC_TRY(r.document(doc));
  return std::move(r.out);
}

Result<FindingTargets> load_finding_file(const std::string& path_or_dash) {
  std::string source = path_or_dash == "-" ? "<stdin>" : path_or_dash;
  std::string text;
  if (path_or_dash == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(path_or_dash, std::ios::binary);
    if (!in) return Error::invalid(source + ": cannot read finding file", "InvalidFinding");
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  return findings_from_text(text, source);
}

Result<FindingTargets> findings_from_text(const std::string& text, const std::string& source) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    return Error::invalid(source + ": the finding file is empty", "InvalidFinding");
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error::invalid(source + ": not valid JSON (truncated or malformed finding) at " + json_error_position(text, e),
                          "InvalidFinding");
  } catch (const json::out_of_range& e) {
    // A number beyond a double (1e999) is out_of_range, not a parse_error: it used to end the process.
    return Error::invalid(source + ": not valid JSON: a number beyond the range of a double", "InvalidFinding");
  }
  return targets_from_finding(doc, source);
}

json to_json(const FindingTargets& found) {
  json targets = json::array(), skipped = json::array();
  for (const auto& t : found.targets) {
    targets.push_back({{"arn", t.arn}, {"families", t.families}, {"confidence", t.confidence},
                       {"finding_id", t.finding_id}, {"finding_type", t.finding_type}, {"source", t.source},
                       {"note", t.note}, {"access_key_id", t.access_key_id}});
  }
  for (const auto& s : found.skipped) {
    skipped.push_back({{"finding_id", s.finding_id}, {"resource", s.resource}, {"reason", s.reason}});
  }
  return {{"targets", targets}, {"skipped", skipped}};
}

std::string to_text(const FindingTargets& found) {
  std::ostringstream out;
  out << found.targets.size() << " target(s), " << found.skipped.size() << " skipped\n";
  for (const auto& t : found.targets) {
    out << "target  " << t.arn << "  [";
    for (size_t i = 0; i < t.families.size(); ++i) out << (i ? "," : "") << t.families[i];
    out << "] " << t.confidence << "\n        " << t.note << "\n        finding " << t.finding_id
        << (t.finding_type.empty() ? "" : " (" + t.finding_type + ")") << "\n";
  }
  for (const auto& s : found.skipped) {
    out << "skipped " << s.resource << "\n        " << s.reason << "\n        finding " << s.finding_id << "\n";
  }
  return out.str();
}

}  // namespace containctl::orch
