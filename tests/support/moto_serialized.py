#!/usr/bin/env python3
"""moto_server as `moto_server -H HOST -p PORT` runs it, but with DynamoDB requests handled one at a time.

moto's server is threaded and its DynamoDB backend takes no lock, so two requests on one item can
interleave: a conditional UpdateItem or TransactWriteItems checks, another request writes, and the
first then writes back what it read. Real DynamoDB evaluates each request atomically. The team store's
tests (concurrent writers, retried conditional writes) depend on that, so the fixture restores it.

Usage: moto_serialized.py HOST PORT
"""
import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

host, port = sys.argv[1], int(sys.argv[2])
assert host == "127.0.0.1", "tests only run moto on 127.0.0.1"
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
dynamodb = threading.Lock()


def serialized(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with dynamodb:
            return list(app(environ, start_response))  # the body too is made under the lock
    return app(environ, start_response)


run_simple(host, port, serialized, threaded=True)
