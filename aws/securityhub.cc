#include "aws/securityhub.h"

namespace containctl::aws {

using nlohmann::json;

json FindingUpdate::to_json() const {
  json ids = json::array();
  for (const auto& f : findings) ids.push_back({{"Id", f.id}, {"ProductArn", f.product_arn}});
  json j = {{"FindingIdentifiers", ids}, {"Note", {{"Text", note}, {"UpdatedBy", updated_by}}}};
  if (!workflow_status.empty()) j["Workflow"] = {{"Status", workflow_status}};
  return j;
}

const std::vector<std::string>& securityhub_iam_actions() {
  static const std::vector<std::string> kActions = {"securityhub:BatchUpdateFindings"};
  return kActions;
}

Status batch_update_findings(AwsClient& client, const std::string& region, const FindingUpdate& update) {
  if (update.findings.empty()) return Ok{};
  if (update.findings.size() > 100)
    return Error::invalid("BatchUpdateFindings takes at most 100 findings, got " + std::to_string(update.findings.size()));
  // Setting the same note and status twice leaves the finding as once: safe to retry.
  auto r = client.rest_json("securityhub", region, "BatchUpdateFindings", "PATCH", "/findings/batchupdate",
                            update.to_json());
  if (!r.ok()) {
    Error e = r.error();
    if (e.kind == ErrorKind::kAuth && e.http_status == 403)
      e.message += " (the caller needs the IAM permission securityhub:BatchUpdateFindings)";
    return e;
  }
  std::string problems;
  for (const auto& u : r->value("UnprocessedFindings", json::array())) {
    if (!u.is_object()) continue;
    const json id = u.value("FindingIdentifier", json::object());
    problems += (problems.empty() ? "" : "; ") + (id.is_object() ? id.value("Id", "?") : std::string("?")) + ": " +
                u.value("ErrorCode", "") + " " + u.value("ErrorMessage", "");
  }
  if (!problems.empty())
    return Error{ErrorKind::kClient, "UnprocessedFindings",
                 "securityhub BatchUpdateFindings: not updated: " + redact_service_text(problems)};
  return Ok{};
}

}  // namespace containctl::aws
