"""The server's own secret, kept in the store so every process on it shares it.

It signs what the server hands out and later takes back (pull cursors): a
device can keep a cursor, but not make one up.
"""

import hashlib
import hmac
import secrets
import uuid

from eventsourcing.domain import Aggregate, event

from events.accounts import NAMESPACE

SERVER_KEY_ID = uuid.uuid5(NAMESPACE, "server-key")


class ServerKey(Aggregate):
    TOPIC = "server_key"

    class Created(Aggregate.Created):  # the library's default; unused (__init__ records KeyMade)
        TOPIC = "server_key.Created"

    @event("KeyMade", topic="server_key.KeyMade")
    def __init__(self, id: uuid.UUID, secret: str) -> None:
        self.secret = secret

    @classmethod
    def make(cls) -> "ServerKey":
        return cls(id=SERVER_KEY_ID, secret=secrets.token_hex(32))

    def sign(self, text: str) -> str:
        return hmac.new(bytes.fromhex(self.secret), text.encode(), hashlib.sha256).hexdigest()[:32]

    def signed(self, text: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(text), signature)
