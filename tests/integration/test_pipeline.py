"""End to end on the real Kafka broker: a directory of a few thousand
subscribers, a set of events of every audience kind, and the outbox must hold
exactly the expected (account, channel, text) set: nobody missing, nobody
extra, nobody twice. Then bad input: each gets its clear error and loses
nothing else."""
import json
import sys
from collections import Counter

import harness as h

SUBSCRIBERS = 3000


def events():
    return [
        {"id": "it-notice-1", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00",
         "data": {"title": "元旦休市安排"}},
        {"id": "it-summary-1", "type": "market_summary", "occurred_at": "2026-11-25T15:05:00+08:00",
         "data": {"title": "沪指收涨0.8%"}},
        {"id": "it-risk-1", "type": "risk_alert", "symbol": "601318.SH", "occurred_at": "2026-11-25T10:00:00+08:00",
         "data": {"title": "中国平安盘中异动"}},
        {"id": "it-rating-1", "type": "rating_change", "symbol": "600519.SH",
         "occurred_at": "2026-11-25T09:00:00+08:00", "data": {"title": "贵州茅台上调至买入"}},
        {"id": "it-follow-1", "type": "stock_pick_followup", "symbol": "300750.SZ",
         "occurred_at": "2026-11-25T09:00:00+08:00", "data": {"title": "宁德时代跟踪"}},
        {"id": "it-follow-urgent", "type": "stock_pick_followup", "symbol": "300750.SZ", "priority": "urgent",
         "occurred_at": "2026-11-25T09:00:00+08:00", "data": {"title": "宁德时代止损"}},
        {"id": "it-notice-basic", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00",
         "audience": {"tiers": ["basic"]}, "data": {"title": "基础客户通知"}},
        {"id": "it-allot-1", "type": "allotment_result", "symbol": "688999.SH",
         "occurred_at": "2026-11-25T18:00:00+08:00", "data": {"title": "中签通知"},
         "audience": {"accounts": ["T000002", {"account": "T000010", "data": {"lots": 2}},
                                  {"account": "T000011", "data": {"lots": 1}}, "NOSUCH1"]}},
    ]


def normalise(line):
    body = line["body"].strip()
    return (line["account"], line["channel"], body)


def test_outbox_matches_the_oracle(engine):
    evs = events()
    status, body = engine.publish(evs)
    assert status == 202, (status, body)
    assert [r["status"] for r in body["results"]] == ["accepted"] * len(evs), body
    engine.wait_settled([e["id"] for e in evs])

    expected = Counter()
    for e in evs:
        expected += h.oracle(e, engine.subs, engine.holdings, engine.watch)
    got = Counter(normalise(l) for l in engine.outbox_lines())
    missing, extra = expected - got, got - expected
    print(f"  expected {sum(expected.values())} messages, outbox holds {sum(got.values())}")
    assert not missing, f"missing {sum(missing.values())}, e.g. {list(missing)[:3]}"
    assert not extra, f"unexpected or doubled {sum(extra.values())}, e.g. {list(extra)[:3]}"
    assert max(got.values()) == 1

    # The status API agrees with the outbox and names the refusals.
    notice = engine.status("it-notice-1")
    sent = notice["totals"]["sent"]
    assert sent == sum(1 for l in engine.outbox_lines() if l["event_id"] == "it-notice-1"), notice
    assert notice["totals"]["suppressed_by_reason"].get("opt_out", 0) > 0, notice
    allot = engine.status("it-allot-1")
    assert allot["totals"]["suppressed_by_reason"].get("unknown_account") == 1, allot
    follow = engine.status("it-follow-1")
    assert follow["totals"]["digest"] > 0 and follow["totals"]["sent"] == 0, follow


def test_duplicates_and_conflicts(engine):
    e = {"id": "it-dup-1", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00", "data": {"title": "重复"}}
    assert engine.publish(e)[0] == 202
    # Same body with keys in another order: a duplicate, not a second fan-out.
    status, body = engine.request("POST", "/v1/events", json.dumps(dict(reversed(list(e.items()))), ensure_ascii=False))
    assert status == 202 and body["status"] == "duplicate", body
    status, body = engine.publish(dict(e, data={"title": "另一个"}))
    assert status == 409 and body["error"]["code"] == "conflict", body
    engine.wait_settled(["it-dup-1"])
    lines = [l for l in engine.outbox_lines() if l["event_id"] == "it-dup-1"]
    assert len(lines) == len({(l["account"], l["channel"]) for l in lines}), "a duplicate publish was sent twice"


def test_bad_input_is_refused_clearly(engine):
    status, body = engine.request("POST", "/v1/events", "{not json")
    assert status == 400 and body["error"]["code"] == "malformed_json", body
    status, body = engine.publish({"id": "x1", "type": "horoscope", "occurred_at": "2026-11-25T08:00:00+08:00"})
    assert status == 400 and body["error"]["code"] == "unknown_type" and body["error"]["field"] == "type", body
    status, body = engine.publish({"id": "x2", "type": "notice"})
    assert status == 400 and body["error"]["field"] == "occurred_at", body
    status, body = engine.publish({"id": "x3", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00",
                                   "data": {"title": "x" * 70000}})
    assert status == 413 and body["error"]["code"] == "too_large", body
    status, body = engine.request("POST", "/v1/events", "x" * (300 * 1024))
    assert status == 413, (status, body)
    # A batch: the bad ones are named, the good one goes through.
    batch = [{"id": "it-batch-ok", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00", "data": {"title": "批量"}},
             {"id": "it-batch-bad", "type": "notice", "occurred_at": "yesterday"}]
    status, body = engine.publish(batch)
    assert status == 202, body
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected"], body
    assert body["results"][1]["error"]["field"] == "occurred_at"
    ndjson = '{"id":"it-nd-1","type":"notice","occurred_at":"2026-11-25T08:00:00+08:00","data":{"title":"a"}}\n{oops\n'
    status, body = engine.request("POST", "/v1/events", ndjson, "application/x-ndjson")
    assert status == 202 and [r["status"] for r in body["results"]] == ["accepted", "rejected"], body
    engine.wait_settled(["it-batch-ok", "it-nd-1"])
    assert engine.status("it-batch-bad") is None


def main():
    path = h.workdir("pipeline")
    engine = h.Engine(path, subscribers=SUBSCRIBERS)
    passed, failed = 0, 1
    try:
        engine.start()
        passed, failed = h.run_tests([(t.__name__, lambda t=t: t(engine)) for t in
                                      (test_outbox_matches_the_oracle, test_duplicates_and_conflicts,
                                       test_bad_input_is_refused_clearly)])
    finally:
        engine.close()
    return h.finish(path, passed, failed)


if __name__ == "__main__":
    sys.exit(main())
