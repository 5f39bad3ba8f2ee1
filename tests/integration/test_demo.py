"""The quickstart as a newcomer meets it: `sunbeam demo` on the embedded Kafka
with config/sample/ settles every sample event, prints the table and the
outbox path, and the outbox holds the right words for the right people."""
import json
import os
import re
import subprocess
import sys

import harness as h

SOURCE = os.environ.get("SUNBEAM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    failures = []
    p = subprocess.run([h.SUNBEAM, "demo", "--timeout", "120"], capture_output=True, text=True, cwd=SOURCE, timeout=300)
    print(p.stdout)
    if p.returncode != 0:
        failures.append(f"demo exited {p.returncode}: {p.stderr[-2000:]}")
    events = sorted(f for f in os.listdir(os.path.join(SOURCE, "config", "sample", "events")) if f.endswith(".json"))
    ids = [json.load(open(os.path.join(SOURCE, "config", "sample", "events", f), encoding="utf-8"))["id"] for f in events]
    for eid in ids:
        if eid not in p.stdout:
            failures.append(f"the table does not mention {eid}")
    m = re.search(r"(?m)^outbox: (.+)$", p.stdout)
    if not m:
        failures.append("the demo did not print the outbox path")
    else:
        with open(m.group(1), encoding="utf-8") as f:
            lines = [json.loads(l) for l in f if l.strip()]
        print(f"outbox: {len(lines)} messages")
        if not lines:
            failures.append("the outbox is empty")
        sms = [l for l in lines if l["channel"] == "sms"]
        if not all(l["body"].startswith("【阳光证券】") or l["body"].endswith("【阳光证券】") for l in sms):
            failures.append("an SMS lacks the configured signature")
        if any(l["channel"] == "email" and not l.get("subject") for l in lines):
            failures.append("an e-mail has no subject")
        keys = [(l["event_id"], l["account"], l["channel"]) for l in lines]
        if len(keys) != len(set(keys)):
            failures.append("a message was sent twice")
        # Run between the digest time and its cut-off (08:45-09:25 in Shanghai on a trading day),
        # the demo's new store catches today's digest up: its messages are `digest:<date>`.
        unpublished = {l["event_id"] for l in lines} - set(ids)
        if any(not re.fullmatch(r"digest:\d{4}-\d{2}-\d{2}", e) for e in unpublished):
            failures.append("the outbox holds messages of events the demo did not publish")
    for f in failures:
        print(f"FAIL demo: {f}")
    if not failures:
        print("PASS demo")
    h.summary_line(0 if failures else 1, 1 if failures else 0)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
