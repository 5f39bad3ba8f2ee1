"""The CLI's contract (SPEC §1) on real files: exit codes 0/1/2, problems
reported as `sunbeam: file:line: what`, bad rows skipped without losing the
others, and `publish` reporting each event. Needs no Kafka except the
publish case, which runs against the real broker."""
import json
import os
import re
import shutil
import subprocess
import sys

import harness as h

SOURCE = os.environ.get("SUNBEAM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*args, cwd=None, stdin=None):
    p = subprocess.run([h.SUNBEAM, *args], capture_output=True, text=True, cwd=cwd, input=stdin, timeout=120)
    return p.returncode, p.stdout, p.stderr


def copy_sample(path):
    shutil.copytree(os.path.join(SOURCE, "config", "sample"), os.path.join(path, "sample"))
    cfg = os.path.join(path, "sample", "sunbeam.yaml")
    with open(cfg, encoding="utf-8") as f:
        text = f.read()
    # The copy lives elsewhere: point its templates at the source tree's.
    text = re.sub(r"(?m)^templates:.*$", "templates: " + os.path.join(SOURCE, "templates", "messages"), text)
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text)
    return cfg


def test_usage_errors_exit_2():
    code, _, err = run("--no-such-flag")
    assert code == 2, (code, err)
    code, _, err = run("publish")  # FILE missing
    assert code == 2, (code, err)
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("sunbeam "), out


def test_check_accepts_the_sample(path):
    cfg = copy_sample(path)
    code, out, err = run("--config", cfg, "check")
    assert code == 0, err
    assert "ok" in out, out


def test_check_reports_every_problem_with_file_and_line(path):
    cfg = copy_sample(path)
    sample = os.path.dirname(cfg)
    with open(cfg, encoding="utf-8") as f:
        lines = f.read().split("\n")
    # Break the config twice: an unknown key and an unknown tier in a channel map.
    lines.insert(1, "colour: blue")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    code, _, err = run("--config", cfg, "check")
    assert code == 1, err
    assert re.search(r"sunbeam: .*sunbeam\.yaml:2: .*colour", err), err

    # A good config with a bad CSV row and a broken template.
    cfg = copy_sample(os.path.join(path, "again"))
    sample = os.path.dirname(cfg)
    with open(os.path.join(sample, "subscribers.csv"), "a", encoding="utf-8") as f:
        f.write("BAD1,坏行,gold,13800000000,,zh-CN,sms,,,\n")
    with open(os.path.join(sample, "subscribers.csv"), encoding="utf-8") as f:
        bad_line = sum(1 for _ in f)
    templates = os.path.join(path, "templates")
    shutil.copytree(os.path.join(SOURCE, "templates", "messages"), templates)
    with open(os.path.join(templates, "en", "notice.sms.mustache"), "w", encoding="utf-8") as f:
        f.write("Dear {{subscriber.name}}, {{#data}}unclosed\n")
    with open(cfg, encoding="utf-8") as f:
        text = re.sub(r"(?m)^templates:.*$", "templates: " + templates, f.read())
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text)
    code, _, err = run("--config", cfg, "check")
    assert code == 1, err
    assert re.search(rf"subscribers\.csv:{bad_line}: .*gold", err), err
    assert re.search(r"notice\.sms\.mustache(:\d+)?: ", err), err


def test_publish_reports_each_event(path):
    engine = h.Engine(path, subscribers=50)
    try:
        engine.start()
        events = [
            {"id": "cli-ok", "type": "notice", "occurred_at": "2026-11-25T08:00:00+08:00", "data": {"title": "ok"}},
            {"id": "cli-bad", "type": "notice", "occurred_at": "not a time"},
        ]
        body = "\n".join(json.dumps(e, ensure_ascii=False) for e in events)
        code, out, err = run("publish", "--api", engine.api, "-", stdin=body)
        assert code == 1, (code, out, err)
        assert "cli-ok: accepted" in out, out
        assert re.search(r"cli-bad: rejected: .*occurred_at", out), out
        code, out, _ = run("publish", "--api", engine.api, "-", stdin=json.dumps(events[0]))
        assert code == 0 and "cli-ok: duplicate" in out, out
        engine.wait_settled(["cli-ok"])
        code, out, err = run("status", "--api", engine.api, "cli-ok")
        assert code == 0, err
        assert "cli-ok" in out and "sent" in out, out
        code, _, err = run("status", "--api", engine.api, "no-such-event")
        assert code == 1 and "no-such-event" in err, err
    finally:
        engine.close()
    code, _, err = run("publish", "--api", "http://127.0.0.1:1", "-", stdin="{}")
    assert code == 1 and "cannot reach" in err, err


def main():
    path = h.workdir("cli")
    for sub in ("a", "b", "c"):
        os.makedirs(os.path.join(path, sub))
    passed, failed = h.run_tests([
        ("test_usage_errors_exit_2", test_usage_errors_exit_2),
        ("test_check_accepts_the_sample", lambda: test_check_accepts_the_sample(os.path.join(path, "a"))),
        ("test_check_reports_every_problem_with_file_and_line",
         lambda: test_check_reports_every_problem_with_file_and_line(os.path.join(path, "b"))),
        ("test_publish_reports_each_event", lambda: test_publish_reports_each_event(os.path.join(path, "c"))),
    ])
    return h.finish(path, passed, failed)


if __name__ == "__main__":
    sys.exit(main())
