#!/usr/bin/env python3
"""Seeds the demo account on a local moto_server, and reads its state back.

  demo_seed.py ENDPOINT OUT.json            seed; write target ARNs and the original state
  demo_seed.py ENDPOINT OUT.json --show     print what containment changed
  demo_seed.py ENDPOINT OUT.json --compare  exit 1 unless the state equals the original

Only ever talks to ENDPOINT (a 127.0.0.1 moto_server).
"""
import json
import os
import sys

import boto3

ENDPOINT, OUT = sys.argv[1], sys.argv[2]
MODE = sys.argv[3] if len(sys.argv) > 3 else "--seed"
assert ENDPOINT.startswith("http://127.0.0.1:"), "the demo only talks to a local moto_server"
kw = dict(endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
ec2, iam, s3 = boto3.client("ec2", **kw), boto3.client("iam", **kw), boto3.client("s3", **kw)
BUCKET, USER = "acme-payroll-exports", "svc-reporting"


def state(seed):
    eni = ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [seed["instance_id"]]}])
    keys = iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    try:
        policy = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    except s3.exceptions.ClientError:
        policy = None
    try:
        pab = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    except s3.exceptions.ClientError:
        pab = None
    return {
        "eni_groups": sorted(g["GroupId"] for n in eni["NetworkInterfaces"] for g in n["Groups"]),
        "user_keys": sorted((k["AccessKeyId"], k["Status"]) for k in keys),
        "user_inline_policies": sorted(iam.list_user_policies(UserName=USER)["PolicyNames"]),
        "bucket_policy": policy,
        "bucket_public_access_block": pab,
    }


if MODE == "--seed":
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    web = ec2.create_security_group(GroupName="web-frontend", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    inst = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                             NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [web]}],
                             BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
                             TagSpecifications=[{"ResourceType": "instance",
                                                 "Tags": [{"Key": "Name", "Value": "web-1"}]}])["Instances"][0]
    # The responder containctl runs as (moto's default "testing" identity is not a real ARN).
    iam.create_user(UserName="ir-responder")
    iam.put_user_policy(UserName="ir-responder", PolicyName="containment", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    responder = iam.create_access_key(UserName="ir-responder")["AccessKey"]
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
    s3.put_object(Bucket=BUCKET, Key="2026/11/payroll.csv", Body=b"name,amount\n")
    seed = {"instance_id": inst["InstanceId"],
            "instance_arn": f"arn:aws:ec2:us-east-1:123456789012:instance/{inst['InstanceId']}",
            "user_arn": f"arn:aws:iam::123456789012:user/{USER}",
            "bucket_arn": f"arn:aws:s3:::{BUCKET}",
            "responder_key": responder["AccessKeyId"], "responder_secret": responder["SecretAccessKey"]}
    seed["original"] = state(seed)
    with open(os.open(OUT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:  # holds a secret key
        json.dump(seed, f, indent=2)
else:
    seed = json.load(open(OUT))
    now = json.loads(json.dumps(state(seed)))  # tuples -> lists, as stored
    if MODE == "--show":
        for k, v in now.items():
            was = seed["original"][k]
            print(f"  {k}:\n    before: {json.dumps(was)}\n    now:    {json.dumps(v)}")
    else:
        diff = {k: (seed["original"][k], now[k]) for k in now if now[k] != seed["original"][k]}
        if diff:
            print("  DIFFERENT after rollback:")
            for k, (a, b) in diff.items():
                print(f"    {k}: was {json.dumps(a)}, now {json.dumps(b)}")
            sys.exit(1)
        print("  identical: security groups, access keys, inline policies, bucket policy text, public access block")
