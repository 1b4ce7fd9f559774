#!/usr/bin/env python3
"""A fault-injecting HTTP reverse proxy for tests (standard library only).

    fault_proxy.py --upstream http://127.0.0.1:PORT [--rate 0.2] [--seed 1]
                   [--kinds drop_before,drop_after,...] [--flavor auto|glacier|s3]
                   [--stall 0.3] [--methods PUT,POST] [--path-contains /archives]

Sits in front of one upstream endpoint (tests/servers/glacier_server.py,
moto_server) and forwards every request as the client sent it: method, request
target (path and query, not re-encoded), every header including Host (so SigV4
signatures still verify upstream) and the body. Each request goes upstream on a
fresh connection, and the proxy never retries one: the upstream sees a request
exactly as often as the proxy forwarded it.

With probability `rate` (decided per request, from a random.Random(seed)) a
request meets one of the enabled faults instead:

  drop_before  the request is read, never forwarded, and the connection closed
  drop_after   the request is forwarded (the upstream acts on it), its response
               thrown away and the connection closed: the lost response that
               makes non-idempotent requests (UploadArchive) dangerous
  reset        a TCP reset (SO_LINGER 0) instead of a response; half of them
               after forwarding
  http_500     500 without forwarding (Glacier ServiceUnavailableException JSON,
               S3 InternalError XML)
  http_503     503 without forwarding (ServiceUnavailableException / ServiceUnavailable)
  http_408     408 without forwarding (RequestTimeoutException / RequestTimeout)
  throttle     without forwarding: Glacier 400 ThrottlingException JSON, S3 503
               SlowDown XML
  slow         forwarded, then the response stalls `stall` seconds (before its
               headers, or halfway through its body)
  truncate     forwarded, then the response is cut short and the connection
               closed: Content-Length says more than what is sent (an empty body
               gets a Content-Length it never delivers; a response that cannot
               carry a body is cut inside its headers)

The error shapes follow the request: Glacier when it carries
x-amz-glacier-version, S3 otherwise (--flavor forces one). HEAD answers carry no
body.

Control, never forwarded (paths starting /__faults):
  GET  /__faults   {"config": {...}, "requests": N, "log": [entry, ...]}; one
                   entry per proxied request, in arrival order: {"n", "method",
                   "path", "query", "flavor", "fault" (null or a kind),
                   "forwarded", "upstream_status", "client_status" (what the
                   client was sent, null when it got no complete response)}.
                   The query leaves out any presigned signature or credential.
  POST /__faults   a JSON object that updates the config: "rate", "kinds",
                   "methods", "path_contains", "stall", "flavor", "seed" (reseeds),
                   "kinds_by_method" ({"HEAD": [kinds]}: what requests with that
                   method draw from instead of "kinds"), and
                   "queue": faults appended to a queue that goes before the
                   rate, each a kind or {"kind", "method", "path_contains"}:
                   a request meets the first queued fault whose method (if
                   given) and path filter it matches, whatever the rate and
                   the global filters.
  DELETE /__faults back to the command line's settings, the log and the
                   queue emptied (one proxy can serve test after test).

Prints one JSON line when ready:
  {"endpoint": "http://127.0.0.1:PORT", "upstream": "...", "rate": R, "seed": S, "pid": N}
and exits when stdin closes.
"""
import argparse
import http.client
import json
import os
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ["drop_before", "drop_after", "reset", "http_500", "http_503", "http_408", "throttle",
         "slow", "truncate"]
# Query parameters never written to the log.
SECRET_PARAMS = {"x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature",
                 "awsaccesskeyid"}
# Headers about this hop only.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade"}

# (status, Glacier code, S3 code, message) of the faults answered without forwarding.
INJECTED = {
    "http_500": (500, "ServiceUnavailableException", "InternalError",
                 "We encountered an internal error. Please try again."),
    "http_503": (503, "ServiceUnavailableException", "ServiceUnavailable",
                 "The service is unavailable. Please try again."),
    "http_408": (408, "RequestTimeoutException", "RequestTimeout",
                 "The request timed out. Please try again."),
}


