"""The operator's commands (SPEC §1: failures, replay, cancel, connectors,
digest --now) against a real engine (`sunbeam run` on the real broker) and the
stand-in gateway, as an operator runs them: what they print, their exit codes,
and what the gateway received because of them.

Failures are made by switching the stand-in to answer 400 (a refusal, failed at
once), and healed before the replay, so the replayed SMS are taken. stdout is
a pipe here, so replay shows plain progress lines; the bar a person sees on a
terminal is checked under tmux (skipped, and said so, when tmux is missing)."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import harness as h

TOKENS = {"operator": "ops-cli-4e1d7b", "viewer": "dash-cli-90a3f2", "publisher": "desk-cli-2c6e58"}
TZ = "Asia/Shanghai"  # the CLI prints times in the local zone; the test sets it


def cli(*args, token="operator", stdin=None, timeout=180):
    """Runs `sunbeam ARGS` with stdout and stderr piped and stdin not a
    terminal; returns (exit code, stdout, stderr)."""
    env = dict(os.environ, TZ=TZ)
    env.pop("SUNBEAM_TOKEN", None)
    if token:
        env["SUNBEAM_TOKEN"] = TOKENS.get(token, token)
    p = subprocess.run([h.SUNBEAM, *args], capture_output=True, text=True, env=env, timeout=timeout,
                       input=stdin if stdin is not None else "")
    return p.returncode, p.stdout, p.stderr


def notice(event_id, title):
    return {"id": event_id, "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00", "data": {"title": title}}


def publish(engine, *events):
    status, body = engine.publish(list(events))
    assert status == 202, (status, body)


def table(out):
    """Rows of a printed table as dicts, cut at the header's column starts
    (every column but the last is ASCII here, so characters are columns)."""
    lines = out.rstrip("\n").split("\n")
    header = lines[0]
    names = re.findall(r"\S+(?: \S+)*", header)
    starts = [header.index(n) for n in names]
    assert set(lines[1]) == {"-"}, f"no rule under the header: {lines[:2]}"
    rows = []
    for line in lines[2:]:
        if not line.startswith(" ") and re.match(r"^\d+ of \d+ ", line):
            break
        cells = [line[start:end].strip() for start, end in zip(starts, starts[1:] + [None])]
        rows.append(dict(zip(names, cells)))
    return rows


def connector_row(engine, name):
    code, out, err = cli("connectors", "--api", engine.api)
    assert code == 0, err
    return next(r for r in table(out) if r["name"] == name)


def gateway_ids(gw, ids):
    return [m["id"] for m in gw.accepted() if m["id"] in ids]


# ---- usage, tokens, an unreachable API ---------------------------------------

def test_usage_errors_say_why(engine, gw):
    code, _, err = cli("replay", "--api", engine.api)
    assert code == 2 and "--all" in err and "--event" in err, (code, err)
    code, _, err = cli("replay", "--all", "--event", "x", "--api", engine.api)
    assert code == 2 and "--all" in err, (code, err)
    code, _, err = cli("digest", "--api", engine.api)
    assert code == 2 and "--now is required" in err, (code, err)
    code, _, err = cli("cancel", "--api", engine.api)  # EVENT_ID missing
    assert code == 2, (code, err)
    code, _, err = cli("failures", "--limit", "0", "--api", engine.api)
    assert code == 2, (code, err)


def test_tokens_and_an_unreachable_api(engine, gw):
    code, out, err = cli("failures", "--api", engine.api, token=None)
    assert code == 1 and out == "" and "SUNBEAM_TOKEN is not set" in err and "operator role" in err, (code, err)
    code, _, err = cli("failures", "--api", engine.api, token="viewer")
    assert code == 1 and re.match(r"^sunbeam: .+: set SUNBEAM_TOKEN to a token with the operator role$", err.strip()), err
    code, _, err = cli("connectors", "--api", engine.api, token="not-a-token")
    assert code == 1 and "set SUNBEAM_TOKEN to a token with the viewer role" in err, err
    code, out, err = cli("connectors", "--api", engine.api, token="viewer")  # a viewer may list
    assert code == 0 and "sms_http" in out, (code, err)
    code, _, err = cli("failures", "--api", "http://127.0.0.1:1")
    assert code == 1 and "cannot reach the sunbeam API at http://127.0.0.1:1/v1/failures" in err, err
    # Without --api, the address comes from the config.
    code, out, err = cli("--config", engine.config, "connectors")
    assert code == 0 and "sms_http" in out, (code, err)


# ---- failures -----------------------------------------------------------------

FAILED = [notice("cli-fail-a", "休市安排"), notice("cli-fail-b", "交易规则调整")]


def make_failures(engine, gw):
    """Both events' SMS refused with 400 (failed at once, not retried)."""
    gw.mode(fail_all=400)
    publish(engine, *FAILED)
    engine.wait_settled([e["id"] for e in FAILED], timeout=120)
    gw.mode(fail_all=None)
    return {e["id"]: h.expected_ids(engine, e) for e in FAILED}


