"""The `kannel` connector against a real Kannel (ctest's `kannel` fixture:
bearerbox, smsbox and Kannel's fake SMSC on 127.0.0.1, see scripts/kannel),
driven through tests/tools/connector_send.

Sends a one-part and a three-part Chinese text (UCS-2) and a GSM-7 text, then
checks, from the fake SMSC's file of received messages, that each arrived
exactly once, whole (parts reassembled and decoded) and to the right number;
that Kannel called the connector's dlr-url, served here by a tiny HTTP
listener, with our reference (the delivery id) and the report's type; and that
a sendsms refused by Kannel (wrong password) comes back as a failure.

Stdlib only. Every wait is bounded.
"""
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse

import harness as h

SENDSMS = os.environ.get("SUNBEAM_TEST_KANNEL_SENDSMS", "")
RECEIVED = os.environ.get("SUNBEAM_TEST_KANNEL_RECEIVED", "")
CONNECTOR_SEND = os.environ.get("CONNECTOR_SEND", "connector_send")

# What scripts/kannel's fake SMSC setup reports (see the notes there): an SMSC
# acknowledgement (8) and a final "delivered" (1), once per message.
DLR_DELIVERED, DLR_SMSC_ACK = 1, 8

SIGNATURE = "【测试证券】"
MESSAGES = [
    {"delivery_id": "kannel-ucs2-1", "to": "+8613800000101", "encoding": "ucs2", "parts": 1,
     "body": SIGNATURE + "贵州茅台（600519.SH）今日发布分红公告，详情请登录APP查看。"},
    {"delivery_id": "kannel-ucs2-3", "to": "+8613800000102", "encoding": "ucs2", "parts": 3,
     "body": SIGNATURE + "风险提示：" + "您持有的证券今日触发异常波动，请关注公司公告并审慎决策，理性投资。" * 4
     + "回T退订"},
    {"delivery_id": "kannel-gsm7", "to": "+8613800000103", "encoding": "gsm7", "parts": 1,
     "body": "[Sunbeam] 600519.SH rating: BUY @ 1,850.00 {target} ~ £12 é ok"},
]
REFUSED = {"delivery_id": "kannel-refused", "to": "+8613800000199", "encoding": "gsm7", "parts": 1,
           "body": "must not arrive"}


