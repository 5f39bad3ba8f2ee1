"""A sunbeam engine for the benchmarks: a generated directory (cached per
size), the project's own templates, a config on the bench Kafka with a fresh
topic prefix and store, started with `sunbeam run`, measured from /proc.

    with EngineRun(ctx, subscribers=1_000_000, connectors=sms_http_to(url)) as e:
        t0 = e.publish({"id": "ev", "type": "market_summary", ...})
        ...
        e.cpu_seconds(), e.peak_rss_mib()
"""
import datetime
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid

from benchlib import BenchError, process_cpu_seconds, process_peak_rss_mib, wait_until

SIGNATURE = "【阳光证券】"
TIERS = ("advisor", "research", "basic")
SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = "伟芳娜敏静丽强磊军洋"
EN_NAMES = ("Alice Wong", "Brian Lee", "Carol Chen", "David Liu")

# The bench's event types: the project's templates (templates/messages) under
# their own names; channels chosen so every generated subscriber is reached.
EVENT_TYPES = """\
event_types:
  market_summary:
    audience: all
    symbol_required: false
    channels: { advisor: [sms], research: [sms], basic: [sms] }
  notice:
    audience: all
    symbol_required: false
    channels: { advisor: [email], research: [email], basic: [email] }
  risk_alert:
    audience: holders
    priority: urgent
    channels: { advisor: [sms] }
"""

MARKET_SUMMARY_DATA = {"date": "11月25日", "sh_index": "3,245.67", "sh_change": "+0.82%",
                       "sz_index": "10,532.10", "sz_change": "+1.05%",
                       "summary": "两市成交额9,812亿元，半导体、券商板块领涨。"}
NOTICE_DATA = {"title": "关于调整融资融券业务保证金比例的公告",
               "body": "尊敬的客户：自2026年12月1日起，本公司将调整部分证券的融资融券保证金比例，"
                       "详情请登录网上营业厅查询。感谢您的支持。",
               "date": "2026-11-25"}


def urgent_symbol(s):
    """The s-th (0..99) symbol the urgent holders hold: a security code the directory and the API accept."""
    return f"URG{s:03d}.SH"


