#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for rpfs's object-store tests, on loopback only.

    store-proxy.py UPSTREAM_PORT CONTROL_FILE LOG_FILE

Listens on 127.0.0.1 on a free port, prints the port on the first line of stdout, and
forwards every request to 127.0.0.1:UPSTREAM_PORT unchanged (the Authorization header and
the signature with it). Before each request it reads CONTROL_FILE (JSON, missing = pass):

    {"mode": MODE, "count": N, "match": SUBSTRING, "method": METHOD}

MODE applies to the next N requests whose path contains SUBSTRING (and whose method is
METHOD, when given; N = -1: all), then the proxy passes again:
    pass            forward unchanged
    delay:MS        wait MS milliseconds, then forward (a round trip to a distant store)
    status:CODE     answer CODE with an S3-style XML error (503 SlowDown, 429 SlowDown,
                    403 ExpiredToken) instead of forwarding
    drop            forward, send the headers and half the body, then close the connection
    stall           forward, send the headers and half the body, then send nothing for 120 s
    down            close the connection without an answer
    garbage         answer 200 with a body that is not the XML a listing is
    record          answer 404 and write the request's method, path and headers to
                    CONTROL_FILE + ".request" (for checking a signature against botocore)

Every request is logged to LOG_FILE as "METHOD PATH STATUS BYTES" (BYTES: the body sent back). The proxy stops by itself after
600 s, so a test that dies cannot leave it running.
"""
import http.client
import http.server
import json
import os
import socketserver
import sys
import threading
import time

UPSTREAM = int(sys.argv[1])
CONTROL = sys.argv[2]
LOG = sys.argv[3]
lock = threading.Lock()

ERRORS = {
    503: ("SlowDown", "Please reduce your request rate."),
    429: ("SlowDown", "Please reduce your request rate."),
    403: ("ExpiredToken", "The provided token has expired."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
}


def take_fault(method, path):
    """The mode for this request, counting it against the control file's budget."""
    with lock:
        try:
            with open(CONTROL) as f:
                control = json.load(f)
        except (OSError, ValueError):
            return "pass"
        mode, count, match = control.get("mode", "pass"), control.get("count", -1), control.get("match", "")
        if mode == "pass" or match not in path or count == 0 or control.get("method", method) != method:
            return "pass"
        if count > 0:
            control["count"] = count - 1
            with open(CONTROL + ".tmp", "w") as f:
                json.dump(control, f)
            os.rename(CONTROL + ".tmp", CONTROL)
        return mode


def log(method, path, status, size=0):
    with lock, open(LOG, "a") as f:
        f.write(f"{method} {path} {status} {size}\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self.read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        mode = take_fault(self.command, self.path)
        if mode == "down":
            log(self.command, self.path, "down")
            self.close_connection = True
            self.connection.close()
            return
        if mode == "record":
            with open(CONTROL + ".request", "w") as f:
                json.dump({"method": self.command, "path": self.path, "headers": dict(self.headers.items())}, f)
            return self.answer(404, b"<Error><Code>NoSuchKey</Code></Error>", {})
        if mode.startswith("status:"):
            code = int(mode.split(":")[1])
            name, message = ERRORS.get(code, ("Error", "Injected"))
            xml = f"<?xml version=\"1.0\"?><Error><Code>{name}</Code><Message>{message}</Message></Error>".encode()
            return self.answer(code, xml, {"Content-Type": "application/xml"})
        if mode.startswith("delay:"):
            time.sleep(int(mode.split(":")[1]) / 1000)
            mode = "pass"
        if mode == "garbage":
            return self.answer(200, b"<ListBucketResult><IsTruncated>true</IsTruncated><Key>points/zz" + b"\xff" * 64, {})
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding", "content-length")}
        if body or self.command == "PUT":
            headers["Content-Length"] = str(len(body))
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        passed = {k: v for k, v in response.getheaders() if k.lower() not in ("connection", "transfer-encoding", "content-length")}
        upstream.close()
        if mode in ("drop", "stall") and len(data) > 1:
            log(self.command, self.path, mode)
            self.send_response(response.status)
            for k, v in passed.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            if mode == "stall":
                time.sleep(120)
            self.close_connection = True
            self.connection.close()
            return
        # A HEAD answer's Content-Length is the object's, not that of the (empty) body.
        length = response.getheader("Content-Length") if self.command == "HEAD" else None
        self.answer(response.status, data, passed, head=self.command == "HEAD", length=length)

    def read_chunked(self):
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    def answer(self, status, data, headers, head=False, length=None):
        log(self.command, self.path, status, 0 if head else len(data))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(600, lambda: os._exit(0)).start()
server.serve_forever()
