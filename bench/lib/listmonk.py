"""The listmonk peer (section `listmonk`): listmonk, a Go newsletter server on PostgreSQL,
sends one campaign to a list of N subscribers through the same smtp-sink as sunbeam's
e-mail fan-out.

Everything runs on 127.0.0.1 and is stopped at the end: a private PostgreSQL cluster under
ctx.work (initdb'd as the `postgres` system user when run as root, since initdb refuses
root), listmonk (installed by bench/peers/listmonk/setup into ~/.cache/sunbeam/listmonk),
and the sink. Subscribers are inserted with one SQL statement (import time is not measured);
the campaign is created and started through listmonk's HTTP API, as an operator would.
"""
import glob
import json
import os
import re
import shutil
import signal
import string
import subprocess
import time
import urllib.error
import urllib.request

from benchlib import BenchError, Figure, Section, process_cpu_seconds, wait_until
from smtp import MAIL_SUBJECT, mail_bodies, mail_paragraphs, start_smtp_sink

PEER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers", "listmonk")

# listmonk's settings for the run (bench/peers/listmonk/settings.sql.in says what each does).
# 16 workers over 16 SMTP connections went fastest on 2 cores (see bench/README.md);
# sunbeam's connector keeps 4.
CONCURRENCY = 16
MAX_CONNS = 16
BATCH_SIZE = 5000


def _ticks():
    return os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(entry)[1]) == pid:
                    kids.append(int(entry))
            except (OSError, IndexError):
                pass   # gone meanwhile
    return kids


def _tree_cpu_seconds(pid):
    """CPU of a process, of its reaped children (cutime + cstime: PostgreSQL backends that
    ended) and of its live children (the backends serving listmonk now)."""
    f = _stat_fields(pid)
    total = sum(int(x) for x in f[11:15])
    for kid in _children(pid):
        try:
            k = _stat_fields(kid)
            total += int(k[11]) + int(k[12])
        except OSError:
            pass
    return total / _ticks()


def _peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise BenchError(f"no VmHWM for pid {pid}")


def _reset_peak_rss(pid):
    # Linux: writing 5 to clear_refs resets VmHWM to the current RSS, so each run's peak is its own.
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def _stop(proc, sig=signal.SIGTERM, timeout=30):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _fill(template_name, **values):
    with open(os.path.join(PEER_DIR, template_name), encoding="utf-8") as f:
        return string.Template(f.read()).substitute({k: str(v) for k, v in values.items()})


