"""Crash cost: deliveries sent twice per SIGKILL of the engine during an SMS fan-out.

    crash   sizes (full / --quick; `--size crash=N` overrides): N = 200,000 / 20,000
            subscribers; one kill per run, crash_kills runs: max(5, --runs) full, --runs quick

Per kill: a fresh bench_gateway and engine; one market_summary to all N
subscribers over sms_http (concurrency SMS_HTTP_CONCURRENCY); once the gateway
has accepted a fraction of N (spread from 20% to 80% over the kills), SIGKILL
the engine, start it again on the same config, store and topics
(EngineRun.restart), and wait until the gateway holds N distinct ids and the
event is at rest. The gateway counts accepts of an id it already accepted
exactly: those are the duplicates the kill cost. A delivery never accepted is
lost: the run fails.

Why duplicates are bounded (the window, counted from the code):
- dispatch commits Kafka offsets only after committing its sent ledger
  (DispatchRole::commit_finished, poll_receipts), so after a SIGKILL it re-reads
  every delivery whose offset was not committed and skips those its ledger
  holds (DispatchRole::admit);
- an accepted send's ledger row waits in memory until dispatch's consumer
  thread writes it into the store's open SQLite transaction, and the ledger
  commits once 512 of its rows (dispatch.ledger_batch, its default, written
  into the engine's config here) are waiting, being written or uncommitted
  (the thread that records the 512th waits for that commit), or once the
  oldest of them is 20 ms (ledger_interval) old (engine/dispatch/sent_ledger.h);
  SIGKILL loses both the waiting rows and the open transaction.
So a delivery the gateway accepted is sent again only if its ledger row was
not committed: it was in flight (at most the connector's concurrency, 64) or
its row was among those not committed: at most 511, in practice the sends
accepted in the last 20 ms plus those accepted while that commit was written
(~100-250 at this scenario's 5,000-10,000 a second). Two targets: every kill
within that configured window, 64 + 511 (the guarantee: before 2026-12-08 the
rows a writer had taken were not counted, and one kill cost 720); and the
median within concurrency + 128 = 192, the figure earlier runs met with the
store's group commit alone (512 writes shared by 4 rows per send: cap, receipt
expectation, ledger, receipt alias).

Restart to first send: the engine's group consumers are static members
(group.instance.id = kafka.instance_id, engine/kafka/consumer.h), so the
restarted process takes the killed one's partitions back as soon as it joins,
instead of waiting for its session to time out (session.timeout.ms 10000:
9.6 s before static membership).
"""
import time
import uuid

from benchlib import BenchError, Figure, Section, Target, wait_until
from engine import MARKET_SUMMARY_DATA, SMS_HTTP_CONCURRENCY, EngineRun, sms_http_to
from gateway import StatsWatcher, start_gateway

GROUP_WRITES = 512          # dispatch.ledger_batch (its default), set in the engine's config
WRITES_PER_SEND = 4         # the store's rows per SMS when the target was set (see above)
WINDOW = SMS_HTTP_CONCURRENCY + GROUP_WRITES // WRITES_PER_SEND
CONFIGURED_WINDOW = SMS_HTTP_CONCURRENCY + GROUP_WRITES - 1   # what the configuration bounds, every kill
FIRST_FRACTION, LAST_FRACTION = 0.20, 0.80
POLL_SECONDS = 0.005        # the gateway's counters are read this often while waiting for the kill point
SETTLE_SECONDS = 0.3        # after the kill: the gateway's count unchanged this long (requests it had read)


def fractions(kills):
    """Kill points spread evenly from FIRST_FRACTION to LAST_FRACTION (5 kills: 20, 35, 50, 65, 80%)."""
    if kills == 1:
        return [0.5]
    step = (LAST_FRACTION - FIRST_FRACTION) / (kills - 1)
    return [round(FIRST_FRACTION + i * step, 4) for i in range(kills)]


