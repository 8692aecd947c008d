#!/usr/bin/env python3
"""Sign one order event for the help centre's feed, as the marketplace does, and send it.

    python docs/marketplace/sign_event.py EVENT.json                 # prints the header and a curl command
    python docs/marketplace/sign_event.py EVENT.json --post http://127.0.0.1:8000/marketplace/orders/events/

The secret is MARKETPLACE_FEED_SECRET from the environment (or --secret); `make run` uses
"dev-marketplace-feed-secret". The signature is HMAC-SHA256 over "<unix time>.<body>" in the header
`X-Marketplace-Signature: t=<unix time>,v1=<hex>`; the help centre refuses it five minutes later.
Needs only Python's standard library.
"""

import argparse
import hashlib
import hmac
import json
import os
import shlex
import sys
import time
import urllib.error
import urllib.request


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("event", help="a JSON file with one event ('-' reads it from standard input)")
    parser.add_argument("--secret", default=os.environ.get("MARKETPLACE_FEED_SECRET", ""))
    parser.add_argument("--post", metavar="URL", help="send it there and print the answer")
    args = parser.parse_args()
    if not args.secret:
        parser.error("no secret: set MARKETPLACE_FEED_SECRET or pass --secret")
    if args.event == "-":
        text = sys.stdin.read()
    else:
        with open(args.event, encoding="utf-8") as event_file:
            text = event_file.read()
    # Sent as compact UTF-8: the signature covers exactly these bytes.
    body = json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":")).encode()
    header = signature_header(args.secret, body)
    if not args.post:
        print(f"X-Marketplace-Signature: {header}")
        print(
            "curl -X POST -H 'Content-Type: application/json' "
            f"-H {shlex.quote('X-Marketplace-Signature: ' + header)} --data-binary {shlex.quote(body.decode())} "
            "http://127.0.0.1:8000/marketplace/orders/events/"
        )
        return 0
    request = urllib.request.Request(
        args.post,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Marketplace-Signature": header},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print(response.status, response.read().decode())
            return 0
    except urllib.error.HTTPError as error:
        print(error.code, error.read().decode())
        return 1


if __name__ == "__main__":
    sys.exit(main())
