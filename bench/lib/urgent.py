"""Urgent under load: while one market_summary to every subscriber drains over
sms_http to bench_gateway, urgent risk_alert events to advisors' holdings are
published; each urgent SMS is timed from its event's publish to its accept at
the gateway.

    urgent   sizes (full / --quick; `--size NAME=N` overrides): urgent_bulk
             1,000,000 / 50,000 subscribers (the bulk), urgent_events 100 / 100
             (at most 100: one per symbol URG000.SH..URG099.SH, each held by
             HOLDERS advisors, so ~1,000 urgent SMS)

How an urgent SMS is recognised: bench_gateway `--trace URG0` writes
`<unix s.us> <id>` for each accepted body containing "URG0". The risk_alert SMS
templates (templates/messages/*/risk_alert.sms.mustache) print the event's
symbol and its `data.name`, both URG0nn.. here and in no bulk message; the id
is the delivery id, sha256(event \\0 account \\0 channel)[:32]
(engine/core/delivery.cpp), so each traced line maps to its event and account,
and any SMS missing, repeated or unexpected is seen.
"""
import hashlib
import math
import os
import time

from benchlib import BenchError, Figure, Section, Target, wait_until
from engine import MARKET_SUMMARY_DATA, SMS_HTTP_CONCURRENCY, EngineRun, sms_http_to, urgent_symbol
from gateway import StatsWatcher, start_gateway

HOLDERS = 10               # advisor accounts holding each URG symbol (EngineRun urgent_holders)
TRACE = "URG0"             # in every urgent SMS (its symbol and data.name), in no bulk one
START_FRACTION = 0.10      # the first urgent event once the gateway accepted this much of the bulk
SPREAD_FRACTION = 0.60     # the urgent events span this share of the bulk's expected remaining drain ...
SPREAD_MAX_SECONDS = 30    # ... but at most this long: the run ends once the urgent SMS are measured
POLL_SECONDS = 0.02        # the gateway's counters are sampled this often


def delivery_id(event_id, account, channel="sms"):
    """engine/core/delivery.cpp make_delivery_id (as tests/integration/harness.py)."""
    return hashlib.sha256(f"{event_id}\0{account}\0{channel}".encode()).hexdigest()[:32]


