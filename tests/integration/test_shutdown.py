"""SIGTERM while the engine sends through a slow gateway: intake stops at
once (the API refuses new events while sends still drain), the sends in
flight finish within dispatch.drain_timeout, the process exits 0, and after a
restart every SMS has reached the gateway exactly once: the drain recorded
what was sent, and what was only queued was read again from Kafka."""
import signal
import sys
import time
import urllib.error

import harness as h

SUBSCRIBERS = 800
CONCURRENCY = 8
LATENCY_MS = 1500  # each send takes 1.5 s: SIGTERM always finds sends in flight


def main():
    path = h.workdir("shutdown")
    gw = h.Gateway(path, "--latency-ms", str(LATENCY_MS))
    engine = h.Engine(path, subscribers=SUBSCRIBERS, seed=21,
                      extra_yaml="dispatch: { drain_timeout: 20s }\n",
                      connectors=h.sms_http_connectors(gw.url, f"concurrency: {CONCURRENCY}\ntimeout: 10s"))
    event = {"id": "it-shutdown", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00",
             "data": {"title": "系统升级通知"}}
    expected = h.expected_ids(engine, event)
    failures = []
    try:
        engine.start()
        status, body = engine.publish([event])
        assert status == 202, body
        deadline = time.time() + 120
        while len(gw.accepted()) < 3 * CONCURRENCY and time.time() < deadline:
            time.sleep(0.05)
        at_term = len(gw.accepted())
        assert at_term < len(expected), "the sends finished before SIGTERM: make the test larger"
        term_at = time.time()
        engine.proc.send_signal(signal.SIGTERM)

        # Intake stops first: the API refuses while the drain is still going on.
        refused_while_draining = False
        while time.time() < term_at + 5 and engine.proc.poll() is None:
            try:
                engine.publish([event])  # the same event again: a duplicate, nothing new to send
            except (urllib.error.URLError, ConnectionError, OSError):
                refused_while_draining = engine.proc.poll() is None
                break
            time.sleep(0.02)
        if not refused_while_draining:
            failures.append("the API still took events after SIGTERM, or the drain ended before it was checked")

        code = engine.proc.wait(timeout=60)
        took = time.time() - term_at
        print(f"  SIGTERM with {at_term} of {len(expected)} SMS accepted; exit {code} after {took:.1f} s "
              f"(drain_timeout 20 s, sends take {LATENCY_MS} ms)")
        if code != 0:
            failures.append(f"exit code {code} after SIGTERM, expected 0")
        if took > 20 + 10:
            failures.append(f"stopping took {took:.0f} s, more than drain_timeout allows")
        with open(engine.log.name, encoding="utf-8", errors="replace") as f:
            log = f.read()
        if "still in flight at stop" in log:
            failures.append("sends were still in flight when the engine stopped")

        gw.mode(latency_ms=0)  # the rest need not crawl
        engine.start()
        engine.wait_settled([event["id"]], timeout=300)
        accepted, missing, _, duplicates = gw.tally(expected)
        print(f"  after the restart: {len(accepted)} of {len(expected)} accepted once or more, "
              f"missing {len(missing)}, duplicates {duplicates}")
        if missing:
            failures.append(f"lost {len(missing)} SMS across SIGTERM")
        if duplicates:
            failures.append(f"{duplicates} SMS sent twice across a graceful stop")
        sms_sent = sum(g["sent"] for g in engine.status(event["id"])["groups"] if g["channel"] == "sms")
        if sms_sent != len(expected):
            failures.append(f"status says {sms_sent} SMS sent of {len(expected)}")
        code = engine.stop()
        if code != 0:
            failures.append(f"second stop exited {code}")
    except AssertionError as e:
        failures.append(str(e))
    finally:
        engine.close()
        gw.stop()
    return h.conclude("shutdown", path, failures)


if __name__ == "__main__":
    sys.exit(main())
