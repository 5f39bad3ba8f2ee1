"""Peer: Kannel (bearerbox + smsbox + Kannel's fake SMSC) fed by sunbeam's `kannel`
connector, against the same Kannel fed by a bare `sendsms` load client.

Kannel is the project's own scripts/kannel (the one the tests use) with its run dir under the
bench's scratch dir and its ports moved to 23000 (admin), 23001, 23010 and 23013 (sendsms),
clear of the test suite's 13000. It is started fresh (empty store, empty logs) before every
measured run and stopped afterwards, in `finally`.

What arrives is counted where it arrives: the fake SMSC logs one `Got message N: ...` line per
SMS to received.log. Both sides send the same N one-part UCS-2 Chinese texts, to N distinct
numbers, with the same keep-alive concurrency (CONCURRENCY, the connector's `concurrency`):
- bare: bench/peers/kannel/kannel_load (libcurl multi, none of sunbeam's code) sends the N
  sendsms GETs and times from its first request to the N-th arrival;
- sunbeam: one `market_summary` event published to an engine whose directory holds N zh-CN
  subscribers, routed to the kannel connector; timed from the POST to the N-th arrival.
No dlr-url on either side (delivery reports would add two callbacks per message to Kannel's
work and to sunbeam's; the comparison is of feeding Kannel).
"""
import os
import re
import socket
import subprocess
import time
import urllib.request
import uuid
from urllib.parse import unquote_to_bytes

from benchlib import BenchError, Figure, Ratio, Section, process_cpu_seconds, wait_for_count, wait_until
import engine as engine_mod
from engine import EngineRun

BASE_PORT = 23000
PORTS = (BASE_PORT, BASE_PORT + 1, BASE_PORT + 10, BASE_PORT + 13)
SENDSMS = f"http://127.0.0.1:{BASE_PORT + 13}/cgi-bin/sendsms"
CONCURRENCY = 8  # both sides; `--size kannel_peer_concurrency=C` changes it
SENDER = "10690123"
KANNEL_PROCESSES = ("bearerbox", "smsbox", "fakesmsc")
PASSWORD_VAR = "SUNBEAM_BENCH_KANNEL_PASSWORD"

# The event both sides send: the project's market_summary SMS template with a summary short
# enough that every subscriber's text, signature included, is one UCS-2 part (<= 70 units).
EVENT_DATA = {**engine_mod.MARKET_SUMMARY_DATA, "summary": "券商板块领涨。"}
SMS_TEMPLATE = "{name}您好，{date}收盘：沪指{sh_index}（{sh_change}），深成指{sz_index}（{sz_change}）。{summary}"
BARE_NAME = "王伟"  # every generated subscriber has a two-character name: same length


def sms_text(name):
    return engine_mod.SIGNATURE + SMS_TEMPLATE.format(name=name, **EVENT_DATA)


def ucs2_units(text):
    return len(text.encode("utf-16-be")) // 2


class Arrivals:
    """Counts `Got message` lines the fake SMSC appends to its output from the point it is
    created; `wait_for` polls every 5 ms, so the last arrival is timed that closely."""

    def __init__(self, path):
        self.path = path
        self.offset = os.path.getsize(path) if os.path.exists(path) else 0
        self.count = 0
        self.lines = []  # the first few, to check what arrived
        self._partial = b""

    def poll(self):
        if not os.path.exists(self.path):
            return self.count
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        chunk = self._partial + data
        *complete, self._partial = chunk.split(b"\n")
        for line in complete:
            if b"Got message" in line:
                self.count += 1
                if len(self.lines) < 5:
                    self.lines.append(line.decode("utf-8", "replace"))
        return self.count

    def wait_for(self, n, timeout, stalled=30):
        """time.monotonic() when n messages had arrived; BenchError after `timeout` s, or after
        `stalled` s without a new arrival."""
        return wait_for_count(self.poll, n, timeout, "fake SMSC: messages", stalled, 0.005)


# `Got message N: <SENDER RECEIVER ucs-2 URLENC>` (scripts/kannel describes the format).
_GOT = re.compile(r"Got message \d+: <(\S+) (\S+) (\S+) ([^>\s]+)>")