def holders_by_symbol(data_dir):
    """symbol -> accounts, from the generated directory's holdings.csv."""
    out = {}
    with open(os.path.join(data_dir, "holdings.csv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            account, symbol = line.strip().split(",")
            out.setdefault(symbol, []).append(account)
    return out


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def read_trace(path):
    """[(accept unix seconds, delivery id)] from bench_gateway's trace file."""
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                out.append((float(parts[0]), parts[1]))
    return out


class Sampler(StatsWatcher):
    """Samples the gateway's accepted count every POLL_SECONDS: (unix time, accepted)."""

    def __init__(self, stats):
        self.samples = []
        super().__init__(stats, lambda at, s: self.samples.append((at, s["accepted"])), POLL_SECONDS)

    def latest(self):
        return self.samples[-1][1] if self.samples else 0


def one_run(ctx, run, n, events):
    trace_path = os.path.join(ctx.work, f"urgent-trace-{run}-{time.monotonic_ns()}.txt")
    timeout = max(120, n / 2_000)   # bounded: far longer than a 1,000,000 drain at 10k/s
    with start_gateway(ctx, "--trace", TRACE, "--trace-file", trace_path) as (url, stats), \
            EngineRun(ctx, subscribers=n, connectors=sms_http_to(url), urgent_holders=HOLDERS,
                      name="urgent") as engine:
        holders = holders_by_symbol(engine.data)
        symbols = [urgent_symbol(s) for s in range(events)]
        expected = {}   # delivery id -> event id
        for s in symbols:
            event_id = f"risk-{run}-{s}"
            for account in holders[s]:
                expected[delivery_id(event_id, account)] = event_id
        bulk_id = f"bulk-{run}"
        with Sampler(stats) as sampler:
            t_bulk = engine.publish({"id": bulk_id, "type": "market_summary", "data": MARKET_SUMMARY_DATA})
            wait_until(lambda: sampler.latest() >= START_FRACTION * n, timeout, interval=POLL_SECONDS,
                       what=f"the gateway accepting {START_FRACTION:.0%} of the bulk")
            # Spread the urgent events over most of what is left of the drain, at its rate so far.
            s = stats()
            rate = s["accepted"] / max(1e-3, time.time() - s["first_accept"])
            interval = min(SPREAD_MAX_SECONDS / events, max(0.01, SPREAD_FRACTION * (n - s["accepted"]) / rate / events))
            ctx.log(f"urgent run {run + 1}: bulk at {s['accepted']:,} of {n:,} ({rate:,.0f}/s); "
                    f"{events} urgent events, one every {interval * 1000:.0f} ms")
            published = {}
            start = time.monotonic()
            for i, symbol in enumerate(symbols):
                delay = start + i * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                event_id = f"risk-{run}-{symbol}"
                published[event_id] = engine.publish({
                    "id": event_id, "type": "risk_alert", "symbol": symbol,
                    "data": {"name": symbol.split(".")[0], "message": "盘中跌幅超过7%，请关注持仓风险", "level": "高"}})
            # Every urgent SMS at the gateway (its trace is flushed every 100 ms). The
            # bulk is not drained to its end: the SMS fan-out scenario measures and
            # checks a whole drain; here it only has to be draining meanwhile.
            wait_until(lambda: len(read_trace(trace_path)) >= len(expected), timeout, interval=0.1,
                       what="the gateway's trace of the urgent messages")
            time.sleep(0.5)   # a repeated accept of an urgent SMS would show in the trace by now
            final = stats()
    trace = read_trace(trace_path)

    seen = {}
    for at, did in trace:
        seen.setdefault(did, []).append(at)
    unexpected = set(seen) - set(expected)
    missing = set(expected) - set(seen)
    repeated = {d: len(v) for d, v in seen.items() if len(v) > 1}
    if unexpected or missing or repeated:
        raise BenchError(f"urgent run {run + 1}: {len(missing)} urgent SMS missing, {len(repeated)} "
                         f"accepted more than once, {len(unexpected)} unexpected (trace {trace_path})")
    if final["duplicates"]:
        raise BenchError(f"urgent run {run + 1}: the gateway accepted {final['duplicates']} messages twice")

    accepts = {d: v[0] for d, v in seen.items()}
    latencies = [(accepts[d] - published[e]) * 1000 for d, e in expected.items()]
    # The bulk ended at the first sample where the gateway held all of it (late by at
    # most one sampling interval), or had not ended when the run stopped.
    urgent_times = sorted(accepts.values())
    bulk_end = next((t for t, accepted in sampler.samples
                     if accepted - sum(1 for u in urgent_times if u <= t) >= n), None)
    before_end = sum(1 for t in urgent_times if bulk_end is None or t <= bulk_end)
    bulk_done = n if bulk_end else final["accepted"] - len(expected)
    bulk_seconds = (bulk_end or final["last_accept"]) - t_bulk
    return {
        "p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "max": max(latencies),
        "bulk_rate": bulk_done / bulk_seconds, "bulk_seconds": bulk_seconds, "bulk_done": bulk_done,
        "before_end": before_end, "urgent": len(expected), "interval_ms": interval * 1000,
        "publish_span": max(published.values()) - min(published.values()),
        "slowest": sorted(((max(accepts[d] - published[e] for d, ev in expected.items() if ev == e),
                            e, published[e] - t_bulk) for e in published), reverse=True)[:3],
    }


def run(ctx):
    n = ctx.size(full=1_000_000, quick=50_000, name="urgent_bulk")
    events = ctx.size(full=100, quick=100, name="urgent_events")
    if not 1 <= events <= 100:
        raise BenchError(f"urgent_events must be 1..100 (one per symbol URG000..URG099), not {events}")
    if events * HOLDERS > (n + 2) // 3:
        raise BenchError(f"urgent_bulk {n:,} has too few advisors for {events} x {HOLDERS} distinct holders")
    results = []
    for i in range(ctx.runs):
        started = time.monotonic()
        r = one_run(ctx, i, n, events)
        results.append(r)
        ctx.log(f"urgent run {i + 1}: p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms, max {r['max']:.0f} ms "
                f"over {r['urgent']} urgent SMS; {r['before_end']} accepted before the bulk ended; bulk "
                f"{r['bulk_done']:,} of {n:,} at {r['bulk_rate']:,.0f}/s ({r['bulk_seconds']:.1f} s); "
                f"{time.monotonic() - started:.0f} s")
        ctx.log("  slowest events: " + "; ".join(f"{e} (published {t:.1f} s after the bulk): {lat * 1000:,.0f} ms"
                                                 for lat, e, t in r["slowest"]))
    urgent = results[0]["urgent"]
    spans = ", ".join(f"{r['publish_span']:.1f} s" for r in results)
    return [Section(
        key="urgent",
        title="Urgent under load: risk_alert SMS while a market summary drains",
        command="scripts/bench --only urgent",
        description=(
            f"One `market_summary` to all {n:,} subscribers (SMS to every tier) drains over "
            f"`sms_http` (concurrency {SMS_HTTP_CONCURRENCY}) to `bench_gateway` on real Kafka. Once the "
            f"gateway has accepted {START_FRACTION:.0%} of it, {events} urgent `risk_alert` events are "
            f"published through the API, one per symbol URG000.SH.., each held by {HOLDERS} advisor "
            f"accounts ({urgent:,} urgent SMS), spread evenly over {SPREAD_FRACTION:.0%} of the drain "
            f"still expected at the rate so far, at most {SPREAD_MAX_SECONDS} s (publish spans: " + spans +
            "). Latency of an urgent SMS: the gateway's accept time (its `--trace` on the symbol) minus "
            "its event's publish time (just before the POST to /v1/events), per run p50 and p99 (nearest "
            "rank) over all urgent SMS. Every urgent SMS must arrive exactly once, and no message twice, "
            "else the run fails. The run stops once every urgent SMS is accepted: the bulk only has to be "
            "draining meanwhile (the count accepted before it ended says it was), and the SMS fan-out "
            "scenario checks a whole drain. The bulk's rate is what the gateway accepted of it over the "
            "time from its publish to the last accept (or to its end), with the urgent events in it. "
            "Engine and gateway are fresh each run."),
        figures=[
            Figure("urgent p50", [round(r["p50"], 1) for r in results], unit="ms", better="lower"),
            Figure("urgent p99", [round(r["p99"], 1) for r in results], unit="ms", better="lower"),
            Figure("urgent max", [round(r["max"], 1) for r in results], unit="ms", better="lower"),
            Figure("urgent accepted before the bulk ended", [r["before_end"] for r in results],
                   unit=f"of {urgent}", better="higher"),
            Figure("bulk deliveries/s meanwhile", [round(r["bulk_rate"]) for r in results],
                   unit="/s", better="higher"),
        ],
        targets=[Target("urgent p99 under 500 ms while the bulk drains", "urgent.urgent p99", "<=", 500)],
    )]
