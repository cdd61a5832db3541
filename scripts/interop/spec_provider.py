#!/usr/bin/env python3
"""The provider of the Pact specification's cases (see spec_pacts.py): answers GET /case/N with
that case's `actual` response, and POST / {"description": …} (a verifier asking for a message)
with that message case's `actual` contents.

    spec_provider.py PROVIDER_JSON PORT
"""
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

with open(sys.argv[1]) as f:
    PROVIDER = json.load(f)


def body_bytes(body):
    """The bytes and content type of a spec case's body ({content, contentType, encoded})."""
    if body is None:
        return None, None
    if not isinstance(body, dict) or not body.keys() & {"content", "contentType", "encoded"}:
        return json.dumps(body).encode(), "application/json"  # a raw (pre-V4) body
    if "content" not in body:
        return None, body.get("contentType")
    content, ctype = body["content"], body.get("contentType")
    if body.get("encoded"):
        return base64.b64decode(content), ctype
    if isinstance(content, str) and not (ctype or "").endswith("json"):
        return content.encode(), ctype
    return json.dumps(content).encode(), ctype


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes

    def answer(self, status, headers, payload, ctype):
        self.send_response(status)
        names = {k.lower() for k in headers}
        for name, value in headers.items():
            for v in value if isinstance(value, list) else [value]:
                self.send_header(name, v)
        if ctype and "content-type" not in names:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload or b"")))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def do_GET(self):
        case = PROVIDER["http"].get(self.path.split("?")[0])
        if case is None:
            return self.answer(404, {}, b"no such case", "text/plain")
        payload, ctype = body_bytes(case.get("body"))
        self.answer(case.get("status", 200), case.get("headers", {}), payload, ctype)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        asked = json.loads(self.rfile.read(length) or b"{}")
        case = PROVIDER["messages"].get(asked.get("description"))
        if case is None:
            return self.answer(404, {}, b"no such message", "text/plain")
        payload, ctype = body_bytes(case.get("contents"))
        headers = {}
        if case.get("metadata"):
            headers["Pact-Message-Metadata"] = base64.b64encode(
                json.dumps(case["metadata"]).encode()).decode()
        self.answer(200, headers, payload, ctype)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
