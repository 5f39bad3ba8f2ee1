"""The engine's fan-out scenarios: one event to every subscriber of a generated
directory, through a real `sunbeam run` on the bench Kafka, to three sinks.

    sms_fanout    one market_summary over sms_http to bench_gateway (keep-alive HTTP/1.1)
    render_only   the same event to the `discard` connector: the engine without a network
    email_fanout  one notice over smtp to Postfix's smtp-sink

Every run has its own engine (fresh topic prefix and store) and its own sink, all on
127.0.0.1 and stopped in `finally`; the directory load is not timed (it happens before
/readyz). A run that loses or duplicates a delivery, or ends with a failed one, is a
BenchError, not a figure.

Sizes (full / --quick; `--size NAME=N` overrides): sms_fanout 1,000,000 / 50,000,
render_only 1,000,000 / 50,000, email_fanout 100,000 / 5,000.
"""
import os
import time
import uuid

import engine as engine_mod
from benchlib import BenchError, Figure, Ratio, Section, Target, process_cpu_seconds, wait_for_count, wait_until
from engine import EngineRun
from gateway import start_gateway
from smtp import CONNECTOR_CONCURRENCY as SMTP_FLOOR_CONCURRENCY, start_smtp_sink

# Where scripts/kafka keeps the bench broker's pid: $SUNBEAM_RUN_DIR/kafka.pid (scripts/bench
# exports it), else the development broker's /tmp/bk; a Context may name the file as
# `kafka_pid_file`. Only used to report the broker's CPU beside the engine's.
DEV_KAFKA_PID_FILE = "/tmp/bk/kafka.pid"
STATUS_POLL = 0.1        # seconds between status polls in render_only (its clock's resolution)
GATEWAY_POLL = 0.05      # seconds between the gateway's /_stats polls
STALLED = 60             # seconds without progress before a run is declared stuck


def _timeout(n):
    """A generous bound for n deliveries: 1,000/s plus two minutes."""
    return n / 1000 + 120


def _per_1k(seconds, n):
    return round(seconds / n * 1000, 4)


def _kafka_pid(ctx):
    """The bench broker's pid, or None when it cannot be found (its CPU is then not reported)."""
    run_dir = os.environ.get("SUNBEAM_RUN_DIR")
    candidates = [getattr(ctx, "kafka_pid_file", None),
                  os.path.join(run_dir, "kafka.pid") if run_dir else None, DEV_KAFKA_PID_FILE]
    for path in filter(None, candidates):
        try:
            with open(path) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"kafka.Kafka" in f.read():
                    return pid
        except (OSError, ValueError):
            continue
    return None


class _Cpu:
    """CPU seconds of the engine and, when found, the broker, from a start mark."""

    def __init__(self, ctx, e):
        self.e = e
        self.broker = _kafka_pid(ctx)
        self.engine0 = e.cpu_at_ready
        self.broker0 = self._broker_now()

    def _broker_now(self):
        if self.broker is None:
            return None
        try:
            return process_cpu_seconds(self.broker)
        except OSError:
            return None

    def read(self):
        """(engine CPU s since ready, broker CPU s over the same span or None)."""
        b = self._broker_now()
        broker = None if b is None or self.broker0 is None else b - self.broker0
        return self.e.cpu_seconds() - self.engine0, broker


def _event(kind, run):
    tag = f"{uuid.uuid4().hex[:8]}-{run}"
    if kind == "market_summary":
        return {"id": f"bench-sms-{tag}", "type": "market_summary", "data": engine_mod.MARKET_SUMMARY_DATA}
    return {"id": f"bench-mail-{tag}", "type": "notice", "data": engine_mod.NOTICE_DATA}


def _check_settled(e, event_id, n, timeout, what):
    """Waits for the event at rest; BenchError unless exactly n sent and none failed."""
    status = e.wait_at_rest(event_id, timeout)
    totals = status.get("totals", {})
    sent, failed, planned = totals.get("sent", 0), totals.get("failed", 0), totals.get("planned", 0)
    if sent != n or failed:
        raise BenchError(f"{what}: event {event_id} at rest with {sent:,} sent and {failed:,} failed "
                         f"of {n:,} subscribers (planned {planned:,}; totals {totals})")
    return totals


