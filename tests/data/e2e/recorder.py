#!/usr/bin/env python3
"""A one-purpose HTTP endpoint on 127.0.0.1 for calls moto lacks (Security Hub BatchUpdateFindings).

Usage: recorder.py PORT LOG RESPONSE_FILE
Appends each request as one JSON line {"method", "path", "headers", "body"} to LOG and answers
200 with the contents of RESPONSE_FILE (a recorded response). Stopped by killing its pid.
"""
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

# Signing headers are not kept: the log is a test artifact that may be left behind.
SIGNING = ("authorization", "x-amz-security-token")
port, log, response = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()


class Handler(BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in SIGNING}
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "headers": headers, "body": body}) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(response)))
        self.end_headers()
        self.wfile.write(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
