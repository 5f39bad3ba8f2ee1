"""The smtp connector against a real SMTP server: tests/support/smtp_sink.py
(aiosmtpd) keeps every mail it accepts, and this test reads each one with
Python's `email` package as a mail client would.

Mails go through the real connector by way of tests/tools/connector_send
(NDJSON OutboundMessages in, one outcome per message out), with a generated
config naming one smtp connector per server set-up:
  plain     Chinese subject and body, a long HTML line, folding, a "." line,
            header injection through the subject and through `to`, a
            recipient the server refuses (550), and connection reuse
  auth      AUTH with the password from an environment variable; a wrong one
  tls       STARTTLS required, the server's throwaway self-signed certificate
            trusted through ca_file, or through tls_verify: false; refused
            when neither
  tempfail  the server answers every 2nd DATA with 451: retryable

Stdlib only; the sink runs under /usr/bin/python3 (aiosmtpd is a Debian
package). Every wait is bounded and every server started is stopped.
"""
import email
import email.policy
import json
import os
import re
import subprocess
import sys
import time
import uuid

import harness as h

SOURCE = os.environ.get("SUNBEAM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CONNECTOR_SEND = os.environ.get("CONNECTOR_SEND", "connector_send")
SYSTEM_PYTHON = os.environ.get("SUNBEAM_SYSTEM_PYTHON", "/usr/bin/python3")
SINK = os.path.join(SOURCE, "tests", "support", "smtp_sink.py")
FROM_NAME = "阳光证券 研究所"
FROM_ADDRESS = "research@sunbeam.example"
MID_DOMAIN = "mail.sunbeam.example"
PASSWORD_VAR = "SUNBEAM_TEST_SMTP_PASSWORD"
EVIL = "evil@evil.example"


class Sink:
    """One smtp_sink.py process; its mails are in `self.dir`."""

    def __init__(self, workdir, name, *args):
        self.dir = os.path.join(workdir, name)
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc, self.port = h.start_listening(
            [SYSTEM_PYTHON, SINK, "--port", "0", "--dir", self.dir, "--lifetime", "300", *args], self.log,
            f"smtp_sink {name}")

    def stop(self):
        h.stop_process(self.proc)
        self.log.close()

    def mails(self):
        """Message-ID -> (envelope, parsed message, raw bytes)."""
        out = {}
        if not os.path.isdir(self.dir):
            return out
        for f in sorted(os.listdir(self.dir)):
            if not f.endswith(".json"):
                continue
            n = f[:-5]
            with open(os.path.join(self.dir, f)) as j:
                envelope = json.load(j)
            with open(os.path.join(self.dir, n + ".eml"), "rb") as e:
                raw = e.read()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            out[str(msg["Message-ID"])] = (envelope, msg, raw)
        return out

    def refusals(self):
        return h.read_ndjson(os.path.join(self.dir, "refusals.ndjson"))


def write_config(workdir, connectors):
    """A config whose connectors are `connectors` (name -> dict of keys)."""
    os.makedirs(os.path.join(workdir, "templates"), exist_ok=True)
    with open(os.path.join(workdir, "subscribers.csv"), "w", encoding="utf-8") as f:
        f.write("account_id,name,tier,mobile,email,locale,channels,quiet_hours,timezone,opt_out\n")
    lines = ["tiers: [basic]", "event_types:", "  notice: { audience: all, channels: { basic: [email] } }",
             "templates: templates", "connectors:"]
    for name, keys in connectors.items():
        lines.append(f"  - name: {name}")
        lines.append("    kind: smtp")
        for k, v in keys.items():
            lines.append(f"    {k}: {json.dumps(v, ensure_ascii=False)}")
    lines += ["routing:", f"  email: {{ connector: {next(iter(connectors))} }}",
              "directory: { subscribers: subscribers.csv }", ""]
    path = os.path.join(workdir, "sunbeam.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return path


def smtp_connector(sink, **keys):
    c = {"endpoint": f"smtp://127.0.0.1:{sink.port}", "from": f"{FROM_NAME} <{FROM_ADDRESS}>",
         "message_id_domain": MID_DOMAIN, "timeout": "20s", "concurrency": 4}
    c.update(keys)
    return c


def send(config, connector, messages, env_extra=None):
    """Runs connector_send; returns {delivery_id: outcome} and its stderr."""
    env = dict(os.environ)
    env.update(env_extra or {})
    stdin = "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages)
    p = subprocess.run([CONNECTOR_SEND, "--config", config, "--connector", connector], input=stdin.encode("utf-8"),
                       capture_output=True, timeout=120, env=env)
    out, err = p.stdout.decode("utf-8"), p.stderr.decode("utf-8")
    assert p.returncode == 0, f"connector_send --connector {connector} exited {p.returncode}: {err[-2000:]}"
    outcomes = {}
    for line in out.splitlines():
        o = json.loads(line)
        assert o["delivery_id"] not in outcomes, f"two outcomes for {o['delivery_id']}"
        outcomes[o["delivery_id"]] = o
    assert set(outcomes) == {m["delivery_id"] for m in messages}, \
        f"outcomes for {sorted(outcomes)}, sent {sorted(m['delivery_id'] for m in messages)}"
    return outcomes, out + err


def mail(to, subject, body, html=""):
    return {"delivery_id": uuid.uuid4().hex, "event_id": "e-smtp", "account": "A1", "channel": "email",
            "to": to, "subject": subject, "body": body, "html": html}


def message_id(m):
    return f"<{m['delivery_id']}@{MID_DOMAIN}>"


def lf(text):
    return text.replace("\r\n", "\n")


def check_accepted(outcomes, m):
    o = outcomes[m["delivery_id"]]
    assert o["accepted"] and o["failure"] == "none", f"{m['delivery_id']} to {m['to']!r} was not accepted: {o}"
    assert o["gateway_message_id"] == message_id(m), f"gateway_message_id {o['gateway_message_id']}"


def check_arrived(mails, m, shown_subject=None, auth=None, tls=False):
    """The mail for `m` arrived once and reads, in a mail client, as sent."""
    mid = message_id(m)
    assert mid in mails, f"no mail with Message-ID {mid} arrived"
    envelope, msg, raw = mails[mid]
    assert envelope["rcpt_tos"] == [m["to"]], f"envelope recipients {envelope['rcpt_tos']}"
    assert envelope["mail_from"] == FROM_ADDRESS, f"envelope sender {envelope['mail_from']}"
    assert envelope["auth_login"] == auth, f"AUTH as {envelope['auth_login']}, expected {auth}"
    assert envelope["tls"] == tls, f"TLS {envelope['tls']}, expected {tls}"
    assert "Bcc" not in msg and "Cc" not in msg, f"a Bcc or Cc header: {msg.keys()}"
    assert [a.addr_spec for a in msg["To"].addresses] == [m["to"]], f"To: {msg['To']}"
    assert [(a.display_name, a.addr_spec) for a in msg["From"].addresses] == [(FROM_NAME, FROM_ADDRESS)], \
        f"From: {msg['From']}"
    want_subject = m["subject"] if shown_subject is None else shown_subject
    assert str(msg["Subject"]) == want_subject, f"Subject {str(msg['Subject'])!r}, expected {want_subject!r}"
    assert msg["Message-ID"] == mid
    assert msg["Date"].datetime is not None
    assert not msg.defects, f"defects: {msg.defects}"
    header, _, _ = raw.partition(b"\r\n\r\n")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998, f"a line of {len(line)} octets"
    for line in header.split(b"\r\n"):
        assert len(line) <= 78, f"a header line of {len(line)} octets: {line[:80]!r}"
        assert line[:1] in (b" ", b"\t") or re.match(rb"^[A-Za-z-]+:", line), f"not a header line: {line!r}"
    names = [k.lower() for k in msg.keys()]
    assert len(names) == len(set(names)), f"a header twice: {msg.keys()}"
    text = msg.get_body(("plain",))
    assert text is not None and text.get_content_charset() == "utf-8"
    assert lf(text.get_content()) == lf(m["body"]), "the text part differs from what was sent"
    if m["html"]:
        assert msg.get_content_type() == "multipart/alternative"
        html = msg.get_body(("html",))
        assert html is not None and html.get_content_charset() == "utf-8"
        assert lf(html.get_content()) == lf(m["html"]), "the HTML part differs from what was sent"
        for part in msg.iter_parts():
            assert not part.defects, f"part defects: {part.defects}"
            assert part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")


def test_plain(workdir):
    sink = Sink(workdir, "plain", "--reject-rcpt", r"^rejected@")
    try:
        config = write_config(workdir, {"plain": smtp_connector(sink)})
        long_zh = "<p>" + "沪深300指数上涨1.2%，成交额突破万亿元。" * 200 + "</p>"
        long_en = "<table><tr>" + "".join(f'<td class="n">{i}</td>' for i in range(600)) + "</tr></table>"
        good = [
            mail("zhang.wei@example.com", "【阳光证券】贵州茅台(600519.SH)评级调整：由“增持”上调至“买入”，目标价 2,150 元",
                 "尊敬的张伟：\n\n贵州茅台评级上调至“买入”。\n详情请登录 https://sunbeam.example/r/123\n", long_zh),
            mail("li.na+research@example.com",
                 "Morning note: " + " ".join(f"sector{i} outlook" for i in range(20)),
                 "A line\n.\nThe line above is a lone dot, which SMTP must escape.\n" + "x = y; " * 300 + "\n", long_en),
            mail("wang.fang@example.com", "只有文字的邮件 📈", "没有 HTML 部分。"),
        ]
        injected_subjects = [
            (mail("chen.jie@example.com", f"Hello\r\nBcc: {EVIL}", "body", "<p>body</p>"), f"Hello Bcc: {EVIL}"),
            (mail("liu.yang@example.com", f"你好\nBcc: {EVIL}\n\nfake body", "body", "<p>body</p>"),
             f"你好 Bcc: {EVIL} fake body"),
            (mail("zhao.min@example.com", f"NUL\x00Bcc: {EVIL}", "body", "<p>body</p>"), f"NUL Bcc: {EVIL}"),
        ]
        bad_to = [mail(f"a@example.com\r\nRCPT TO:<{EVIL}>", "s", "b"), mail(f"a@example.com, {EVIL}", "s", "b"),
                  mail(f"a@example.com\nBcc: {EVIL}", "s", "b"), mail(f"Someone <{EVIL}>", "s", "b"),
                  mail(f"a@example.com\x00{EVIL}", "s", "b")]
        rejected = mail("rejected@example.com", "s", "b", "<p>b</p>")
        # More plain mails, to see connections reused: 4 at a time on 4 connections.
        bulk = [mail(f"user{i}@example.com", f"批量 {i}", f"第 {i} 封", f"<p>{i}</p>") for i in range(24)]
        messages = good + [m for m, _ in injected_subjects] + bad_to + [rejected] + bulk
        outcomes, output = send(config, "plain", messages)

        for m in good + [m for m, _ in injected_subjects] + bulk:
            check_accepted(outcomes, m)
        for m in bad_to:
            o = outcomes[m["delivery_id"]]
            assert o["failure"] == "recipient" and not o["accepted"], f"to {m['to']!r}: {o}"
        o = outcomes[rejected["delivery_id"]]
        assert o["failure"] == "recipient", f"the refused recipient came out as {o}"
        assert "550" in o["error"] and "rejected@example.com" not in o["error"], f"error: {o['error']}"

        mails = sink.mails()
        for m in good + bulk:
            check_arrived(mails, m)
        for m, shown in injected_subjects:
            check_arrived(mails, m, shown_subject=shown)
        assert len(mails) == len(good) + len(injected_subjects) + len(bulk), f"{len(mails)} mails arrived"
        for envelope, msg, raw in mails.values():
            assert EVIL not in envelope["rcpt_tos"], f"{EVIL} became a recipient"
        # The refused recipient was tried exactly once; the bad `to`s never reached the server.
        refusals = sink.refusals()
        assert refusals == [{"command": "RCPT", "code": 550, "rcpt_tos": ["rejected@example.com"]}], refusals
        # Connections are reused: after the one failure (libcurl closes that
        # connection) at most concurrency + 1 connections carried all mails.
        ports = {envelope["peer_port"] for envelope, _, _ in mails.values()}
        print(f"  plain: {len(mails)} mails over {len(ports)} connections")
        assert len(ports) <= 4 + 1, f"{len(mails)} mails used {len(ports)} connections: not reused"
    finally:
        sink.stop()


def test_auth(workdir):
    password = "pw-" + uuid.uuid4().hex
    sink = Sink(workdir, "auth", "--auth", f"sender:{password}")
    try:
        keys = {"username": "sender", "password": "${" + PASSWORD_VAR + "}"}
        config = write_config(workdir, {"auth": smtp_connector(sink, **keys)})
        m = mail("zhang.wei@example.com", "认证后发送", "正文", "<p>正文</p>")
        outcomes, output = send(config, "auth", [m], {PASSWORD_VAR: password})
        check_accepted(outcomes, m)
        check_arrived(sink.mails(), m, auth="sender")
        assert password not in output, "connector_send printed the password"

        wrong = mail("zhang.wei@example.com", "s", "b")
        outcomes, output = send(config, "auth", [wrong], {PASSWORD_VAR: "not-the-password"})
        o = outcomes[wrong["delivery_id"]]
        assert o["failure"] == "connector" and "535" in o["error"], f"a wrong password came out as {o}"
        assert "not-the-password" not in output
    finally:
        sink.stop()


def make_certificate(workdir):
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


def test_starttls(workdir):
    cert, key = make_certificate(workdir)
    password = "pw-" + uuid.uuid4().hex
    sink = Sink(workdir, "tls", "--tls-cert", cert, "--tls-key", key, "--require-tls", "--auth", f"tls-user:{password}")
    try:
        auth = {"username": "tls-user", "password": "${" + PASSWORD_VAR + "}"}
        config = write_config(workdir, {
            "trusted": smtp_connector(sink, tls="required", ca_file=cert, **auth),
            "unverified": smtp_connector(sink, tls_verify="false", **auth),
            "untrusted": smtp_connector(sink, tls="required", **auth),
        })
        env = {PASSWORD_VAR: password}
        a = mail("zhang.wei@example.com", "加密传输 STARTTLS", "正文一", "<p>一</p>")
        outcomes, _ = send(config, "trusted", [a], env)
        check_accepted(outcomes, a)
        b = mail("li.na@example.com", "STARTTLS without verification", "body two", "<p>two</p>")
        outcomes, _ = send(config, "unverified", [b], env)
        check_accepted(outcomes, b)
        mails = sink.mails()
        check_arrived(mails, a, auth="tls-user", tls=True)
        check_arrived(mails, b, auth="tls-user", tls=True)

        c = mail("wang.fang@example.com", "s", "b")
        outcomes, _ = send(config, "untrusted", [c], env)
        o = outcomes[c["delivery_id"]]
        assert o["failure"] == "connector" and not o["accepted"], f"an untrusted certificate came out as {o}"
        assert len(sink.mails()) == 2
    finally:
        sink.stop()


def test_tempfail(workdir):
    sink = Sink(workdir, "tempfail", "--tempfail-every", "2")
    try:
        config = write_config(workdir, {"tempfail": smtp_connector(sink, concurrency=1)})
        messages = [mail(f"user{i}@example.com", f"第 {i} 封", "b", "<p>b</p>") for i in range(4)]
        outcomes, _ = send(config, "tempfail", messages)
        accepted = [m for m in messages if outcomes[m["delivery_id"]]["accepted"]]
        failed = [outcomes[m["delivery_id"]] for m in messages if not outcomes[m["delivery_id"]]["accepted"]]
        assert len(accepted) == 2 and len(failed) == 2, f"outcomes: {list(outcomes.values())}"
        for o in failed:
            assert o["failure"] in ("connector", "session") and "451" in o["error"], f"a 451 came out as {o}"
        mails = sink.mails()
        for m in accepted:
            check_arrived(mails, m)
        assert len(mails) == 2
        assert [r["code"] for r in sink.refusals()] == [451, 451]
    finally:
        sink.stop()


def main():
    workdir = h.workdir("smtp")
    print(f"  files in {workdir}")
    passed, failed = h.run_tests([
        ("smtp.plain", lambda: test_plain(workdir)),
        ("smtp.auth", lambda: test_auth(workdir)),
        ("smtp.starttls", lambda: test_starttls(workdir)),
        ("smtp.tempfail", lambda: test_tempfail(workdir)),
    ])
    return h.finish(workdir, passed, failed)


if __name__ == "__main__":
    sys.exit(main())