def install(ctx):
    """Runs bench/peers/listmonk/setup (idempotent); returns the install directory."""
    setup = os.path.join(PEER_DIR, "setup")
    ctx.log(f"$ {setup}")
    try:
        p = subprocess.run([setup], capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise BenchError("bench/peers/listmonk/setup did not finish within 900 s") from None
    if p.returncode != 0:
        raise BenchError(f"listmonk is not installed: {p.stderr.strip()[-600:]}")
    dest = p.stdout.strip().splitlines()[-1]
    return dest


class Postgres:
    """A private PostgreSQL cluster on 127.0.0.1:port, superuser `listmonk`, trust auth."""

    def __init__(self, ctx, directory):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                      key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
        if not bins:
            raise BenchError("PostgreSQL is not installed (Debian package postgresql-15; scripts/deps --bench)")
        self.bin = os.path.dirname(bins[-1])
        self.ctx, self.dir = ctx, directory
        self.data = os.path.join(directory, "data")
        self.port = ctx.free_port()
        self.proc = None
        # initdb refuses to run as root: then the cluster belongs to the `postgres` system user.
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run_as(self, argv, **kw):
        return subprocess.run(argv, user=self.user, capture_output=True, text=True, **kw)

    def start(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        if self.user:
            shutil.chown(self.dir, self.user, self.user)
        p = self._run_as([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "listmonk",
                          "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], timeout=120)
        if p.returncode != 0:
            raise BenchError(f"initdb failed: {p.stderr.strip()[-400:]}")
        log = open(os.path.join(self.dir, "postgres.log"), "wb")
        # Debian's defaults otherwise (fsync and synchronous_commit on, 128 MB shared buffers).
        self.proc = subprocess.Popen(
            [os.path.join(self.bin, "postgres"), "-D", self.data, "-c", f"port={self.port}",
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}"],
            user=self.user, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise BenchError(f"postgres exited with {self.proc.returncode}; see {self.dir}/postgres.log")
            return subprocess.run([os.path.join(self.bin, "pg_isready"), "-q", "-h", "127.0.0.1",
                                   "-p", str(self.port)]).returncode == 0
        wait_until(ready, 30, 0.1, what="PostgreSQL accepting connections")
        self.sql("CREATE DATABASE listmonk", database="postgres")
        self.ctx.log(f"PostgreSQL {os.path.basename(os.path.dirname(self.bin))} on 127.0.0.1:{self.port} "
                     f"(pid {self.proc.pid}, data {self.data})")

    def sql(self, statements, database="listmonk"):
        """Runs SQL through psql; returns its unaligned output."""
        p = subprocess.run([os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                            "-U", "listmonk", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAtX"],
                           input=statements, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise BenchError(f"psql: {p.stderr.strip()[-400:]}")
        return p.stdout.strip()

    def cpu_seconds(self):
        return _tree_cpu_seconds(self.proc.pid)

    def stop(self):
        if self.proc:
            _stop(self.proc, signal.SIGINT)   # SIGINT: fast shutdown (SIGTERM waits for clients)


class Listmonk:
    """A listmonk process on 127.0.0.1:port and a client of its HTTP API."""

    def __init__(self, ctx, dest, db_port):
        self.ctx, self.dest = ctx, dest
        self.binary = os.path.join(dest, "listmonk")
        self.app = os.path.join(dest, "app")   # listmonk reads queries, schema, i18n from its cwd
        self.port = ctx.free_port()
        self.config = os.path.join(ctx.work, "listmonk.toml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(_fill("config.toml.in", http_port=self.port, db_port=db_port))
        self.log_path = os.path.join(ctx.work, "listmonk.log")
        self.proc = None
        self.auth = None

    def install_schema(self):
        """`listmonk --install`: schema, default settings, a super-admin and an API user."""
        env = {**os.environ, "LISTMONK_ADMIN_USER": "admin", "LISTMONK_ADMIN_PASSWORD": "bench-admin-pw",
               "LISTMONK_ADMIN_API_USER": "bench"}
        p = subprocess.run([self.binary, "--config", self.config, "--install", "--yes", "--idempotent"],
                           cwd=self.app, env=env, capture_output=True, text=True, timeout=120)
        token = re.search(r'LISTMONK_ADMIN_API_TOKEN="([^"]+)"', p.stdout + p.stderr)
        if p.returncode != 0 or not token:
            raise BenchError(f"listmonk --install failed: {(p.stdout + p.stderr).strip()[-600:]}")
        self.auth = f"token bench:{token.group(1)}"

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "--config", self.config], cwd=self.app,
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

        def healthy():
            if self.proc.poll() is not None:
                raise BenchError(f"listmonk exited with {self.proc.returncode}; see {self.log_path}")
            try:
                return self.api("GET", "/api/health").get("data") is True
            except (OSError, BenchError):
                return False
        wait_until(healthy, 60, 0.2, what="listmonk answering /api/health")
        self.ctx.log(f"listmonk on 127.0.0.1:{self.port} (pid {self.proc.pid})")

    def api(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Authorization": self.auth, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise BenchError(f"listmonk {method} {path}: {e.code} {e.read()[:300]!r}") from None

    def cpu_seconds(self):
        return process_cpu_seconds(self.proc.pid)

    def stop(self):
        if self.proc:
            _stop(self.proc)


def _make_list(pg, name, n):
    """A list of n subscribers client.<i>@clients.example, one INSERT each (not timed)."""
    return int(pg.sql(f"""
        INSERT INTO lists (uuid, name, type, optin) VALUES (gen_random_uuid(), '{name}', 'private', 'single');
        INSERT INTO subscribers (uuid, email, name, status)
          SELECT gen_random_uuid(), format('%s.%s@clients.example', '{name}', i), format('Client %s', i), 'enabled'
          FROM generate_series(1, {n}) AS i;
        INSERT INTO subscriber_lists (subscriber_id, list_id, status)
          SELECT s.id, l.id, 'confirmed' FROM subscribers s, lists l
          WHERE l.name = '{name}' AND s.email LIKE '{name}.%';
        ANALYZE;
        SELECT id FROM lists WHERE name = '{name}';"""))


def _campaign(lm, name, list_id, template_id):
    text, html = mail_bodies(mail_paragraphs(), greeting="Bonjour {{ .Subscriber.Name }},")
    out = lm.api("POST", "/api/campaigns", {
        "name": name, "subject": MAIL_SUBJECT, "lists": [list_id],
        "from_email": "Broker Alerts <alerts@broker.example>", "content_type": "html",
        "messenger": "email", "type": "regular", "template_id": template_id,
        "body": html, "altbody": text})
    return out["data"]["id"]


# listmonk's manager looks for newly started campaigns on a fixed 5 s ticker (ScanInterval in
# its cmd/init.go), so a campaign waits 0-5 s before its first message: 2.5 s on average.
SCAN_INTERVAL = 5.0


def _mid_scan(pickups):
    """Sleeps until half-way between two of listmonk's scans: each run then waits the average
    pick-up, not whatever the previous run's timing left (back-to-back runs would always wait
    about 4 s). The scans' phase is judged from the first arrivals seen so far: each comes a
    variable lag (a query, a batch rendered; up to ~0.7 s on a loaded machine) after its scan,
    so the earliest phase among them is the closest to the scans' own."""
    ref = pickups[0]
    offsets = [((t - ref + SCAN_INTERVAL / 2) % SCAN_INTERVAL) - SCAN_INTERVAL / 2 for t in pickups]
    scan = ref + min(offsets)
    now = time.monotonic()
    target = scan + SCAN_INTERVAL / 2
    target += SCAN_INTERVAL * max(0, -(-(now + 0.05 - target) // SCAN_INTERVAL))
    time.sleep(target - now)


def _send(lm, sink, campaign_id, n, timeout):
    """Starts the campaign; returns (start, first arrival, last arrival) monotonic times."""
    base = sink.count()
    start = time.monotonic()
    lm.api("PUT", f"/api/campaigns/{campaign_id}/status", {"status": "running"})
    first = sink.wait_for(base + 1, timeout=60)
    last = sink.wait_for(base + n, timeout=timeout, stalled=60)
    return start, first, last


def _finished(lm, campaign_id):
    def done():
        c = lm.api("GET", f"/api/campaigns/{campaign_id}")["data"]
        return c if c["status"] == "finished" else None
    return wait_until(done, 60, 0.2, what=f"listmonk campaign {campaign_id} finished")


def run(ctx):
    n = ctx.size(full=100_000, quick=5_000, name="listmonk")
    warmup = min(n, 1_000)
    # Each worker sleeps a whole second after message_rate messages: room for all of them.
    message_rate = 2 * n // CONCURRENCY + 1_000
    dest = install(ctx)
    pg = Postgres(ctx, os.path.join(ctx.work, "listmonk-pg"))
    lm = None
    rates, sustained, pickup, cpu, rss, sent = [], [], [], [], [], []
    with start_smtp_sink(ctx, name="listmonk-sink") as sink:
        try:
            pg.start()
            lm = Listmonk(ctx, dest, pg.port)
            lm.install_schema()
            pg.sql(_fill("settings.sql.in", http_port=lm.port, smtp_port=sink.port, concurrency=CONCURRENCY,
                         message_rate=message_rate, batch_size=BATCH_SIZE, max_conns=MAX_CONNS))
            # A bare campaign template: the content alone, as sunbeam's e-mail templates are.
            template_id = int(pg.sql("""INSERT INTO templates (name, type, subject, body, is_default)
                VALUES ('bench', 'campaign', '', '{{ template "content" . }}', false) RETURNING id"""))
            t = time.monotonic()
            warm_list = _make_list(pg, "warmup", warmup)
            list_id = _make_list(pg, "clients", n)
            ctx.log(f"listmonk: {n:,} + {warmup:,} subscribers inserted in {time.monotonic() - t:.1f} s")
            lm.start()

            # Warm-up campaign: connections, template compilation, PostgreSQL's caches.
            warm_id = _campaign(lm, "warm-up", warm_list, template_id)
            pickups = [_send(lm, sink, warm_id, warmup, timeout=120)[1]]
            _finished(lm, warm_id)

            for i in range(ctx.runs):
                cid = _campaign(lm, f"run {i + 1}", list_id, template_id)
                _reset_peak_rss(lm.proc.pid)
                _mid_scan(pickups)
                lm0, pg0 = lm.cpu_seconds(), pg.cpu_seconds()
                start, first, last = _send(lm, sink, cid, n, timeout=600)
                lm1, pg1 = lm.cpu_seconds(), pg.cpu_seconds()
                pickups.append(first)
                peak = _peak_rss_mib(lm.proc.pid)
                done = _finished(lm, cid)
                rates.append(round(n / (last - start)))
                sustained.append(round((n - 1) / max(last - first, 1e-3)))
                pickup.append(round(first - start, 2))
                cpu.append(round(((lm1 - lm0) + (pg1 - pg0)) / n * 1000, 4))
                rss.append(round(peak, 1))
                sent.append(done["sent"])
                ctx.log(f"listmonk run {i + 1}: {n / (last - start):,.0f} messages/s from the start, "
                        f"{sustained[-1]:,}/s after the first (first after {first - start:.2f} s), "
                        f"CPU {lm1 - lm0:.1f} s listmonk + {pg1 - pg0:.1f} s PostgreSQL, "
                        f"peak RSS {peak:.0f} MiB, listmonk says sent={done['sent']:,}")
        finally:
            if lm:
                lm.stop()
            pg.stop()
    if all(s == n for s in sent):
        notes = f"listmonk's own count of sent messages was {n:,} in every run."
    else:
        notes = f"listmonk's own count of sent messages differed from {n:,}: {sent} (one per run)."
    return [Section(
        key="listmonk",
        title="Peer: listmonk sends one campaign to the same list size through the same SMTP sink",
        command="scripts/bench --only listmonk",
        description=(
            f"listmonk {os.path.basename(dest)} (Go; built by `bench/peers/listmonk/setup`) with "
            f"PostgreSQL from Debian, both on 127.0.0.1, sends one campaign to a list of {n:,} "
            "subscribers through Postfix `smtp-sink`. Each mail is multipart/alternative: the "
            "text and HTML of the SMTP floor's mail, personalised with the subscriber's name, in "
            "a bare campaign template. Timed from the API call that starts the campaign "
            "(`PUT /api/campaigns/{id}/status` running) to the sink's count of the last message; "
            "listmonk looks for started campaigns every 5 s (fixed in its code), so the first "
            "message comes 0-5 s after the start; each run starts half-way between two of its "
            "scans (their phase judged from the earlier pick-ups), so it waits the average 2.5 s. That wait "
            "is shown apart, with the rate from the first message to the last. Settings, tuned for throughput: "
            f"`app.concurrency` {CONCURRENCY}, SMTP `max_conns` {MAX_CONNS}, "
            f"`app.message_rate` {message_rate:,} (per worker, so that no worker pauses), "
            f"`app.batch_size` {BATCH_SIZE:,}, tracking off (no view pixel, no link rewriting), "
            "no TLS, no AUTH. PostgreSQL: a private cluster under the run's work directory, "
            "Debian's defaults (fsync on). Subscribers are inserted with SQL beforehand (not "
            "timed); a 1,000-message warm-up campaign runs first. CPU is listmonk's plus "
            "PostgreSQL's (server and backends), from /proc; peak RSS is listmonk's (VmHWM, reset "
            "before each run). listmonk renders messages ahead of its workers into a queue of "
            "concurrency x message_rate x 2 slots; with a message_rate high enough never to pause, "
            "most of the campaign is rendered ahead, which is where its memory goes."),
        figures=[
            Figure("messages/s", rates, unit="/s", better="higher"),
            Figure("messages/s after the first", sustained, unit="/s", better="higher"),
            Figure("seconds to the first message", pickup, unit="s", better="lower"),
            Figure("CPU s per 1,000", cpu, unit="s", better="lower"),
            Figure("peak RSS MiB", rss, unit="MiB", better="lower"),
        ],
        notes=notes)]
