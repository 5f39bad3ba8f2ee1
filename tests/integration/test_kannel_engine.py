"""The whole engine against a real Kannel, delivery reports end to end.

`sunbeam run` on the real Kafka broker (ctest's `kafka` fixture) routes SMS to
a `kannel` connector whose endpoint is the `kannel` fixture's sendsms (Kannel
1.4.5: bearerbox, smsbox, the fake SMSC; see scripts/kannel) and e-mail to an
outbox. The connector's dlr-url is the engine's own receipts endpoint, guarded
by a receipt_secret read from the environment. Two notices go to a directory of
50: a short one (one UCS-2 part) and a long one (three parts).

Checked:
- every expected SMS reached the fake SMSC exactly once, whole (parts
  reassembled), with the right text, sender and recipient; nothing else did;
- Kannel's reports (one type 8 and one type 1 per message, not per part) went
  through the engine's endpoint onto the receipts topic, and dispatch matched
  them: every SMS ends `delivered`, none is left `sent`, in GET
  /v1/events/{id} and `sunbeam status`; the status records of each delivery
  carry its parts (3 for the long text), the gateway id being the delivery id;
- the e-mails went to the outbox as the oracle says;
- a receipt with a wrong or missing secret gets 401 and reaches nothing; a
  receipt naming an unknown ref is accepted (202), logged, and changes
  nothing; a late contrary receipt (type 2 for a delivered SMS) changes nothing.

Stdlib Python plus kcat (to read topics). Every wait is bounded; the only
process started here is the engine, and it is stopped here.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
# Concatenated parts are put together, and UCS-2 counted, as the connector-level test does.
from test_kannel import RECEIVED, SENDSMS, reassemble, received_parts, ucs2_parts, wait_until  # noqa: E402

SUBSCRIBERS = 50
CONNECTOR = "kannel"
SENDER = "10690123"
SECRET_VAR = "SUNBEAM_TEST_KANNEL_RECEIPT_SECRET"
SHORT = {"id": "ke-short", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00",
         "data": {"title": "元旦休市安排"}}
# ~140 UCS-2 units of title: with the signature, locale, name and event id
# every subscriber's text is 3 parts (135..201 units).
LONG = {"id": "ke-long", "type": "notice", "occurred_at": "2026-11-25T10:00:00+08:00",
        "data": {"title": "风险提示：" + "您关注的证券今日盘中出现异常波动，请及时查阅公司公告，审慎评估持仓风险，理性投资。" * 3
                 + "详情请登录APP查看。"}}
EVENTS = [SHORT, LONG]
EXPECTED_PARTS = {SHORT["id"]: 1, LONG["id"]: 3}


def kannel_connectors(engine):
    receipts = f"{engine.api}/v1/receipts/{CONNECTOR}"
    return "\n".join([
        "connectors:",
        f"  - name: {CONNECTOR}",
        "    kind: kannel",
        f"    endpoint: {SENDSMS}",
        "    username: tester",
        "    password: ${SUNBEAM_KANNEL_PASSWORD}",
        f"    sender: \"{SENDER}\"",
        f"    dlr_url: {receipts}",
        f"    receipt_secret: ${{{SECRET_VAR}}}",
        "    concurrency: 4",
        "    timeout: 10s",
        "    retry: { max_attempts: 5, initial_backoff: 200ms, max_backoff: 1s, max_age: 1m }",
        "  - name: outbox",
        "    kind: outbox",
        "    dir: outbox",
        "routing:",
        f"  sms: {{ connector: {CONNECTOR} }}",
        "  email: { connector: outbox }",
    ]) + "\n"


def read_topic(engine, topic, fmt):
    """Every record of one of the engine's topics, to its current end."""
    out = subprocess.run(["kcat", "-C", "-b", h.BROKERS, "-t", engine.prefix + topic, "-e", "-q",
                          "-X", "isolation.level=read_committed", "-f", fmt],
                         capture_output=True, timeout=60, text=True)
    if out.returncode != 0:
        raise AssertionError(f"kcat could not read {engine.prefix}{topic}: {out.stderr.strip()}")
    return [line for line in out.stdout.split("\n") if line.strip()]


def status_records(engine):
    records = [json.loads(line) for line in read_topic(engine, "status", "%s\n")]
    return [r for r in records if r.get("record") == "delivery"]


def receipt_records(engine):
    """(partition, offset, record) for every receipt on the receipts topic."""
    out = []
    for line in read_topic(engine, "receipts", "%p\t%o\t%s\n"):
        p, o, value = line.split("\t", 2)
        out.append((int(p), int(o), json.loads(value)))
    return out


