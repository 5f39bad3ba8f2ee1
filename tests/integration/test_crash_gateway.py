"""SIGKILL the engine several times while it sends tens of thousands of SMS
to a real HTTP gateway (the stand-in), restart it each time, and check on the
real Kafka broker that nothing is lost and that the duplicates are at most
the in-flight window at each kill: the connector's concurrency plus the
writes the store's open group may hold uncommitted (dispatch.ledger_batch - 1):
dispatch's ledger skips what the gateway accepted and it committed. Prints the
figures."""
import sys
import time

import harness as h

SUBSCRIBERS = 24000
CONCURRENCY = 8
LEDGER_BATCH = 8
KILLS = 3


def main():
    path = h.workdir("crash-gateway")
    gw = h.Gateway(path)
    engine = h.Engine(path, subscribers=SUBSCRIBERS, seed=13, connectors=h.sms_http_connectors(
        gw.url, f"concurrency: {CONCURRENCY}\ntimeout: 5s"),
                      extra_yaml=f"dispatch: {{ ledger_batch: {LEDGER_BATCH} }}\n")
    event = {"id": "it-crash-gw", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00",
             "data": {"title": "系统升级通知"}}
    expected = h.expected_ids(engine, event)
    failures = []
    try:
        engine.start()
        status, body = engine.publish([event])
        assert status == 202, body
        started = time.time()
        for k in range(KILLS):
            target = (k + 1) * len(expected) // (KILLS + 1)
            deadline = time.time() + 180
            while len(gw.accepted()) < target and time.time() < deadline:
                time.sleep(0.05)
            at_kill = len(gw.accepted())
            engine.kill()
            print(f"  kill {k + 1}: SIGKILL with {at_kill} of {len(expected)} SMS accepted by the gateway")
            if at_kill >= len(expected):
                failures.append("the sends finished before the kill: make the test larger")
            engine.start()
        engine.wait_settled([event["id"]], timeout=600)
        elapsed = time.time() - started
        accepted, missing, extra, duplicates = gw.tally(expected)
        window = CONCURRENCY + LEDGER_BATCH - 1
        bound = window * KILLS
        print(f"  {len(expected)} SMS expected, {len(accepted)} accepted, missing {len(missing)}, "
              f"duplicates {duplicates} (bound {bound} = {window} in flight or uncommitted x {KILLS} kills), {elapsed:.0f} s")
        if missing:
            failures.append(f"lost {len(missing)} SMS")
        if extra:
            failures.append(f"{len(extra)} SMS nobody should have had")
        if duplicates > bound:
            failures.append(f"{duplicates} duplicates exceed the bound {bound}")
        t = engine.status(event["id"])["totals"]
        if t["sent"] < len(expected):
            failures.append(f"status says {t['sent']} sent of {len(expected)}")
    except AssertionError as e:
        failures.append(str(e))
    finally:
        engine.close()
        gw.stop()
    return h.conclude("crash_gateway", path, failures)


if __name__ == "__main__":
    sys.exit(main())