def _cpu_text(engine_cpu, broker_cpu):
    return f"engine {engine_cpu:.1f} CPU s" + (f", broker {broker_cpu:.1f}" if broker_cpu is not None else "")


def _broker_note(broker_cpu, n):
    if len(broker_cpu) and all(b is not None for b in broker_cpu):
        per = [_per_1k(b, n) for b in broker_cpu]
        return (f"The Kafka broker's CPU over the same span (not in the figures above): "
                f"{', '.join(f'{p:.3f}' for p in per)} s per 1,000 deliveries.")
    return "The Kafka broker's pid was not found: its CPU is not reported."


def _one_sms_run(ctx, n, i):
    """(deliveries/s, first-delivery s, engine CPU s, broker CPU s or None, peak RSS MiB)."""
    started = time.monotonic()
    with start_gateway(ctx, "--threads", "1") as (url, stats), \
            EngineRun(ctx, n, engine_mod.sms_http_to(url), name="sms-fanout") as e:
        cpu = _Cpu(ctx, e)
        startup = time.monotonic() - started
        event = _event("market_summary", i)
        t0 = e.publish(event)
        timeout = _timeout(n)
        wait_for_count(lambda: stats()["distinct"], n, timeout, "sms_fanout: the gateway's distinct ids",
                       STALLED, GATEWAY_POLL)
        _check_settled(e, event["id"], n, timeout, "sms_fanout")
        engine_cpu, broker_cpu = cpu.read()
        rss = e.peak_rss_mib()
        s = stats()
        if s["duplicates"] or s["accepted"] != n or s["bad_request"]:
            raise BenchError(f"sms_fanout: the gateway accepted {s['accepted']:,} messages for {n:,} "
                             f"subscribers, {s['duplicates']:,} duplicates, {s['bad_request']} bad requests")
        seconds = s["last_accept"] - t0
        first = s["first_accept"] - t0
    rate = n / seconds
    ctx.log(f"sms_fanout run {i + 1} (engine ready after {startup:.1f} s): {n:,} in {seconds:.2f} s = "
            f"{rate:,.0f} deliveries/s, first after {first:.2f} s; {_cpu_text(engine_cpu, broker_cpu)}; "
            f"peak RSS {rss:.0f} MiB")
    return rate, first, engine_cpu, broker_cpu, rss


def sms_fanout(ctx):
    key = "sms_fanout"
    n = ctx.size(full=1_000_000, quick=50_000, name=key)
    rates, firsts, cpu, broker, rss = [], [], [], [], []
    for i in range(ctx.runs):
        rate, first, engine_cpu, broker_cpu, peak = _one_sms_run(ctx, n, i)
        rates.append(round(rate))
        firsts.append(round(first, 3))
        cpu.append(_per_1k(engine_cpu, n))
        broker.append(broker_cpu)
        rss.append(round(peak))
    c = engine_mod.SMS_HTTP_CONCURRENCY
    return Section(
        key=key,
        title="SMS fan-out: one market_summary over sms_http to the stand-in gateway",
        command=f"scripts/bench --only {key}",
        description=(
            f"One `market_summary` event (audience: all, SMS to every tier) published to a `sunbeam run` "
            f"(every role in one process) whose generated directory holds {n:,} subscribers (80% zh-CN), "
            f"on the bench Kafka ({engine_mod.PARTITIONS} partitions, a fresh topic prefix and store "
            f"per run). The `sms_http` connector posts each SMS to `bench_gateway` (one thread) over "
            f"keep-alive HTTP/1.1 at `concurrency: {c}`. A fresh engine and gateway per run; the "
            "directory load is not timed. The clock runs from just before the publishing POST to the "
            "gateway's last accept (its own timestamp); then the event must be at rest with exactly "
            f"{n:,} sent, none failed, and the gateway must have counted {n:,} distinct ids and no "
            "duplicate, or the run fails. CPU is the engine process's (user + system) from /readyz to "
            "the event at rest; peak RSS its VmHWM. First delivery: publish to the gateway's first "
            "accept."),
        figures=[
            Figure("deliveries/s", rates, unit="/s", better="higher"),
            Figure("CPU s per 1,000", cpu, unit="s", better="lower"),
            Figure("peak RSS MiB", rss, unit="MiB", better="lower"),
            Figure("first delivery s", firsts, unit="s", better="lower"),
        ],
        ratios=[
            Ratio("SMS fan-out / HTTP floor (64 connections)", f"{key}.deliveries/s",
                  f"http_floor.requests/s ({c} connections)"),
            Ratio("SMS fan-out / HTTP floor (best)", f"{key}.deliveries/s", "http_floor.requests/s"),
        ],
        targets=[
            Target("SMS fan-out >= 20,000 deliveries/s on 2 cores", f"{key}.deliveries/s", ">=", 20_000),
            Target("SMS fan-out >= 50% of the bare-HTTP floor",
                   "ratio:SMS fan-out / HTTP floor (64 connections)", ">=", 0.5),
        ],
        notes=_broker_note(broker, n))


