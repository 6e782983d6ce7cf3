"""A stand-in for a push service (FCM, Mozilla's, Apple's) on 127.0.0.1: it keeps every push
it is sent, and answers 201, or what the test told it for an endpoint (404, 410 ...).

Subscriptions are made as a browser makes them: a P-256 key pair and a 16-byte auth secret,
so a test can decrypt what arrives with the subscription's own keys (http_ece)."""

import base64
import json
import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from servers import free_port


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass
class Push:
    path: str
    headers: dict[str, str]
    body: bytes


class Phone:
    """One browser's push subscription: what PushSubscription.toJSON() would give, and its private key."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self) -> dict:
        public = self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
                "expirationTime": None}

    def decrypt(self, push: Push) -> dict:
        return json.loads(http_ece.decrypt(push.body, private_key=self.key, auth_secret=self.auth,
                                           version="aes128gcm"))


class PushService:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.pushes: list[Push] = []
        self.answers: dict[str, int] = {}  # path -> status to answer
        self._arrived = threading.Condition()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with service._arrived:
                    service.pushes.append(Push(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    service._arrived.notify_all()
                self.send_response(service.answers.get(self.path, 201))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def phone(self, name: str) -> Phone:
        return Phone(f"{self.url}/push/{name}")

    def wait_for(self, count: int, path: str | None = None, timeout: float = 20) -> list[Push]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(found := [p for p in self.pushes if path is None or p.path == path]) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(found)} pushes arrived, not {count}"
                self._arrived.wait(left)
            return found

    def __enter__(self) -> "PushService":
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.server.shutdown()
        self.server.server_close()