class FirstAcceptAfter(StatsWatcher):
    """Notes the wall time at which the gateway's accepted count first exceeds `base`."""

    def __init__(self, stats, base, timeout):
        self.base, self.at = base, None
        super().__init__(stats, self._see, POLL_SECONDS, timeout)

    def _see(self, at, stats):
        if stats["accepted"] > self.base:
            self.at = at
            return True
        return False


def settled(stats):
    """The gateway's counters once they have not moved for SETTLE_SECONDS (bounded: 10 s)."""
    last, since = stats(), time.monotonic()
    deadline = since + 10
    while time.monotonic() - since < SETTLE_SECONDS:
        if time.monotonic() > deadline:
            raise BenchError("the gateway kept accepting after the engine was killed")
        time.sleep(0.05)
        now = stats()
        if now["accepted"] != last["accepted"]:
            last, since = now, time.monotonic()
    return last


def one_kill(ctx, run, n, fraction):
    timeout = max(120, n / 1_000)   # bounded: far longer than a drain at 2k/s
    event_id = f"crash-{run}-{uuid.uuid4().hex[:6]}"
    with start_gateway(ctx) as (url, stats), \
            EngineRun(ctx, subscribers=n, connectors=sms_http_to(url), name="crash",
                      extra_yaml=f"dispatch: {{ ledger_batch: {GROUP_WRITES} }}\n") as engine:
        t_publish = engine.publish({"id": event_id, "type": "market_summary", "data": MARKET_SUMMARY_DATA})
        target = int(fraction * n)
        wait_until(lambda: stats()["accepted"] >= target, timeout, interval=POLL_SECONDS,
                   what=f"the gateway accepting {fraction:.0%} of {n:,}")
        t_kill = time.time()
        engine.kill()
        before = settled(stats)
        if before["distinct"] >= n:
            raise BenchError(f"crash run {run + 1}: the fan-out had finished before the kill")
        if before["duplicates"]:
            raise BenchError(f"crash run {run + 1}: {before['duplicates']} duplicates before any kill")
        with FirstAcceptAfter(stats, before["accepted"], timeout) as first:
            t_restart = time.time()
            engine.restart()
            t_ready = time.time()
            wait_until(lambda: stats()["distinct"] >= n, timeout, interval=0.1,
                       what=f"the gateway holding all {n:,} deliveries after the restart")
        engine.wait_at_rest(event_id, timeout)
        final = stats()
    lost = n - final["distinct"]
    if lost or final["distinct"] > n:
        raise BenchError(f"crash run {run + 1}: the gateway holds {final['distinct']:,} distinct ids of {n:,} "
                         f"({lost:,} lost) after a kill at {before['accepted']:,}")
    if first.at is None:
        raise BenchError(f"crash run {run + 1}: no accept seen after the restart")
    return {
        "fraction": fraction, "accepted_at_kill": before["accepted"], "duplicates": final["duplicates"],
        "lost": lost, "restart_to_first": first.at - t_restart, "restart_to_ready": t_ready - t_restart,
        "kill_at": t_kill - t_publish, "total": final["last_accept"] - t_publish,
    }


