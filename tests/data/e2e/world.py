#!/usr/bin/env python3
"""Seeds a small account on a local moto_server for the end-to-end CLI tests, and reads its state back.

  world.py ENDPOINT seed N_INSTANCES   print {"instances": [...], "user": ..., "bucket": ..., arns, "state"} as JSON
  world.py ENDPOINT state SEED_JSON    print the containment-relevant state as JSON (sorted, comparable)
  world.py ENDPOINT store TABLE BUCKET print how the team store's table and bucket are set up (with Object Lock
                                       and the retention of the audit checkpoints)
  world.py ENDPOINT squat-audit TABLE N  take the team audit log's next N sequence numbers (appends then fail)
  world.py ENDPOINT team-exposure TABLE  the team store's step items that record an open window
  world.py ENDPOINT lease|steal-lease TABLE RESOURCE  print (or first overwrite, as another writer) a lock item
  world.py ENDPOINT person NAME        make IAM user NAME with an access key; print {"arn", "key_id"}
  world.py ENDPOINT exposed SEED_JSON  print the seeded instances' interfaces that sit in an all-traffic group,
                                       and every all-traffic group that still exists
  world.py ENDPOINT reopen SEED_JSON   put the seeded instances' interfaces back in web-frontend (an adversary's undo)
  world.py ENDPOINT deny-responder ACTION  the responder may do everything but ACTION (for moto's auth mode)

Only ever talks to ENDPOINT, which must be a 127.0.0.1 moto_server.
"""
import json
import sys

import boto3

ENDPOINT, MODE = sys.argv[1], sys.argv[2]
assert ENDPOINT.startswith("http://127.0.0.1:"), "e2e tests only talk to a local moto_server"
kw = dict(endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="testing",
          aws_secret_access_key="testing")
ec2, iam, s3 = boto3.client("ec2", **kw), boto3.client("iam", **kw), boto3.client("s3", **kw)
USER, BUCKET = "svc-reporting", "acme-payroll-exports"


def seed(n):
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    web = ec2.create_security_group(GroupName="web-frontend", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ssh = ec2.create_security_group(GroupName="ssh-admin", Description="ssh", VpcId=vpc)["GroupId"]
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instances = []
    for i in range(n):
        # Groups on the interface (moto tracks instance-level groups separately and unions them on the ENI).
        groups = [web, ssh] if i % 2 else [web]
        inst = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                 NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": groups}],
                                 BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
                                 TagSpecifications=[{"ResourceType": "instance",
                                                     "Tags": [{"Key": "Name", "Value": f"web-{i + 1}"}]}])
        instances.append(inst["Instances"][0]["InstanceId"])
    # The responder's own IAM user: moto answers GetCallerIdentity for its default "testing" key with
    # arn:aws:sts::123456789012:user/moto, a form AWS never returns; a real user's key gives the iam ARN.
    iam.create_user(UserName="e2e-responder")
    responder = iam.create_access_key(UserName="e2e-responder")["AccessKey"]
    responder_key = responder["AccessKeyId"]
    iam.create_user(UserName=USER)
    iam.create_access_key(UserName=USER)
    old = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName=USER, AccessKeyId=old, Status="Inactive")
    iam.put_user_policy(UserName=USER, PolicyName="reports-read", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "PartnerRead", "Effect": "Allow",
                                                 "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                                                 "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "team", "Value": "payroll"}]})
    s3.put_object(Bucket=BUCKET, Key="2026/11/payroll.csv", Body=b"name,amount\n")
    # The secret is moto's, for tests that switch moto's signature checking on.
    return {"instances": instances, "responder_key_id": responder_key,
            "responder_secret": responder["SecretAccessKey"],
            "instance_arns": [f"arn:aws:ec2:us-east-1:123456789012:instance/{i}" for i in instances],
            "user": USER, "user_arn": f"arn:aws:iam::123456789012:user/{USER}",
            "bucket": BUCKET, "bucket_arn": f"arn:aws:s3:::{BUCKET}"}


