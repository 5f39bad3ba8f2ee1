"""Integration-test harness: runs the real `sunbeam` binary against the real
Kafka broker that ctest's `kafka` fixture started, with a generated config,
directory and templates, and reads what it sent from the outbox.

Stdlib only. Every wait is bounded; every process started is stopped.
"""
import csv
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

SUNBEAM = os.environ.get("SUNBEAM_BIN", "sunbeam")
BROKERS = os.environ.get("SUNBEAM_TEST_BROKERS", "")
SIGNATURE = "【测试证券】"
TIERS = ["advisor", "research", "basic"]

# The event types of the test config: audience kind, channels per tier, flags.
EVENT_TYPES = {
    "notice": {"audience": "all", "channels": {"advisor": ["sms", "email"], "research": ["sms", "email"], "basic": ["sms"]}},
    "market_summary": {"audience": "all", "channels": {"advisor": ["sms", "email"], "research": ["email"]}},
    "risk_alert": {"audience": "holders", "priority": "urgent", "channels": {"advisor": ["sms", "email"], "research": ["sms"]}},
    "rating_change": {"audience": "holders", "channels": {"advisor": ["sms"], "research": ["sms"]}},
    "stock_pick_followup": {"audience": "watchers", "digest": True, "channels": {"advisor": ["sms"], "research": ["sms"]}},
    "allotment_result": {"audience": "explicit", "channels": {"advisor": ["sms"], "research": ["sms"], "basic": ["sms"]}},
}
SYMBOLS = ["600519.SH", "000001.SZ", "300750.SZ", "601318.SH", "688981.SH"]
SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = "伟芳娜敏静丽强磊军洋"
EN_NAMES = ["Alice Wong", "Brian Lee", "Carol Chen", "David Liu", "Emma Zhang", "Frank Wu"]