def run(ctx):
    n = ctx.size(full=200_000, quick=20_000, name="crash")
    # The issue asks for the median of 5 kills: at least 5 full; --quick keeps the driver's runs.
    count = ctx.size(full=max(5, ctx.runs), quick=ctx.runs, name="crash_kills")
    if count < 1 or n < 1:
        raise BenchError(f"crash needs at least 1 kill and 1 subscriber, not {count} and {n}")
    kills = fractions(count)
    results = []
    for i, fraction in enumerate(kills):
        started = time.monotonic()
        r = one_kill(ctx, i, n, fraction)
        results.append(r)
        ctx.log(f"crash run {i + 1}: SIGKILL at {r['accepted_at_kill']:,} of {n:,} accepted "
                f"({r['kill_at']:.1f} s after publish): {r['duplicates']} duplicates, {r['lost']} lost; "
                f"restart to ready {r['restart_to_ready']:.1f} s, to first accept {r['restart_to_first']:.1f} s; "
                f"{time.monotonic() - started:.0f} s")
    at = ", ".join(f"{r['accepted_at_kill']:,}" for r in results)
    return [Section(
        key="crash",
        title="Crash cost: deliveries duplicated per SIGKILL during the SMS fan-out",
        command="scripts/bench --only crash",
        description=(
            f"Per run, a fresh `bench_gateway` and engine: one `market_summary` to {n:,} subscribers over "
            f"`sms_http` (concurrency {SMS_HTTP_CONCURRENCY}) on real Kafka. Once the gateway has accepted "
            f"{', '.join(f'{f:.0%}' for f in kills)} of it (one point per run; accepted at the kill: {at}), "
            "the engine gets SIGKILL and is started again on the same config, store and topics; the run "
            "waits until the gateway holds every delivery and the event is at rest. Duplicates: the "
            "gateway's exact count of ids accepted twice. Lost (ids never accepted) must be 0, else the "
            "run fails.\n\n"
            "The in-flight window. After a SIGKILL dispatch re-reads what it had not committed to Kafka "
            "and skips what its sent ledger holds; it commits the ledger before every offset commit. An "
            "accepted send's ledger row waits in memory for dispatch's consumer thread, which writes it "
            "into the store's open SQLite transaction; the ledger commits once "
            f"{GROUP_WRITES} of its rows (`dispatch.ledger_batch`) are waiting, being written or "
            "uncommitted (the thread recording the last of them waits for that commit), or the oldest is "
            "20 ms (`ledger_interval`) old (`engine/dispatch/sent_ledger.h`), and a SIGKILL loses what "
            "waits and the open transaction. So a delivery is sent twice only if the gateway accepted it "
            "and its ledger row was not yet committed: in flight (at most the connector's concurrency, "
            f"{SMS_HTTP_CONCURRENCY}) or not committed (at most {GROUP_WRITES - 1}; in practice the sends "
            "accepted in the last 20 ms and while that commit was written). Two targets: every kill within "
            f"the configured window, {SMS_HTTP_CONCURRENCY} + {GROUP_WRITES - 1} = {CONFIGURED_WINDOW} (the "
            "guarantee; until 2026-12-08 the rows a writer had taken were not counted, and one kill of a "
            f"full run cost 720), and the median within {SMS_HTTP_CONCURRENCY} + {GROUP_WRITES} / "
            f"{WRITES_PER_SEND} = {WINDOW}, stricter: what the store's group commit alone gave when each "
            "SMS wrote 4 rows to it (cap, receipt expectation, ledger row, receipt alias).\n\n"
            "Restart to first send: from starting the new process (same store and topics) to the "
            "gateway's first accept from it. The engine's group consumers are static members "
            "(`group.instance.id` = `kafka.instance_id`, `engine/kafka/consumer.h`), so the new process "
            "takes the killed one's partitions back as soon as it joins; before that, it waited for the "
            "killed member's session to time out (`session.timeout.ms` 10000): 9.6 s."),
        figures=[
            Figure("duplicates per SIGKILL", [r["duplicates"] for r in results], unit="", better="lower"),
            Figure("lost per SIGKILL", [r["lost"] for r in results], unit="", better="lower"),
            Figure("restart to first send after the kill s", [round(r["restart_to_first"], 2) for r in results],
                   unit="s", better="lower"),
        ],
        targets=[Target(f"duplicates in every SIGKILL no more than the configured in-flight window "
                        f"({CONFIGURED_WINDOW})", "crash.duplicates per SIGKILL", "<=", CONFIGURED_WINDOW, of="worst"),
                 Target(f"duplicates per SIGKILL, median, no more than {WINDOW}",
                        "crash.duplicates per SIGKILL", "<=", WINDOW)],
    )]