class State:
    def __init__(self, upstream, rate, seed, kinds, flavor, stall, methods, path_contains):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.config = {"rate": rate, "seed": seed, "kinds": kinds, "stall": stall,
                       "methods": methods, "path_contains": path_contains, "flavor": flavor,
                       "kinds_by_method": {}, "queue": []}
        self.initial = json.loads(json.dumps(self.config))
        self.rng = random.Random(seed)
        self.log = []

    def reset(self):
        with self.lock:
            self.config = json.loads(json.dumps(self.initial))
            self.rng = random.Random(self.config["seed"])
            self.log = []
            return dict(self.config)

    def update(self, change):
        with self.lock:
            for key, value in change.items():
                if key not in self.config:
                    raise ValueError("unknown setting %r" % key)
                if key == "queue":
                    value = self.config["queue"] + [queued_fault(q) for q in value]
                if key == "flavor" and value not in ("auto", "glacier", "s3"):
                    raise ValueError("unknown flavor %r" % value)
                if key in ("kinds", "kinds_by_method"):
                    lists = value.values() if key == "kinds_by_method" else [value]
                    unknown = [k for kinds in lists for k in kinds if k not in KINDS]
                    if unknown:
                        raise ValueError("unknown fault kinds %s" % unknown)
                self.config[key] = value
                if key == "seed":
                    self.rng = random.Random(value)
            return dict(self.config)

    def decide(self, method, path, glacier, entry):
        """Picks the fault for one request (None for none) and logs the entry."""
        with self.lock:
            c = self.config
            entry["n"] = len(self.log)
            self.log.append(entry)
            matches = (not c["methods"] or method in c["methods"]) and \
                c["path_contains"] in path
            kind = None
            for i, queued in enumerate(c["queue"]):
                if queued["method"] in ("", method) and queued["path_contains"] in path:
                    kind = c["queue"].pop(i)["kind"]
                    break
            kinds = c["kinds_by_method"].get(method, c["kinds"])
            if kind is None and matches and c["rate"] > 0 and kinds and \
                    self.rng.random() < c["rate"]:
                kind = self.rng.choice(kinds)
            entry["fault"] = kind
            flavor = c["flavor"]
            if flavor == "auto":
                flavor = "glacier" if glacier else "s3"
            entry["flavor"] = flavor
            # A second draw shapes the fault (reset before or after forwarding, where a
            # truncation or a stall falls).
            return kind, self.rng.random(), c["stall"], flavor

    def snapshot(self):
        with self.lock:
            return {"config": dict(self.config), "requests": len(self.log),
                    "log": [dict(e) for e in self.log]}


def queued_fault(q):
    """A queue entry: a kind, or {"kind", "method", "path_contains"} (both optional)."""
    q = {"kind": q} if isinstance(q, str) else dict(q)
    if q.get("kind") not in KINDS:
        raise ValueError("unknown fault kind %r" % q.get("kind"))
    return {"kind": q["kind"], "method": q.get("method", ""),
            "path_contains": q.get("path_contains", "")}