def test_failures(engine, gw, failed):
    a, b = (e["id"] for e in FAILED)
    total = len(failed[a]) + len(failed[b])
    code, out, err = cli("failures", "--api", engine.api, "--limit", "10000")
    assert code == 0, err
    rows = table(out)
    assert out.rstrip().endswith(f"{total} of {total} failed deliveries shown"), out[-200:]
    assert len(rows) == total and {r["event"] for r in rows} == {a, b}, (len(rows), total)
    assert all(r["connector"] == "sms" and r["channel"] == "sms" and r["attempt"] == "1" for r in rows), rows[:2]

    code, js, err = cli("failures", "--api", engine.api, "--event", a, "--json")
    assert code == 0, err
    page = json.loads(js)
    assert page["total"] == len(failed[a]) and {f["delivery_id"] for f in page["failures"]} == failed[a], page["total"]
    # Piped: the reason is whole, however long; the time is local.
    code, out, err = cli("failures", "--api", engine.api, "--event", a)
    by_account = {r["account"]: r for r in table(out)}
    now = datetime.now(ZoneInfo(TZ))
    for f in page["failures"]:
        row = by_account[f["account"]]
        assert row["reason"] == f["reason"] and "400" in row["reason"], (row["reason"], f["reason"])
        shown = datetime.strptime(row["time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(TZ))
        assert abs(shown - now) < timedelta(minutes=10), (row["time"], now)
        assert (row["event"], row["tier"]) == (a, f["tier"])
    print(f"  {total} failed: e.g. {page['failures'][0]['reason']!r} at {by_account[page['failures'][0]['account']]['time']}")

    for args, expect in ((["--event", a, "--connector", "sms"], len(failed[a])), (["--connector", "outbox"], 0),
                         (["--reason", "400"], total), (["--reason", "no such reason"], 0),
                         (["--event", b, "--since", "1h"], len(failed[b])),
                         (["--event", b, "--since", (now - timedelta(hours=1)).replace(microsecond=0).isoformat()], len(failed[b])),
                         (["--until", "2020-01-01T00:00:00+08:00"], 0)):
        code, out, err = cli("failures", "--api", engine.api, *args)
        assert code == 0 and out.rstrip().endswith(f"{min(expect, 100)} of {expect} failed deliveries shown"), (args, err, out[-120:])
    code, out, _ = cli("failures", "--api", engine.api, "--limit", "3")
    assert len(table(out)) == 3 and out.rstrip().endswith(f"3 of {total} failed deliveries shown"), out
    code, _, err = cli("failures", "--api", engine.api, "--since", "yesterday")
    assert code == 1 and err.startswith("sunbeam: ") and "since" in err, err


# ---- replay -------------------------------------------------------------------

def test_replay(engine, gw, failed):
    a, b = (e["id"] for e in FAILED)
    code, out, err = cli("replay", "--api", engine.api, "--event", a, "--dry-run")
    assert code == 0 and out.strip() == f"{len(failed[a])} failed deliveries match", (code, out, err)
    code, js, _ = cli("replay", "--api", engine.api, "--reason", "400", "--dry-run", "--json")
    assert json.loads(js) == {"replay_id": None, "matched": len(failed[a]) + len(failed[b]), "dry_run": True}, js

    # No terminal to ask at and no --yes: nothing is re-queued.
    before = len(gw.accepted())
    code, out, err = cli("replay", "--api", engine.api, "--event", a)
    assert code == 1 and "--yes" in err, (code, out, err)
    time.sleep(1)
    assert len(gw.accepted()) == before

    code, out, err = cli("replay", "--api", engine.api, "--event", a, "--yes")
    assert code == 0, (code, out, err)
    lines = out.strip().split("\n")
    rid = re.search(r"replay (r-\S+): re-queuing", out).group(1)
    progress = [l for l in lines if l.startswith(f"replay {rid}: queued ")]
    assert lines[0] == f"{len(failed[a])} failed deliveries match (event {a})", lines[0]
    assert progress and all(re.fullmatch(rf"replay {rid}: queued \d+/{len(failed[a])}, sent \d+, failed \d+, pending \d+", l)
                            for l in progress), progress
    assert "\r" not in out and "[#" not in out, "a pipe got the terminal's bar"
    assert lines[-1] == f"replay {rid} done: {len(failed[a])} re-queued, {len(failed[a])} sent, 0 failed again", lines[-1]
    got = gateway_ids(gw, failed[a])
    assert sorted(got) == sorted(failed[a]), f"the gateway got {len(got)} for {len(failed[a])} replayed"
    print(f"  replay --yes: {len(progress)} progress lines, then {lines[-1]!r}")

    # Again: nothing matches, nothing is sent twice.
    code, out, err = cli("replay", "--api", engine.api, "--event", a, "--yes")
    assert code == 0 and out.strip() == "0 failed deliveries match: nothing to replay", (code, out, err)
    time.sleep(2)
    assert sorted(gateway_ids(gw, failed[a])) == sorted(failed[a]), "the second replay sent again"
    code, out, _ = cli("failures", "--api", engine.api, "--event", a)
    assert out.strip().endswith("0 of 0 failed deliveries shown"), out
    # The other event's failures were left alone.
    code, out, _ = cli("replay", "--api", engine.api, "--event", b, "--dry-run")
    assert out.strip() == f"{len(failed[b])} failed deliveries match", out


def tmux(socket, *args):
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30)


def test_replay_bar_on_a_terminal(engine, gw, failed):
    """The replay as a person sees it: in a 100x20 tmux pane, the question is
    answered with y, the bar is redrawn on one line, and the summary follows."""
    if not shutil.which("tmux"):
        print("  SKIP: tmux is not installed (apt-get install tmux)")
        return
    b = FAILED[1]["id"]
    socket = f"sunbeam-test-{uuid.uuid4().hex[:8]}"
    gw.mode(latency_ms=150)  # slow enough to see the bar move
    command = (f"env TZ={TZ} SUNBEAM_TOKEN={TOKENS['operator']} {h.SUNBEAM} replay --api {engine.api} --event {b}; "
               "echo \"exit $?\"; sleep 600")
    try:
        r = tmux(socket, "new-session", "-d", "-x", "100", "-y", "20", "-s", "replay", command)
        assert r.returncode == 0, r.stderr
        capture = lambda: tmux(socket, "capture-pane", "-p", "-t", "replay").stdout
        h.wait("the question", lambda: "[y/N]" in capture(), timeout=30)
        assert f"Re-queue {len(failed[b])} deliveries? [y/N]" in capture(), capture()
        tmux(socket, "send-keys", "-t", "replay", "y", "Enter")
        seen = set()
        def finished():
            screen = capture()
            seen.update(re.findall(r"\[[#.]+\] \d+/\d+ sent \d+ failed \d+", screen))
            return screen if re.search(r"(?m)^exit \d+$", screen) else None
        screen = h.wait("the replay under tmux to end", finished, timeout=180, step=0.1)
    finally:
        tmux(socket, "kill-server")
        gw.mode(latency_ms=0)
    lines = [l.rstrip() for l in screen.split("\n") if l.strip()]
    print("  the pane at the end:\n" + "\n".join("    | " + l for l in lines))
    print(f"  {len(seen)} different bars seen while it ran: " + ", ".join(sorted(seen, key=len)[:3]) + ", ...")
    n = len(failed[b])
    bars = [l for l in lines if l.startswith("[")]
    assert len(bars) == 1, f"the bar should be redrawn on one line, found {len(bars)}"
    assert re.fullmatch(rf"\[#+\] {n}/{n} sent {n} failed 0", bars[0]), bars[0]
    assert len(bars[0]) <= 99, "the bar is wider than the pane"
    assert any(re.fullmatch(rf"replay r-\S+ done: {n} re-queued, {n} sent, 0 failed again", l) for l in lines), lines
    assert "exit 0" in lines, lines
    assert not any(": queued " in l for l in lines), "a terminal got plain lines"


# ---- connectors ---------------------------------------------------------------

def test_connectors(engine, gw):
    code, out, err = cli("connectors", "--api", engine.api)
    assert code == 0, err
    rows = {r["name"]: r for r in table(out)}
    assert rows["sms"]["kind"] == "sms_http" and rows["sms"]["channels/role"] == "sms primary", rows
    assert rows["sms"]["state"] == "active" and rows["sms"]["breaker"] == "closed", rows
    assert rows["outbox"]["channels/role"] == "email primary" and rows["outbox"]["rate"] == "unlimited", rows

    code, out, err = cli("connectors", "suspend", "sms", "--api", engine.api)
    assert code == 0 and out.strip().startswith("connector sms: suspended"), (code, out, err)
    h.wait("the suspension to show", lambda: connector_row(engine, "sms")["state"] == "suspended")
    held = notice("cli-held", "停牌公告")
    ids = h.expected_ids(engine, held)
    publish(engine, held)
    h.wait("the SMS to queue", lambda: int(connector_row(engine, "sms")["queued"]) >= len(ids), timeout=60)
    time.sleep(1)
    assert gateway_ids(gw, ids) == [], "a suspended connector sent"

    code, js, _ = cli("connectors", "--api", engine.api, "--json")
    sms = next(c for c in json.loads(js)["connectors"] if c["name"] == "sms")
    assert sms["suspended"] and sms["queued"] >= len(ids), sms
    code, _, err = cli("connectors", "suspend", "nonesuch", "--api", engine.api)
    assert code == 1 and "nonesuch" in err, err

    code, out, err = cli("connectors", "resume", "sms", "--api", engine.api)
    assert code == 0 and out.strip() == "connector sms: active", (code, out, err)
    engine.wait_settled([held["id"]], timeout=120)
    got = gateway_ids(gw, ids)
    assert sorted(got) == sorted(ids), f"after resume the gateway got {len(got)} of {len(ids)} held"
    print(f"  {len(ids)} SMS held while suspended, all sent once after resume")


# ---- cancel -------------------------------------------------------------------

def test_cancel(engine, gw):
    code, _, err = cli("cancel", "no-such-event", "--yes", "--api", engine.api)
    assert code == 1 and err.startswith("sunbeam: ") and "no-such-event" in err, err
    code, _, err = cli("cancel", "cli-slow", "--api", engine.api)  # no terminal, no --yes
    assert code == 1 and "--yes" in err, err

    gw.mode(latency_ms=400)  # slow deliveries: the cancel finds most not yet sent
    slow = notice("cli-slow", "误发通知")
    ids = h.expected_ids(engine, slow)
    try:
        publish(engine, slow)
        h.wait("the first SMS at the gateway", lambda: gateway_ids(gw, ids), timeout=60, step=0.05)
        code, out, err = cli("cancel", slow["id"], "--yes", "--api", engine.api)
    finally:
        gw.mode(latency_ms=0)
    assert code == 0, (code, out, err)
    m = re.fullmatch(rf"cancelled (\d+) deliveries of {slow['id']} \((\d+) already sent\)", out.strip())
    assert m, out
    cancelled, already = int(m.group(1)), int(m.group(2))
    print(f"  {out.strip()} ({len(ids)} SMS planned)")
    assert cancelled > 0, "nothing was cancelled: the gateway was too fast for the test"
    engine.wait_settled([slow["id"]], timeout=60)
    totals = engine.status(slow["id"])["totals"]
    assert totals["cancelled"] == cancelled and totals["sent"] == already, (totals, out)
    time.sleep(1)
    sms_sent = sum(g["sent"] for g in engine.status(slow["id"])["groups"] if g["channel"] == "sms")
    assert len(gateway_ids(gw, ids)) == sms_sent, "the gateway got SMS the status does not count as sent"
    code, out2, _ = cli("cancel", slow["id"], "--yes", "--api", engine.api)
    assert code == 0 and out2 == out, (out2, out)  # twice is harmless


# ---- digest --now ---------------------------------------------------------------

def test_digest_now(engine, gw):
    date = "2026-11-25"
    publish(engine, {"id": "cli-digest-item", "type": "stock_pick_followup", "symbol": "600519.SH",
                     "occurred_at": "2026-11-24T16:00:00+08:00", "data": {"title": "跟踪"}})
    h.wait("the item held for the digest", lambda: (engine.status("cli-digest-item") or {}).get("totals", {}).get("digest"))
    code, out, err = cli("digest", "--now", "--date", date, "--wait", "60", "--api", engine.api)
    assert code == 0, (code, out, err)
    status, run = engine.request("GET", f"/v1/digests/{date}")
    assert status == 200 and run["trigger"] == "now", run
    expected = f"digest {date} (now): {run['accounts']} accounts, {run['messages']} messages, {run['items']} items"
    expected += f", {run['expired']} expired" if run["expired"] else ""
    expected += f"; {run['state']}" if run["state"] != "sent" else ""
    assert out.strip() == expected, (out, run)
    print(f"  {out.strip()}")
    code, _, err = cli("digest", "--now", "--date", "25/11/2026", "--api", engine.api)
    assert code == 1 and "date" in err, err


def main():
    path = h.workdir("cli-ops")
    gw = h.Gateway(path)
    engine = h.Engine(path, subscribers=120, seed=9, tokens=TOKENS,
                      connectors=h.sms_http_connectors(gw.url, "concurrency: 4\ntimeout: 5s"),
                      extra_yaml="schedule: { calendar: calendar.txt }\n")
    with open(os.path.join(path, "calendar.txt"), "w") as f:
        f.write("2026-11-24\n2026-11-25\n2026-11-26\n")
    passed = failed_count = 0
    try:
        engine.start()
        failed = {}

        def with_failures(test):
            def run():
                if not failed:
                    failed.update(make_failures(engine, gw))
                test(engine, gw, failed)
            return run

        passed, failed_count = h.run_tests([
            ("test_usage_errors_say_why", lambda: test_usage_errors_say_why(engine, gw)),
            ("test_tokens_and_an_unreachable_api", lambda: test_tokens_and_an_unreachable_api(engine, gw)),
            ("test_failures", with_failures(test_failures)),
            ("test_replay", with_failures(test_replay)),
            ("test_replay_bar_on_a_terminal", with_failures(test_replay_bar_on_a_terminal)),
            ("test_connectors", lambda: test_connectors(engine, gw)),
            ("test_cancel", lambda: test_cancel(engine, gw)),
            ("test_digest_now", lambda: test_digest_now(engine, gw)),
        ])
    finally:
        engine.close()
        gw.stop()
    return h.finish(path, passed, failed_count)


if __name__ == "__main__":
    sys.exit(main())
