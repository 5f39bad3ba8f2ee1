"""The engine's group consumers are static members of their groups
(group.instance.id = kafka.instance_id, engine/kafka/consumer.h), on the real
broker. A second process started with the same instance id (a mistake: every
instance needs its own) takes the groups over: the first stops reading and its
log says why, naming kafka.instance_id; what is published afterwards is sent by
the second, once, and the first sends none of it, and answers 503 on /readyz.

(That a killed engine started again gets its partitions back at once, instead
of after the session timeout, is what makes this fencing happen; its speed is
measured in bench/, crash scenario, not asserted here.)"""
import os
import sys

import harness as h

SUBSCRIBERS = 60
FENCED = "joined its group as the same static member"
SENDING_GROUPS = ("fanout-consumer", "dispatch", "dispatch-urgent")  # client ids: <instance_id>-<group>#consumer-N


def notice(event_id):
    return {"id": event_id, "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00",
            "data": {"title": "系统升级通知"}}


def log_text(engine):
    engine.log.flush()
    with open(engine.log.name, encoding="utf-8", errors="replace") as f:
        return f.read()


def main():
    path = h.workdir("static-member")
    first_dir, second_dir = os.path.join(path, "first"), os.path.join(path, "second")
    os.makedirs(first_dir)
    os.makedirs(second_dir)
    first = h.Engine(first_dir, subscribers=SUBSCRIBERS, seed=5)
    second = h.Engine(second_dir, subscribers=SUBSCRIBERS, seed=5)
    # The same topics and instance id as the first; its own port, store and outbox.
    second.prefix = first.prefix
    with open(second.config, "w", encoding="utf-8") as f:
        f.write(second._yaml())
    before, after = notice("it-static-before"), notice("it-static-after")
    failures = []
    try:
        first.start()
        status, body = first.publish([before])
        assert status == 202, body
        first.wait_settled([before["id"]], timeout=120)
        sent_before = len(first.outbox_lines())
        expected_before = sum(h.oracle(before, first.subs, first.holdings, first.watch).values())
        if sent_before != expected_before:
            failures.append(f"the first engine sent {sent_before} of {expected_before} before the second started")

        second.start()

        def fenced_lines():
            return [line for line in log_text(first).splitlines() if FENCED in line]

        # Each member learns it was replaced at its next request to the group
        # (a heartbeat a second): until then it may still fetch. So the event
        # is published once the members that send are fenced.
        h.wait("the first engine's fanout and dispatch consumers to log that they were fenced",
               lambda: all(any(f"-engine-{group}#" in line for line in fenced_lines()) for group in SENDING_GROUPS),
               timeout=60)
        fenced_lines = fenced_lines()
        if not all("kafka.instance_id" in line for line in fenced_lines):
            failures.append(f"the fencing message does not name kafka.instance_id: {fenced_lines[0]}")
        print(f"  the first engine logged {len(fenced_lines)} fenced consumer(s), e.g. {fenced_lines[0][:160]}")
        ready_status, ready = first.request("GET", "/readyz", token=None)
        if ready_status != 503 or "kafka.instance_id" not in (ready or {}).get("why", ""):
            failures.append(f"the fenced engine's /readyz answered {ready_status} {ready}, not 503 naming kafka.instance_id")
        ready_status, ready = second.request("GET", "/readyz", token=None)
        if ready_status != 200:
            failures.append(f"the second engine's /readyz answered {ready_status} {ready}")

        status, body = second.publish([after])
        assert status == 202, body
        second.wait_settled([after["id"]], timeout=120)
        expected_after = sum(h.oracle(after, second.subs, second.holdings, second.watch).values())
        by_second = [m for m in second.outbox_lines() if m.get("event_id") == after["id"]]
        by_first = [m for m in first.outbox_lines() if m.get("event_id") == after["id"]]
        ids = [m.get("delivery_id") for m in by_second]
        if len(by_second) != expected_after or len(set(ids)) != len(ids):
            failures.append(f"the second engine sent {len(by_second)} ({len(set(ids))} distinct) "
                            f"of {expected_after} deliveries of the event published to it")
        if by_first:
            failures.append(f"the fenced engine still sent {len(by_first)} deliveries")
        print(f"  after the takeover: {len(by_second)} of {expected_after} sent by the second, "
              f"{len(by_first)} by the first")
    except AssertionError as e:
        failures.append(str(e))
    finally:
        for engine in (second, first):
            try:
                engine.close()
            except AssertionError as e:
                failures.append(str(e))
    return h.conclude("static_member", path, failures)


if __name__ == "__main__":
    sys.exit(main())
