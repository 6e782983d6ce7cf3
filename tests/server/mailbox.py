"""A real SMTP server on 127.0.0.1 (aiosmtpd) for tests: it keeps every message it receives.

    with Mailbox() as mailbox:
        ... the service sends to 127.0.0.1:mailbox.port ...
        [message] = mailbox.wait_for(1)
"""

import email
import email.policy
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from servers import free_port


class Mailbox:
    def __init__(self):
        self.port = free_port()  # aiosmtpd cannot take port 0
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        """At least `count` messages (all of them), waiting up to `timeout` s; fails if they do not come."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} messages arrived, not {count}"
                self._arrived.wait(left)
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def __enter__(self) -> "Mailbox":
        self.controller.start()
        return self

    def __exit__(self, *_) -> None:
        self.controller.stop()
