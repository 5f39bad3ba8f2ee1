"""The SMTP sink every e-mail scenario sends to, and the bare-SMTP floor.

The sink is Postfix's `smtp-sink`: one event-driven process that answers SMTP and throws the
mail away. With `-c` it writes a counter record `sess=S quit=Q mesg=M\\r` and flushes it each
time a message's final "." arrives (and at each QUIT / session end). Its stdout goes to a
regular file, not a pipe: a slow reader can then never throttle the sink, and reading the
file's last bytes is enough to know how many messages arrived. `wait_for` polls that tail
every millisecond, so an arrival time is late by at most about one poll interval.

The floor (section `smtp_floor`) is Postfix's `smtp-source` sending the same number of
messages, of the size of sunbeam's e-mails, to the same sink over reused connections.
"""
import contextlib
import email.policy
import email.utils
import os
import re
import resource
import socket
import subprocess
import time
from email.message import EmailMessage

from benchlib import BenchError, Figure, Section, process_cpu_seconds, wait_for_count

SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"

# The last complete counter record in the tail of the sink's output; records end with "\r".
_RECORD = re.compile(rb"sess=(\d+) quit=(\d+) mesg=(\d+)\r")
_TAIL_BYTES = 256
_POLL_SECONDS = 0.001

# sunbeam's smtp connector keeps up to `concurrency` mails in flight, one connection each, reused
# (connectors/smtp/smtp_connector.cpp: a TransferPool over libcurl multi; default 4). The e-mail
# fan-out configures 16 (engine.smtp_to): keep these in step, the floor runs at the same count.
CONNECTOR_CONCURRENCY = 16
# Sessions at which smtp-source went fastest to this sink on 2 cores: sweeps of 1-64 sessions
# put the best at 4-16 (1-2 and 32-64 slower; bench/README.md); 8 is the middle of that range.
FLOOR_BEST_CONCURRENCY = 8
# About the size of one of sunbeam's e-mails in the fan-out (header, text and HTML parts).
MESSAGE_BYTES = 3000


