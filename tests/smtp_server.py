#!/usr/bin/env python3
"""A real SMTP server for tests/mail.rs (aiosmtpd), on 127.0.0.1.

    smtp_server.py OUT_DIR [--starttls CERT KEY | --tls CERT KEY] [--auth USER:PASS] [--refuse N REPLY]

Writes each received message, byte for byte as received, to OUT_DIR/<n>.eml and the
envelope to OUT_DIR/<n>.envelope.json. Prints "PORT <n>" once it accepts connections.
With --starttls, STARTTLS is offered and required before MAIL; with --tls, the
connection is TLS from the first byte (implicit TLS, as on port 465). With --auth, AUTH
PLAIN/LOGIN is checked against USER:PASS and required before MAIL; aiosmtpd's own
auth_require_tls stays on, so AUTH over a channel without TLS is refused (the server does
not even advertise it). With --refuse, the first N messages get REPLY (e.g.
"451 4.3.0 Try again later") instead of being accepted. Exits when stdin closes (its parent went away) or on SIGTERM.
"""

import argparse
import json
import os
import signal
import socket
import ssl
import sys
import logging
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SaveMessages:
    def __init__(self, out_dir, refuse_count, refuse_reply):
        self.out_dir = out_dir
        self.count = 0
        self.refused = 0
        self.refuse_count = refuse_count
        self.refuse_reply = refuse_reply
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refused < self.refuse_count:
                self.refused += 1
                return self.refuse_reply
            self.count += 1
            n = self.count
        base = os.path.join(self.out_dir, str(n))
        with open(base + ".envelope.json.partial", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "authenticated": session.authenticated}, f)
        with open(base + ".eml.partial", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".envelope.json.partial", base + ".envelope.json")
        os.rename(base + ".eml.partial", base + ".eml")
        return "250 Message accepted for delivery"


def checker(expected_user, expected_password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == expected_user.encode()
              and auth_data.password == expected_password.encode())
        return AuthResult(success=ok)
    return authenticate


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    # aiosmtpd 1.4.6 logs a warning about its own use of a deprecated attribute on every AUTH.
    logging.getLogger("mail.log").addFilter(lambda record: "login_data" not in record.getMessage())
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", metavar="USER:PASS")
    parser.add_argument("--refuse", nargs=2, metavar=("N", "REPLY"), default=("0", ""))
    args = parser.parse_args()

    options = {}
    if args.starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.starttls[0], args.starttls[1])
        options.update(tls_context=context, require_starttls=True)
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls[0], args.tls[1])
        # aiosmtpd 1.4.6 counts only STARTTLS as TLS for auth_require_tls; this whole
        # connection is TLS, so AUTH may be offered on it.
        options.update(ssl_context=context, auth_require_tls=False)
    if args.auth:
        user, _, password = args.auth.partition(":")
        options.update(authenticator=checker(user, password), auth_required=True)

    handler = SaveMessages(args.out_dir, int(args.refuse[0]), args.refuse[1])
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(),
                            **options)
    controller.start()
    print(f"PORT {controller.port}", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    def watch_stdin():
        sys.stdin.read()
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    while not done.wait(0.2):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
