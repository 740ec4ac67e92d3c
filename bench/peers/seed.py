#!/usr/bin/env python3
"""Seeds N instances and N users (each with one access key) and a responder user on a local
moto_server for bench/peer_compare.sh. Only ever talks to 127.0.0.1.

  seed.py ENDPOINT N OUT.json
"""
import json
import os
import sys

import boto3

ENDPOINT, N, OUT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
assert ENDPOINT.startswith("http://127.0.0.1:")
kw = dict(endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
ec2, iam = boto3.client("ec2", **kw), boto3.client("iam", **kw)
vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
# moto quirk (moto-notes): groups go on the network interface.
res = ec2.run_instances(ImageId=ami, MinCount=N, MaxCount=N, InstanceType="t3.micro",
                        NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [web]}])
instances = [i["InstanceId"] for i in res["Instances"]]
users = []
for i in range(N):
    name = f"suspect-{i}"
    iam.create_user(UserName=name)
    iam.create_access_key(UserName=name)
    users.append(name)
iam.create_user(UserName="ir-responder")
iam.put_user_policy(UserName="ir-responder", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="ir-responder")["AccessKey"]
out = {"instances": instances, "users": users, "responder_key": key["AccessKeyId"],
       "responder_secret": key["SecretAccessKey"],
       "instance_arns": [f"arn:aws:ec2:us-east-1:123456789012:instance/{i}" for i in instances],
       "user_arns": [f"arn:aws:iam::123456789012:user/{u}" for u in users]}
with os.fdopen(os.open(OUT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:  # holds a key secret
    json.dump(out, f)
