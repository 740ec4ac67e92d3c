"""An EC2 instance metadata stand-in on 127.0.0.1 (a free port) for the e2e tests: IMDSv2 token,
the role list and the role's credentials, which are real moto STS credentials of an assumed-role
session named after the instance (as EC2 names them). Writes its port to PORT_FILE; stops when
STOP_FILE appears (or after five minutes).

usage: imds.py MOTO_URL ROLE_NAME INSTANCE_ID PORT_FILE STOP_FILE
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

moto_url, role, instance, port_file, stop_file = sys.argv[1:6]
kw = dict(endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
          aws_secret_access_key="testing")
iam = boto3.client("iam", **kw)
try:
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
except iam.exceptions.EntityAlreadyExistsException:
    arn = iam.get_role(RoleName=role)["Role"]["Arn"]
c = boto3.client("sts", **kw).assume_role(RoleArn=arn, RoleSessionName=instance)["Credentials"]
creds = json.dumps({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": c["AccessKeyId"],
                    "SecretAccessKey": c["SecretAccessKey"], "Token": c["SessionToken"],
                    "Expiration": c["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
PREFIX = "/latest/meta-data/iam/security-credentials/"


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        self.answer(200, "imds-token") if self.path == "/latest/api/token" else self.answer(404, "")

    def do_GET(self):
        if self.path == PREFIX:
            self.answer(200, role)
        elif self.path == PREFIX + role:
            self.answer(200, creds)
        else:
            self.answer(404, "")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
deadline = time.time() + 300
while not os.path.exists(stop_file) and time.time() < deadline:
    time.sleep(0.1)
server.shutdown()
