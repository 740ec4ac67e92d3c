#!/usr/bin/env python3
"""Runs bench/sigv4_bench (C++) and times botocore signing the same three requests in the same
run, then prints per-signature times and the ratio botocore / containctl.

    bench/sign_compare.py [--bench build/bench/sigv4_bench] [--iterations 20000] [--repetitions 3]

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(HERE, "..", "build", "bench", "sigv4_bench"))
    ap.add_argument("--iterations", type=int, default=20000)
    ap.add_argument("--repetitions", type=int, default=3)
    args = ap.parse_args()
    if not os.access(args.bench, os.X_OK):
        sys.exit(f"sign_compare: no benchmark binary at {args.bench} (build the sigv4_bench target or pass --bench)")
    cpp, ctx = run_cpp(args.bench, args.repetitions)
    print(f"machine: {os.cpu_count()} CPUs, {ctx.get('mhz_per_cpu', '?')} MHz; botocore {botocore.__version__}; "
          f"CPU time per signature, median of {args.repetitions}")
    print(f"{'request':<24}{'containctl':>14}{'botocore':>14}{'ratio':>10}")
    for name, spec in REQUESTS.items():
        b = time_botocore(spec, args.iterations, args.repetitions)
        c = cpp[name]
        print(f"{name.removeprefix('BM_Sign_'):<24}{c / 1000:>11.2f} us{b / 1000:>11.2f} us{b / c:>9.1f}x")


if __name__ == "__main__":
    main()