def directory_files(ctx, subscribers, urgent_holders=0):
    """Subscribers (every one with a mobile and an e-mail, both channels, 80%
    zh-CN) and holdings: `urgent_holders` advisor accounts hold each of 100
    symbols URG000.SH..URG099.SH (urgent_symbol). Cached under the bench's data dir by size."""
    # "-sh": holdings written before the symbols had their exchange (which the
    # directory and the API require) are not reused.
    data = os.path.join(ctx.build, "bench-data",
                        f"directory-{subscribers}-{urgent_holders}" + ("-sh" if urgent_holders else ""))
    done = os.path.join(data, ".complete")
    if os.path.exists(done):
        return data
    os.makedirs(data, exist_ok=True)
    ctx.log(f"generating a directory of {subscribers:,} subscribers in {data}")
    with open(os.path.join(data, "subscribers.csv"), "w", encoding="utf-8") as f:
        f.write("account_id,name,tier,mobile,email,locale,channels,quiet_hours,timezone,opt_out\n")
        rows = []
        for i in range(subscribers):
            en = i % 5 == 4
            name = EN_NAMES[i % 4] if en else SURNAMES[i % 10] + GIVEN[(i // 10) % 10]
            rows.append(f"B{i:08d},{name},{TIERS[i % 3]},1{3 + i % 7}{(i * 7919) % 10**9:09d},"
                        f"b{i}@example.com,{'en' if en else 'zh-CN'},sms+email,,,\n")
            if len(rows) == 100_000:
                f.writelines(rows)
                rows.clear()
        f.writelines(rows)
    with open(os.path.join(data, "holdings.csv"), "w", encoding="utf-8") as f:
        f.write("account_id,symbol\n")
        advisors = range(0, subscribers, 3)   # tier of account i is TIERS[i % 3]
        for s in range(100 if urgent_holders else 0):
            for k in range(urgent_holders):
                f.write(f"B{advisors[(s * urgent_holders + k) % len(advisors)]:08d},{urgent_symbol(s)}\n")
    with open(os.path.join(data, "watchlist.csv"), "w", encoding="utf-8") as f:
        f.write("account_id,symbol\n")
    open(done, "w").close()
    return data


def write_calendar(path):
    """Trading days for the digest role: the weekdays of this year and the next."""
    day = datetime.date(datetime.date.today().year, 1, 1)
    end = datetime.date(day.year + 1, 12, 31)
    with open(path, "w") as f:
        while day <= end:
            if day.weekday() < 5:
                f.write(day.isoformat() + "\n")
            day += datetime.timedelta(days=1)


PARTITIONS = 3                 # kafka.partitions of every bench engine (the floors use the same)
SMS_HTTP_CONCURRENCY = 64      # the bench's sms_http connector (the floors compare at this too)
SMTP_CONCURRENCY = 16


def sms_http_to(url, concurrency=SMS_HTTP_CONCURRENCY, name="gateway"):
    return (f"connectors:\n  - name: {name}\n    kind: sms_http\n    endpoint: {url}\n"
            f"    concurrency: {concurrency}\n    timeout: 10s\n"
            f"routing:\n  sms: {{ connector: {name} }}\n  email: {{ connector: {name} }}\n")


def smtp_to(port, concurrency=SMTP_CONCURRENCY, name="mail"):
    """The smtp connector to a local sink: `tls: none` because the sink offers no STARTTLS
    (say so rather than rely on `try`)."""
    return (f"connectors:\n  - name: {name}\n    kind: smtp\n    endpoint: smtp://127.0.0.1:{port}\n"
            f"    from: \"research@sunbeam.example\"\n    tls: none\n    concurrency: {concurrency}\n"
            f"    timeout: 10s\n"
            f"routing:\n  sms: {{ connector: {name} }}\n  email: {{ connector: {name} }}\n")


def null_sink(name="sink"):
    return (f"connectors:\n  - name: {name}\n    kind: discard\n"
            f"routing:\n  sms: {{ connector: {name} }}\n  email: {{ connector: {name} }}\n")


class EngineRun:
    """One `sunbeam run` with every role, on its own topics and store."""

    def __init__(self, ctx, subscribers, connectors, urgent_holders=0, extra_yaml="", name="engine", data=None):
        """`data`: a directory of subscribers/holdings/watchlist CSVs to use
        instead of the generated one (then `subscribers` is not used)."""
        self.ctx = ctx
        self.workdir = os.path.join(ctx.work, f"{name}-{uuid.uuid4().hex[:6]}")
        os.makedirs(self.workdir)
        self.data = data or directory_files(ctx, subscribers, urgent_holders)
        self.port = ctx.free_port()
        self.prefix = f"bench-{uuid.uuid4().hex[:8]}."
        self.config = os.path.join(self.workdir, "sunbeam.yaml")
        self.proc = None
        self.cpu_at_ready = 0.0
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(self._yaml(connectors) + extra_yaml)
        write_calendar(os.path.join(self.workdir, "calendar.txt"))

    def _yaml(self, connectors):
        d = self.data
        return "\n".join([
            "kafka:",
            f"  brokers: \"{self.ctx.brokers}\"",
            f"  topic_prefix: \"{self.prefix}\"",
            f"  partitions: {PARTITIONS}",
            f"  instance_id: {self.prefix.rstrip('.')}",
            "tiers: [advisor, research, basic]",
            EVENT_TYPES.rstrip("\n"),
            f"templates: {os.path.join(self.ctx.root, 'templates', 'messages')}",
            connectors.rstrip("\n"),
            "defaults: { locale: zh-CN, timezone: Asia/Shanghai }",
            "caps: { sms: 1000, email: 1000 }",
            f"sms: {{ signature: \"{SIGNATURE}\", signature_position: prefix, max_parts: 4 }}",
            f"api: {{ listen: \"127.0.0.1:{self.port}\", max_body: 4MiB }}",
            "schedule: { digest_time: \"08:45\", timezone: Asia/Shanghai, calendar: calendar.txt, cutoff: \"09:25\" }",
            "storage: storage",
            f"directory: {{ subscribers: {d}/subscribers.csv, holdings: {d}/holdings.csv, "
            f"watchlist: {d}/watchlist.csv }}",
            "",
        ])

    @property
    def api(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=300):
        log = open(os.path.join(self.workdir, "engine.log"), "ab")
        self.proc = subprocess.Popen([self.ctx.sunbeam, "--config", self.config, "--log-level", "warn", "run"],
                                     stdout=log, stderr=log, cwd=self.workdir)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise BenchError(f"sunbeam exited with {self.proc.returncode} at start; see {self.workdir}/engine.log")
            try:
                return self.request("GET", "/readyz")[0] == 200
            except OSError:
                return False
        wait_until(ready, timeout, interval=0.2, what="sunbeam ready")
        self.cpu_at_ready = self.cpu_seconds()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def restart(self, timeout=300):
        """Starts the engine again after kill() or stop(): the same workdir,
        config, store and topic prefix, so it resumes where the last one left."""
        if self.proc and self.proc.poll() is None:
            raise BenchError("restart: the engine is still running; kill() or stop() it first")
        self.start(timeout)

    def stop(self, timeout=120):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def request(self, method, path, body=None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        req = urllib.request.Request(self.api + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def publish(self, event):
        """Publishes one event; returns the wall time just before the POST."""
        event = {"occurred_at": "2026-11-25T08:30:00+08:00", **event}
        t0 = time.time()
        status, body = self.request("POST", "/v1/events", json.dumps([event], ensure_ascii=False))
        if status != 202 or body["results"][0]["status"] != "accepted":
            raise BenchError(f"publishing {event['id']}: {status} {body}")
        return t0

    def status(self, event_id):
        status, body = self.request("GET", f"/v1/events/{event_id}")
        return body if status == 200 else None

    def wait_at_rest(self, event_id, timeout):
        return wait_until(lambda: (lambda s: s if s and s.get("at_rest") else None)(self.status(event_id)),
                          timeout, interval=0.25, what=f"event {event_id} at rest")

    def cpu_seconds(self):
        return process_cpu_seconds(self.proc.pid)

    def peak_rss_mib(self):
        return process_peak_rss_mib(self.proc.pid)
