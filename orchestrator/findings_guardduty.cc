// GuardDuty findings (the API's PascalCase or EventBridge's camelCase): Resource.InstanceDetails,
// Resource.AccessKeyDetails (the actor of IAM and S3 findings), Resource.S3BucketDetails, and the
// actors and resources of attack sequences (Service.Detection.Sequence).
#include "orchestrator/findings_internal.h"

namespace containctl::orch::findings {
namespace {

std::string label(const std::string& path, const std::string& id) { return id.empty() ? path : path + " (" + id + ")"; }

void instance(Judge& j, const std::string& where, const std::string& id, const std::string& region) {
  if (id.empty()) return j.skip(where, "the instance id is missing");
  if (id.rfind("arn:", 0) == 0) {
    std::string why, repaired;
    auto arn = checked_arn(id, {j.partition, "ec2", region, j.account, "instance"}, why, repaired);
    if (!arn) return j.skip(label(where, id), why);
    return j.target(label(where, id), *arn, "instance named by GuardDuty finding " + j.finding_type);
  }
  if (region.empty()) return j.skip(label(where, id), "the finding gives no Region to build the instance ARN");
  j.target(label(where, id), aws::ec2_instance_arn(j.partition, region, j.account, id),
           "instance named by GuardDuty finding " + j.finding_type);
}

void bucket(Judge& j, const std::string& where, const std::string& name, const std::string& arn_given,
            const std::string& actor) {
  if (name.empty() && arn_given.empty()) return j.skip(where, "the bucket has neither Name nor Arn");
  if (name.find_first_of("/:") != std::string::npos)
    return j.skip(label(where, name), "'" + name + "' is not a bucket name");
  std::string note = "bucket named by GuardDuty finding " + j.finding_type +
                     (actor.empty() ? "" : " (accessed with key " + actor + ")");
  if (arn_given.empty()) return j.target(label(where, name), aws::s3_arn(j.partition, name), note);
  std::string why, repaired;
  auto checked = checked_arn(arn_given, {j.partition, "s3", "", "", "bucket"}, why, repaired);
  if (!checked) return j.skip(label(where, name.empty() ? arn_given : name), why);
  if (!name.empty()) {
    auto named = aws::s3_arn(j.partition, name);
    if (!named.ok() || named->str() != *checked)
      return j.skip(label(where, name), "the bucket's Arn " + arn_given + " and Name '" + name + "' disagree");
  }
  j.target(label(where, name), *checked, note);
}

Principal key_details(const json& d) {
  Principal p;
  p.key_id = str(d, "AccessKeyId");
  p.type = str(d, "UserType");
  p.name = str(d, "UserName");
  p.principal_id = str(d, "PrincipalId");
  return p;
}

// Attack sequences name their actors (who) and resources (what) in OCSF-like shapes.
void sequence(Judge& j, const json& seq, const std::string& region) {
  const std::string base = "Service.Detection.Sequence";
  if (const json* actors = field(seq, "Actors"); actors && actors->is_array()) {
    for (size_t i = 0; i < actors->size(); ++i) {
      const json& a = (*actors)[i];
      std::string where = base + ".Actors[" + std::to_string(i) + "]";
      const json* u = field(a, "User");
      if (!u || !u->is_object()) {
        j.skip(label(where, str(a, "Id")), "the actor is not an AWS principal (no User)");
        continue;
      }
      Principal p;
      p.name = str(*u, "Name");
      p.principal_id = str(*u, "Uid");
      p.type = str(*u, "Type");
      p.key_id = str(*u, "CredentialUid");
      if (const json* acct = field(*u, "Account"); acct && acct->is_object()) p.account = str(*acct, "Uid");
      if (const json* s = field(a, "Session"); s && s->is_object()) p.issuer_arn = str(*s, "Issuer");
      add_principal(j, label(where, p.name.empty() ? str(a, "Id") : p.name), p);
    }
  }
  if (const json* resources = field(seq, "Resources"); resources && resources->is_array()) {
    for (size_t i = 0; i < resources->size(); ++i) {
      const json& r = (*resources)[i];
      std::string where = base + ".Resources[" + std::to_string(i) + "]";
      std::string type = str(r, "ResourceType"), uid = str(r, "Uid");
      std::string r_region = str(r, "Region").empty() ? region : str(r, "Region");
      if (iequals(type, "EC2_INSTANCE")) {
        instance(j, where, uid, r_region);
      } else if (iequals(type, "S3_BUCKET")) {
        bool is_arn = uid.rfind("arn:", 0) == 0;
        bucket(j, where, is_arn ? "" : uid, is_arn ? uid : "", "");
      } else if (iequals(type, "ACCESS_KEY")) {
        const json* d = dig(r, {"Data", "AccessKey"});
        Principal p = d ? key_details(*d) : Principal{};
        p.key_id = uid;
        if (!str(r, "AccountId").empty()) p.account = str(r, "AccountId");
        add_principal(j, label(where, uid), p);
      } else {
        j.skip(label(where, uid.empty() ? type : uid), "resource type '" + type + "' is not containable by containctl");
      }
    }
  }
}

}  // namespace

void guardduty_finding(Judge& j, const json& f) {
  std::string region = str(f, "Region");
  const json* resource = field(f, "Resource");
  std::string rtype = resource ? str(*resource, "ResourceType") : "";
  std::string actor;
  if (resource && resource->is_object()) {
    if (const json* d = field(*resource, "InstanceDetails"); d && d->is_object())
      instance(j, "Resource.InstanceDetails", str(*d, "InstanceId"), region);
    if (const json* d = field(*resource, "AccessKeyDetails"); d && d->is_object()) {
      Principal p = key_details(*d);
      actor = p.key_id;
      add_principal(j, label("Resource.AccessKeyDetails", p.name.empty() ? p.key_id : p.name), p);
    }
    if (const json* b = field(*resource, "S3BucketDetails"); b && b->is_array()) {
      if (b->empty()) j.skip("Resource.S3BucketDetails", "the list of buckets is empty");
      for (size_t i = 0; i < b->size(); ++i) {
        std::string where = "Resource.S3BucketDetails[" + std::to_string(i) + "]";
        if (!(*b)[i].is_object()) {
          j.skip(where, "not an object");
          continue;
        }
        bucket(j, where, str((*b)[i], "Name"), str((*b)[i], "Arn"), actor);
      }
    }
  }
  if (const json* seq = dig(f, {"Service", "Detection", "Sequence"})) sequence(j, *seq, region);
  if (j.produced > 0) return;
  // Nothing containable was named. Say what the finding does name.
  if (const json* api = dig(f, {"Service", "Action", "AwsApiCallAction"})) {
    std::string remote;
    if (const json* r = field(*api, "RemoteAccountDetails"); r && r->is_object() && !str(*r, "AccountId").empty())
      remote = ", remote account " + str(*r, "AccountId");
    return j.skip("Service.Action.AwsApiCallAction",
                  "names the call (" + str(*api, "ServiceName") + " " + str(*api, "Api") + remote +
                      ") but no principal or resource containctl can contain");
  }
  if (!resource) return j.skip("Resource", "the finding names no resource");
  j.skip(label("Resource", rtype), "resource type '" + rtype +
                                       "' is not containable by containctl (Instance, AccessKey, S3Bucket, "
                                       "attack-sequence actors)");
}

}  // namespace containctl::orch::findings