def state(seed):
    out = {"instances": {}}
    for iid in seed["instances"]:
        enis = ec2.describe_network_interfaces(
            Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["NetworkInterfaces"]
        attrs = {}
        for a, key in (("disableApiTermination", "DisableApiTermination"),
                       ("instanceInitiatedShutdownBehavior", "InstanceInitiatedShutdownBehavior")):
            attrs[a] = ec2.describe_instance_attribute(InstanceId=iid, Attribute=a)[key]["Value"]
        out["instances"][iid] = {
            "eni_groups": {n["NetworkInterfaceId"]: sorted(g["GroupId"] for g in n["Groups"]) for n in enis},
            "vpcs": sorted({n["VpcId"] for n in enis}),
            "attributes": attrs}
    # Groups containctl made (isolation, all-traffic) must all be gone after rollback.
    out["containctl_groups"] = sorted(g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]
                                      if g["GroupName"].startswith("containctl-"))
    user = seed["user"]
    out["user_keys"] = sorted([k["AccessKeyId"], k["Status"]]
                              for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"])
    out["user_inline_policies"] = {
        p: iam.get_user_policy(UserName=user, PolicyName=p)["PolicyDocument"]
        for p in iam.list_user_policies(UserName=user)["PolicyNames"]}
    out["user_attached_policies"] = sorted(
        p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"])
    b = seed["bucket"]
    try:
        out["bucket_policy"] = s3.get_bucket_policy(Bucket=b)["Policy"]
    except s3.exceptions.ClientError:
        out["bucket_policy"] = None
    try:
        out["bucket_public_access_block"] = s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"]
    except s3.exceptions.ClientError:
        out["bucket_public_access_block"] = None
    try:
        out["bucket_tags"] = sorted([t["Key"], t["Value"]] for t in s3.get_bucket_tagging(Bucket=b)["TagSet"])
    except s3.exceptions.ClientError:
        out["bucket_tags"] = []
    return out


if MODE == "seed":
    # The state is read in the same process: starting boto3 is the slow part of a test iteration.
    seeded = seed(int(sys.argv[3]))
    seeded["state"] = state(seeded)
    print(json.dumps(seeded, sort_keys=True))
elif MODE == "state":
    print(json.dumps(state(json.load(open(sys.argv[3]))), sort_keys=True))
elif MODE == "store":
    ddb = boto3.client("dynamodb", **kw)
    table = ddb.describe_table(TableName=sys.argv[3])["Table"]
    bucket = sys.argv[4]
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    # Object Lock (off: null) and the retention of each audit checkpoint (as S3 reports them).
    try:
        object_lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        object_lock = {"enabled": object_lock.get("ObjectLockEnabled", "")}
    except s3.exceptions.ClientError as e:
        # Only "no configuration" is Object Lock off; any other failure must not read as off.
        if e.response.get("Error", {}).get("Code") != "ObjectLockConfigurationNotFoundError":
            raise
        object_lock = None
    checkpoints = {}
    for o in s3.list_objects_v2(Bucket=bucket, Prefix="audit/checkpoints/").get("Contents", []):
        # HeadObject reports an object's retention (moto has no GetObjectRetention).
        import datetime
        h = s3.head_object(Bucket=bucket, Key=o["Key"])
        until = h.get("ObjectLockRetainUntilDate")
        days = (until - datetime.datetime.now(datetime.timezone.utc)).days if until else None
        checkpoints[o["Key"]] = {"mode": h.get("ObjectLockMode"), "retain_days": days,
                                 "body": json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())}
    print(json.dumps({
        "key_schema": [[k["AttributeName"], k["KeyType"]] for k in table["KeySchema"]],
        "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status", ""),
        "public_access_block": [pab[k] for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                                 "RestrictPublicBuckets")],
        "encryption": enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "object_lock": object_lock,
        "checkpoints": checkpoints,
    }, sort_keys=True))
