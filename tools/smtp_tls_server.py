#!/usr/bin/env python3
"""Two SMTP listeners for the email tests that need TLS and authentication.

aiosmtpd's command line can serve STARTTLS but cannot require a login, so
this starts both listeners in one process, storing into one maildir:

  --starttls-port: plain connection, STARTTLS required before anything else,
                   then AUTH (PLAIN/LOGIN) required before MAIL.
  --smtps-port:    TLS from the first byte, then AUTH required.

Only the login `--user` / `--password` is accepted. Runs until killed.
"""

import argparse
import warnings
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--starttls-port", type=int, required=True)
    parser.add_argument("--smtps-port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    # The SMTPS listener requires AUTH with TLS implied by the socket; aiosmtpd
    # cannot tell and warns.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    expected = LoginPassword(args.user.encode(), args.password.encode())

    def authenticator(server, session, envelope, mechanism, auth_data):
        # handled=False: aiosmtpd answers a refusal with 535 itself.
        return AuthResult(success=auth_data == expected, handled=False)

    common = dict(authenticator=authenticator, auth_required=True, hostname=args.host)
    starttls = Controller(
        Mailbox(args.maildir),
        port=args.starttls_port,
        tls_context=context,
        require_starttls=True,
        **common,
    )
    # Implicit TLS: the connection is encrypted before AUTH is offered.
    smtps = Controller(
        Mailbox(args.maildir),
        port=args.smtps_port,
        ssl_context=context,
        auth_require_tls=False,
        **common,
    )
    starttls.start()
    smtps.start()
    print(f"STARTTLS on {args.host}:{args.starttls_port}, SMTPS on {args.host}:{args.smtps_port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
