#!/usr/bin/python3
"""A stand-in HTTP SMS gateway for the integration tests: it takes the
sms_http connector's JSON POSTs, keeps every message it accepts, injects
faults on demand and can send delivery receipts back. Stdlib only.

    python3 tests/support/gateway_standin.py --port 0 --record FILE [options]

Prints `listening on 127.0.0.1:PORT` (flushed) as its first line on stdout
once it accepts connections; binds 127.0.0.1 only. HTTP/1.1 with keep-alive,
one thread per connection.

Messages: POST to any path not starting with /_ (e.g. /sms), a JSON body.
Accepted ones are answered 200 {"message_id": "gw-N"} (N from 1) and written,
before the answer, as one line of the record file: the JSON body received
plus `received_at` (float seconds, Unix time) and `message_id`. A body that
is not JSON gets 400 and is not kept.

Options:
  --record FILE        NDJSON of accepted messages (appended, flushed per line)
  --faults SPEC        comma-separated KIND:PROBABILITY, e.g.
                       500:0.1,429:0.05,timeout:0.02,drop:0.02. KIND is an HTTP
                       status (400-599; 429 comes with Retry-After: 1),
                       `timeout` (hold the request --hold seconds, then close
                       without answering: longer than the client's time-out)
                       or `drop` (close the connection without answering).
                       A faulted message is not kept. Probabilities add up to
                       at most 1.
  --hold SECONDS       how long a `timeout` holds the request (default 5)
  --seed N             seed the fault draws (the same requests in the same
                       order get the same faults)
  --latency-ms N       answer every message N ms late (default 0)
  --receipts URL       after accepting, POST a receipt {"id", "message_id",
                       "status": "delivered"} to URL, asynchronously (a
                       bounded queue, two senders, 5 attempts each; receipts
                       that do not fit the queue are counted and dropped)
  --receipt-parts      one receipt per SMS part (with "part" and "parts") when
                       the body has "parts" > 1
  --receipts-token T   send receipts with `Authorization: Bearer T` (a
                       connector's receipt_secret)
  --lifetime SECONDS   exit after this long (default 1800): a forgotten
                       stand-in never outlives its test run

Control (JSON):
  GET  /_stats   counts: requests, accepted, one per fault kind ("500",
                 "429", "timeout", "drop", and any other status answered),
                 bad_request, receipts_sent, receipts_failed, receipts_dropped
  POST /_mode    change behaviour while running; any of
                 {"faults": SPEC, "fail_all": STATUS or null, "latency_ms": N,
                  "hold": SECONDS}. fail_all answers every message with
                 STATUS (e.g. 503) until set to null or 0. Answers the mode.
Exits 0 on SIGTERM/SIGINT or at the end of its lifetime.

    --self-test          start one in-process, check faults, record, control
                         and receipts against it, exit 0 if all is well
"""
import argparse
import http.client
import http.server
import json
import queue
import random
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

FAULT_KINDS = ("timeout", "drop")


def parse_faults(spec):
    """'500:0.1,timeout:0.02' -> [('500', 0.1), ('timeout', 0.02)]; ValueError on nonsense."""
    faults = []
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        kind, sep, p = item.partition(":")
        kind = kind.strip()
        if not sep:
            raise ValueError(f"fault {item!r}: write KIND:PROBABILITY, e.g. 500:0.1")
        if kind not in FAULT_KINDS and not (kind.isdigit() and 400 <= int(kind) <= 599):
            raise ValueError(f"fault {item!r}: KIND is an HTTP status 400-599, timeout or drop")
        try:
            probability = float(p)
        except ValueError:
            raise ValueError(f"fault {item!r}: {p!r} is not a probability") from None
        if not 0 <= probability <= 1:
            raise ValueError(f"fault {item!r}: a probability is from 0 to 1")
        faults.append((kind, probability))
    if sum(p for _, p in faults) > 1 + 1e-9:
        raise ValueError(f"faults {spec!r}: the probabilities add up to more than 1")
    return faults


