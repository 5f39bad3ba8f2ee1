"""The floors: Kafka and HTTP without sunbeam, measured in the same run, so each
engine figure is also a ratio to what the bare clients do on this machine.

    kafka_floor  bench_kafka_floor: raw librdkafka produce-then-consume of as many
                 delivery-sized records as the SMS fan-out sends, through the same broker
    http_floor   bench_http_floor: libcurl multi posting sms_http-shaped bodies to
                 bench_gateway, at sunbeam's connection count and at the client's best

Sizes (full / --quick; `--size NAME=N` overrides): kafka_floor 1,000,000 / 100,000
records of kafka_floor_bytes 600; http_floor 1,000,000 / 50,000 requests.
"""

from benchlib import BenchError, Figure, Section
from gateway import gateway_stats, start_gateway

# What the engine scenarios use (bench/lib/engine.py): kafka.partitions and the
# sms_http connector's concurrency. Keep these in step, or the floor compares
# unlike with unlike.
ENGINE_PARTITIONS = 3
ENGINE_SMS_HTTP_CONCURRENCY = 64
# Where bench_http_floor went fastest in a sweep of 4..256 connections to one
# bench_gateway thread on this 2-core machine (client and gateway share it).
HTTP_BEST_CONCURRENCY = 32
# A delivery record as fanout writes it to a tier topic (engine/core/delivery.cpp
# to_json: ids, event, tier, recipient, the event's data): ~600-660 bytes for a
# market summary with a Chinese name and a short data object.
DELIVERY_RECORD_BYTES = 600


def _per_thousand(cpu_seconds, n):
    return round(cpu_seconds / n * 1000, 4)


