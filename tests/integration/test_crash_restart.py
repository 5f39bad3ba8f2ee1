"""SIGKILL the engine in the middle of a fan-out, restart it, and check the
design's promise on the real Kafka broker:
  - nothing is lost: every expected (account, channel) reaches the outbox;
  - fanout never multiplies (Kafka transactions): no delivery is planned twice;
  - dispatch re-sends at most its in-flight window at each kill: its ledger
    skips what a connector already accepted and has committed; the outbox
    connector sends one message at a time, and the store's open group holds
    at most LEDGER_BATCH - 1 uncommitted writes (dispatch.ledger_batch), so at
    most 1 + LEDGER_BATCH - 1 duplicates per kill.
Prints the figures."""
import sys
import time
from collections import Counter

import harness as h

SUBSCRIBERS = 12000
EVENTS = 6
KILLS = 2
IN_FLIGHT = 1  # the outbox connector is synchronous
LEDGER_BATCH = 8  # small, so that the bound is tight; the group commit is still used
WINDOW = IN_FLIGHT + LEDGER_BATCH - 1


def main():
    path = h.workdir("crash")
    engine = h.Engine(path, subscribers=SUBSCRIBERS, seed=11,
                      extra_yaml=f"dispatch: {{ ledger_batch: {LEDGER_BATCH} }}\n")
    evs = [{"id": f"it-crash-{i}", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00",
            "data": {"title": f"通知{i}"}} for i in range(EVENTS)]
    expected = Counter()
    for e in evs:
        expected += h.oracle(e, engine.subs, engine.holdings, engine.watch)
    total = sum(expected.values())
    failures = []
    kills_done = 0
    try:
        engine.start()
        status, body = engine.publish(evs)
        assert status == 202, body
        # First kill: during the fan-out itself, before its transaction commits.
        time.sleep(0.3)
        fanned = sum(1 for e in evs if (engine.status(e["id"]) or {}).get("fanned_out"))
        lines_at_kill = len(engine.outbox_lines())
        engine.kill()
        kills_done += 1
        print(f"  kill 0: SIGKILL 0.3 s after publishing, {fanned} of {EVENTS} fan-outs committed, "
              f"{lines_at_kill} messages in the outbox")
        engine.start()
        # Kill while work is in flight: as soon as the outbox starts to fill,
        # and again a little further on, each time with fan-outs unfinished.
        for k in range(KILLS):
            target = len(engine.outbox_lines()) + 200
            deadline = time.time() + 120
            while len(engine.outbox_lines()) < target and time.time() < deadline:
                time.sleep(0.02)
            lines_at_kill = len(engine.outbox_lines())
            engine.kill()
            kills_done += 1
            print(f"  kill {k + 1}: SIGKILL with {lines_at_kill} of {total} messages in the outbox")
            if lines_at_kill >= total:
                failures.append("the fan-out finished before the kill: make the test larger")
            engine.start()
        engine.wait_settled([e["id"] for e in evs], timeout=300)

        got = Counter((l["account"], l["channel"], l["body"].strip()) for l in engine.outbox_lines())
        missing = expected - got
        unexpected = set(got) - set(expected)
        duplicates = sum(n - 1 for n in got.values() if n > 1)
        bound = WINDOW * kills_done
        print(f"  expected {total}, distinct sent {len(set(got) & set(expected))}, missing {sum(missing.values())}, "
              f"duplicates {duplicates} (bound {bound} = {IN_FLIGHT} in flight + {LEDGER_BATCH - 1} uncommitted per kill "
              f"x {kills_done} kills)")
        if missing:
            failures.append(f"lost {sum(missing.values())} messages, e.g. {list(missing)[:3]}")
        if unexpected:
            failures.append(f"{len(unexpected)} messages nobody should have had, e.g. {list(unexpected)[:3]}")
        if duplicates > bound:
            failures.append(f"{duplicates} duplicates exceed the promised bound {bound}")
        # Fan-out exactly once: the status view's planned count equals the oracle's.
        statuses = [engine.status(e["id"]) for e in evs]
        planned = sum(s["totals"]["planned"] - s["totals"]["suppressed"] for s in statuses)
        fanouts = [s["fanouts"] for s in statuses]
        print(f"  planned by fanout (status view): {planned}; fan-outs per event: {fanouts}")
        if planned != total:
            failures.append(f"fanout planned {planned} deliveries, expected exactly {total}")
        if any(n != 1 for n in fanouts):
            failures.append(f"an event was fanned out more than once: {fanouts}")
    except AssertionError as e:
        failures.append(str(e))
    finally:
        engine.close()
    return h.conclude("crash_restart", path, failures)


if __name__ == "__main__":
    sys.exit(main())
