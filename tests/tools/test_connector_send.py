"""connector_send, checked with the outbox kind (no server): every message
comes back as one outcome line and lands in the outbox once; bad input, an
unknown connector and a bad config exit 1 and say where, sending nothing.

Stdlib only; run by ctest as tools.connector_send.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

TOOL = os.environ.get("CONNECTOR_SEND", "connector_send")


def write_config(directory, concurrency=3, extra=""):
    os.makedirs(os.path.join(directory, "templates"), exist_ok=True)
    with open(os.path.join(directory, "subscribers.csv"), "w", encoding="utf-8") as f:
        f.write("account_id,name,tier,mobile,email,locale,channels,quiet_hours,timezone,opt_out\n")
    path = os.path.join(directory, "sunbeam.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join([
            "tiers: [basic]",
            "event_types:",
            "  notice: { audience: all, channels: { basic: [sms] } }",
            "templates: templates",
            "connectors:",
            "  - name: audit",
            "    kind: outbox",
            "    dir: outbox",
            f"    concurrency: {concurrency}",
            "routing:",
            "  sms: { connector: audit }",
            "directory: { subscribers: subscribers.csv }",
            extra,
            "",
        ]))
    return path


def run(config, connector, stdin):
    return subprocess.run([TOOL, "--config", config, "--connector", connector], input=stdin.encode("utf-8"),
                          capture_output=True, timeout=30)


def message(i, channel="sms"):
    m = {"delivery_id": f"d{i}", "event_id": "e1", "account": f"A{i}", "channel": channel, "parts": 1}
    if channel == "sms":
        m.update(to=f"+86138000000{i:02d}", body=f"【测试证券】第{i}条", encoding="ucs2")
    else:
        m.update(to=f"user{i}@example.com", subject=f"Subject {i}", body=f"text {i}", html=f"<p>{i}</p>")
    return m


def outbox_lines(directory):
    path = os.path.join(directory, "outbox", "audit.ndjson")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_sends_everything(directory, failures):
    config = write_config(directory)
    msgs = [message(i, "sms" if i % 2 else "email") for i in range(1, 8)]
    stdin = "\n".join(json.dumps(m, ensure_ascii=False) for m in msgs[:4]) + "\n\n" + \
        "\n".join(json.dumps(m, ensure_ascii=False) for m in msgs[4:]) + "\n"
    r = run(config, "audit", stdin)
    if r.returncode != 0:
        failures.append(f"exit {r.returncode}, stderr: {r.stderr.decode()}")
        return
    outcomes = [json.loads(line) for line in r.stdout.decode().splitlines()]
    if sorted(o["delivery_id"] for o in outcomes) != sorted(m["delivery_id"] for m in msgs):
        failures.append(f"outcomes name {[o['delivery_id'] for o in outcomes]}, not each message once")
    for o in outcomes:
        expected = {"delivery_id", "accepted", "failure", "gateway_message_id", "error"}
        if set(o) != expected:
            failures.append(f"outcome fields {sorted(o)} are not {sorted(expected)}")
        elif not (o["accepted"] is True and o["failure"] == "none" and o["error"] == ""):
            failures.append(f"outbox did not accept {o}")
    sent = {line["delivery_id"]: line for line in outbox_lines(directory)}
    if len(sent) != len(msgs) or len(outbox_lines(directory)) != len(msgs):
        failures.append(f"outbox has {len(outbox_lines(directory))} lines for {len(msgs)} messages")
    for m in msgs:
        got = sent.get(m["delivery_id"])
        if got is None:
            continue
        for key in ("to", "body", "channel", "account", "event_id"):
            if got.get(key) != m[key]:
                failures.append(f"{m['delivery_id']}.{key}: outbox has {got.get(key)!r}, sent {m[key]!r}")
        if m["channel"] == "email" and got.get("subject") != m["subject"]:
            failures.append(f"{m['delivery_id']}.subject: outbox has {got.get('subject')!r}")


def expect_refusal(name, r, says, failures):
    err = r.stderr.decode()
    if r.returncode != 1:
        failures.append(f"{name}: exit {r.returncode}, expected 1 (stderr: {err})")
    if says not in err:
        failures.append(f"{name}: stderr does not say {says!r}: {err!r}")
    if r.stdout:
        failures.append(f"{name}: printed outcomes although nothing should be sent: {r.stdout.decode()!r}")


def test_bad_input(directory, failures):
    config = write_config(directory)
    good = json.dumps(message(1), ensure_ascii=False)
    cases = [
        ("bad channel", [good, good.replace('"sms"', '"fax"')], "stdin:2: channel must be"),
        ("not JSON", [good, good, "{oops"], "stdin:3: not JSON"),
        ("unknown field", [json.dumps({**message(1), "bodyy": "x"})], "stdin:1: unknown field \"bodyy\""),
        ("no recipient", [json.dumps({"delivery_id": "d9", "body": "x"})], "stdin:1: to is missing"),
        ("parts not a number", [json.dumps({**message(1), "parts": "3"})], "stdin:1: parts must be"),
    ]
    for name, lines, says in cases:
        expect_refusal(name, run(config, "audit", "\n".join(lines) + "\n"), says, failures)
    if outbox_lines(directory):
        failures.append("bad input sent messages; it must send nothing")
    expect_refusal("unknown connector", run(config, "nope", good + "\n"), 'no connector is named "nope"', failures)
    bad = write_config(directory, extra="bogus_section: 1")
    expect_refusal("bad config", run(bad, "audit", good + "\n"), "sunbeam.yaml:", failures)


def main():
    base = os.environ.get("SUNBEAM_TEST_TMP") or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    failed = 0
    for name, test in (("sends_everything", test_sends_everything), ("bad_input", test_bad_input)):
        directory = os.path.join(base, f"connector-send-{name}-{uuid.uuid4().hex[:6]}")
        os.makedirs(directory)
        failures = []
        test(directory, failures)
        for f in failures:
            print(f"FAIL {name}: {f}")
        if failures:
            failed += 1
            print(f"  files kept in {directory}")
        else:
            print(f"PASS {name}")
            shutil.rmtree(directory, ignore_errors=True)
    print(f"{2 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
