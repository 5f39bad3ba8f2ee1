"""Delivery against a real HTTP gateway (the stand-in, tests/support/gateway_standin.py)
on the real Kafka broker: each fault class, retries, dead letters, the breaker
and the fallback, receipts, and tier priority under a saturating load.

Every scenario says what was sent, what was retried and what failed."""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Engine, Gateway, delivery_id, expected_ids, oracle, sms_http_connectors, workdir  # noqa: E402


def notice(event_id, title="休市安排"):
    return {"id": event_id, "type": "notice", "occurred_at": "2026-11-25T10:00:00+08:00", "data": {"title": title}}


def totals(engine, event_id, channel="sms"):
    """The event's counts for one channel, summed over the tiers ({} before any record)."""
    s = engine.status(event_id)
    out = {}
    for g in (s or {}).get("groups", []):
        if g["channel"] == channel:
            for k, v in g.items():
                if isinstance(v, int):
                    out[k] = out.get(k, 0) + v
    return out


def dlq_count(engine):
    out = subprocess.run(["kcat", "-C", "-b", harness.BROKERS, "-t", engine.prefix + "dlq", "-e", "-q",
                          "-X", "isolation.level=read_committed"], capture_output=True, timeout=60, text=True)
    return len([line for line in out.stdout.splitlines() if line.strip()])


def wait_until(condition, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout} s: {what}")


RETRY_FAST = "retry: { max_attempts: 12, initial_backoff: 100ms, max_backoff: 500ms, max_age: 10m }"


def test_fault_classes_are_retried_until_sent():
    wd = workdir("gateway-faults")
    gw = Gateway(wd, "--faults", "500:0.1,429:0.1,timeout:0.05,drop:0.05", "--hold", "3", "--seed", "11")
    engine = Engine(wd, subscribers=300, connectors=sms_http_connectors(
        gw.url, f"timeout: 1s\nconcurrency: 8\n{RETRY_FAST}"))
    try:
        engine.start()
        event = notice("gw-faults")
        assert engine.publish([event])[0] == 202
        expected = expected_ids(engine, event)
        engine.wait_settled([event["id"]], timeout=240)
        accepted = [m["id"] for m in gw.accepted()]
        stats = gw.stats()
        t = totals(engine, event["id"])
        retried = sum(stats.get(k, 0) for k in ("500", "429", "timeout", "drop"))
        print(f"  {len(expected)} SMS planned; gateway answers {stats}; sent {t['sent']}, failed {t['failed']}; "
              f"{retried} attempts were retried")
        for fault in ("500", "429", "timeout", "drop"):
            assert stats.get(fault, 0) > 0, f"no {fault} was injected: {stats}"
        assert set(accepted) == expected, f"missing {len(expected - set(accepted))}, extra {len(set(accepted) - expected)}"
        assert len(accepted) == len(set(accepted)), f"{len(accepted) - len(set(accepted))} sent twice"
        assert t["sent"] == len(expected) and t["failed"] == 0, t
        assert stats["accepted"] == len(expected), stats  # every refused attempt was tried again until accepted
    finally:
        engine.close()
        gw.stop()
    return wd


def test_refusals_fail_at_once_to_the_dead_letter_queue():
    wd = workdir("gateway-refused")
    gw = Gateway(wd)
    engine = Engine(wd, subscribers=40, connectors=sms_http_connectors(gw.url, RETRY_FAST))
    try:
        engine.start()
        gw.mode(fail_all=400)
        event = notice("gw-refused")
        assert engine.publish([event])[0] == 202
        expected = expected_ids(engine, event)
        engine.wait_settled([event["id"]], timeout=120)
        t = totals(engine, event["id"])
        stats = gw.stats()
        print(f"  {len(expected)} SMS refused with 400: failed {t['failed']}, gateway saw {stats}")
        assert t["failed"] == len(expected) and t["sent"] == 0, t
        assert stats.get("400", 0) == len(expected), f"a 400 must not be retried: {stats}"
        wait_until(lambda: dlq_count(engine) == len(expected), "every failure on the dlq topic", 60)
    finally:
        engine.close()
        gw.stop()
    return wd


