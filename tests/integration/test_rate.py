"""A connector's `rate` holds at the sink: the outbox's own `sent_at` times
show the configured rate within 10% once the initial burst is spent."""
import sys
from datetime import datetime

import harness as h

RATE = 200
BURST = 10


def seconds(stamp):
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def main():
    path = h.workdir("rate")
    engine = h.Engine(path, subscribers=600, seed=5, rate=f"{RATE}/s", burst=BURST)
    failures = []
    try:
        engine.start()
        e = {"id": "it-rate-1", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00", "data": {"title": "限速"}}
        status, body = engine.publish(e)
        assert status == 202, body
        engine.wait_settled([e["id"]], timeout=120)
        times = sorted(seconds(l["sent_at"]) for l in engine.outbox_lines())
        n = len(times)
        measured = (n - BURST) / (times[-1] - times[BURST - 1]) if n > 2 * BURST else 0
        print(f"  {n} messages; configured {RATE}/s (burst {BURST}); measured {measured:.1f}/s after the burst")
        if n <= 2 * BURST:
            failures.append(f"too few messages ({n}) to measure a rate")
        elif abs(measured - RATE) > 0.1 * RATE:
            failures.append(f"measured {measured:.1f}/s is not within 10% of {RATE}/s")
    except AssertionError as err:
        failures.append(str(err))
    finally:
        engine.close()
    return h.conclude("rate", path, failures)


if __name__ == "__main__":
    sys.exit(main())