elif MODE in ("tamper-audit", "rewrite-audit"):
    # tamper-audit TABLE SEQ: change one record's event in place (the chain no longer holds).
    # rewrite-audit TABLE: change record 1 and recompute every hash and the head, as someone
    # who can write the table could; only a checkpoint kept elsewhere can tell.
    import hashlib
    ddb = boto3.client("dynamodb", **kw)
    table = sys.argv[3]
    items = ddb.query(TableName=table, KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                      ExpressionAttributeValues={":p": {"S": "AUDIT"}, ":s": {"S": "SEQ#"}}, ConsistentRead=True)["Items"]
    recs = [json.loads(i["record"]["S"]) for i in items]
    def digest(r):
        c = {k: v for k, v in r.items() if k != "hash"}
        return hashlib.sha256(json.dumps(c, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    if MODE == "tamper-audit":
        seq = int(sys.argv[4])
        recs[seq - 1]["event"] = "nothing_happened"
        changed = [recs[seq - 1]]
    else:
        recs[0]["event"] = "nothing_happened"
        prev = "0" * 64
        for r in recs:
            r["prev_hash"] = prev
            r["hash"] = prev = digest(r)
        changed = recs
        ddb.put_item(TableName=table, Item={"pk": {"S": "AUDIT"}, "sk": {"S": "HEAD"}, "seq": {"N": str(len(recs))},
                                            "hash": {"S": prev}})
    for r in changed:
        ddb.put_item(TableName=table, Item={"pk": {"S": "AUDIT"}, "sk": {"S": "SEQ#%020d" % r["seq"]},
                                            "record": {"S": json.dumps(r, sort_keys=True, separators=(",", ":"),
                                                                       ensure_ascii=False)}})
    print(json.dumps({"records": len(recs)}))
elif MODE == "squat-audit":
    # squat-audit TABLE N: what someone who can write the table does to stop every append: the next
    # N sequence numbers after the head are taken by records of their own.
    ddb = boto3.client("dynamodb", **kw)
    table, n = sys.argv[3], int(sys.argv[4])
    head = ddb.get_item(TableName=table, Key={"pk": {"S": "AUDIT"}, "sk": {"S": "HEAD"}}, ConsistentRead=True)
    seq = int(head.get("Item", {}).get("seq", {"N": "0"})["N"])
    taken = []
    for s in range(seq + 1, seq + 1 + n):
        try:
            ddb.put_item(TableName=table, ConditionExpression="attribute_not_exists(pk)",
                         Item={"pk": {"S": "AUDIT"}, "sk": {"S": "SEQ#%020d" % s},
                               "record": {"S": json.dumps({"seq": s, "event": "squatted"})}})
            taken.append(s)
        except ddb.exceptions.ConditionalCheckFailedException:
            pass
    print(json.dumps({"head": seq, "taken": taken}))
elif MODE == "team-exposure":
    # team-exposure TABLE: the step items of the team store that record an open window.
    ddb = boto3.client("dynamodb", **kw)
    items = ddb.scan(TableName=sys.argv[3], ConsistentRead=True)["Items"]
    print(json.dumps(sorted(i["sk"]["S"] for i in items
                            if i["sk"]["S"].startswith("STEP#") and i.get("exposure", {}).get("S", ""))))
elif MODE in ("lease", "steal-lease"):
    # lease TABLE RESOURCE: the lock item as stored ({} when none).
    # steal-lease TABLE RESOURCE: another writer overwrites it (another owner, an hour to go).
    import time
    ddb = boto3.client("dynamodb", **kw)
    key = {"pk": {"S": "LOCKS"}, "sk": {"S": "LOCK#" + sys.argv[4]}}
    if MODE == "steal-lease":
        ddb.put_item(TableName=sys.argv[3], Item=dict(key, **{
            "run_id": {"S": "run-intruder"}, "owner": {"S": "intruder:1:00000000"},
            "caller": {"S": "arn:aws:iam::123456789012:user/intruder"}, "started_at": {"S": "2026-12-01T00:00:00Z"},
            "expires": {"N": str(int(time.time() * 1000) + 3600 * 1000)}}))
    item = ddb.get_item(TableName=sys.argv[3], Key=key, ConsistentRead=True).get("Item", {})
    print(json.dumps({k: list(v.values())[0] for k, v in item.items()}, sort_keys=True))
elif MODE == "person":
    # A responder of their own: an IAM user whose key makes GetCallerIdentity answer with its ARN.
    name = sys.argv[3]
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    print(json.dumps({"arn": user["Arn"], "key_id": key}))
elif MODE == "exposed":
    seeded = json.load(open(sys.argv[3]))
    groups = {g["GroupId"]: g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    exposed = []
    for iid in seeded["instances"]:
        for n in ec2.describe_network_interfaces(
                Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["NetworkInterfaces"]:
            for g in n["Groups"]:
                if groups.get(g["GroupId"], "").startswith("containctl-all-traffic-"):
                    exposed.append([n["NetworkInterfaceId"], g["GroupId"]])
    left = sorted(name for name in groups.values() if name.startswith("containctl-all-traffic-"))
    print(json.dumps({"exposed": sorted(exposed), "all_traffic_groups": left}, sort_keys=True))
elif MODE == "reopen":
    # What an adversary with ec2:ModifyNetworkInterfaceAttribute does: the seeded instances' interfaces
    # go back to the web-frontend group.
    seeded = json.load(open(sys.argv[3]))
    web = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["web-frontend"]}])
    web = web["SecurityGroups"][0]["GroupId"]
    for iid in seeded["instances"]:
        for n in ec2.describe_network_interfaces(
                Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["NetworkInterfaces"]:
            ec2.modify_network_interface_attribute(NetworkInterfaceId=n["NetworkInterfaceId"], Groups=[web])
    print("{}")
elif MODE == "role":
    name = sys.argv[3]
    iam.create_role(RoleName=name, MaxSessionDuration=3600, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))
    print(json.dumps({"role_arn": f"arn:aws:iam::123456789012:role/{name}"}))
elif MODE == "role-state":
    name = sys.argv[3]
    print(json.dumps({p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
                      for p in iam.list_role_policies(RoleName=name)["PolicyNames"]}, sort_keys=True))
elif MODE == "deny-responder":
    iam.put_user_policy(UserName="e2e-responder", PolicyName="e2e-all-but", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": sys.argv[3], "Resource": "*"}]}))
    print("{}")
else:
    sys.exit("usage: world.py ENDPOINT seed N | state SEED_JSON | store TABLE BUCKET | tamper-audit TABLE SEQ | "
             "rewrite-audit TABLE | squat-audit TABLE N | team-exposure TABLE | lease|steal-lease TABLE RESOURCE | person NAME | exposed SEED_JSON | role NAME | role-state NAME | "
             "deny-responder ACTION | reopen SEED_JSON")