class Gateway:
    """The stand-in's state: mode, counters, record file, receipt queue."""

    def __init__(self, record=None, faults="", hold=5.0, seed=None, latency_ms=0,
                 receipts=None, receipt_parts=False, receipts_token=None):
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.faults = parse_faults(faults)
        self.faults_spec = faults or ""
        self.fail_all = None
        self.hold = float(hold)
        self.latency_ms = int(latency_ms)
        self.stats = {"requests": 0, "accepted": 0, "500": 0, "429": 0, "timeout": 0, "drop": 0, "bad_request": 0,
                      "receipts_sent": 0, "receipts_failed": 0, "receipts_dropped": 0}
        self.accepted = 0
        self.record = open(record, "a", encoding="utf-8") if record else None
        self.receipts_url = receipts
        self.receipt_parts = receipt_parts
        self.receipts_token = receipts_token
        self.receipts = queue.Queue(maxsize=10000)
        self.stopping = threading.Event()
        self.senders = []
        if receipts:
            for _ in range(2):
                t = threading.Thread(target=self._send_receipts, daemon=True)
                t.start()
                self.senders.append(t)

    def mode(self):
        with self.lock:
            return {"faults": self.faults_spec, "fail_all": self.fail_all, "latency_ms": self.latency_ms,
                    "hold": self.hold}

    def set_mode(self, settings):
        """Applies a /_mode body; ValueError on a bad one (nothing changed then)."""
        if not isinstance(settings, dict):
            raise ValueError("the body is a JSON object")
        unknown = set(settings) - {"faults", "fail_all", "latency_ms", "hold"}
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)} (faults, fail_all, latency_ms, hold)")
        faults = parse_faults(settings["faults"]) if "faults" in settings else None
        fail_all = settings.get("fail_all", self.fail_all)
        if fail_all is not None and fail_all != 0 and not (isinstance(fail_all, int) and 400 <= fail_all <= 599):
            raise ValueError("fail_all is an HTTP status 400-599, or null (or 0) to heal")
        with self.lock:
            if faults is not None:
                self.faults, self.faults_spec = faults, settings["faults"] or ""
            if "fail_all" in settings:
                self.fail_all = fail_all or None
            if "latency_ms" in settings:
                self.latency_ms = int(settings["latency_ms"])
            if "hold" in settings:
                self.hold = float(settings["hold"])

    def decide(self):
        """What to do with the next message: 'accept', a status string, 'timeout' or 'drop'."""
        with self.lock:
            self.stats["requests"] += 1
            if self.fail_all:
                return str(self.fail_all)
            draw = self.random.random()
            for kind, probability in self.faults:
                if draw < probability:
                    return kind
                draw -= probability
            return "accept"

    def count(self, key):
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    def accept(self, body):
        """Numbers and records an accepted message (before it is answered)."""
        with self.lock:
            self.accepted += 1
            self.stats["accepted"] += 1
            message_id = f"gw-{self.accepted}"
            if self.record:
                line = dict(body) if isinstance(body, dict) else {"body": body}
                line["received_at"] = time.time()
                line["message_id"] = message_id
                self.record.write(json.dumps(line, ensure_ascii=False) + "\n")
                self.record.flush()
        if self.receipts_url:
            self._queue_receipts(body, message_id)
        return message_id

    def snapshot(self):
        with self.lock:
            return dict(self.stats)

    def close(self):
        self.stopping.set()
        with self.lock:
            if self.record:
                self.record.close()
                self.record = None

    def _queue_receipts(self, body, message_id):
        fields = body if isinstance(body, dict) else {}
        base = {"message_id": message_id, "status": "delivered"}
        if isinstance(fields.get("id"), str):
            base["id"] = fields["id"]
        parts = fields.get("parts")
        if self.receipt_parts and isinstance(parts, int) and parts > 1:
            receipts = [dict(base, part=n, parts=parts) for n in range(1, parts + 1)]
        else:
            receipts = [base]
        for r in receipts:
            try:
                self.receipts.put_nowait(r)
            except queue.Full:
                self.count("receipts_dropped")

    def _send_receipts(self):
        while not self.stopping.is_set():
            try:
                receipt = self.receipts.get(timeout=0.2)
            except queue.Empty:
                continue
            data = json.dumps(receipt).encode()
            headers = {"Content-Type": "application/json"}
            if self.receipts_token:
                headers["Authorization"] = "Bearer " + self.receipts_token
            for attempt in range(5):
                try:
                    req = urllib.request.Request(self.receipts_url, data=data, method="POST", headers=headers)
                    with urllib.request.urlopen(req, timeout=10) as r:
                        r.read()
                    self.count("receipts_sent")
                    break
                except (urllib.error.URLError, OSError) as e:
                    if attempt == 4 or self.stopping.wait(0.5 * (attempt + 1)):
                        self.count("receipts_failed")
                        print(f"gateway_standin: receipt {receipt} not delivered: {e}", file=sys.stderr, flush=True)
                        break