def loggable_query(query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return urllib.parse.urlencode([(k, v) for k, v in pairs if k.lower() not in SECRET_PARAMS])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and 100-continue for large bodies
    disable_nagle_algorithm = True
    state = None  # set in main()

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.proxy()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    # ---- reading the request --------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks), True
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        return (self.rfile.read(int(length)) if length else None), False

    # ---- the proxy --------------------------------------------------------

    def proxy(self):
        body, chunked = self.read_body()
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/__faults"):
            return self.control(url.path, body)
        entry = {"method": self.command, "path": url.path, "query": loggable_query(url.query),
                 "forwarded": False, "upstream_status": None, "client_status": None}
        kind, shape, stall, flavor = self.state.decide(
            self.command, url.path, "x-amz-glacier-version" in self.headers, entry)
        try:
            self.serve(kind, shape, stall, flavor, body, chunked, entry)
        except (ConnectionError, BrokenPipeError, socket.timeout, OSError) as e:
            entry["client_status"] = None
            entry["error"] = type(e).__name__
            self.close_connection = True

    def serve(self, kind, shape, stall, flavor, body, chunked, entry):
        if kind == "drop_before":
            self.close_connection = True
            return
        if kind == "reset" and shape < 0.5:
            return self.reset()
        if kind in INJECTED or kind == "throttle":
            return self.inject(kind, flavor, entry)
        if kind == "slow" and shape < 0.5:
            time.sleep(stall)
        try:
            status, reason, headers, data = self.forward(body, chunked)
        except (OSError, http.client.HTTPException) as e:
            entry["error"] = "upstream: %s" % type(e).__name__
            return self.send_error_response(502, flavor, "InternalError",
                                            "The fault proxy could not reach the upstream.",
                                            entry)
        entry["forwarded"] = True
        entry["upstream_status"] = status
        if kind == "drop_after":
            self.close_connection = True
            return
        if kind == "reset":
            return self.reset()
        if kind == "truncate":
            return self.truncate(status, reason, headers, data, shape)
        stall_at = len(data) // 2 if kind == "slow" and shape >= 0.5 else None
        self.send_upstream(status, reason, headers, data, stall_at=stall_at, stall=stall)
        entry["client_status"] = status

    def forward(self, body, chunked):
        """Sends the request upstream as the client sent it; returns the whole response."""
        up = urllib.parse.urlsplit(self.state.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() in HOP_BY_HOP and not (chunked and
                                                       name.lower() == "transfer-encoding"):
                    continue
                conn.putheader(name, value)
            conn.endheaders(body, encode_chunked=chunked)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.reason, resp.getheaders(), data
        finally:
            conn.close()

    def head_bytes(self, status, reason, headers, data, extra_length=0):
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        has_body = self.command != "HEAD" and status >= 200 and status not in (204, 304)
        for name, value in headers:
            low = name.lower()
            if low in HOP_BY_HOP or (low == "content-length" and has_body):
                continue
            lines.append("%s: %s" % (name, value))
        if has_body:
            lines.append("Content-Length: %d" % (len(data) + extra_length))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), has_body

    def send_upstream(self, status, reason, headers, data, stall_at=None, stall=0.0):
        head, has_body = self.head_bytes(status, reason, headers, data)
        if not has_body or not data:
            if stall_at is not None:
                time.sleep(stall)  # no body to stall in: stall before the headers
            self.wfile.write(head + (data if has_body else b""))
        elif stall_at is None:
            self.wfile.write(head + data)
        else:
            self.wfile.write(head + data[:stall_at])
            time.sleep(stall)
            self.wfile.write(data[stall_at:])

    def truncate(self, status, reason, headers, data, shape):
        self.close_connection = True
        head, has_body = self.head_bytes(status, reason, headers, data,
                                         extra_length=0 if data else 17)
        if not has_body:
            # Nothing after the headers to cut: cut the headers (never all of them).
            self.wfile.write(head[:max(1, int(len(head) * shape * 0.9))])
            return
        self.wfile.write(head)
        self.wfile.write(data[:int(len(data) * shape)])  # strictly less than all

    def reset(self):
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def inject(self, kind, flavor, entry):
        if kind == "throttle":
            if flavor == "glacier":
                status, code = 400, "ThrottlingException"
            else:
                status, code = 503, "SlowDown"
            message = "Rate exceeded. Please reduce your request rate."
        else:
            status, glacier_code, s3_code, message = INJECTED[kind]
            code = glacier_code if flavor == "glacier" else s3_code
        self.send_error_response(status, flavor, code, message, entry)

    def send_error_response(self, status, flavor, code, message, entry):
        request_id = "%016X" % random.getrandbits(64)
        if flavor == "glacier":
            body = json.dumps({"code": code, "message": message,
                               "type": "Server" if status >= 500 else "Client"}).encode()
            headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
        else:
            body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
                    "<Message>%s</Message><RequestId>%s</RequestId></Error>"
                    % (code, message, request_id)).encode()
            headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
        reason = http.client.responses.get(status, "Error")
        self.send_upstream(status, reason, headers, b"" if self.command == "HEAD" else body)
        entry["client_status"] = status

    # ---- control ------------------------------------------------------------

    def control(self, path, body):
        st = self.state
        try:
            if path == "/__faults" and self.command == "GET":
                return self.reply(200, st.snapshot())
            if path == "/__faults" and self.command == "POST":
                return self.reply(200, st.update(json.loads(body or b"{}")))
            if path == "/__faults" and self.command == "DELETE":
                return self.reply(200, st.reset())
        except (ValueError, TypeError) as e:
            return self.reply(400, {"error": str(e)})
        self.reply(404, {"error": "no control path %s %s" % (self.command, path)})

    def reply(self, status, doc):
        data = json.dumps(doc).encode()
        self.send_upstream(status, http.client.responses.get(status, ""),
                           [("Content-Type", "application/json")], data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="http://host:port to forward to")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="probability that a request meets a fault (default 0)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help="comma-separated fault kinds to draw from (default: all)")
    parser.add_argument("--flavor", choices=["auto", "glacier", "s3"], default="auto")
    parser.add_argument("--stall", type=float, default=0.3,
                        help="seconds a slow response stalls (default 0.3)")
    parser.add_argument("--methods", default="",
                        help="comma-separated methods that may meet faults (default: all)")
    parser.add_argument("--path-contains", default="",
                        help="only requests whose path contains this meet faults")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error("unknown fault kinds: %s (known: %s)" % (",".join(unknown), ",".join(KINDS)))
    methods = [m for m in args.methods.split(",") if m]
    Handler.state = State(args.upstream.rstrip("/"), args.rate, args.seed, kinds, args.flavor,
                          args.stall, methods, args.path_contains)
    ThreadingHTTPServer.request_queue_size = 64
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(json.dumps({"endpoint": "http://127.0.0.1:%d" % server.server_address[1],
                      "upstream": args.upstream, "rate": args.rate, "seed": args.seed,
                      "pid": os.getpid()}), flush=True)

    def stop_when_stdin_closes():
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