def kafka_floor(ctx):
    n = ctx.size(full=1_000_000, quick=100_000, name="kafka_floor")
    size = ctx.size(full=DELIVERY_RECORD_BYTES, quick=DELIVERY_RECORD_BYTES, name="kafka_floor_bytes")
    program = ctx.program("floors", "bench_kafka_floor")
    both, produce, consume, cpu = [], [], [], []
    for i in range(ctx.runs):
        out = ctx.run_json([program, "--brokers", ctx.brokers, "--messages", n, "--size", size,
                            "--partitions", ENGINE_PARTITIONS, "--topic-prefix", "bench-kafka-floor-"],
                           timeout=max(120, n // 2_000))
        if out["messages"] != n:
            raise BenchError(f"bench_kafka_floor read back {out['messages']} of {n} records")
        both.append(out["rate"])
        produce.append(out["produce_rate"])
        consume.append(out["consume_rate"])
        cpu.append(_per_thousand(out["cpu_seconds"], n))
        ctx.log(f"kafka_floor run {i + 1}: {out['rate']:,.0f} msg/s produce-then-consume "
                f"({out['produce_rate']:,.0f} produce, {out['consume_rate']:,.0f} consume), "
                f"{out['cpu_seconds']:.2f} CPU s, {out['peak_rss_mib']:.0f} MiB")
    return Section(
        key="kafka_floor",
        title="Floor: raw librdkafka produce-then-consume",
        command="scripts/bench --only kafka_floor",
        description=(
            f"`bench_kafka_floor` produces {n:,} records of {size} bytes (shaped like the "
            "delivery records fanout writes: distinct delivery ids and account keys, one "
            "event's data) to a fresh topic of "
            f"{ENGINE_PARTITIONS} partitions on the bench broker, waits for every delivery "
            "report, then reads them all back in a consumer group. The clients are set up as "
            "sunbeam's: fanout's producer (idempotent, acks=all, linger.ms 5, lz4, all records "
            "in one transaction) and dispatch's consumer (read_committed, fetch.wait.max.ms 50, "
            "offsets committed synchronously every 200 ms). The consumer has joined its group "
            "before the produce starts, as dispatch has before an event is published. "
            "Produce-then-consume msg/s is the records over the produce plus the consume "
            "time: the most a fan-out could deliver if it did nothing but move its records "
            "through Kafka once. CPU is the client process's own (the broker's is not counted)."),
        figures=[
            Figure("produce-then-consume msg/s", both, unit="/s", better="higher"),
            Figure("produce msg/s", produce, unit="/s", better="higher"),
            Figure("consume msg/s", consume, unit="/s", better="higher"),
            Figure("CPU s per 1,000", cpu, unit="s", better="lower"),
        ])


def _http_run(ctx, program, url, stats, n, concurrency):
    before = stats()
    out = ctx.run_json([program, "--url", url, "--requests", n, "--concurrency", concurrency],
                       timeout=max(120, n // 1_000))
    after = stats()
    accepted = after["accepted"] - before["accepted"]
    duplicates = after["duplicates"] - before["duplicates"]
    if out["ok"] != n or accepted != n + 1 or duplicates:  # + 1: the program's probe request
        raise BenchError(f"bench_http_floor: {out['ok']} answered 200 of {n}; the gateway accepted "
                         f"{accepted} (expected {n + 1}) with {duplicates} duplicates")
    return out


def http_floor(ctx):
    n = ctx.size(full=1_000_000, quick=50_000, name="http_floor")
    program = ctx.program("floors", "bench_http_floor")
    levels = [ENGINE_SMS_HTTP_CONCURRENCY, HTTP_BEST_CONCURRENCY]
    rates = {c: [] for c in levels}
    cpu = {c: [] for c in levels}
    body_bytes = None
    with start_gateway(ctx, "--threads", "1") as (url, stats):
        # Warm-up: connections, the gateway's id set and the page cache.
        _http_run(ctx, program, url, stats, min(n, 5_000), levels[0])
        for i in range(ctx.runs):
            for c in levels:
                out = _http_run(ctx, program, url, stats, n, c)
                body_bytes = out["body_bytes"]
                rates[c].append(out["rate"])
                cpu[c].append(_per_thousand(out["cpu_seconds"], n))
                ctx.log(f"http_floor run {i + 1}: {c} connections, {out['rate']:,.0f} requests/s, "
                        f"{out['cpu_seconds']:.2f} CPU s for {n:,}")
        gateway = gateway_stats(url.rsplit("/", 1)[0])
    best, engine = HTTP_BEST_CONCURRENCY, ENGINE_SMS_HTTP_CONCURRENCY
    return Section(
        key="http_floor",
        title="Floor: bare HTTP client (libcurl multi) to the stand-in gateway",
        command="scripts/bench --only http_floor",
        description=(
            f"`bench_http_floor` posts {n:,} JSON bodies of {body_bytes} bytes, shaped as "
            "sunbeam's sms_http connector sends them (`{\"id\",\"to\",\"text\"}` with a distinct "
            "32-hex delivery id and a 70-character Chinese text; the connector's headers, "
            "CURLOPT_NOSIGNAL and time-out) to `bench_gateway` (one thread) on 127.0.0.1, from "
            "one thread of libcurl multi that keeps C keep-alive connections busy. "
            f"`requests/s` is at C = {best}, where the client went fastest in a sweep; the "
            f"figure at {engine} connections is at the sms_http connector's `concurrency` in "
            "the engine's SMS scenarios (the connector's TransferPool runs at most that many "
            "transfers at once, one connection each; its default is 4). Every request must be "
            "answered 200 and counted once by the gateway, or the run fails. CPU is the "
            "client's own; the gateway's is not counted."),
        figures=[
            Figure("requests/s", rates[best], unit="/s", better="higher"),
            Figure("CPU s per 1,000", cpu[best], unit="s", better="lower"),
            Figure(f"requests/s ({engine} connections)", rates[engine], unit="/s", better="higher"),
            Figure(f"CPU s per 1,000 ({engine} connections)", cpu[engine], unit="s", better="lower"),
        ],
        notes=f"The gateway accepted {gateway['accepted']:,} requests in all, {gateway['duplicates']} duplicates.")


def run(ctx):
    return [kafka_floor(ctx), http_floor(ctx)]
