"""The benchmark driver's vocabulary: a run's Context, the Figures a scenario
measured (one value per run) and the Sections they are reported in.

Stdlib only: the bench runs on the machine's /usr/bin/python3.
"""
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field


class BenchError(Exception):
    """A scenario could not measure: a server did not start, a program failed."""


@dataclass
class Figure:
    """One measured quantity, one value per run."""
    name: str
    runs: list
    unit: str = ""
    better: str = "higher"  # or "lower"

    @property
    def median(self):
        return statistics.median(self.runs) if self.runs else None

    @property
    def worst(self):
        if not self.runs:
            return None
        return max(self.runs) if self.better == "lower" else min(self.runs)

    @property
    def spread(self):
        return (max(self.runs) - min(self.runs)) if self.runs else None


@dataclass
class Target:
    """What the issue asks of a figure: `figure op value`, op one of >=, <=, on
    the figure's median, or with of="worst" on its worst run (by `better`)."""
    label: str
    figure: str          # "section.figure" or, for a ratio, "ratio:<label>"
    op: str
    value: float
    of: str = "median"   # or "worst"; a ratio has only its medians'


@dataclass
class Ratio:
    """numerator / denominator of two figures' medians, each "section.figure"."""
    label: str
    numerator: str
    denominator: str


@dataclass
class Section:
    key: str
    title: str
    command: str
    description: str
    figures: list
    ratios: list = field(default_factory=list)
    targets: list = field(default_factory=list)
    notes: str = ""

    def figure(self, name):
        for f in self.figures:
            if f.name == name:
                return f
        raise KeyError(f"section {self.key} has no figure {name!r}")


class Context:
    """What a scenario needs of the run: mode, paths, brokers, program runner."""

    def __init__(self, root, build, work, brokers, quick=False, runs=3, sizes=None, log_file=None):
        self.root, self.build, self.work = root, build, work
        self.brokers, self.quick, self.runs = brokers, quick, runs
        self.sizes = sizes or {}   # overrides: name -> int, from --size name=N
        self.log_file = log_file
        os.makedirs(work, exist_ok=True)

    def size(self, full, quick, name=None):
        """The size for this mode; `--size name=N` on the command line wins."""
        if name and name in self.sizes:
            return self.sizes[name]
        return quick if self.quick else full

    def program(self, directory, name):
        path = os.path.join(self.build, "bench", directory, name)
        if not os.access(path, os.X_OK):
            raise BenchError(f"{path} is not built (scripts/build builds the benchmarks)")
        return path

    @property
    def sunbeam(self):
        return os.path.join(self.build, "engine", "cli", "sunbeam")

    def log(self, message):
        line = time.strftime("%H:%M:%S ") + message
        print(line, file=sys.stderr, flush=True)
        if self.log_file:
            with open(self.log_file, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def run_json(self, argv, timeout, env=None):
        """Runs a bench program; returns the JSON object of its last stdout line."""
        argv = [str(a) for a in argv]
        self.log("$ " + " ".join(argv))
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                               env={**os.environ, **(env or {})})
        except subprocess.TimeoutExpired:
            raise BenchError(f"{os.path.basename(argv[0])} did not finish within {timeout} s") from None
        if p.returncode != 0:
            tail = "\n".join(p.stderr.strip().splitlines()[-8:])
            raise BenchError(f"{os.path.basename(argv[0])} exited with {p.returncode}: {tail}")
        lines = [l for l in p.stdout.strip().splitlines() if l.strip()]
        try:
            return json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            raise BenchError(f"{os.path.basename(argv[0])} printed no JSON result line") from None

    @staticmethod
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Polls `predicate` until it returns a true value (returned), or BenchError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def wait_for_count(count, n, timeout, what, stalled=None, interval=0.05):
    """Polls `count()` until it reaches n; returns the time.monotonic() at which it was first
    seen at or above n (late by at most `interval`). BenchError after `timeout` s, or earlier
    when `stalled` is given and the count did not move for that many seconds (a sender that
    gave up should not cost the whole timeout)."""
    deadline = time.monotonic() + timeout
    last, moved = -1, time.monotonic()
    while True:
        now = time.monotonic()
        got = count()
        if got >= n:
            return now
        if got != last:
            last, moved = got, now
        elif stalled is not None and now - moved > stalled:
            raise BenchError(f"{what}: {got:,} of {n:,}, none new for {stalled} s")
        if now > deadline:
            raise BenchError(f"{what}: {got:,} of {n:,} within {timeout:.0f} s")
        time.sleep(interval)


def process_cpu_seconds(pid):
    """User + system CPU seconds of a live process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def process_peak_rss_mib(pid):
    """Peak resident set (VmHWM) of a live process, MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
