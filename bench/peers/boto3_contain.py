#!/usr/bin/env python3
"""What a responder's script does without containctl: contain N instances and N users one call at
a time with boto3 (isolation security group, swap every ENI's groups, tag; deny-all inline policy,
deactivate every access key). Only ever talks to a 127.0.0.1 endpoint (moto_server).

  boto3_contain.py ENDPOINT SEED.json
"""
import json
import sys
import time

import boto3

ENDPOINT, SEED = sys.argv[1], sys.argv[2]
assert ENDPOINT.startswith("http://127.0.0.1:"), "peer benchmark only talks to a local moto_server"
seed = json.load(open(SEED))
kw = dict(endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id=seed["responder_key"],
          aws_secret_access_key=seed["responder_secret"])
ec2, iam = boto3.client("ec2", **kw), boto3.client("iam", **kw)
DENY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})

start = time.monotonic()
calls = 0
for iid in seed["instances"]:
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    vpc = inst["VpcId"]
    sg = ec2.create_security_group(GroupName=f"isolation-{iid}", Description="isolation", VpcId=vpc)["GroupId"]
    ec2.revoke_security_group_egress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])
    calls += 4
    for eni in enis["NetworkInterfaces"]:
        ec2.modify_network_interface_attribute(NetworkInterfaceId=eni["NetworkInterfaceId"], Groups=[sg])
        calls += 1
    ec2.create_tags(Resources=[iid], Tags=[{"Key": "contained", "Value": "true"}])
    calls += 1
for user in seed["users"]:
    iam.put_user_policy(UserName=user, PolicyName="deny-all", PolicyDocument=DENY)
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    calls += 2
    for k in keys:
        iam.update_access_key(UserName=user, AccessKeyId=k["AccessKeyId"], Status="Inactive")
        calls += 1
print(json.dumps({"seconds": time.monotonic() - start, "calls": calls}))
