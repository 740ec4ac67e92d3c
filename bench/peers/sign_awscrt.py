#!/usr/bin/python3
"""The AWS Common Runtime's signer (aws-c-auth, through Debian's python3-awscrt) signing the same
three requests as bench/sigv4_bench.cc, with a frozen date and requests prepared beforehand.
Prints one JSON object: request name -> {cpu_ns (median per signature), authorization}.

    /usr/bin/python3 bench/peers/sign_awscrt.py ITERATIONS REPETITIONS

Run by Debian's python3 (where apt puts python3-awscrt), not a pyenv one. The figure includes the
Python binding around the C signer (one call and one Future per signature), as a Python user pays."""
import datetime
import io
import json
import statistics
import subprocess
import sys
import time

import awscrt
from awscrt import auth
from awscrt.http import HttpHeaders, HttpRequest

DATE = datetime.datetime(2015, 8, 30, 12, 36, 0, tzinfo=datetime.timezone.utc)
EC2_BODY = (b"Action=ModifyNetworkInterfaceAttribute&Version=2016-11-15&NetworkInterfaceId=eni-0123456789abcdef0"
            b"&SecurityGroupId.1=sg-0aaaaaaaaaaaaaaaa&SecurityGroupId.2=sg-0bbbbbbbbbbbbbbbb")

# name: (service, method, host, path, headers, body)
REQUESTS = {
    "BM_Sign_IamQueryGet": ("iam", "GET", "iam.amazonaws.com", "/?Action=ListUsers&Version=2010-05-08", [], None),
    "BM_Sign_Ec2FormPost": ("ec2", "POST", "ec2.us-east-1.amazonaws.com", "/",
                            [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], EC2_BODY),
    "BM_Sign_S3Put1KiB": ("s3", "PUT", "evidence-bucket.s3.us-east-1.amazonaws.com",
                          "/incident/2015-08-30/capture.json", [("Content-Type", "application/json")], b"x" * 1024),
}


def config(service):
    creds = auth.AwsCredentialsProvider.new_static("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    s3 = service == "s3"
    return auth.AwsSigningConfig(
        algorithm=auth.AwsSigningAlgorithm.V4, signature_type=auth.AwsSignatureType.HTTP_REQUEST_HEADERS,
        credentials_provider=creds, region="us-east-1", service=service, date=DATE,
        use_double_uri_encode=not s3, should_normalize_uri_path=not s3,
        signed_body_header_type=(auth.AwsSignedBodyHeaderType.X_AMZ_CONTENT_SHA_256 if s3
                                 else auth.AwsSignedBodyHeaderType.NONE))


def make(spec):
    _, method, host, path, headers, body = spec
    return HttpRequest(method, path, HttpHeaders([("Host", host)] + headers),
                       io.BytesIO(body) if body is not None else None)


def time_signer(spec, iterations, repetitions):
    cfg = config(spec[0])
    first = auth.aws_sign_request(make(spec), cfg).result()
    runs = []
    for _ in range(repetitions):
        reqs = [make(spec) for _ in range(iterations)]
        start = time.process_time()
        for r in reqs:
            auth.aws_sign_request(r, cfg).result()
        runs.append((time.process_time() - start) / iterations * 1e9)
    return {"cpu_ns": statistics.median(runs), "authorization": first.headers.get("Authorization")}


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    repetitions = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-awscrt"],
                             capture_output=True, text=True).stdout or awscrt.__name__
    out = {"signer": "python3-awscrt " + version}
    for name, spec in REQUESTS.items():
        out[name] = time_signer(spec, iterations, repetitions)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