def require_broker():
    if not BROKERS:
        raise SystemExit("SUNBEAM_TEST_BROKERS is not set: run through ctest, whose kafka fixture starts the broker")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate_directory(directory, n, seed=7):
    """Writes subscribers/holdings/watchlist CSVs; returns the rows as dicts."""
    rng = random.Random(seed)
    subs, holdings, watch = [], [], []
    for i in range(n):
        account = f"T{i:06d}"
        en = rng.random() < 0.3
        name = rng.choice(EN_NAMES) if en else rng.choice(SURNAMES) + rng.choice(GIVEN)
        channels = rng.choice(["sms", "email", "sms+email", "sms+email"])
        has_mobile = rng.random() > 0.03
        has_email = rng.random() > 0.05
        opt_out = rng.choice([""] * 12 + ["email", "sms", "rating_change", "notice;email"])
        sub = {
            "account_id": account, "name": name, "tier": TIERS[i % 3],
            "mobile": f"13{rng.randrange(10**9):09d}" if has_mobile else "",
            "email": f"user{i}@example.com" if has_email else "",
            "locale": "en" if en else "zh-CN", "channels": channels,
            "quiet_hours": "", "timezone": "", "opt_out": opt_out,
        }
        # A row must have the address its channels need, or the loader skips it.
        if "sms" in channels and not sub["mobile"]:
            sub["channels"] = "email"
        if "email" in sub["channels"] and not sub["email"]:
            sub["channels"] = "sms" if sub["mobile"] else None
        if sub["channels"] is None:
            sub["mobile"] = f"13{rng.randrange(10**9):09d}"
            sub["channels"] = "sms"
        subs.append(sub)
        for sym in rng.sample(SYMBOLS, rng.randrange(0, 3)):
            holdings.append((account, sym))
        for sym in rng.sample(SYMBOLS, rng.randrange(0, 2)):
            watch.append((account, sym))
    with open(os.path.join(directory, "subscribers.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(subs[0].keys()))
        w.writeheader()
        w.writerows(subs)
    for fname, rows in (("holdings.csv", holdings), ("watchlist.csv", watch)):
        with open(os.path.join(directory, fname), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["account_id", "symbol"])
            w.writerows(rows)
    return subs, holdings, watch


def write_templates(directory):
    """Templates whose output the oracle below can compute independently."""
    for locale in ("zh-CN", "en"):
        os.makedirs(os.path.join(directory, locale), exist_ok=True)
        for t in EVENT_TYPES:
            with open(os.path.join(directory, locale, f"{t}.sms.mustache"), "w", encoding="utf-8") as f:
                f.write(locale + "|{{subscriber.name}}|{{event.id}}|{{title}}{{#lots}}|{{lots}}{{/lots}}\n")
            with open(os.path.join(directory, locale, f"{t}.email.mustache"), "w", encoding="utf-8") as f:
                f.write("--- subject ---\n{{event.id}} {{title}}\n--- text ---\n"
                        + locale + "|{{subscriber.name}}|{{event.id}}|{{title}}\n"
                        "--- html ---\n<p>{{title}}</p>\n")
        # The pre-market digest (docs/digest.md): one message a day per account and channel.
        with open(os.path.join(directory, locale, "digest.sms.mustache"), "w", encoding="utf-8") as f:
            f.write(locale + "|{{subscriber.name}}|digest {{date}}|{{count}}{{#more}}|+{{more}}{{/more}}\n")
        with open(os.path.join(directory, locale, "digest.email.mustache"), "w", encoding="utf-8") as f:
            f.write("--- subject ---\ndigest {{date}}\n--- text ---\n" + locale
                    + "|{{subscriber.name}}|digest {{date}}|{{count}}\n--- html ---\n<p>{{count}}</p>\n")


def write_calendar(path):
    """Trading days for the digest: the weekdays of 2026 and 2027."""
    import datetime
    day, end = datetime.date(2026, 1, 1), datetime.date(2027, 12, 31)
    with open(path, "w") as f:
        while day <= end:
            if day.weekday() < 5:
                f.write(day.isoformat() + "\n")
            day += datetime.timedelta(days=1)


def expected_text(sub, channel, event, data):
    text = f"{sub['locale']}|{sub['name']}|{event['id']}|{data.get('title', '')}"
    if data.get("lots") is not None:
        text += f"|{data['lots']}"
    if channel == "sms":
        return SIGNATURE + text
    return text


def oracle(event, subs, holdings, watch):
    """What the engine must send for `event`: a Counter of (account, channel, text)."""
    t = EVENT_TYPES[event["type"]]
    by_account = {s["account_id"]: s for s in subs}
    named = {}
    if "audience" in event and "accounts" in event["audience"]:
        for a in event["audience"]["accounts"]:
            if isinstance(a, str):
                named[a] = {}
            else:
                named[a["account"]] = a.get("data", {})
        candidates = [by_account[a] for a in named if a in by_account]
    elif t["audience"] == "holders":
        owners = {a for a, s in holdings if s == event["symbol"]}
        candidates = [s for s in subs if s["account_id"] in owners]
    elif t["audience"] == "watchers":
        owners = {a for a, s in watch if s == event["symbol"]}
        candidates = [s for s in subs if s["account_id"] in owners]
    else:
        candidates = subs
    tiers = event.get("audience", {}).get("tiers")
    urgent = event.get("priority", t.get("priority", "normal")) == "urgent"
    out = Counter()
    for s in candidates:
        if tiers and s["tier"] not in tiers:
            continue
        channels = t["channels"].get(s["tier"], [])
        for ch in channels:
            if ch not in s["channels"].split("+"):
                continue
            refused = s["opt_out"].split(";") if s["opt_out"] else []
            if ch in refused or event["type"] in refused:
                continue
            if not (s["mobile"] if ch == "sms" else s["email"]):
                continue
            if t.get("digest") and not urgent:
                continue
            data = dict(event.get("data", {}))
            data.update(named.get(s["account_id"], {}))
            out[(s["account_id"], ch, expected_text(s, ch, event, data))] += 1
    return out


def delivery_id(event_id, account, channel):
    """engine/core/delivery.cpp make_delivery_id: the first 128 bits of
    SHA-256(event NUL account NUL channel), the reference gateways echo."""
    return hashlib.sha256(f"{event_id}\0{account}\0{channel}".encode()).hexdigest()[:32]


def expected_ids(engine, event, channel="sms"):
    """The delivery ids the oracle expects for `event` on `channel`."""
    return {delivery_id(event["id"], account, ch)
            for (account, ch, _text) in oracle(event, engine.subs, engine.holdings, engine.watch) if ch == channel}


def read_ndjson(path):
    """The complete records of an NDJSON file another process may be appending
    to: a last line without its newline is still being written, and is left for
    the next read (reading it half-written made a test fail at random)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.endswith("\n") and line.strip()]

class Engine:
    """One sunbeam process with its own config, topics and outbox."""

    def __init__(self, workdir, subscribers=0, seed=7, extra_yaml="", rate=None, burst=1, connectors=None,
                 tokens=None):
        """`connectors`: YAML for the `connectors:` and `routing:` sections,
        replacing the default (one outbox for both channels). `tokens`: role
        -> bearer token; the config gets their SHA-256 (api.tokens) and
        request() sends `token` (the operator's, else the first) unless told."""
        require_broker()
        self.rate, self.burst = rate, burst
        self.tokens = tokens or {}
        self.token = self.tokens.get("operator") or next(iter(self.tokens.values()), None)
        self.connectors = connectors
        self.workdir = workdir
        self.port = free_port()
        self.prefix = f"it-{uuid.uuid4().hex[:8]}."
        self.outbox = os.path.join(workdir, "outbox", "outbox.ndjson")
        self.proc = None
        self.log = open(os.path.join(workdir, "engine.log"), "ab")
        write_templates(os.path.join(workdir, "templates"))
        write_calendar(os.path.join(workdir, "calendar.txt"))
        if subscribers:
            self.subs, self.holdings, self.watch = generate_directory(workdir, subscribers, seed)
        self.config = os.path.join(workdir, "sunbeam.yaml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(self._yaml() + extra_yaml)

    def _yaml(self):
        lines = [
            "kafka:",
            f"  brokers: {BROKERS}",
            f"  topic_prefix: \"{self.prefix}\"",
            "  partitions: 3",
            f"  instance_id: {self.prefix.rstrip('.')}-engine",
            "tiers: [advisor, research, basic]",
            "event_types:",
        ]
        for name, t in EVENT_TYPES.items():
            lines.append(f"  {name}:")
            lines.append(f"    audience: {t['audience']}")
            if "priority" in t:
                lines.append(f"    priority: {t['priority']}")
            if t.get("digest"):
                lines.append("    digest: true")
            lines.append("    symbol_required: false")
            lines.append("    channels:")
            for tier, chans in t["channels"].items():
                lines.append(f"      {tier}: [{', '.join(chans)}]")
        default_connectors = [
            "connectors:",
            "  - name: outbox",
            "    kind: outbox",
            "    dir: outbox",
            *([f"    rate: {self.rate}", f"    burst: {self.burst}"] if self.rate else []),
            "routing:",
            "  sms: { connector: outbox }",
            "  email: { connector: outbox }",
        ]
        lines += [
            "templates: templates",
            *(self.connectors.rstrip("\n").split("\n") if self.connectors else default_connectors),
            "defaults: { locale: zh-CN, timezone: Asia/Shanghai }",
            f"sms: {{ signature: \"{SIGNATURE}\", signature_position: prefix, max_parts: 10 }}",
            f"api: {{ listen: \"127.0.0.1:{self.port}\", max_body: 256KiB{self._tokens_yaml()} }}",
            "schedule: { digest_time: \"08:45\", timezone: Asia/Shanghai, calendar: calendar.txt, cutoff: \"09:25\" }",
            "storage: storage",
            "directory: { subscribers: subscribers.csv, holdings: holdings.csv, watchlist: watchlist.csv }",
            "",
        ]
        return "\n".join(lines)

    def _tokens_yaml(self):
        if not self.tokens:
            return ""
        entries = ", ".join(f"{{ name: {role}-token, role: {role}, sha256: {hashlib.sha256(t.encode()).hexdigest()} }}"
                            for role, t in self.tokens.items())
        return f", tokens: [{entries}]"

    @property
    def api(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=90):
        self.proc = subprocess.Popen([SUNBEAM, "--config", self.config, "--log-level", "info", "run"],
                                     stdout=self.log, stderr=self.log, cwd=self.workdir)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"sunbeam exited with {self.proc.returncode} at start; see {self.log.name}")
            try:
                status, _ = self.request("GET", "/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"sunbeam not ready within {timeout} s; see {self.log.name}")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("sunbeam did not stop within %d s of SIGTERM" % timeout)
            return code
        return self.proc.returncode if self.proc else None

    def request(self, method, path, body=None, content_type="application/json", token="default"):
        """(status, parsed JSON body). token: "default" sends self.token, None none."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        req = urllib.request.Request(self.api + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        token = self.token if token == "default" else token
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def publish(self, events):
        return self.request("POST", "/v1/events", json.dumps(events, ensure_ascii=False),
                            token=self.tokens.get("publisher", self.token))

    def status(self, event_id):
        status, body = self.request("GET", f"/v1/events/{event_id}")
        return body if status == 200 else None

    def wait_settled(self, event_ids, timeout=180):
        deadline = time.time() + timeout
        pending = set(event_ids)
        while pending and time.time() < deadline:
            for eid in list(pending):
                s = self.status(eid)
                if s and s.get("settled"):
                    pending.discard(eid)
            if pending:
                time.sleep(0.5)
        if pending:
            raise AssertionError(f"not settled within {timeout} s: {sorted(pending)}")

    def outbox_lines(self):
        return read_ndjson(self.outbox)

    def close(self):
        try:
            self.stop()
        finally:
            self.log.close()


def wait(what, check, timeout=60, step=0.2):
    """check() until it returns something truthy (returned), at most `timeout`
    seconds; else an AssertionError naming `what`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def workdir(name):
    base = os.environ.get("SUNBEAM_TEST_TMP") or tempfile.gettempdir()
    path = os.path.join(base, f"sunbeam-{name}-{uuid.uuid4().hex[:6]}")
    os.makedirs(path)
    return path


def cleanup(path):
    if os.environ.get("SUNBEAM_KEEP_TEST_FILES") != "1":
        shutil.rmtree(path, ignore_errors=True)


def run_tests(tests):
    """Runs (name, callable) pairs; an AssertionError fails one test, not the rest.
    Returns (passed, failed)."""
    passed = failed = 0
    for name, test in tests:
        try:
            test()
            passed += 1
            print(f"PASS {name}")
        except AssertionError as e:
            failed += 1
            print(f"FAIL {name}: {e}")
    return passed, failed


def finish(path, passed, failed):
    """Removes a passing test's files (keeps a failing one's), prints the
    closing line, and returns the exit code."""
    if failed == 0:
        cleanup(path)
    else:
        print(f"  files kept in {path}")
    summary_line(passed, failed)
    return 1 if failed else 0


def conclude(name, path, failures):
    """For a test that is one scenario with a list of failures: prints each,
    or PASS, and finishes as `finish` does."""
    for f in failures:
        print(f"FAIL {name}: {f}")
    if not failures:
        print(f"PASS {name}")
    return finish(path, 0 if failures else 1, 1 if failures else 0)


def summary_line(passed, failed):
    # The plain closing line CI reads from any runner.
    print(f"{passed} passed, {failed} failed")


def start_listening(cmd, log, what, timeout=20):
    """Starts a test server that prints `listening on 127.0.0.1:PORT` as its
    first line; returns (process, port). Waits at most `timeout` seconds."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)$", line.strip())
    if not m:
        stop_process(proc)
        raise AssertionError(f"{what} did not start (said {line!r}); see {log.name}")
    return proc, int(m.group(1))


def stop_process(proc):
    """SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Gateway:
    """The stand-in HTTP SMS gateway (tests/support/gateway_standin.py) as a
    child process: what it accepted is in `record`, one JSON line each."""

    SCRIPT = os.path.join(os.environ.get("SUNBEAM_SOURCE_DIR", "."), "tests", "support", "gateway_standin.py")

    def __init__(self, workdir, *args):
        self.record = os.path.join(workdir, f"gateway-{uuid.uuid4().hex[:6]}.ndjson")
        self.log = open(self.record + ".log", "ab")
        self.proc, port = start_listening(["/usr/bin/python3", self.SCRIPT, "--port", "0", "--record", self.record, *args],
                                          self.log, "the stand-in gateway")
        self.url = f"http://127.0.0.1:{port}"

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def stats(self):
        return self.control("GET", "/_stats")

    def mode(self, **settings):
        return self.control("POST", "/_mode", settings)

    def accepted(self):
        return read_ndjson(self.record)

    def tally(self, expected):
        """What the gateway accepted against the delivery ids `expected`:
        (ids accepted at least once, missing, extra, duplicate sends)."""
        got = Counter(m["id"] for m in self.accepted())
        return (set(got) & expected, expected - set(got), set(got) - expected,
                sum(n - 1 for n in got.values() if n > 1))

    def stop(self):
        stop_process(self.proc)
        self.log.close()


def sms_http_connectors(gateway_url, extra="", fallback=None):
    """connectors/routing YAML: SMS through the stand-in, e-mail to an outbox."""
    lines = [
        "connectors:",
        "  - name: sms",
        "    kind: sms_http",
        f"    endpoint: {gateway_url}/sms",
        "    sender: \"10690000\"",
        *["    " + l for l in extra.strip("\n").split("\n") if l],
        "  - name: outbox",
        "    kind: outbox",
        "    dir: outbox",
        "routing:",
        f"  sms: {{ connector: sms{', fallback: ' + fallback if fallback else ''} }}",
        "  email: { connector: outbox }",
    ]
    return "\n".join(lines) + "\n"

