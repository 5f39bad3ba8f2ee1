"""The stand-in SMS gateway for scenarios: start bench_gateway, ask its counters, stop it.

    from gateway import start_gateway
    with start_gateway(ctx, "--threads", "1") as (url, stats):
        ...                       # POST to url (http://127.0.0.1:PORT/sms)
        stats()["accepted"]       # GET /_stats as a dict

The gateway binds 127.0.0.1 on a free port; it is stopped (SIGTERM, then
SIGKILL after a bounded wait) when the block ends, even on an exception, and
lives at most --lifetime seconds (default here: 2 h) should this process die.
"""
import contextlib
import json
import os
import select
import signal
import subprocess
import threading
import time
import urllib.request

from benchlib import BenchError

START_TIMEOUT = 10   # seconds for the "listening on" line
STOP_TIMEOUT = 10    # seconds between SIGTERM and SIGKILL


def _tail(path, lines=5):
    with open(path, errors="replace") as f:
        return " | ".join(f.read().strip().splitlines()[-lines:])


def _read_listening_line(proc, timeout):
    """The port from bench_gateway's first stdout line, read with a deadline."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchError(f"bench_gateway printed no `listening on` line within {timeout} s")
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 256)
        if not chunk:
            raise BenchError(f"bench_gateway exited with {proc.wait()} before listening")
        line += chunk
    text = line.decode().strip()
    prefix = "listening on 127.0.0.1:"
    if not text.startswith(prefix):
        raise BenchError(f"bench_gateway said {text!r}, not `{prefix}PORT`")
    return int(text[len(prefix):])


def gateway_stats(base):
    """GET /_stats of the gateway at `base` (http://127.0.0.1:PORT) as a dict."""
    try:
        with urllib.request.urlopen(base + "/_stats", timeout=10) as r:
            return json.load(r)
    except OSError as e:
        raise BenchError(f"bench_gateway's /_stats did not answer: {e}") from None


def reset_gateway(base):
    """POST /_reset: counters zeroed, accepted ids forgotten."""
    req = urllib.request.Request(base + "/_reset", data=b"", method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)
    except OSError as e:
        raise BenchError(f"bench_gateway's /_reset did not answer: {e}") from None


class StatsWatcher:
    """Reads the gateway's counters (`stats()`) on a thread every `interval` s and hands each
    reading to `on_sample(unix time, stats)`, until it returns True, `timeout` s pass (None: no
    bound) or the `with` block ends. A reading that fails is skipped."""

    def __init__(self, stats, on_sample, interval, timeout=None):
        self.stats, self.on_sample, self.interval, self.timeout = stats, on_sample, interval, timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while not self._stop.is_set() and (deadline is None or time.monotonic() < deadline):
            try:
                if self.on_sample(time.time(), self.stats()):
                    return
            except BenchError:
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)


@contextlib.contextmanager
def start_gateway(ctx, *args, path="/sms"):
    """Runs bench_gateway with `args` (e.g. "--threads", "2", "--latency-ms", "5");
    yields (url, stats) where url is http://127.0.0.1:PORT<path> for messages
    and stats() returns GET /_stats as a dict. Its stderr goes to
    a gateway-*.log file in ctx.work."""
    argv = [ctx.program("gateway", "bench_gateway"), "--port", "0", *map(str, args)]
    if "--lifetime" not in argv:
        argv += ["--lifetime", "7200"]
    ctx.log("$ " + " ".join(argv))
    err_path = os.path.join(ctx.work, f"gateway-{os.getpid()}-{time.monotonic_ns()}.log")
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
    try:
        try:
            port = _read_listening_line(proc, START_TIMEOUT)
        except BenchError as e:
            raise BenchError(f"{e}: {_tail(err_path)}") from None
        base = f"http://127.0.0.1:{port}"
        yield base + path, lambda: gateway_stats(base)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)
        proc.stdout.close()
