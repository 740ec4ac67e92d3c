#!/usr/bin/env python3
"""Cold start and event-to-first-isolation-call of `containctl lambda` (the unpacked
dist/containctl-lambda.zip, started through its bootstrap) against a Python boto3 handler
(bench/peers/lambda_boto3_handler.py), on this machine, with moto_server on 127.0.0.1.

  bench/lambda_coldstart.py [--zip dist/containctl-lambda.zip] [--runs 5]

For every run, each function is started as a fresh process (a cold start) and given one
GuardDuty EventBridge event about a freshly seeded instance:
  cold start   = process start (just before exec) -> its first GET .../invocation/next
  to isolation = the event handed out by `next`   -> its first mutating EC2 call
                 (and to CreateSecurityGroup, the call both make), timestamped by a
                 proxy in front of moto that also counts the calls made before it
containctl runs as it would deploy: settings from S3 (read at init), the team store (state init
done before), gate mode auto. Prints a table (medians and all samples) in milliseconds, and a
second with what sizes the function: event -> response, and the process's peak RSS and CPU time.
Nothing here is a test: no figure fails anything.
"""
import argparse
import http.server
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Clock:  # wall clock shared by the runtime API and the proxy
    now = staticmethod(time.time)


class RuntimeApi(http.server.ThreadingHTTPServer):
    """The Runtime API: `next` hands out queued events; records when it was first called."""

    def __init__(self):
        super().__init__(("127.0.0.1", free_port()), RuntimeHandler)
        self.events = queue.Queue()
        self.first_next = None
        self.handed = {}
        self.outcomes = {}
        self.answered = {}
        self.done = threading.Event()
        self.cv = threading.Condition()


class RuntimeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"{}", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        s = self.server
        if s.first_next is None:
            s.first_next = Clock.now()
        while not s.done.is_set():
            try:
                rid, body = s.events.get(timeout=0.05)
                break
            except queue.Empty:
                continue
        else:
            return self.reply(500, b'{"errorType":"Runtime.Done"}')
        s.handed[rid] = Clock.now()
        deadline = str(int((time.time() + 120) * 1000))
        self.reply(200, body, [("Lambda-Runtime-Aws-Request-Id", rid), ("Lambda-Runtime-Deadline-Ms", deadline),
                               ("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700")])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        parts = self.path.split("/")
        with self.server.cv:
            if parts[-1] in ("response", "error"):
                self.server.answered[parts[-2]] = Clock.now()
            self.server.outcomes[parts[-2] if parts[-1] in ("response", "error") else "init"] = (parts[-1], body)
            self.server.cv.notify_all()
        self.reply(202)


class Proxy(http.server.ThreadingHTTPServer):
    """Forwards to moto; records (time, operation) of every EC2 call that is not a read."""

    def __init__(self, moto):
        super().__init__(("127.0.0.1", free_port()), ProxyHandler)
        self.moto = moto
        self.mutations = []
        self.calls = []  # (time, service) of every request


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def forward(self):
        t = Clock.now()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
        op = form.get("Action", [""])[0]
        auth = self.headers.get("Authorization", "")
        service = auth.split("/")[3] if auth.count("/") >= 4 else "?"
        self.server.calls.append((t, service))
        if service == "ec2" and op and not op.startswith(("Describe", "Get", "List")):
            self.server.mutations.append((t, op))
        req = urllib.request.Request(self.server.moto + self.path, data=body or None, method=self.command)
        for k, v in self.headers.items():
            if k.lower() not in ("host", "content-length", "connection"):
                req.add_header(k, v)
        try:
            with urllib.request.urlopen(req) as r:
                status, headers, data = r.status, r.headers.items(), r.read()
        except urllib.error.HTTPError as e:
            status, headers, data = e.code, e.headers.items(), e.read()
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = forward


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def event_for(iid, n):
    e = json.load(open(os.path.join(ROOT, "tests/data/findings/awsdocs_guardduty_event.json")))
    d = e["detail"]
    e["account"] = d["accountId"] = "123456789012"
    d["id"] = "bench%027d" % n
    d["arn"] = "arn:aws:guardduty:us-east-1:123456789012:detector/12abc34d/finding/" + d["id"]
    d["updatedAt"] = "2026-12-01T10:00:00.000Z"
    d["resource"] = {"resourceType": "Instance", "instanceDetails": {"instanceId": iid}}
    return json.dumps(e).encode()