def test_a_failing_gateway_trips_the_breaker_and_falls_back():
    wd = workdir("gateway-breaker")
    gw = Gateway(wd)
    engine = Engine(wd, subscribers=90, connectors=sms_http_connectors(
        gw.url, f"breaker: {{ failures: 5, cool_down: 2s }}\n{RETRY_FAST}", fallback="outbox"))
    try:
        engine.start()
        gw.mode(fail_all=503)
        first = notice("gw-breaker-1")
        assert engine.publish([first])[0] == 202
        expected = expected_ids(engine, first)
        engine.wait_settled([first["id"]], timeout=120)
        to_fallback = [l for l in engine.outbox_lines() if l["channel"] == "sms" and l["event_id"] == first["id"]]
        stats = gw.stats()
        print(f"  gateway failing: {stats.get('503', 0)} attempts refused, {len(to_fallback)} of {len(expected)} "
              f"SMS went to the fallback")
        assert totals(engine, first["id"])["sent"] == len(expected)
        assert {l["delivery_id"] for l in to_fallback} == expected
        assert gw.accepted() == []
        assert stats.get("503", 0) < len(expected), "the breaker should have stopped the attempts"

        gw.mode(fail_all=0)  # healed: after the cool-down a probe succeeds and the gateway takes over again
        time.sleep(2.5)
        second = notice("gw-breaker-2", "恢复通知")
        assert engine.publish([second])[0] == 202
        engine.wait_settled([second["id"]], timeout=120)
        back = [m for m in gw.accepted() if m["id"] in expected_ids(engine, second)]
        print(f"  healed: {len(back)} of {len(expected_ids(engine, second))} SMS of the next event through the gateway")
        assert len(back) == len(expected_ids(engine, second)), "after the probe, the gateway should take them all"
    finally:
        engine.close()
        gw.stop()
    return wd


def test_receipts_mark_deliveries_delivered():
    wd = workdir("gateway-receipts")
    engine = Engine(wd, subscribers=60, connectors="")  # connectors set below, once the API port is known
    gw = Gateway(wd, "--receipts", f"{engine.api}/v1/receipts/sms")
    engine.connectors = sms_http_connectors(gw.url)
    with open(engine.config, "w", encoding="utf-8") as f:
        f.write(engine._yaml())
    try:
        engine.start()
        event = notice("gw-receipts")
        assert engine.publish([event])[0] == 202
        expected = expected_ids(engine, event)
        wait_until(lambda: totals(engine, event["id"]).get("delivered") == len(expected),
                   f"{len(expected)} receipts recorded as delivered", 120)
        t = totals(engine, event["id"])
        print(f"  {len(expected)} SMS: delivered {t['delivered']}, sent {t['sent']}")
        assert t["sent"] == 0  # each moved on from sent to delivered
    finally:
        engine.close()
        gw.stop()
    return wd


def test_advisor_and_urgent_go_first_when_the_gateway_is_saturated():
    wd = workdir("gateway-priority")
    gw = Gateway(wd)
    engine = Engine(wd, subscribers=450, connectors=sms_http_connectors(gw.url, "rate: 50/s\nburst: 1\nconcurrency: 4"))
    try:
        engine.start()
        # Published together: a notice to every tier, and an urgent risk alert.
        events = [notice("gw-prio-notice"),
                  {"id": "gw-prio-risk", "type": "risk_alert", "symbol": "600519.SH",
                   "occurred_at": "2026-11-25T10:00:00+08:00", "data": {"title": "风险提示"}}]
        assert engine.publish(events)[0] == 202
        engine.wait_settled([e["id"] for e in events], timeout=240)
        tier_of = {s["account_id"]: s["tier"] for s in engine.subs}
        ids = {}
        for e in events:
            for (account, channel, _t) in oracle(e, engine.subs, engine.holdings, engine.watch):
                if channel == "sms":
                    ids[delivery_id(e["id"], account, "sms")] = ("urgent" if e["type"] == "risk_alert" else tier_of[account])
        arrivals = {}
        start = min(m["received_at"] for m in gw.accepted())
        for m in gw.accepted():
            arrivals.setdefault(ids[m["id"]], []).append(m["received_at"] - start)
        medians = {k: statistics.median(v) for k, v in arrivals.items()}
        times = sorted(m["received_at"] for m in gw.accepted())
        rate = (len(times) - 1) / (times[-1] - times[0])
        print(f"  {len(times)} SMS at {rate:.1f}/s measured at the gateway (configured 50/s)")
        assert abs(rate - 50) <= 5, f"the send rate {rate:.1f}/s is not within 10% of 50/s"
        print("  median arrival (s) by class: " + ", ".join(f"{k} {medians[k]:.2f} (n={len(arrivals[k])})"
                                                          for k in ("urgent", "advisor", "research", "basic")))
        assert medians["urgent"] < medians["advisor"] < medians["research"] < medians["basic"], medians
        # "Well before": the last urgent message arrives before most basic ones.
        assert max(arrivals["urgent"]) < medians["basic"], medians
        assert medians["advisor"] < 0.6 * medians["basic"], medians
    finally:
        engine.close()
        gw.stop()
    return wd


if __name__ == "__main__":
    tests = [(name, fn) for name, fn in list(globals().items()) if name.startswith("test_")]
    passed = failed = 0
    for name, fn in tests:
        try:
            path = fn()
            passed += 1
            print(f"PASS {name}")
            harness.cleanup(path)
        except AssertionError as e:
            failed += 1
            print(f"FAIL {name}: {e}")
    harness.summary_line(passed, failed)
    sys.exit(1 if failed else 0)