def receipt_get(engine, query, bearer=None):
    """A GET of the receipts endpoint as Kannel makes it: (status, JSON body)."""
    req = urllib.request.Request(f"{engine.api}/v1/receipts/{CONNECTOR}?{urllib.parse.urlencode(query)}",
                                 headers={"User-Agent": "Kannel/1.4.5"})
    if bearer is not None:
        req.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def sms_totals(status):
    """The status counts of the SMS groups only (totals mix both channels)."""
    t = Counter()
    for g in status["groups"]:
        if g["channel"] == "sms":
            t.update({k: v for k, v in g.items() if isinstance(v, int)})
    return t


def engine_log(engine):
    engine.log.flush()
    with open(engine.log.name, encoding="utf-8", errors="replace") as f:
        return f.read()


def wait_ignored(engine, ref, timeout=30):
    """Dispatch logs each receipt it could not match (dispatch_role.cpp
    poll_receipts); its line is how we know the receipt was processed."""
    wait_until(f"dispatch to log the receipt for unknown ref {ref} as ignored",
               lambda: f'no delivery matches reference "{ref}"' in engine_log(engine), timeout)


def partition_count(engine, topic):
    out = subprocess.run(["kcat", "-L", "-b", h.BROKERS, "-t", engine.prefix + topic],
                         capture_output=True, timeout=30, text=True)
    m = re.search(r"with (\d+) partitions", out.stdout)
    if not m:
        raise AssertionError(f"kcat -L did not say how many partitions {engine.prefix}{topic} has: {out.stdout}{out.stderr}")
    return int(m.group(1))


def unknown_ref_on(engine, partition, secret, bearer=False):
    """Posts a receipt for an unknown ref, the secret in the query or as a
    bearer token; with a `partition`, until one lands there on the receipts
    topic (keyed by ref: librdkafka's default partitioner hashes the key with
    CRC-32, so a ref that hashes there is tried; kcat confirms where it went).
    Returns (ref, offset, the endpoint's answer)."""
    n = partition_count(engine, "receipts")
    for _ in range(12):
        ref = f"no-such-delivery-{uuid.uuid4().hex[:12]}"
        while partition is not None and zlib.crc32(ref.encode()) % n != partition:
            ref = f"no-such-delivery-{uuid.uuid4().hex[:12]}"
        query = {"ref": ref, "type": "1", "smsc": "FAKE", "fid": "", "answer": ""}
        if bearer:
            status, body = receipt_get(engine, query, bearer=secret)
        else:
            status, body = receipt_get(engine, dict(query, secret=secret))
        if status != 202:
            raise AssertionError(f"a receipt for unknown ref {ref} got {status} {body}, expected 202")
        landed = [(p, o) for p, o, r in receipt_records(engine) if r["reference"] == ref]
        if len(landed) != 1:
            raise AssertionError(f"the receipt for unknown ref {ref} is on the receipts topic {len(landed)} times")
        if partition is None or landed[0][0] == partition:
            return ref, landed[0][1], body
    raise AssertionError(f"no receipt for an unknown ref landed on partition {partition} in 12 tries")