def one_run(cmd, env, iid, n, proxy):
    api = serve(RuntimeApi())
    rid = "bench-%d" % n
    api.events.put((rid, event_for(iid, n)))
    env = dict(env, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % api.server_address[1])
    proxy.mutations.clear()
    proxy.calls.clear()
    t0 = Clock.now()
    errf = tempfile.TemporaryFile()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errf)
    with api.cv:
        api.cv.wait_for(lambda: rid in api.outcomes, timeout=120)
    api.done.set()
    # wait4 gives the process's own peak RSS and CPU time (what Lambda's REPORT line calls
    # "Max Memory Used" is the sandbox's, a little more; CPU time is what a small memory size slows).
    _, _, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    errf.seek(0)
    err = errf.read()
    api.shutdown()
    kind, body = api.outcomes.get(rid, ("none", b""))
    if kind != "response":
        sys.exit("%s: no response (%s): %s\n%s" % (cmd[0], kind, body[:500], err.decode()[-2000:]))
    t_ev = api.handed[rid]
    first = next(((t, op) for t, op in proxy.mutations if t >= t_ev), (None, "-"))
    sg = next((t for t, op in proxy.mutations if t >= t_ev and op == "CreateSecurityGroup"), None)
    before = [svc for t, svc in proxy.calls if t_ev <= t < (first[0] or 0)]
    ms = lambda t: (t - t_ev) * 1000 if t else float("nan")
    return {"cold": (api.first_next - t0) * 1000, "first": ms(first[0]), "total": ms(api.answered[rid]),
            "rss_mb": ru.ru_maxrss / 1024.0, "cpu_ms": (ru.ru_utime + ru.ru_stime) * 1000, "first_op": first[1], "sg": ms(sg),
            "calls_before": len(before), "by_service": {k: before.count(k) for k in sorted(set(before))}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zip", default=os.path.join(ROOT, "dist/containctl-lambda.zip"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="containctl-lambda-bench.")
    os.chmod(work, 0o700)
    with zipfile.ZipFile(a.zip) as z:
        z.extractall(os.path.join(work, "task"))
    for f in ("bootstrap", "containctl", "lib/ld-linux-x86-64.so.2"):
        os.chmod(os.path.join(work, "task", f), 0o755)
    port = free_port()
    moto_log = open(os.path.join(work, "moto.log"), "w")
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=moto_log, stderr=moto_log)
    try:
        url = "http://127.0.0.1:%d" % port
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/moto-api/data.json").read()
                break
            except Exception:
                time.sleep(0.1)
        proxy = serve(Proxy(url))
        purl = "http://127.0.0.1:%d" % proxy.server_address[1]
        base = {"PATH": os.environ["PATH"], "HOME": work, "AWS_REGION": "us-east-1", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_EC2_METADATA_DISABLED": "true"}
        settings = {"organization": {"mode": "auto", "auto_scope": "suspected", "actions": ["ec2-isolate"]},
                    "state": {"backend": "aws", "table": "containctl-state", "bucket": "containctl-state-123456789012",
                              "region": "us-east-1"}}
        rows = {"containctl": [], "boto3": []}
        for n in range(a.runs):
            urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", data=b"", method="POST")).read()
            seed = json.loads(subprocess.check_output(
                [sys.executable, os.path.join(ROOT, "tests/data/e2e/world.py"), url, "seed", "2"]))
            env = dict(base, AWS_ACCESS_KEY_ID=seed["responder_key_id"])
            sfile = os.path.join(work, "settings.json")
            json.dump(settings, open(sfile, "w"))
            subprocess.check_call([os.path.join(work, "task/containctl"), "--settings", sfile, "--state-dir",
                                   os.path.join(work, "state"), "state", "init"],
                                  env=dict(env, AWS_ENDPOINT_URL=url), stdout=subprocess.DEVNULL)
            subprocess.check_call([sys.executable, "-c", "import boto3,sys; s=boto3.client('s3',endpoint_url=sys.argv[1],"
                                   "region_name='us-east-1',aws_access_key_id='testing',aws_secret_access_key='testing');"
                                   "s.create_bucket(Bucket='containctl-config');"
                                   "s.put_object(Bucket='containctl-config',Key='settings.json',Body=open(sys.argv[2]).read())",
                                   url, sfile])
            shutil.rmtree(os.path.join(work, "tmp"), ignore_errors=True)
            fenv = dict(env, AWS_ENDPOINT_URL=purl, CONTAINCTL_SETTINGS="s3://containctl-config/settings.json",
                        CONTAINCTL_STATE_DIR=os.path.join(work, "tmp"))
            rows["containctl"].append(one_run([os.path.join(work, "task/bootstrap")], fenv, seed["instances"][0], 2 * n, proxy))
            rows["boto3"].append(one_run([sys.executable, os.path.join(ROOT, "bench/peers/lambda_boto3_handler.py")],
                                         dict(env, AWS_ENDPOINT_URL=purl), seed["instances"][1], 2 * n + 1, proxy))
        print("| function | cold start: process start -> first next (ms) | event -> first mutating EC2 call (ms) | "
              "that call | event -> CreateSecurityGroup (ms) | AWS calls before the first mutating call |")
        print("|---|---|---|---|---|---|")
        med = lambda r, k: statistics.median(x[k] for x in r)
        each = lambda r, k: ", ".join("%.0f" % x[k] for x in r)
        for name, r in rows.items():
            print("| %s | %.0f (%s) | %.0f (%s) | %s | %.0f (%s) | %d %s |" % (
                name, med(r, "cold"), each(r, "cold"), med(r, "first"), each(r, "first"), r[0]["first_op"],
                med(r, "sg"), each(r, "sg"), r[0]["calls_before"], json.dumps(r[0]["by_service"])))
        # What sizes the function (issue 17): the whole invocation, its peak memory and CPU time.
        print()
        print("| function | event -> response (ms), median (max) | peak RSS (MiB), max | CPU time, process life (ms), median (max) |")
        print("|---|---|---|---|")
        for name, r in rows.items():
            print("| %s | %.0f (%.0f) | %.1f | %.0f (%.0f) |" % (
                name, med(r, "total"), max(x["total"] for x in r), max(x["rss_mb"] for x in r),
                med(r, "cpu_ms"), max(x["cpu_ms"] for x in r)))
    finally:
        moto.terminate()
        moto.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
