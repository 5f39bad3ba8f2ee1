"""The operations API on a real broker, as operators use it (docs/api.md):
tokens and roles, failures and their selectors, a replay (dry run, progress,
run twice sends nothing twice), suspend / resume (nothing dropped), cancel
(what was not sent ends cancelled), digests on request, the body limit,
health, readiness and metrics."""
import json
import sys
import time
import urllib.error
import urllib.request

import harness as h

TOKENS = {"publisher": "desk-7f3a9c", "operator": "ops-21b6e0", "viewer": "dash-5d18aa"}


def sms_ids(engine, event):
    return h.expected_ids(engine, event)


def test_auth(engine, gw):
    status, body = engine.request("GET", "/v1/events", token=None)
    assert status == 401 and body["error"]["code"] == "unauthorized", (status, body)
    status, body = engine.request("GET", "/v1/events", token="not-a-token")
    assert status == 401, (status, body)
    status, body = engine.request("GET", "/v1/events", token=TOKENS["viewer"])
    assert status == 200, (status, body)
    status, body = engine.request("POST", "/v1/events", "[]", token=TOKENS["viewer"])
    assert status == 403 and body["error"]["code"] == "forbidden", (status, body)
    status, body = engine.request("GET", "/v1/failures", token=TOKENS["publisher"])
    assert status == 403, (status, body)
    status, body = engine.request("POST", "/v1/connectors/sms/suspend", token=TOKENS["viewer"])
    assert status == 403, (status, body)
    # No token needed, and none leaks into what is printed.
    for path in ("/healthz", "/readyz"):
        status, _ = engine.request("GET", path, token=None)
        assert status == 200, (path, status)
    req = urllib.request.Request(engine.api + "/v1/events", method="GET")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("no token was let in")
    except urllib.error.HTTPError as e:
        assert e.headers.get("WWW-Authenticate") == "Bearer", dict(e.headers)


def test_body_limit(engine, gw):
    big = json.dumps([{"id": f"big-{i}", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00",
                       "data": {"title": "x" * 1000}} for i in range(400)])
    status, body = engine.request("POST", "/v1/events", big, token=TOKENS["publisher"])
    assert status == 413, (status, body)


