#!/usr/bin/env python3
"""The peer for bench/lambda_coldstart.py: the smallest Python Lambda handler that contains an
instance from a GuardDuty EventBridge event the way a hand-written boto3 function would start:
its imports and client at init, then per event DescribeInstances (the instance's VPC) and the
first isolation call, CreateSecurityGroup. It speaks the Runtime API itself (as the Python
runtime interface client does) so both functions are timed by the same endpoint.
No gate, no journal, no team store, no settings: it does strictly less than containctl."""
import json
import os
import urllib.request

import boto3  # the import is part of the cold start being measured

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])


def handle(event):
    iid = event["detail"]["resource"]["instanceDetails"]["instanceId"]
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    sg = ec2.create_security_group(GroupName="isolation-" + iid, Description="isolation",
                                   VpcId=inst["VpcId"])["GroupId"]
    return {"instance": iid, "isolation_group": sg}


while True:
    try:
        with urllib.request.urlopen(API + "/invocation/next") as r:
            rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(r.read())
    except urllib.error.HTTPError:
        raise SystemExit(1)  # the environment is done
    try:
        body, path = json.dumps(handle(event)).encode(), f"/invocation/{rid}/response"
    except Exception as e:  # noqa: BLE001 - reported as the invocation's error
        body, path = json.dumps({"errorMessage": str(e), "errorType": type(e).__name__}).encode(), f"/invocation/{rid}/error"
    urllib.request.urlopen(urllib.request.Request(API + path, data=body, method="POST")).read()
