#!/usr/bin/env python3
"""Runs bench/sigv4_bench (C++) and times botocore signing the same three requests in the same
run, then prints per-signature times and the ratio botocore / containctl.

    bench/sign_compare.py [--bench build/bench/sigv4_bench] [--iterations 20000] [--repetitions 3]
                          [--smithy NODE_MODULES]

Peers on the same requests, each checked to produce botocore's Authorization header:
  --awscrt        aws-c-auth, the AWS Common Runtime's C signer, through Debian's python3-awscrt
  --go BINARY     the AWS SDK for Go v2's signer, built by bench/peers/build_sign_go.sh from Debian's
                  golang-github-aws-aws-sdk-go-v2-dev (it also signs Content-Length; the check
                  then signs that header with botocore too)
  --smithy DIR    the AWS SDK for JavaScript v3's signer (@smithy/signature-v4 on node), from a
                  node_modules folder made by bench/peers/install_smithy.sh
containctl's own signer is checked the same way through `containctl debug sign` when the binary
sits next to the bench folder.

Both sides sign with a cached/frozen setup: the C++ signer reuses its cached signing key (the
first iteration derives it); botocore runs with its clock frozen (as tools/botocore_sign.py does),
and each iteration signs a request prepared beforehand, so neither side pays for building the
request. Times are CPU time per signature (the machine is shared; wall time is noisier)."""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from unittest import mock

import botocore
import botocore.auth
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
FROZEN = datetime.datetime(2015, 8, 30, 12, 36, 0)

# The same requests as bench/sigv4_bench.cc.
REQUESTS = {
    "BM_Sign_IamQueryGet": dict(
        signer=SigV4Auth, service="iam", method="GET",
        url="https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", headers={}, data=b""),
    "BM_Sign_Ec2FormPost": dict(
        signer=SigV4Auth, service="ec2", method="POST", url="https://ec2.us-east-1.amazonaws.com/",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        data=(b"Action=ModifyNetworkInterfaceAttribute&Version=2016-11-15&NetworkInterfaceId=eni-0123456789abcdef0"
              b"&SecurityGroupId.1=sg-0aaaaaaaaaaaaaaaa&SecurityGroupId.2=sg-0bbbbbbbbbbbbbbbb")),
    "BM_Sign_S3Put1KiB": dict(
        signer=S3SigV4Auth, service="s3", method="PUT",
        url="https://evidence-bucket.s3.us-east-1.amazonaws.com/incident/2015-08-30/capture.json",
        headers={"Content-Type": "application/json"}, data=b"x" * 1024),
}