class SmtpSink:
    """A running smtp-sink on 127.0.0.1:port; counts the messages it received."""

    def __init__(self, port, counter_path, pid):
        self.port = port
        self.pid = pid
        self._counter_path = counter_path
        self._fd = None

    def cpu_seconds(self):
        """The sink's own CPU so far (user + system): one process, single-threaded, so at
        about one second per second it is the ceiling of whatever sends to it."""
        return process_cpu_seconds(self.pid)

    def _tail(self):
        if self._fd is None:
            self._fd = os.open(self._counter_path, os.O_RDONLY)
        size = os.fstat(self._fd).st_size
        start = max(0, size - _TAIL_BYTES)
        return os.pread(self._fd, size - start, start)

    def count(self):
        """Messages whose final "." the sink has received so far."""
        records = _RECORD.findall(self._tail())
        return int(records[-1][2]) if records else 0

    def sessions(self):
        """SMTP sessions that ended so far (the readiness probe is one of them)."""
        records = _RECORD.findall(self._tail())
        return int(records[-1][0]) if records else 0

    def wait_for(self, n, timeout, stalled=None):
        """Waits until at least n messages arrived; returns the time.monotonic() at which the
        count was first seen at or above n (the last arrival, late by <= ~1 ms).

        BenchError after `timeout` seconds, or earlier when `stalled` is given and the count
        did not move for that many seconds (a sender that gave up should not cost the whole
        timeout)."""
        return wait_for_count(self.count, n, timeout, "smtp-sink: messages", stalled, _POLL_SECONDS)

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _probe(port):
    """One SMTP greeting and QUIT: the sink accepts and answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        f = s.makefile("rb")
        if not f.readline().startswith(b"220"):
            return False
        s.sendall(b"QUIT\r\n")
        return f.readline().startswith(b"221")


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def start_smtp_sink(ctx, name="smtp-sink"):
    """Starts smtp-sink on 127.0.0.1:<free port>; yields an SmtpSink; stops it on exit."""
    if not os.access(SMTP_SINK, os.X_OK):
        raise BenchError(f"{SMTP_SINK} is missing (Debian package postfix; scripts/deps --bench)")
    counter_path = os.path.join(ctx.work, f"{name}.counter")
    err_path = os.path.join(ctx.work, f"{name}.err")
    for attempt in range(3):   # free_port() can race with another binder: retry on a new one
        port = ctx.free_port()
        argv = [SMTP_SINK, "-c",
                "-t", "600",    # idle connections kept 10 min (the default 100 s could cut a pool)
                "-m", "1024"]   # concurrent sessions before the sink stops accepting
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]   # as root smtp-sink refuses to run without dropping privileges
        argv += [f"127.0.0.1:{port}", "1024"]
        with open(counter_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        sink = SmtpSink(port, counter_path, proc.pid)
        try:
            deadline = time.monotonic() + 10
            ready = False
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    ready = _probe(port)
                except OSError:
                    ready = False
                if ready:
                    break
                time.sleep(0.05)
            if not ready:
                with open(err_path, "rb") as f:
                    why = f.read().decode(errors="replace").strip()[-400:]
                if proc.poll() is not None and attempt < 2:
                    ctx.log(f"smtp-sink on port {port} exited ({why}); retrying on another port")
                    continue
                raise BenchError(f"smtp-sink did not answer on 127.0.0.1:{port}: {why or 'no output'}")
            ctx.log(f"smtp-sink on 127.0.0.1:{port} (pid {proc.pid})")
            yield sink
            return
        finally:
            sink.close()
            _stop(proc)
    raise BenchError("smtp-sink could not bind a free port")


# The content of the e-mails in the floor and in the listmonk peer: French text with accents
# and a non-ASCII minus, so quoted-printable has something to encode, as in a real summary.
MAIL_SUBJECT = "Synthèse du marché — clôture"
MAIL_LINE = "Le CAC 40 termine en hausse de 0,8 % ; vos valeurs suivies : LVMH +1,2 %, TotalEnergies −0,4 %."


def mail_bodies(paragraphs, greeting="Bonjour,"):
    """(text, html) bodies of `paragraphs` lines of market news."""
    text = greeting + "\n\n" + "\n".join([MAIL_LINE] * paragraphs) + "\n"
    html = (f"<html><body><p>{greeting}</p>" + "".join(f"<p>{MAIL_LINE}</p>" for _ in range(paragraphs))
            + "</body></html>\n")
    return text, html


def _mail(paragraphs, delivery_id):
    m = EmailMessage(policy=email.policy.SMTP)
    m["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    m["From"] = "Broker Alerts <alerts@broker.example>"
    m["To"] = "client.0000001@clients.example"
    m["Subject"] = MAIL_SUBJECT
    m["Message-ID"] = f"<{delivery_id}@broker.example>"
    text, html = mail_bodies(paragraphs)
    m.set_content(text, cte="quoted-printable")
    m.add_alternative(html, subtype="html", cte="quoted-printable")
    m.set_boundary("=_sunbeam_" + delivery_id)
    return m.as_bytes().replace(b"\r\n", b"\n")


def mail_paragraphs(size=MESSAGE_BYTES):
    """The most paragraphs whose mail stays within `size` bytes (at least one)."""
    paragraphs = 1
    while len(_mail(paragraphs + 1, "bench-0000001")) <= size:
        paragraphs += 1
    return paragraphs


def floor_message(size=MESSAGE_BYTES, delivery_id="bench-0000001"):
    """A mail shaped like sunbeam's (connectors/smtp/mime_message.cpp): RFC 2047 UTF-8
    subject, multipart/alternative with a "=_sunbeam_" boundary, quoted-printable text and
    HTML parts, of about `size` bytes. Returned with LF line ends, as smtp-source -F wants
    them (it appends CRLF to each line and dot-stuffs)."""
    return _mail(mail_paragraphs(size), delivery_id)


def _source_rate(ctx, sink, message_path, n, sessions):
    """One smtp-source run of n messages over `sessions` reused connections: (messages/s
    from its start to the sink's n-th arrival, its CPU seconds, the sink's CPU seconds)."""
    base = sink.count()
    argv = [SMTP_SOURCE, "-d", "-s", str(sessions), "-m", str(n), "-F", message_path,
            "-f", "alerts@broker.example", "-t", "client@clients.example",
            "-M", "bench.example", f"127.0.0.1:{sink.port}"]
    ctx.log("$ " + " ".join(argv))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)   # the sink is reaped only at the end
    sink_before = sink.cpu_seconds()
    start = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise BenchError("smtp-source did not finish within 600 s") from None
    if p.returncode != 0:
        raise BenchError(f"smtp-source exited with {p.returncode}: {p.stderr.strip()[-400:]}")
    last = sink.wait_for(base + n, timeout=60)
    sink_cpu = sink.cpu_seconds() - sink_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return n / (last - start), cpu, sink_cpu


def run(ctx):
    """Section smtp_floor: Postfix smtp-source to smtp-sink, same size and count as the
    e-mail fan-out, at the connector's concurrency and at smtp-source's best."""
    if not os.access(SMTP_SOURCE, os.X_OK):
        raise BenchError(f"{SMTP_SOURCE} is missing (Debian package postfix; scripts/deps --bench)")
    n = ctx.size(full=100_000, quick=5_000, name="smtp_floor")
    message = floor_message(ctx.size(full=MESSAGE_BYTES, quick=MESSAGE_BYTES, name="smtp_message_bytes"))
    message_path = os.path.join(ctx.work, "smtp_floor.eml")
    with open(message_path, "wb") as f:
        f.write(message)
    wire_bytes = len(message) + message.count(b"\n")   # each LF goes out as CRLF
    levels = [CONNECTOR_CONCURRENCY, FLOOR_BEST_CONCURRENCY]
    rates = {c: [] for c in levels}
    cpu = {c: [] for c in levels}
    busy = {c: [] for c in levels}   # the sink's CPU over the wall time: 1.0 is a full core
    with start_smtp_sink(ctx, name="smtp-floor-sink") as sink:
        # Warm-up: first connections, page cache, the sink's buffers.
        _source_rate(ctx, sink, message_path, min(n, 1_000), CONNECTOR_CONCURRENCY)
        for i in range(ctx.runs):
            for c in levels:
                rate, seconds, sink_seconds = _source_rate(ctx, sink, message_path, n, c)
                rates[c].append(round(rate))
                cpu[c].append(round(seconds / n * 1000, 4))
                busy[c].append(round(sink_seconds / (n / rate), 2))
                ctx.log(f"smtp_floor run {i + 1}: {c} sessions, {rate:,.0f} messages/s, "
                        f"{seconds:.2f} CPU s for {n:,}, the sink {busy[c][-1]:.0%} of a core")
    figures = []
    for c in levels:
        figures.append(Figure(f"messages/s ({c} connections)", rates[c], unit="/s", better="higher"))
        figures.append(Figure(f"CPU s per 1,000 ({c} connections)", cpu[c], unit="s", better="lower"))
        figures.append(Figure(f"sink's share of a core ({c} connections)", busy[c], unit="", better="lower"))
    return [Section(
        key="smtp_floor",
        title="Floor: bare SMTP client (Postfix smtp-source) to the SMTP sink",
        command="scripts/bench --only smtp_floor",
        description=(
            f"Postfix `smtp-source -d` sends {n:,} messages of {wire_bytes:,} bytes (a "
            "multipart/alternative mail shaped like sunbeam's: UTF-8 subject, quoted-printable "
            "text and HTML parts) to Postfix `smtp-sink` on 127.0.0.1, reusing its connections "
            "(`-d`), one recipient per message. It is timed from its start to the sink's count "
            f"of the last message. At {CONNECTOR_CONCURRENCY} connections, the smtp connector's "
            f"concurrency in the e-mail fan-out, and at {FLOOR_BEST_CONCURRENCY}, in the middle "
            "of the range (4-16) where smtp-source went fastest in sweeps of 1-64. CPU is "
            "smtp-source's own (user + system, from getrusage of the reaped child). The sink is "
            "one single-threaded process that reads each mail a character at a time: its share "
            "of a core (its CPU over the wall time) near 1.0 means the sink, not the client, is "
            "the limit, for this floor and for every e-mail figure measured against it. Neither "
            "smtp-source nor libcurl pipelines SMTP commands: each waits for its reply."),
        figures=figures)]
