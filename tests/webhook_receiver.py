"""A real HTTP receiver for the help centre's notices, as a marketplace would run one: it checks the
signature, answers with the status codes a test asks for, and keeps the event ids it accepted (a
receiver deduplicates by them)."""

import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.utils import timezone

from core.signatures import NoticeRejected, notice_verify

# The ports this project's tests may open (helpers' range); the first free one is taken.
PORTS = range(18920, 18960)


def free_port(ports: range = PORTS) -> int:
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


@dataclass
class Received:
    event_id: str
    signature_ok: bool
    payload: dict[str, Any]
    answered: int


@dataclass
class Receiver:
    secret: str
    answers: list[int] = field(default_factory=list)  # answered in turn; 200 once they run out
    requests: list[Received] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""

    def _handle(self, headers: Any, body: bytes) -> int:
        try:
            notice_verify(
                secret=self.secret,
                header=headers.get("X-Helpcenter-Signature", ""),
                body=body,
                now=timezone.now(),
                tolerance_seconds=300,
            )
            signature_ok = True
        except NoticeRejected:
            signature_ok = False
        payload = json.loads(body)
        status = self.answers.pop(0) if self.answers else 200
        if not signature_ok:
            status = 401
        self.requests.append(Received(headers.get("X-Helpcenter-Event-Id", ""), signature_ok, payload, status))
        if status == 200:
            # The receiver's own deduplication: an event id it has is not applied again.
            self.accepted.setdefault(payload["id"], payload)
        return status


def start_receiver(secret: str, answers: list[int] | None = None) -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver(secret=secret, answers=list(answers or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver._handle(self.headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/helpcenter/notices"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)