def main():
    h.require_broker()
    if not shutil.which("kcat"):
        raise SystemExit("kcat is missing (it reads the status and receipts topics): run scripts/deps --test")
    if not (SENDSMS and RECEIVED and os.environ.get("SUNBEAM_KANNEL_PASSWORD")):
        raise SystemExit("SUNBEAM_TEST_KANNEL_SENDSMS, SUNBEAM_TEST_KANNEL_RECEIVED and SUNBEAM_KANNEL_PASSWORD are not"
                         " set: run through ctest, whose kannel and kafka fixtures start Kannel and the broker")
    # The engine inherits this process's environment: the secret reaches its
    # config through ${SUNBEAM_TEST_KANNEL_RECEIPT_SECRET}.
    secret = uuid.uuid4().hex
    os.environ[SECRET_VAR] = secret

    path = h.workdir("kannel-engine")
    engine = h.Engine(path, subscribers=SUBSCRIBERS, connectors="")  # connectors once the API port is known
    engine.connectors = kannel_connectors(engine)
    with open(engine.config, "w", encoding="utf-8") as f:
        f.write(engine._yaml())

    expected = {}  # delivery id -> (event id, account, receiver, text)
    expected_email = Counter()
    for e in EVENTS:
        mobile = {s["account_id"]: s["mobile"] for s in engine.subs}
        for (account, channel, text), n in h.oracle(e, engine.subs, engine.holdings, engine.watch).items():
            assert n == 1
            if channel == "sms":
                expected[h.delivery_id(e["id"], account, "sms")] = (e["id"], account, "+86" + mobile[account], text)
            else:
                expected_email[(account, channel, text)] += 1
    for did, (eid, account, _, text) in expected.items():
        if ucs2_parts(text) != EXPECTED_PARTS[eid]:
            raise SystemExit(f"test data: {account}'s SMS of {eid} is {ucs2_parts(text)} UCS-2 parts,"
                             f" not {EXPECTED_PARTS[eid]}: adjust the titles")
    n_sms = {e["id"]: sum(1 for v in expected.values() if v[0] == e["id"]) for e in EVENTS}
    expected_parts = sum(EXPECTED_PARTS[v[0]] for v in expected.values())
    print(f"  {SUBSCRIBERS} subscribers; expected SMS {n_sms} ({expected_parts} parts at the SMSC),"
          f" e-mails {sum(expected_email.values())}")

    offset = os.path.getsize(RECEIVED) if os.path.exists(RECEIVED) else 0
    failures = []
    started = time.time()
    try:
        engine.start()
        print(f"  engine ready in {time.time() - started:.1f} s")
        status, body = engine.publish(EVENTS)
        if status != 202 or [r["status"] for r in body["results"]] != ["accepted"] * len(EVENTS):
            raise AssertionError(f"publish answered {status} {body}")
        published = time.time()

        # 1. What the fake SMSC got: one line per part.
        got = wait_until(f"{expected_parts} parts at the fake SMSC",
                         lambda: (lambda r: r if len(r) >= expected_parts else None)(received_parts(offset)), 30)
        print(f"  fake SMSC: {len(got)} parts in {time.time() - published:.1f} s")
        by_receiver = {}
        for _, g in got:
            by_receiver.setdefault(g[0], []).append(g)
        wanted = {}
        for did, (eid, account, receiver, text) in expected.items():
            wanted.setdefault(receiver, Counter())[(text, EXPECTED_PARTS[eid])] += 1
        for receiver, items in sorted(by_receiver.items()):
            if receiver not in wanted:
                failures.append(f"the fake SMSC got {len(items)} part(s) for {receiver}, whom nobody sent to")
                continue
            try:
                texts = Counter(reassemble(items, "ucs2"))
            except AssertionError as err:
                failures.append(f"{receiver}: {err}")
                continue
            if texts != wanted[receiver]:
                failures.append(f"{receiver}: got {dict(texts)}, expected once each {dict(wanted[receiver])}")
            kinds = Counter(g[1] for g in items)
            if set(kinds) - {"udh", "ucs-2"}:
                failures.append(f"{receiver}: parts sent as {dict(kinds)}, expected UCS-2 (coding=2) only")
        for receiver in sorted(set(wanted) - set(by_receiver)):
            failures.append(f"{receiver}: nothing arrived, expected {dict(wanted[receiver])}")
        senders = Counter(sender for sender, _ in got)
        if set(senders) != {SENDER}:
            failures.append(f"parts came from senders {dict(senders)}, expected all from {SENDER}")

        # 2. Delivered, through Kannel's reports, the endpoint, Kafka and dispatch.
        def all_delivered():
            st = {e["id"]: engine.status(e["id"]) for e in EVENTS}
            if all(s and s["settled"] and sms_totals(s)["delivered"] == n_sms[eid] for eid, s in st.items()):
                return st
            return None

        try:
            st = wait_until("every SMS delivered in the event status", all_delivered, 30)
        except AssertionError as err:
            st = {e["id"]: engine.status(e["id"]) for e in EVENTS}
            raise AssertionError(f"{err}; SMS counts now: "
                                 + "; ".join(f"{eid}: {dict(sms_totals(s)) if s else None}" for eid, s in st.items()))
        print(f"  all delivered {time.time() - published:.1f} s after publishing")
        for e in EVENTS:
            s, t = st[e["id"]], sms_totals(st[e["id"]])
            print(f"  {e['id']}: SMS planned {t['planned']} suppressed {t['suppressed']} sent {t['sent']} delivered {t['delivered']}"
                  f" undelivered {t['undelivered']} failed {t['failed']}; totals {json.dumps(s['totals'])}")
            # `planned` counts what fanout decided on, refusals (opt-outs) included.
            if (t["planned"] - t["suppressed"] != n_sms[e["id"]] or t["delivered"] != n_sms[e["id"]] or t["sent"]
                    or t["failed"] or t["undelivered"] or t["waiting"]):
                failures.append(f"{e['id']}: SMS counts {dict(t)}: expected {n_sms[e['id']]} to send, all delivered,"
                                " none left sent")
            email = s["totals"]["sent"] - t["sent"]
            want = sum(n for (a, ch, text), n in expected_email.items() if f"|{e['id']}|" in text)
            if email != want:
                failures.append(f"{e['id']}: {email} e-mails sent, expected {want}")

        # `sunbeam status` says the same as the API.
        cli = subprocess.run([h.SUNBEAM, "--config", engine.config, "status", "--api", engine.api, "--json", LONG["id"]],
                             capture_output=True, text=True, timeout=30)
        if cli.returncode != 0:
            failures.append(f"sunbeam status exited {cli.returncode}: {cli.stderr.strip()}")
        elif sms_totals(json.loads(cli.stdout))["delivered"] != n_sms[LONG["id"]]:
            failures.append(f"sunbeam status --json disagrees with the API: {cli.stdout.strip()}")
        table = subprocess.run([h.SUNBEAM, "--config", engine.config, "status", "--api", engine.api, LONG["id"]],
                               capture_output=True, text=True, timeout=30)
        print("  sunbeam status " + LONG["id"] + ":\n" + "\n".join("    " + l for l in table.stdout.splitlines()))

        # 3. The records behind the counts: per SMS one `sent` and one
        # `delivered`, both with the parts; the gateway id is our delivery id.
        records = status_records(engine)
        by_delivery = {}
        for r in records:
            by_delivery.setdefault(r["delivery_id"], []).append(r)
        parts_seen = Counter()
        for did, (eid, account, _, _) in expected.items():
            rs = by_delivery.get(did, [])
            states = Counter(r["state"] for r in rs)
            if states != Counter({"sent": 1, "delivered": 1}):
                failures.append(f"{eid}/{account}: status records {dict(states)}, expected one sent and one delivered")
                continue
            for r in rs:
                if r.get("parts") != EXPECTED_PARTS[eid] or r.get("connector") != CONNECTOR:
                    failures.append(f"{eid}/{account}: {r['state']} record has parts {r.get('parts')} via"
                                    f" {r.get('connector')}, expected {EXPECTED_PARTS[eid]} via {CONNECTOR}")
                parts_seen[(eid, r["state"], r.get("parts"))] += 1
            delivered = next(r for r in rs if r["state"] == "delivered")
            if not delivered.get("reason", "").startswith("delivered"):  # the type-1 report's words
                failures.append(f"{eid}/{account}: delivered with reason {delivered.get('reason')!r}, expected Kannel's"
                                " type-1 report (\"delivered\")")
            sent = next(r for r in rs if r["state"] == "sent")
            if sent.get("gateway_message_id") != did:
                failures.append(f"{eid}/{account}: gateway_message_id {sent.get('gateway_message_id')!r}, expected {did}")
        print(f"  status records (event, state, parts): {dict(sorted(parts_seen.items()))}")

        # Kannel's reports as the endpoint stored them: one pending (type 8)
        # and one delivered (type 1) per message. The 8 may come after the 1.
        def reports_complete():
            recs = receipt_records(engine)
            per = {}
            for _, _, r in recs:
                per.setdefault(r["reference"], Counter())[r["outcome"]] += 1
            return per if all(per.get(did, Counter())["pending"] >= 1 for did in expected) else None

        try:
            per = wait_until("a type-8 report for every SMS on the receipts topic", reports_complete, 20)
        except AssertionError as err:
            failures.append(str(err))
            per = {}
            for _, _, r in receipt_records(engine):
                per.setdefault(r["reference"], Counter())[r["outcome"]] += 1
        wrong = {did: dict(c) for did, c in per.items() if did in expected and c != Counter({"pending": 1, "delivered": 1})}
        if wrong:
            failures.append(f"{len(wrong)} SMS did not get exactly one type 8 and one type 1 report,"
                            f" e.g. {list(wrong.items())[:3]}")
        strangers = sorted(set(per) - set(expected))
        if strangers:
            failures.append(f"receipts for refs that are none of ours: {strangers[:5]}")
        print(f"  receipts topic: {sum(sum(c.values()) for c in per.values())} reports for {len(per)} SMS")

        # 4. E-mail went to the outbox.
        got_email = Counter((l["account"], l["channel"], l["body"].strip()) for l in engine.outbox_lines())
        if got_email != expected_email:
            failures.append(f"outbox: missing {sum((expected_email - got_email).values())},"
                            f" unexpected {sum((got_email - expected_email).values())}")

        # 5. The endpoint's guard and its unknown refs.
        target = next(iter(did for did, v in expected.items() if v[0] == LONG["id"]))
        before = {e["id"]: engine.status(e["id"])["groups"] for e in EVENTS}
        stray = f"wrong-secret-{uuid.uuid4().hex[:12]}"
        for how, kwargs in (("a wrong secret", {"query": {"ref": stray, "type": "2", "secret": "not-" + secret}}),
                            ("no secret", {"query": {"ref": stray, "type": "2"}}),
                            ("a wrong bearer token", {"query": {"ref": stray, "type": "2"}, "bearer": "not-" + secret})):
            code, body = receipt_get(engine, **kwargs)
            print(f"  receipt with {how}: {code} {json.dumps(body, ensure_ascii=False)}")
            if code != 401:
                failures.append(f"a receipt with {how} got {code} {body}, expected 401")

        # A late, contrary report for a delivered SMS: accepted by the
        # endpoint (it cannot know), ignored by dispatch (settled once).
        code, body = receipt_get(engine, {"ref": target, "type": "2", "smsc": "FAKE", "fid": "", "answer": "late",
                                          "secret": secret})
        print(f"  late type-2 receipt for a delivered SMS: {code} {json.dumps(body)}")
        if code != 202:
            failures.append(f"a late receipt for a delivered SMS got {code} {body}, expected 202")
        late = [(p, o) for p, o, r in receipt_records(engine) if r["reference"] == target and r["outcome"] == "undelivered"]
        if len(late) != 1:
            raise AssertionError(f"the late receipt is on the receipts topic {len(late)} times, expected once")
        # An unknown ref behind it on the same partition: once dispatch logs
        # that one as ignored, it has applied the late one (one partition is
        # read in order). A second unknown ref, posted after that log line,
        # is in a later poll, so once it is logged too, whatever the first
        # poll produced is flushed to the status topic.
        ref1, off1, body1 = unknown_ref_on(engine, late[0][0], secret)
        print(f"  receipt for unknown ref {ref1}: 202 {json.dumps(body1)} (partition {late[0][0]},"
              f" offsets {late[0][1]} then {off1})")
        if off1 <= late[0][1]:
            raise AssertionError(f"unknown ref {ref1} at offset {off1}, not after the late receipt's {late[0][1]}")
        wait_ignored(engine, ref1)
        ref2, _, _ = unknown_ref_on(engine, None, secret, bearer=True)
        wait_ignored(engine, ref2)
        print(f"  dispatch logged both unknown refs as ignored ({ref1}, {ref2}; the second sent as a bearer token)")

        after_records = [r for r in status_records(engine) if r["delivery_id"] == target]
        if [r["state"] for r in after_records if r["state"] not in ("sent", "delivered")] or len(after_records) != 2:
            failures.append(f"the late receipt changed the delivery's records: {[r['state'] for r in after_records]}")
        if len(status_records(engine)) != len(records):
            failures.append(f"status records went from {len(records)} to {len(status_records(engine))}"
                            " after the stray receipts")
        if any(r["reference"] == stray for _, _, r in receipt_records(engine)):
            failures.append("a receipt refused with 401 reached the receipts topic")
        after = {e["id"]: engine.status(e["id"])["groups"] for e in EVENTS}
        if after != before:
            failures.append(f"the event status changed after the stray receipts: {before} -> {after}")
        if f'"{stray}"' in engine_log(engine):
            failures.append("dispatch saw a receipt that the endpoint refused with 401")
        # Nothing arrived at the SMSC twice, however late.
        if len(received_parts(offset)) != expected_parts:
            failures.append(f"the fake SMSC got {len(received_parts(offset))} parts in all, expected {expected_parts}")
        print(f"  whole scenario {time.time() - started:.1f} s")
    except AssertionError as err:
        failures.append(str(err))
    finally:
        try:
            code = engine.stop()
            if code != 0:
                failures.append(f"sunbeam run exited {code} on SIGTERM; see {engine.log.name}")
        except AssertionError as err:
            failures.append(str(err))
        finally:
            engine.log.close()
    return h.conclude("kannel_engine", path, failures)


if __name__ == "__main__":
    sys.exit(main())
