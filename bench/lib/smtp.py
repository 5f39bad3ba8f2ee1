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
import os
import re
import resource
import shutil
import socket
import subprocess
import time

from benchlib import BenchError, Figure, Section

SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"

# The last complete counter record in the tail of the sink's output; records end with "\r".
_RECORD = re.compile(rb"sess=(\d+) quit=(\d+) mesg=(\d+)\r")
_TAIL_BYTES = 256
_POLL_SECONDS = 0.001


class SmtpSink:
    """A running smtp-sink on 127.0.0.1:port; counts the messages it received."""

    def __init__(self, port, counter_path):
        self.port = port
        self._counter_path = counter_path
        self._fd = None

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
        deadline = time.monotonic() + timeout
        last_count, last_move = -1, time.monotonic()
        while True:
            now = time.monotonic()
            got = self.count()
            if got >= n:
                return now
            if got != last_count:
                last_count, last_move = got, now
            elif stalled is not None and now - last_move > stalled:
                raise BenchError(f"smtp-sink: {got} of {n} messages, no new one for {stalled} s")
            if now > deadline:
                raise BenchError(f"smtp-sink: {got} of {n} messages within {timeout} s")
            time.sleep(_POLL_SECONDS)

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
        sink = SmtpSink(port, counter_path)
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