def test_failures_and_replay(engine, gw):
    gw.mode(fail_all=400)
    event = {"id": "ops-fail", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00", "data": {"title": "休市"}}
    ids = sms_ids(engine, event)
    status, body = engine.publish([event])
    assert status == 202, body
    engine.wait_settled([event["id"]], timeout=120)

    status, page = engine.request("GET", f"/v1/failures?event={event['id']}")
    assert status == 200 and page["total"] == len(ids), (status, page.get("total"), len(ids))
    assert {f["delivery_id"] for f in page["failures"]} <= ids
    assert all("400" in f["reason"] and f["connector"] == "sms" for f in page["failures"]), page["failures"][:2]
    for query, expect in ((f"event={event['id']}&connector=sms", len(ids)), (f"event={event['id']}&connector=outbox", 0),
                          (f"event={event['id']}&reason=400", len(ids)), (f"event={event['id']}&reason=nonesuch", 0),
                          (f"event={event['id']}&since=1h", len(ids)), (f"event={event['id']}&until=2020-01-01T00:00:00Z", 0)):
        status, p = engine.request("GET", f"/v1/failures?{query}")
        assert status == 200 and p["total"] == expect, (query, status, p.get("total"), expect)
    status, p = engine.request("GET", f"/v1/failures?event={event['id']}&limit=2")
    assert len(p["failures"]) == 2 and p["total"] == len(ids), p
    status, p = engine.request("GET", "/v1/failures?since=yesterday")
    assert status == 400 and p["error"]["field"] == "since", p

    selector = {"event": event["id"]}
    status, dry = engine.request("POST", "/v1/replays", json.dumps({"selector": selector, "dry_run": True}))
    assert status == 200 and dry["matched"] == len(ids) and dry["replay_id"] is None, (status, dry)
    status, refused = engine.request("POST", "/v1/replays", json.dumps({"selector": {}}))
    assert status == 400, (status, refused)

    gw.mode(fail_all=None)
    before = len(gw.accepted())
    status, started = engine.request("POST", "/v1/replays", json.dumps({"selector": selector}))
    assert status == 202 and started["matched"] == len(ids), (status, started)
    rid = started["replay_id"]
    progress = h.wait("the replay to finish",
                    lambda: (lambda s, b: b if s == 200 and b["done"] else None)(*engine.request("GET", f"/v1/replays/{rid}")),
                    timeout=120)
    assert progress["sent"] == len(ids) and progress["failed"] == 0, progress
    got = [m["id"] for m in gw.accepted()[before:]]
    assert sorted(got) == sorted(ids), f"the gateway got {len(got)} SMS for {len(ids)} replayed"

    # The same replay again: nothing left to match, nothing sent twice.
    status, again = engine.request("POST", "/v1/replays", json.dumps({"selector": selector}))
    assert status == 202 and again["matched"] == 0, again
    time.sleep(2)
    assert len(gw.accepted()) - before == len(ids), "a second replay sent again"
    status, listing = engine.request("GET", "/v1/replays")
    assert status == 200 and any(r["replay_id"] == rid for r in listing["replays"]), listing
    t = engine.status(event["id"])["totals"]
    assert t["failed"] == 0 and t["sent"] >= len(ids), t


def connector(engine, name):
    status, body = engine.request("GET", "/v1/connectors", token=TOKENS["viewer"])
    assert status == 200, body
    return next(c for c in body["connectors"] if c["name"] == name)


def test_suspend_cancel_resume(engine, gw):
    status, c = engine.request("POST", "/v1/connectors/sms/suspend")
    assert status == 200 and c["suspended"], (status, c)
    h.wait("the suspension to apply", lambda: connector(engine, "sms")["suspended"])
    status, _ = engine.request("POST", "/v1/connectors/nonesuch/suspend")
    assert status == 404

    before = len(gw.accepted())
    held = {"id": "ops-held", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00", "data": {"title": "停牌"}}
    mistake = {"id": "ops-mistake", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00", "data": {"title": "误发"}}
    held_ids, mistake_ids = sms_ids(engine, held), sms_ids(engine, mistake)
    status, body = engine.publish([held, mistake])
    assert status == 202, body
    h.wait("both to be queued", lambda: connector(engine, "sms")["queued"] >= len(held_ids) + len(mistake_ids))
    time.sleep(1)
    assert len(gw.accepted()) == before, "a suspended connector sent"

    status, answer = engine.request("POST", f"/v1/events/{mistake['id']}/cancel")
    assert status == 200, (status, answer)
    assert answer["cancelled"] >= len(mistake_ids) and answer["pending"] == 0, answer
    status, again = engine.request("POST", f"/v1/events/{mistake['id']}/cancel")
    assert status == 200 and again["cancelled"] == answer["cancelled"], again
    status, missing = engine.request("POST", "/v1/events/no-such-event/cancel")
    assert status == 404, missing
    status, events = engine.request("GET", "/v1/events?limit=10")
    listed = {e["event_id"]: e for e in events["events"]}
    assert listed[mistake["id"]]["cancelled"] and not listed[held["id"]]["cancelled"], listed

    status, c = engine.request("POST", "/v1/connectors/sms/resume")
    assert status == 200 and not c["suspended"], c
    engine.wait_settled([held["id"], mistake["id"]], timeout=120)
    got = [m["id"] for m in gw.accepted()[before:]]
    assert sorted(got) == sorted(held_ids), f"after resume the gateway got {len(got)}, expected the {len(held_ids)} held"
    totals = engine.status(mistake["id"])["totals"]
    assert totals["cancelled"] == answer["cancelled"] and totals["sent"] == answer["already_sent"], (totals, answer)


def test_digest_request(engine, gw):
    followup = {"id": "ops-followup", "type": "stock_pick_followup", "symbol": "600519.SH",
                "occurred_at": "2026-11-25T08:00:00+08:00", "data": {"title": "跟踪", "name": "贵州茅台"}}
    status, body = engine.publish([followup])
    assert status == 202, body
    held = h.wait("the follow-up to be held for the digest",
                lambda: (lambda s: s if s and s["at_rest"] else None)(engine.status(followup["id"])))
    assert held["totals"]["digest"] > 0, held["totals"]
    status, body = engine.request("POST", "/v1/digests", json.dumps({"date": "2026-11-25"}))
    assert status == 202 and body == {"date": "2026-11-25", "requested": True}, (status, body)
    status, body = engine.request("POST", "/v1/digests", json.dumps({"date": "25/11/2026"}))
    assert status == 400 and body["error"]["field"] == "date", body
    run = h.wait("the digest run", lambda: (lambda s, b: b if s == 200 else None)(
        *engine.request("GET", "/v1/digests/2026-11-25", token=TOKENS["viewer"])), timeout=60)
    assert run["trigger"] == "now" and run["state"] == "sent", run
    assert run["items"] == held["totals"]["digest"] and run["messages"] > 0, (run, held["totals"])
    # The digests go out through dispatch like any delivery, and each item ends as its digest did.
    h.wait("the digests to be sent", lambda: (lambda s: s and s["totals"]["sent"] == run["messages"])(
        engine.status("digest:2026-11-25")), timeout=60)
    items = h.wait("the items to be recorded", lambda: (lambda s: s if s and s["totals"]["digest"] == 0 else None)(
        engine.status(followup["id"])), timeout=60)
    assert items["totals"]["sent"] == run["items"], items["totals"]


def test_metrics(engine, gw):
    with urllib.request.urlopen(engine.api + "/metrics", timeout=10) as r:
        assert r.status == 200 and r.headers.get("Content-Type", "").startswith("text/plain")
        text = r.read().decode()
    for family in ("sunbeam_deliveries", "sunbeam_send_latency_seconds_bucket", "sunbeam_publish_to_send_seconds_bucket",
                   "sunbeam_consumer_lag", "sunbeam_connector_breaker_state", "sunbeam_connector_suspended",
                   "sunbeam_dispatch_outcomes_total", "sunbeam_http_requests_total"):
        assert f"\n{family}" in text or text.startswith(family), f"{family} missing from /metrics"
    assert 'sunbeam_deliveries{state="sent",tier=' in text, "no sent deliveries counted"
    for secret in TOKENS.values():
        assert secret not in text


def main():
    path = h.workdir("api-ops")
    gw = h.Gateway(path)
    engine = h.Engine(path, subscribers=120, seed=5, tokens=TOKENS,
                      connectors=h.sms_http_connectors(gw.url, "concurrency: 4\ntimeout: 5s"))
    try:
        engine.start()
        passed, failed = h.run_tests([(t.__name__, lambda t=t: t(engine, gw)) for t in (
            test_auth, test_body_limit, test_failures_and_replay, test_suspend_cancel_resume, test_digest_request,
            test_metrics)])
        with open(engine.log.name, encoding="utf-8", errors="replace") as f:
            log = f.read()
        leaked = [t for t in TOKENS.values() if t in log]
        if leaked:
            failed += 1
            print(f"FAIL the log shows a token: {leaked}")
    finally:
        engine.close()
        gw.stop()
    return h.finish(path, passed, failed)


if __name__ == "__main__":
    sys.exit(main())