def ucs2_parts(text):
    """Handset count: 70 UCS-2 units in one part, 67 per part when longer."""
    units = len(text.encode("utf-16-be")) // 2
    return 1 if units <= 70 else -(-units // 67)


class ReceiptListener:
    """Kannel's dlr-url target: records every request it gets, answers 200."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self._record()

            def do_POST(self):
                self._record()

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urllib.parse.urlsplit(self.path)
                with listener.lock:
                    listener.requests.append({"method": self.command, "path": url.path, "raw": self.path,
                                              "query": dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
                                              "body": body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def write_config(directory, receipts_port):
    """A minimal engine config whose only interesting part is its connectors:
    `kannel` (the fixture's user and password) and `kannel_refused` (a wrong
    password, read from another variable)."""
    os.makedirs(os.path.join(directory, "templates"), exist_ok=True)
    with open(os.path.join(directory, "subscribers.csv"), "w", encoding="utf-8") as f:
        f.write("account_id,name,tier,mobile,email,locale,channels,quiet_hours,timezone,opt_out\n")
    receipts = f"http://127.0.0.1:{receipts_port}/v1/receipts"
    lines = [
        "tiers: [basic]",
        "event_types:",
        "  notice: { audience: all, channels: { basic: [sms] } }",
        "templates: templates",
        "connectors:",
    ]
    for name, password_var in (("kannel", "SUNBEAM_KANNEL_PASSWORD"), ("kannel_refused", "SUNBEAM_TEST_KANNEL_WRONG_PASSWORD")):
        lines += [
            f"  - name: {name}",
            "    kind: kannel",
            f"    endpoint: {SENDSMS}",
            "    username: tester",
            f"    password: ${{{password_var}}}",
            f"    dlr_url: {receipts}/{name}",
            "    concurrency: 4",
            "    timeout: 10s",
        ]
    lines += [
        "routing:",
        "  sms: { connector: kannel }",
        "directory: { subscribers: subscribers.csv }",
        "",
    ]
    path = os.path.join(directory, "sunbeam.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return path


def connector_send(config, connector, messages):
    lines = "".join(json.dumps({"event_id": "it-kannel", "account": "A1", "channel": "sms", **m},
                               ensure_ascii=False) + "\n" for m in messages)
    env = dict(os.environ, SUNBEAM_TEST_KANNEL_WRONG_PASSWORD="not-the-password")
    r = subprocess.run([CONNECTOR_SEND, "--config", config, "--connector", connector],
                       input=lines.encode("utf-8"), capture_output=True, timeout=60, env=env)
    if r.returncode != 0:
        raise AssertionError(f"connector_send exited {r.returncode}: {r.stderr.decode(errors='replace')}")
    outcomes = {}
    for line in r.stdout.decode().splitlines():
        o = json.loads(line)
        outcomes[o["delivery_id"]] = o
    return outcomes


# One line of the fake SMSC's log: `... Got message N: <SENDER RECEIVER REST>`.
GOT = re.compile(r"Got message (\d+): <(\S+) (\S+) (.*)>$")


def url_bytes(value):
    """Kannel's octstr_url_encode writes byte 0x20 as '+' and a real '+' as %2B."""
    return urllib.parse.unquote_to_bytes(value.replace("+", "%20"))


def received_parts(offset):
    """The parts the fake SMSC logged after `offset` bytes: a list of
    (sender, (receiver, kind, udh bytes or None, payload bytes)), the inner
    tuple as `reassemble` takes it."""
    if not os.path.exists(RECEIVED):
        return []
    with open(RECEIVED, "rb") as f:
        f.seek(offset)
        data = f.read()
    out = []
    for raw in data.split(b"\n"):
        m = GOT.search(raw.decode("utf-8", errors="surrogateescape"))
        if not m:
            continue
        sender, receiver, rest = m.group(2), m.group(3), m.group(4)
        kind, _, value = rest.partition(" ")
        if kind == "udh":  # `udh URLENC data URLENC`: one part of a concatenated message
            udh, _, tail = value.partition(" data ")
            item = (receiver, "udh", url_bytes(udh), url_bytes(tail))
        elif kind in ("ucs-2", "data"):
            item = (receiver, kind, None, url_bytes(value))
        else:  # `text`: 7-bit, written as is
            item = (receiver, kind, None, value.encode("utf-8", errors="surrogateescape"))
        out.append((sender, item))
    return out


def received_from(offset):
    """As received_parts, without the sender."""
    return [item for _sender, item in received_parts(offset)]


def concatenation(udh):
    """(reference, total, sequence) from a concatenation UDH (IEI 00 or 08)."""
    i = 1
    while i < len(udh):
        iei, length = udh[i], udh[i + 1]
        ie = udh[i + 2:i + 2 + length]
        if iei == 0x00 and length == 3:
            return ie[0], ie[1], ie[2]
        if iei == 0x08 and length == 4:
            return (ie[0] << 8) | ie[1], ie[2], ie[3]
        i += 2 + length
    raise AssertionError(f"UDH {udh.hex()} has no concatenation element")


def reassemble(items, encoding):
    """The received items for one receiver as whole messages: [(text, parts)]."""
    whole, groups = [], {}
    for _, kind, udh, payload in items:
        if kind == "udh":
            ref, total, seq = concatenation(udh)
            groups.setdefault(ref, {"total": total, "parts": {}})["parts"].setdefault(seq, []).append(payload)
        else:
            whole.append((payload, 1))
    for ref, g in groups.items():
        seqs = g["parts"]
        if sorted(seqs) != list(range(1, g["total"] + 1)) or any(len(v) != 1 for v in seqs.values()):
            raise AssertionError(f"concatenated message {ref}: parts {sorted((s, len(v)) for s, v in seqs.items())}"
                                 f" of {g['total']} (each once expected)")
        whole.append((b"".join(seqs[s][0] for s in range(1, g["total"] + 1)), g["total"]))
    codec = "utf-16-be" if encoding == "ucs2" else "utf-8"
    return [(payload.decode(codec), parts) for payload, parts in whole]


def wait_until(what, check, timeout=30):
    deadline = time.time() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.time() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def main():
    if not (SENDSMS and RECEIVED and os.environ.get("SUNBEAM_KANNEL_PASSWORD")):
        raise SystemExit("SUNBEAM_TEST_KANNEL_SENDSMS, SUNBEAM_TEST_KANNEL_RECEIVED and SUNBEAM_KANNEL_PASSWORD are not"
                         " set: run through ctest, whose kannel fixture starts Kannel")
    for m in MESSAGES:
        if m["encoding"] == "ucs2" and ucs2_parts(m["body"]) != m["parts"]:
            raise SystemExit(f"test data: {m['delivery_id']} is {ucs2_parts(m['body'])} UCS-2 parts, not {m['parts']}")
    path = h.workdir("kannel")
    listener = ReceiptListener()
    config = write_config(path, listener.port)
    offset = os.path.getsize(RECEIVED) if os.path.exists(RECEIVED) else 0
    failures = []
    try:
        # Refused first: when the good ones have arrived, a refused one that
        # Kannel had queued after all would have arrived too.
        refused = connector_send(config, "kannel_refused", [REFUSED]).get(REFUSED["delivery_id"])
        print(f"  wrong password: {refused}")
        if refused is None:
            failures.append("no outcome for the message sent with a wrong password")
        elif refused["accepted"] or refused["failure"] == "none":
            failures.append(f"a sendsms refused by Kannel (wrong password) was reported accepted: {refused}")
        elif "403" not in refused["error"]:
            failures.append(f"the refusal's error does not carry Kannel's 403: {refused['error']!r}")

        outcomes = connector_send(config, "kannel", MESSAGES)
        for m in MESSAGES:
            o = outcomes.get(m["delivery_id"])
            if o is None or not o["accepted"]:
                failures.append(f"{m['delivery_id']}: not accepted by Kannel: {o}")

        # The fake SMSC logs one line per part.
        expected_parts = sum(m["parts"] for m in MESSAGES)
        got = wait_until(f"{expected_parts} parts at the fake SMSC",
                         lambda: (lambda r: r if len(r) >= expected_parts else None)(received_from(offset)))
        for m in MESSAGES:
            items = [g for g in got if g[0] == m["to"]]
            try:
                texts = reassemble(items, m["encoding"])
            except AssertionError as e:
                failures.append(f"{m['delivery_id']}: {e}")
                continue
            if texts != [(m["body"], m["parts"])]:
                failures.append(f"{m['delivery_id']}: the fake SMSC got {texts}, expected once {(m['body'], m['parts'])}")
            kinds = sorted({g[1] for g in items})
            wanted = ["udh"] if m["parts"] > 1 else ["ucs-2"] if m["encoding"] == "ucs2" else ["text"]
            if kinds != wanted:
                failures.append(f"{m['delivery_id']}: sent as {kinds}, expected {wanted} (wrong coding?)")
        strangers = sorted({g[0] for g in got} - {m["to"] for m in MESSAGES})
        if strangers:
            failures.append(f"the fake SMSC got messages for numbers nobody sent to: {strangers}")

        # Delivery reports: Kannel calls the dlr-url with our reference.
        ids = [m["delivery_id"] for m in MESSAGES]

        def reports_complete():
            reqs = listener.snapshot()
            done = all(any(r["query"].get("ref") == i and r["query"].get("type") == str(DLR_DELIVERED) for r in reqs)
                       for i in ids)
            return reqs if done else None

        reports = wait_until("a delivered report for every message", reports_complete)
        for r in reports:
            print(f"  report: {r['method']} {r['raw']}")
        for r in reports:
            if r["method"] != "GET" or r["path"] != "/v1/receipts/kannel":
                failures.append(f"a report went to {r['method']} {r['path']}, not GET /v1/receipts/kannel")
            if r["query"].get("ref") not in ids:
                failures.append(f"a report names ref {r['query'].get('ref')!r}, which is none of ours")
            if r["query"].get("type") not in ("1", "2", "4", "8", "16"):
                failures.append(f"a report's type is {r['query'].get('type')!r}, not a Kannel DLR type")
        for i in ids:
            types = [r["query"].get("type") for r in reports if r["query"].get("ref") == i]
            if types.count(str(DLR_DELIVERED)) != 1:
                failures.append(f"{i}: {types.count('1')} delivered reports, expected exactly one (one per message, not per part)")
            if any(types.count(t) > 1 for t in set(types)):
                failures.append(f"{i}: a report type came more than once: {sorted(types)}")
            if not set(types) <= {str(DLR_DELIVERED), str(DLR_SMSC_ACK)}:
                failures.append(f"{i}: report types {sorted(types)}; the fake SMSC makes only 1 and 8")
        if any(r["query"].get("ref") == REFUSED["delivery_id"] for r in reports):
            failures.append("the refused message got a delivery report")
    except AssertionError as err:
        failures.append(str(err))
    finally:
        listener.close()
    return h.conclude("kannel", path, failures)


if __name__ == "__main__":
    sys.exit(main())