def _one_render_run(ctx, n, i):
    """(deliveries/s, engine CPU s, broker CPU s or None, peak RSS MiB)."""
    started = time.monotonic()
    with EngineRun(ctx, n, engine_mod.null_sink(), name="render-only") as e:
        cpu = _Cpu(ctx, e)
        startup = time.monotonic() - started
        event = _event("market_summary", i)
        t0 = e.publish(event)
        timeout = _timeout(n)

        def all_sent():
            s = e.status(event["id"])
            totals = (s or {}).get("totals", {})
            if totals.get("failed"):
                raise BenchError(f"render_only: {totals['failed']:,} deliveries failed ({totals})")
            return time.time() if totals.get("sent", 0) >= n else None
        t_last = wait_until(all_sent, timeout, interval=STATUS_POLL, what=f"render_only: {n:,} sent")
        _check_settled(e, event["id"], n, timeout, "render_only")
        engine_cpu, broker_cpu = cpu.read()
        rss = e.peak_rss_mib()
    seconds = t_last - t0
    rate = n / seconds
    ctx.log(f"render_only run {i + 1} (engine ready after {startup:.1f} s): {n:,} in {seconds:.2f} s = "
            f"{rate:,.0f} deliveries/s; {_cpu_text(engine_cpu, broker_cpu)}; peak RSS {rss:.0f} MiB")
    return rate, engine_cpu, broker_cpu, rss


def render_only(ctx):
    key = "render_only"
    n = ctx.size(full=1_000_000, quick=50_000, name=key)
    rates, cpu, broker, rss = [], [], [], []
    for i in range(ctx.runs):
        rate, engine_cpu, broker_cpu, peak = _one_render_run(ctx, n, i)
        rates.append(round(rate))
        cpu.append(_per_1k(engine_cpu, n))
        broker.append(broker_cpu)
        rss.append(round(peak))
    return Section(
        key=key,
        title="Render-only: the same fan-out to the discard connector (no network)",
        command=f"scripts/bench --only {key}",
        description=(
            f"The SMS fan-out's event and directory ({n:,} subscribers) on the bench Kafka, a fresh "
            "engine per run, routed to the `discard` connector, which accepts every message and keeps "
            "nothing: Kafka, fan-out planning, the delivery records, dispatch, rendering and the "
            "status records, without a network. The clock runs from just before the publishing POST "
            f"to the first poll of `GET /v1/events/{{id}}` (every {STATUS_POLL} s, so the time is late "
            f"by at most that) that shows {n:,} sent; the event must then be at rest with none failed. "
            "CPU is the engine process's from /readyz to the event at rest; peak RSS its VmHWM."),
        figures=[
            Figure("deliveries/s", rates, unit="/s", better="higher"),
            Figure("CPU s per 1,000", cpu, unit="s", better="lower"),
            Figure("peak RSS MiB", rss, unit="MiB", better="lower"),
        ],
        ratios=[Ratio("render-only / Kafka floor", f"{key}.deliveries/s",
                      "kafka_floor.produce-then-consume msg/s")],
        targets=[
            Target("render-only >= 150,000 deliveries/s", f"{key}.deliveries/s", ">=", 150_000),
            Target("render-only >= 40% of the raw Kafka floor", "ratio:render-only / Kafka floor", ">=", 0.4),
        ],
        notes=_broker_note(broker, n))


