#!/usr/bin/env python3
"""A proxy in front of a local moto_server that answers chosen operations the way AWS answers a
request whose signature does not match: 403 SignatureDoesNotMatch whose Message echoes the
canonical request (session token included) and the string to sign. The canary tests use it to
show that no such text reaches any output, journal or audit record.

  echo_proxy.py MOTO_URL OPERATION[,OPERATION...]   prints the port it listens on, then serves

Listens on 127.0.0.1 only and forwards only to MOTO_URL, which must be a 127.0.0.1 address.
"""
import http.server
import sys
import urllib.error
import urllib.parse
import urllib.request

MOTO, OPS = sys.argv[1], set(sys.argv[2].split(","))
assert MOTO.startswith("http://127.0.0.1:"), "only forwards to a local moto_server"


def operation(handler, body):
    target = handler.headers.get("X-Amz-Target", "")
    if target:
        return target.split(".")[-1]
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(handler.path).query)
    for src in (form, query):
        if "Action" in src:
            return src["Action"][0]
    return handler.command


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_one(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        op = operation(self, body)
        if op in OPS:
            return self.echo(body)
        req = urllib.request.Request(MOTO + self.path, data=body if body else None, method=self.command)
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

    def echo(self, body):
        lines = [self.command, urllib.parse.urlsplit(self.path).path or "/",
                 urllib.parse.urlsplit(self.path).query]
        names = sorted(k.lower() for k in self.headers.keys() if k.lower() != "authorization")
        for n in names:
            lines.append(n + ":" + self.headers.get(n, ""))
        lines += ["", ";".join(names), "UNSIGNED-PAYLOAD"]
        canonical = "\n".join(lines)
        auth = self.headers.get("Authorization", "")
        # The masks are checked too, not only the cut: the same secrets also come before the blocks,
        # in upper and lower case.
        msg = ("The request signature we calculated does not match the signature you provided. Check your AWS "
               "Secret Access Key and signing method. Consult the service documentation for details. "
               "AUTHORIZATION: " + auth + "\nX-AMZ-SECURITY-TOKEN: " + self.headers.get("X-Amz-Security-Token", "") +
               "\nx-amz-security-token=" + urllib.parse.quote(self.headers.get("X-Amz-Security-Token", ""), safe="") +
               "&x-amz-signature=" + auth.rsplit("Signature=", 1)[-1] + "\n\n"
               "The Canonical String for this request should have been\n'" + canonical + "'\n\n"
               "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" + self.headers.get("X-Amz-Date", "") +
               "\n20261201/us-east-1/iam/aws4_request\nabc'\n")
        msg = msg.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        data = ("<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>" + msg +
                "</Message></Error><RequestId>canary-0001</RequestId></ErrorResponse>").encode()
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_one


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