def make_handler(gw):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the connector expects

        def log_message(self, *args):
            pass

        def _answer(self, status, body, headers=()):
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def _hang_up(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def do_GET(self):
            if self.path.split("?")[0] == "/_stats":
                return self._answer(200, gw.snapshot())
            if self.path.split("?")[0] == "/_mode":
                return self._answer(200, gw.mode())
            self._answer(405, {"error": "messages are POSTed"})

        def do_POST(self):
            raw = self._body()
            path = self.path.split("?")[0]
            if path == "/_mode":
                try:
                    gw.set_mode(json.loads(raw or b"{}"))
                except ValueError as e:  # json.JSONDecodeError is one
                    return self._answer(400, {"error": str(e)})
                return self._answer(200, gw.mode())
            if path.startswith("/_"):
                return self._answer(404, {"error": f"no control endpoint {path}"})
            try:
                body = json.loads(raw)
            except ValueError as e:
                gw.count("bad_request")
                return self._answer(400, {"error": f"the body is not JSON: {e}"})
            what = gw.decide()
            latency = gw.latency_ms
            if latency > 0:
                time.sleep(latency / 1000)
            if what == "accept":
                return self._answer(200, {"message_id": gw.accept(body)})
            gw.count(what)
            if what == "drop":
                return self._hang_up()
            if what == "timeout":
                gw.stopping.wait(gw.hold)  # the client has given up by now
                return self._hang_up()
            status = int(what)
            headers = [("Retry-After", "1")] if status == 429 else []
            self._answer(status, {"error": f"injected {status}"}, headers)

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def start(args):
    gw = Gateway(args.record, args.faults, args.hold, args.seed, args.latency_ms, args.receipts,
                 args.receipt_parts, args.receipts_token)
    server = Server(("127.0.0.1", args.port), make_handler(gw))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    return gw, server, thread


def stop(gw, server, thread):
    gw.stopping.set()
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    gw.close()


def self_test():
    """A quick check of the stand-in by itself (seconds): every fault kind,
    the record, fail_all and healing, receipts per part."""
    import tempfile

    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    received = []

    class Sink(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        record = f"{tmp}/record.ndjson"
        args = argparse.Namespace(port=0, record=record, faults="500:0.2,429:0.2,timeout:0.1,drop:0.1", hold=0.3,
                                  seed=7, latency_ms=0, receipts=f"http://127.0.0.1:{sink.server_address[1]}/r",
                                  receipt_parts=True, receipts_token=None)
        gw, server, thread = start(args)
        url = f"http://127.0.0.1:{server.server_address[1]}"

        def post(path, body, timeout=5):
            req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return r.status, json.loads(r.read() or b"null")
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read() or b"null")
            except (urllib.error.URLError, OSError, http.client.HTTPException):
                return None, None

        outcomes = [post("/sms", {"id": f"d{i}", "to": "+8613800000000", "text": "测试", "parts": 2})[0]
                    for i in range(60)]
        stats = gw.snapshot()
        accepted = [o for o in outcomes if o == 200]
        check(stats["requests"] == 60, f"requests {stats['requests']} != 60")
        check(stats["accepted"] == len(accepted), f"accepted {stats['accepted']} != {len(accepted)} answered 200")
        check(all(stats[k] > 0 for k in ("500", "429", "timeout", "drop")), f"some fault never drawn: {stats}")
        check(sum(stats[k] for k in ("accepted", "500", "429", "timeout", "drop")) == 60, f"counts do not add up: {stats}")
        check(outcomes.count(None) == stats["timeout"] + stats["drop"], "timeouts and drops must get no answer")
        with open(record, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f]
        check(len(lines) == len(accepted), f"{len(lines)} recorded, {len(accepted)} accepted")
        check(all(line["text"] == "测试" and line["message_id"].startswith("gw-") and "received_at" in line for line in lines),
              "record lines lack the body, message_id or received_at")

        check(post("/_mode", {"fail_all": 503})[0] == 200, "POST /_mode refused")
        check(post("/sms", {"id": "x"})[0] == 503, "fail_all did not fail")
        post("/_mode", {"fail_all": None, "faults": ""})
        check(post("/sms", {"id": "y"})[0] == 200, "healing did not heal")
        check(post("/_mode", {"faults": "500:2"})[0] == 400, "a bad fault spec was taken")

        deadline = time.time() + 20
        expected = 2 * len(accepted) + 1  # two parts each, and "y" in one
        while time.time() < deadline and len(received) < expected:
            time.sleep(0.05)
        check(len(received) == expected, f"{len(received)} receipts, expected {expected}")
        parted = [r for r in received if r.get("id") != "y"]
        check(all((r["part"], r["parts"]) in {(1, 2), (2, 2)} and r["status"] == "delivered" for r in parted),
              "receipts per part are wrong")
        check(len({(r["id"], r["part"]) for r in parted}) == len(parted), "a part's receipt came twice")
        stop(gw, server, thread)
    sink.shutdown()
    for f in failures:
        print("self-test: " + f, file=sys.stderr)
    print("self-test: " + ("ok" if not failures else f"{len(failures)} failed"))
    return 0 if not failures else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record")
    parser.add_argument("--faults", default="")
    parser.add_argument("--hold", type=float, default=5.0)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--receipts")
    parser.add_argument("--receipt-parts", action="store_true")
    parser.add_argument("--receipts-token")
    parser.add_argument("--lifetime", type=float, default=1800)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    try:
        parse_faults(args.faults)
    except ValueError as e:
        parser.error(str(e))

    gw, server, thread = start(args)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    done.wait(args.lifetime)
    stop(gw, server, thread)
    return 0


if __name__ == "__main__":
    sys.exit(main())