def _one_email_run(ctx, n, i):
    """(messages/s, first-message s, engine CPU s, broker CPU s or None, the sink's share of a
    core, peak RSS MiB)."""
    started = time.monotonic()
    with start_smtp_sink(ctx, name=f"email-fanout-sink-{i}") as sink, \
            EngineRun(ctx, n, engine_mod.smtp_to(sink.port), name="email-fanout") as e:
        cpu = _Cpu(ctx, e)
        startup = time.monotonic() - started
        base = sink.count()          # the readiness probe sends no message, but be exact
        sink0 = sink.cpu_seconds()
        event = _event("notice", i)
        t0 = e.publish(event)
        t0_mono = time.monotonic() - (time.time() - t0)   # the POST's start on the monotonic clock
        timeout = _timeout(n)
        t_first = sink.wait_for(base + 1, timeout, stalled=STALLED)
        t_last = sink.wait_for(base + n, timeout, stalled=STALLED)
        _check_settled(e, event["id"], n, timeout, "email_fanout")
        engine_cpu, broker_cpu = cpu.read()
        sink_cpu = sink.cpu_seconds() - sink0
        rss = e.peak_rss_mib()
        got = sink.count() - base
        if got != n:
            raise BenchError(f"email_fanout: the sink received {got:,} messages for {n:,} subscribers")
    seconds, first = t_last - t0_mono, t_first - t0_mono
    rate = n / seconds
    ctx.log(f"email_fanout run {i + 1} (engine ready after {startup:.1f} s): {n:,} in {seconds:.2f} s = "
            f"{rate:,.0f} messages/s, first after {first:.2f} s; {_cpu_text(engine_cpu, broker_cpu)}, "
            f"sink {sink_cpu:.1f} ({sink_cpu / seconds:.0%} of a core); peak RSS {rss:.0f} MiB")
    return rate, first, engine_cpu, broker_cpu, sink_cpu / seconds, rss


def email_fanout(ctx):
    key = "email_fanout"
    n = ctx.size(full=100_000, quick=5_000, name=key)
    rates, firsts, cpu, broker, busy, rss = [], [], [], [], [], []
    for i in range(ctx.runs):
        rate, first, engine_cpu, broker_cpu, sink_busy, peak = _one_email_run(ctx, n, i)
        rates.append(round(rate))
        firsts.append(round(first, 3))
        cpu.append(_per_1k(engine_cpu, n))
        broker.append(broker_cpu)
        busy.append(round(sink_busy, 2))
        rss.append(round(peak))
    c = engine_mod.SMTP_CONCURRENCY
    return Section(
        key=key,
        title="E-mail fan-out: one notice over smtp to the SMTP sink",
        command=f"scripts/bench --only {key}",
        description=(
            f"One `notice` event (audience: all, e-mail to every tier) to {n:,} generated subscribers "
            "on the bench Kafka, a fresh engine and a fresh Postfix `smtp-sink` per run; the `smtp` "
            f"connector at `concurrency: {c}` (reused connections; the SMTP floor runs at the same "
            "count). The clock runs from just before the publishing POST to the sink's count of the "
            f"last message; then the event must be at rest with exactly {n:,} sent and none failed, "
            f"and the sink must have counted exactly {n:,}. CPU is the engine process's from /readyz "
            "to the event at rest; peak RSS its VmHWM. First message: publish to the sink's first count. "
            "The sink's share of a core (its CPU over the wall time) near 1.0 means the sink was the limit."),
        figures=[
            Figure("messages/s", rates, unit="/s", better="higher"),
            Figure("CPU s per 1,000", cpu, unit="s", better="lower"),
            Figure("peak RSS MiB", rss, unit="MiB", better="lower"),
            Figure("first message s", firsts, unit="s", better="lower"),
            Figure("sink's share of a core", busy, unit="", better="lower"),
        ],
        ratios=[
            Ratio("e-mail fan-out / SMTP floor", f"{key}.messages/s",
                  f"smtp_floor.messages/s ({SMTP_FLOOR_CONCURRENCY} connections)"),
            Ratio("sunbeam / listmonk (e-mail)", f"{key}.messages/s", "listmonk.messages/s"),
        ],
        targets=[Target("e-mail fan-out >= 3x listmonk on the same sink",
                        "ratio:sunbeam / listmonk (e-mail)", ">=", 3)],
        notes=_broker_note(broker, n))