def check_arrived(lines, expect_text):
    """The first arrivals are one-part UCS-2 SMS from SENDER with the expected text."""
    for line in lines:
        m = _GOT.search(line)
        if not m:
            raise BenchError(f"fake SMSC line not understood: {line[:200]}")
        sender, _, kind, payload = m.groups()
        if kind != "ucs-2":
            raise BenchError(f"an SMS arrived as {kind!r}, not as one UCS-2 part: {line[:200]}")
        text = unquote_to_bytes(payload).decode("utf-16-be")
        if sender != SENDER or ucs2_units(text) != ucs2_units(expect_text):
            raise BenchError(f"arrived from {sender}: {text!r}; expected from {SENDER}, as long as {expect_text!r}")


class Kannel:
    """scripts/kannel with its own run dir and ports. start() is always --fresh."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.run_dir = os.path.join(ctx.work, "kannel")
        self.password = uuid.uuid4().hex[:16]
        self.env = {**os.environ, "SUNBEAM_KANNEL_RUN_DIR": self.run_dir,
                    "SUNBEAM_KANNEL_BASE_PORT": str(BASE_PORT), "SUNBEAM_KANNEL_PASSWORD": self.password}
        self.received = os.path.join(self.run_dir, "received.log")

    def _script(self, *args, timeout=120):
        p = subprocess.run([os.path.join(self.ctx.root, "scripts", "kannel"), *args], env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise BenchError(f"scripts/kannel {' '.join(args)}: {(p.stderr or p.stdout).strip()[-800:]}")

    def start(self):
        for port in PORTS:
            # A listener, not a bind test: the last run's connections may sit in TIME_WAIT,
            # which Kannel's SO_REUSEADDR ignores.
            with socket.socket() as s:
                s.settimeout(1)
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    raise BenchError(f"port {port} is in use: another Kannel? (the bench's uses "
                                     f"{', '.join(map(str, PORTS))})")
        self._script("start", "--fresh")

    def stop(self):
        self._script("stop")

    def pids(self):
        out = {}
        for name in KANNEL_PROCESSES:
            with open(os.path.join(self.run_dir, f"{name}.pid")) as f:
                out[name] = int(f.read().strip())
        return out

    def cpu(self):
        return {name: process_cpu_seconds(pid) for name, pid in self.pids().items()}

    def status(self):
        """bearerbox's status.txt (scripts/kannel's default admin password)."""
        url = f"http://127.0.0.1:{BASE_PORT}/status.txt?password=sunbeam-admin"
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode("utf-8", "replace")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def cpu_delta(after, before):
    return {k: after[k] - before[k] for k in after}


def bare_run(ctx, k, e, n, concurrency):
    """One run of kannel_load: (rate, Kannel's CPU by process, client CPU)."""
    arrivals = Arrivals(k.received)
    before, engine_before = k.cpu(), e.cpu_seconds()
    out = ctx.run_json([ctx.program("peers/kannel", "kannel_load"), "--url", SENDSMS,
                        "--username", "tester", "--password", k.password, "--received", k.received,
                        "--messages", n, "--concurrency", concurrency, "--from", SENDER,
                        "--text", sms_text(BARE_NAME), "--timeout", 600], timeout=660)
    cpu = cpu_delta(k.cpu(), before)
    idle_engine = e.cpu_seconds() - engine_before
    arrivals.poll()
    check_arrived(arrivals.lines, sms_text(BARE_NAME))
    ctx.log(f"kannel_peer bare: {out['rate']:.0f} msg/s ({out['seconds']:.2f} s; sendsms answered in "
            f"{out['send_seconds']:.2f} s); CPU s: client {out['cpu_seconds']:.2f}, "
            + ", ".join(f"{p} {c:.2f}" for p, c in cpu.items()) + f" (idle sunbeam {idle_engine:.2f})")
    return out["rate"], cpu, out["cpu_seconds"]


def subscribers_files(ctx, n):
    """N subscribers, all zh-CN with two-character names, SMS only, distinct mobiles."""
    data = os.path.join(ctx.build, "bench-data", f"kannel-directory-{n}")
    done = os.path.join(data, ".complete")
    if os.path.exists(done):
        return data
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "subscribers.csv"), "w", encoding="utf-8") as f:
        f.write("account_id,name,tier,mobile,email,locale,channels,quiet_hours,timezone,opt_out\n")
        for i in range(n):
            name = engine_mod.SURNAMES[i % 10] + engine_mod.GIVEN[(i // 10) % 10]
            f.write(f"K{i:08d},{name},{engine_mod.TIERS[i % 3]},139{i:08d},,zh-CN,sms,,,\n")
    for name in ("holdings.csv", "watchlist.csv"):
        with open(os.path.join(data, name), "w", encoding="utf-8") as f:
            f.write("account_id,symbol\n")
    open(done, "w").close()
    return data


class KannelEngine(EngineRun):
    """EngineRun on a directory of zh-CN subscribers only (EngineRun's own has 20% English
    ones, whose SMS would be GSM-7), routed to Kannel through the kannel connector."""

    def __init__(self, ctx, n, password, concurrency):
        self._kannel_data = subscribers_files(ctx, n)
        # Secrets go in as ${ENV} references (config refuses literals); the engine inherits ours.
        os.environ[PASSWORD_VAR] = password
        connectors = "\n".join([
            "connectors:",
            "  - name: kannel",
            "    kind: kannel",
            f"    endpoint: {SENDSMS}",
            "    username: tester",
            f"    password: ${{{PASSWORD_VAR}}}",
            f"    sender: \"{SENDER}\"",
            f"    concurrency: {concurrency}",
            "    timeout: 30s",
            "routing:",
            "  sms: { connector: kannel }",
            "  email: { connector: kannel }",
        ])
        super().__init__(ctx, n, connectors, name="kannel-engine")

    def _yaml(self, connectors):
        self.data = self._kannel_data
        return super()._yaml(connectors)

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()  # a start that timed out leaves the process running
            os.environ.pop(PASSWORD_VAR, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            os.environ.pop(PASSWORD_VAR, None)


def sunbeam_run(ctx, k, e, n, index):
    """One market_summary to the engine's n subscribers: (rate, Kannel's CPU by process,
    sunbeam's CPU)."""
    arrivals = Arrivals(k.received)
    kannel_before, engine_before = k.cpu(), e.cpu_seconds()
    t_wall = e.publish({"id": f"kannel-peer-{uuid.uuid4().hex[:8]}-{index}", "type": "market_summary",
                        "data": EVENT_DATA})
    t0 = time.monotonic() - (time.time() - t_wall)  # the POST's start on the monotonic clock
    t_last = arrivals.wait_for(n, timeout=600)
    kannel_cpu, engine_cpu = cpu_delta(k.cpu(), kannel_before), e.cpu_seconds() - engine_before
    check_arrived(arrivals.lines, sms_text(BARE_NAME))
    rate = n / (t_last - t0)
    ctx.log(f"kannel_peer sunbeam: {rate:.0f} msg/s ({t_last - t0:.2f} s); CPU s: sunbeam {engine_cpu:.2f}, "
            + ", ".join(f"{p} {c:.2f}" for p, c in kannel_cpu.items()))
    return rate, kannel_cpu, engine_cpu


# status.txt when nothing is held: bearerbox's queues and store, smsbox's link, the SMSC's queue.
_SMS_IDLE = re.compile(r"SMS: received \d+ \(0 queued\), sent \d+ \(0 queued\), store size 0\b")
_SMSBOX_IDLE = re.compile(r"smsbox:\S*, IP [\d.]+ \(0 queued\)")
_SMSC_IDLE = re.compile(r"FAKE\[FAKE\].*queued 0 msgs")


def at_rest(k, e, expected):
    """Waits until Kannel holds nothing (store and queues empty), the fake SMSC got exactly
    `expected` messages in all (a duplicate or a late one would show), and neither Kannel nor
    the engine is still working (under 5% of a core over half a second)."""
    def idle():
        status = k.status()
        if not (_SMS_IDLE.search(status) and _SMSBOX_IDLE.search(status) and _SMSC_IDLE.search(status)):
            return False
        before = (sum(k.cpu().values()), e.cpu_seconds())
        time.sleep(0.5)
        after = (sum(k.cpu().values()), e.cpu_seconds())
        return all(a - b < 0.025 for a, b in zip(after, before))
    wait_until(idle, 60, interval=0.1, what="Kannel and sunbeam at rest between runs")
    got = Arrivals(k.received)
    got.offset = 0
    if got.poll() != expected:
        raise BenchError(f"the fake SMSC got {got.count} messages in all, {expected} were sent")


def per_1k(seconds, n):
    return seconds * 1000 / n


def run(ctx):
    n = ctx.size(full=20_000, quick=2_000, name="kannel_peer")
    c = ctx.size(full=CONCURRENCY, quick=CONCURRENCY, name="kannel_peer_concurrency")
    text = sms_text(BARE_NAME)
    if ucs2_units(text) > 70:
        raise BenchError(f"the bench's SMS is {ucs2_units(text)} UCS-2 units: more than one part")
    bare, bare_kannel_cpu, bare_client_cpu = [], [], []
    sb, sb_kannel_cpu, sb_cpu = [], [], []
    sent = 0
    # One Kannel, started fresh and drained (at_rest) before every run, and one engine, idle
    # during the bare runs: restarting either costs seconds the quick mode does not have.
    # The two sides alternate, so a noisy neighbour on the shared cores weighs on both alike.
    with Kannel(ctx) as k, KannelEngine(ctx, n, k.password, c) as e:
        for i in range(ctx.runs):
            at_rest(k, e, sent)
            rate, kcpu, ccpu = bare_run(ctx, k, e, n, c)
            sent += n
            bare.append(rate)
            bare_kannel_cpu.append(per_1k(sum(kcpu.values()), n))
            bare_client_cpu.append(per_1k(ccpu, n))
            at_rest(k, e, sent)
            rate, kcpu, ecpu = sunbeam_run(ctx, k, e, n, i)
            sent += n
            sb.append(rate)
            sb_kannel_cpu.append(per_1k(sum(kcpu.values()), n))
            sb_cpu.append(per_1k(ecpu, n))
        at_rest(k, e, sent)
    key = "kannel_peer"
    return [Section(
        key=key,
        title="Peer: Kannel fed by sunbeam's kannel connector vs a bare sendsms client",
        command="scripts/bench --only kannel_peer",
        description=(
            f"Kannel 1.4.5 (bearerbox + smsbox + the fake SMSC, scripts/kannel on ports {BASE_PORT}+), "
            f"started fresh, and drained (store and queues empty, idle) before every run. {n:,} SMS, "
            f"each one UCS-2 part of Chinese text ({ucs2_units(text)} units, the project's market_summary "
            f"template), to {n:,} distinct numbers, counted as they reach the fake SMSC. **Bare**: "
            f"`kannel_load` (libcurl multi, {c} kept-alive connections) from its first sendsms "
            f"GET to the last arrival. **sunbeam**: one market_summary event to {n:,} zh-CN subscribers "
            f"on the bench Kafka, the kannel connector at concurrency {c}, from the POST to the "
            "last arrival. The two alternate. No delivery reports on either side. CPU per 1,000 messages: "
            "bearerbox + smsbox + fakesmsc, and the feeding process."),
        figures=[
            Figure("bare sendsms msg/s", bare, unit="/s"),
            Figure("sunbeam → Kannel msg/s", sb, unit="/s"),
            Figure("Kannel CPU s/1k (bare)", bare_kannel_cpu, unit="s", better="lower"),
            Figure("Kannel CPU s/1k (sunbeam)", sb_kannel_cpu, unit="s", better="lower"),
            Figure("load client CPU s/1k", bare_client_cpu, unit="s", better="lower"),
            Figure("sunbeam CPU s/1k", sb_cpu, unit="s", better="lower"),
        ],
        ratios=[Ratio("sunbeam / bare sendsms", f"{key}.sunbeam → Kannel msg/s", f"{key}.bare sendsms msg/s")],
    )]