def run_cpp(bench, repetitions):
    names = "|".join(REQUESTS)
    out = subprocess.run(
        [bench, f"--benchmark_filter=^({names})$", "--benchmark_format=json",
         f"--benchmark_repetitions={repetitions}", "--benchmark_min_time=0.5"],
        check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    per = {}
    for b in doc["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        scale = {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]
        per.setdefault(b["run_name"], []).append(b["cpu_time"] * scale)
    return {k: statistics.median(v) for k, v in per.items()}, doc.get("context", {})


def time_botocore(spec, iterations, repetitions):
    signer = spec["signer"](CREDS, spec["service"], "us-east-1")
    patch = (mock.patch.object(botocore.auth, "get_current_datetime", return_value=FROZEN)
             if hasattr(botocore.auth, "get_current_datetime") else mock.patch("botocore.auth.datetime"))
    results = []
    with patch as m:
        if not hasattr(botocore.auth, "get_current_datetime"):
            m.datetime.utcnow.return_value = FROZEN
        for _ in range(repetitions):
            reqs = [AWSRequest(method=spec["method"], url=spec["url"], headers=dict(spec["headers"]), data=spec["data"])
                    for _ in range(iterations)]
            start = time.process_time()
            for r in reqs:
                signer.add_auth(r)
            results.append((time.process_time() - start) / iterations * 1e9)
    return statistics.median(results)


def authorization_botocore(spec, signs_content_length=False):
    headers = dict(spec["headers"])
    if signs_content_length and spec["data"]:
        headers["Content-Length"] = str(len(spec["data"]))  # botocore signs it too when it is set
    r = AWSRequest(method=spec["method"], url=spec["url"], headers=headers, data=spec["data"])
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=FROZEN):
        spec["signer"](CREDS, spec["service"], "us-east-1").add_auth(r)
    return r.headers["Authorization"]


def authorization_containctl(binary, spec):
    """containctl's own signer through `containctl debug sign`, for the same request and frozen time."""
    with tempfile.NamedTemporaryFile() as body:
        body.write(spec["data"])
        body.flush()
        cmd = [binary, "--region", "us-east-1", "debug", "sign", "--method", spec["method"], "--url", spec["url"],
               "--service", spec["service"], "--timestamp", "20150830T123600Z", "--body-file", body.name]
        for k, v in spec["headers"].items():
            cmd += ["--header", f"{k}: {v}"]
        if spec["service"] == "s3":
            cmd.append("--s3")
        env = dict(os.environ, AWS_ACCESS_KEY_ID=CREDS.access_key, AWS_SECRET_ACCESS_KEY=CREDS.secret_key,
                   AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)["authorization"]


def run_peer(cmd, env, iterations, repetitions):
    """A peer signer's script: times the same requests; its Authorization must equal botocore's."""
    out = subprocess.run(cmd + [str(iterations), str(repetitions)], check=True, capture_output=True, text=True,
                         env=dict(os.environ, **env)).stdout
    doc = json.loads(out)
    for name, spec in REQUESTS.items():
        got = doc[name]["authorization"]
        # The Go SDK signs Content-Length (net/http sets it); the check then gives botocore that header too.
        if got != authorization_botocore(spec, signs_content_length="content-length;" in got):
            sys.exit(f"sign_compare: {doc['signer']} and botocore disagree on {name}")
    return doc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(HERE, "..", "build", "bench", "sigv4_bench"))
    ap.add_argument("--iterations", type=int, default=20000)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--smithy", help="node_modules holding @smithy/signature-v4 (bench/peers/install_smithy.sh)")
    ap.add_argument("--go", help="binary built by bench/peers/build_sign_go.sh (the AWS SDK for Go v2's signer)")
    ap.add_argument("--awscrt", action="store_true",
                    help="also time aws-c-auth through Debian's python3-awscrt (apt-get install python3-awscrt)")
    args = ap.parse_args()
    if not os.access(args.bench, os.X_OK):
        sys.exit(f"sign_compare: no benchmark binary at {args.bench} (build the sigv4_bench target or pass --bench)")
    containctl = os.path.join(os.path.dirname(os.path.abspath(args.bench)), "..", "containctl")
    if os.access(containctl, os.X_OK):
        for name, spec in REQUESTS.items():
            if authorization_containctl(containctl, spec) != authorization_botocore(spec):
                sys.exit(f"sign_compare: containctl and botocore disagree on {name}")
        print("containctl (debug sign) and botocore produced the same Authorization header for every request")
    cpp, ctx = run_cpp(args.bench, args.repetitions)
    peers = {}  # column -> the peer script's output
    if args.awscrt:
        peers["aws-c-auth"] = run_peer(["/usr/bin/python3", os.path.join(HERE, "peers", "sign_awscrt.py")], {},
                                       args.iterations, args.repetitions)
    if args.go:
        peers["go-sdk-v2"] = run_peer([args.go], {}, args.iterations, args.repetitions)
    if args.smithy:
        peers["smithy-js"] = run_peer(["node", os.path.join(HERE, "peers", "sign_smithy.mjs")],
                                      {"NODE_PATH": os.path.abspath(args.smithy)}, args.iterations, args.repetitions)
    print(f"machine: {os.cpu_count()} CPUs, {ctx.get('mhz_per_cpu', '?')} MHz; botocore {botocore.__version__}; "
          + "".join(f"{col}: {doc['signer']}; " for col, doc in peers.items())
          + f"CPU time per signature, median of {args.repetitions}")
    print(f"{'request':<16}{'containctl':>13}" + "".join(f"{col:>14}{'ratio':>8}" for col in ["botocore", *peers]))
    for name, spec in REQUESTS.items():
        c = cpp[name]
        times = [time_botocore(spec, args.iterations, args.repetitions)] + [d[name]["cpu_ns"] for d in peers.values()]
        print(f"{name.removeprefix('BM_Sign_'):<16}{c / 1000:>10.2f} us"
              + "".join(f"{t / 1000:>11.2f} us{t / c:>7.1f}x" for t in times))
    if peers:
        print(f"{', '.join(d['signer'] for d in peers.values())} and botocore produced the same Authorization header "
              "for every request")


if __name__ == "__main__":
    main()
