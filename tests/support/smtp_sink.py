#!/usr/bin/python3
"""A real SMTP server for the smtp connector's tests (aiosmtpd), that keeps
every message it accepts as a file, as a mailbox would.

    /usr/bin/python3 tests/support/smtp_sink.py --port 0 --dir D [options]

Prints `listening on 127.0.0.1:PORT` (flushed) once it accepts connections;
binds 127.0.0.1 only. Each accepted message N (from 1) is saved as D/N.eml
(the DATA exactly as received, CRLF line ends) and D/N.json (the envelope:
mail_from, rcpt_tos, plus tls and auth_login, so a test can tell whether
STARTTLS and AUTH really happened, and peer_port, the client's port, which
tells connections apart). The .json is written last, atomically: a test that
sees it sees the whole message. Each refusal the sink injects is a line of
D/refusals.ndjson: {"command": "RCPT"|"DATA", "code", "rcpt_tos"}.

Options:
  --auth USER:PASSWORD    require AUTH (PLAIN or LOGIN), over plain text too
  --tls-cert F --tls-key F  offer STARTTLS with this certificate
  --require-tls           refuse MAIL before STARTTLS (with --tls-cert)
  --reject-rcpt REGEX     answer RCPT with 550 for matching addresses
  --tempfail-every N      answer every Nth DATA with 451 (nothing saved)
  --lifetime SECONDS      exit after this long (default 600): a forgotten
                          sink never outlives its test run
Exits 0 on SIGTERM/SIGINT or at the end of its lifetime.

aiosmtpd is a Debian package: run this with /usr/bin/python3 (PEERS.md).
"""
import argparse
import asyncio
import json
import logging
import os
import re
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Mailbox:
    """The handler aiosmtpd calls for RCPT and DATA; owns the numbering."""

    def __init__(self, directory, reject_rcpt, tempfail_every):
        self.directory = directory
        self.reject_rcpt = re.compile(reject_rcpt) if reject_rcpt else None
        self.tempfail_every = tempfail_every
        self.data_commands = 0
        self.saved = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt and self.reject_rcpt.search(address):
            self.refused("RCPT", 550, [address])
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        if self.tempfail_every and self.data_commands % self.tempfail_every == 0:
            self.refused("DATA", 451, envelope.rcpt_tos)
            return "451 4.3.0 Temporary failure (injected), try again later"
        self.saved += 1
        n = self.saved
        base = os.path.join(self.directory, str(n))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        auth = session.auth_data
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "tls": session.ssl is not None,
            "auth_login": auth.login.decode() if isinstance(auth, LoginPassword) else None,
            "peer_port": session.peer[1] if session.peer else None,
        }
        with open(base + ".json.tmp", "w") as f:
            json.dump(record, f)
        os.replace(base + ".json.tmp", base + ".json")
        return f"250 2.0.0 Ok: queued as {n}"

    def refused(self, command, code, rcpt_tos):
        with open(os.path.join(self.directory, "refusals.ndjson"), "a") as f:
            f.write(json.dumps({"command": command, "code": code, "rcpt_tos": list(rcpt_tos)}) + "\n")


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode() and auth_data.password == password.encode())
        # handled=False: aiosmtpd itself answers (235, or 535 on a bad password);
        # handled=True would leave the client waiting for a reply that never comes.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


def parse_args(argv):
    p = argparse.ArgumentParser(description="SMTP sink for tests (aiosmtpd)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--dir", required=True)
    p.add_argument("--auth", help="USER:PASSWORD")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--require-tls", action="store_true")
    p.add_argument("--reject-rcpt", help="regular expression")
    p.add_argument("--tempfail-every", type=int, default=0)
    p.add_argument("--lifetime", type=float, default=600)
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.require_tls and not args.tls_cert:
        p.error("--require-tls needs --tls-cert and --tls-key")
    if args.auth and ":" not in args.auth:
        p.error("--auth wants USER:PASSWORD")
    if args.tempfail_every < 0:
        p.error("--tempfail-every must be 0 (never) or more")
    return args


async def serve(args):
    os.makedirs(args.dir, exist_ok=True)
    mailbox = Mailbox(args.dir, args.reject_rcpt, args.tempfail_every)
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    smtp_options = {"hostname": "sink.test", "tls_context": tls_context,
                    "require_starttls": args.require_tls, "data_size_limit": 10 * 1024 * 1024}
    if args.auth:
        user, password = args.auth.split(":", 1)
        smtp_options.update(authenticator=make_authenticator(user, password),
                            auth_required=True, auth_require_tls=False)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(mailbox, loop=loop, **smtp_options),
                                      host="127.0.0.1", port=args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.lifetime)
    except asyncio.TimeoutError:
        print(f"lifetime of {args.lifetime:g} s is over: exiting", file=sys.stderr, flush=True)
    server.close()
    await server.wait_closed()


def main(argv):
    args = parse_args(argv)
    # AUTH over plain text is what these tests want; aiosmtpd warns about it
    # (and logs a deprecation per AUTH) on every run otherwise.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
