"""People and their devices' sign-ins, and invitation links.

Tokens are random (256 bits) and only their SHA-256 hashes are stored. A
sign-in token reads `<user id>.<secret>`, so checking it loads one account.
"""

import hashlib
import secrets
import uuid
from datetime import datetime, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.domain import Aggregate, event

from events.alliance import AllianceError, InvalidInput, NotFound
from events.text import erased_text

NAMESPACE = uuid.UUID("5b0e3f8e-7d4e-4a8c-9d38-2f1f6e0c1a77")
PASSWORDS = PasswordHasher()  # argon2id with the library's recommended parameters
MIN_PASSWORD = 10


class EmailTaken(AllianceError):
    code = "email_taken"


class BadCredentials(AllianceError):
    code = "bad_credentials"


class AccountWasDeleted(BadCredentials):
    """Signing in to, or signing up with the address of, an account deleted at its owner's request."""

    code = "account_deleted"


class WrongPassword(AllianceError):
    """A signed-in person confirming something grave (deleting their account) with the wrong password."""

    code = "wrong_password"


def account_id(email: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"account:{normal_email(email)}")


def normal_email(email: str) -> str:
    return email.strip().lower()


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Account(Aggregate):
    TOPIC = "account"
    deleted_at = None  # when its owner deleted it (issue 13); a class-level default for older ones

    class Created(Aggregate.Created):  # the library's default; unused (__init__ records SignedUp)
        TOPIC = "account.Created"

    @event("SignedUp", topic="account.SignedUp")
    def __init__(self, id: uuid.UUID, email: str, display_name: str, password_hash: str) -> None:
        self.email = email
        self.display_name = display_name
        self.password_hash = password_hash
        self.sessions: dict[str, dict] = {}  # token hash -> {device_name, started}
        self.alliances: list[str] = []
        self.inventory: str | None = None  # the id of the person's private ally inventory

    @classmethod
    def sign_up(cls, *, email: str, password: str, display_name: str) -> "Account":
        email = normal_email(email)
        if "@" not in email or len(email) > 320 or " " in email:
            raise InvalidInput("Give an email address like name@example.org.")
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise InvalidInput(f"A password needs at least {MIN_PASSWORD} characters.")
        display_name = display_name.strip()
        if not display_name or len(display_name) > 100:
            raise InvalidInput("Give the name others see, up to 100 characters.")
        return cls(id=account_id(email), email=email, display_name=display_name,
                   password_hash=PASSWORDS.hash(password))

    def check_password(self, password: str) -> bool:
        try:
            return PASSWORDS.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @property
    def user_id(self) -> str:
        return str(self.id)

    def start_session(self, device_name: str) -> str:
        """A new sign-in; returns the token (shown once, never stored)."""
        secret = new_secret()
        self._session_started(token_hash=token_hash(secret), device_name=device_name.strip()[:100])
        return f"{self.user_id}.{secret}"

    @event("SessionStarted", topic="account.SessionStarted")
    def _session_started(self, token_hash: str, device_name: str) -> None:
        self.sessions[token_hash] = {"device_name": device_name}

    def session_for(self, secret: str) -> str | None:
        hashed = token_hash(secret)
        return hashed if hashed in self.sessions else None

    def end_session(self, session_id: str) -> str:
        """Sign a device out; `session_id` is the token's hash (or its first 16 characters).
        Returns the whole hash."""
        matches = [h for h in self.sessions if h == session_id or h[:16] == session_id]
        if not matches:
            raise NotFound("There is no such signed-in device.")
        self._session_ended(token_hash=matches[0])
        return matches[0]

    @event("SessionEnded", topic="account.SessionEnded")
    def _session_ended(self, token_hash: str) -> None:
        del self.sessions[token_hash]

    @event("AllianceJoined", topic="account.AllianceJoined")
    def alliance_joined(self, alliance_id: str) -> None:
        if alliance_id not in self.alliances:
            self.alliances.append(alliance_id)

    @event("InventoryOpened", topic="account.InventoryOpened")
    def inventory_opened(self, inventory_id: str) -> None:
        self.inventory = inventory_id

    @event("AllianceLeft", topic="account.AllianceLeft")
    def alliance_left(self, alliance_id: str) -> None:
        if alliance_id in self.alliances:
            self.alliances.remove(alliance_id)

    def delete(self) -> None:
        """Deleted at its owner's request, for good: every device signed out, nothing of theirs kept
        (the application erased their words everywhere first). Its address opens nothing again."""
        if self.deleted_at is None:
            self._deleted(at=datetime.now(timezone.utc).isoformat())

    @event("AccountDeleted", topic="account.AccountDeleted")
    def _deleted(self, at: str) -> None:
        self.deleted_at, gone = at, erased_text(at)
        self.email, self.display_name, self.password_hash = gone, gone, ""
        self.sessions, self.alliances, self.inventory = {}, [], None


def invitation_link_id(secret: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"invitation:{token_hash(secret)}")


class InvitationLink(Aggregate):
    """The secret behind a link that lets up to `uses` people join one alliance, until it expires.
    (Whether it was withdrawn is the alliance's to say: a push can withdraw it.)"""

    TOPIC = "invitation"

    class Created(Aggregate.Created):  # the library's default; unused (__init__ records LinkCreated)
        TOPIC = "invitation.Created"

    @event("LinkCreated", topic="invitation.LinkCreated")
    def __init__(self, id: uuid.UUID, alliance_id: str, invitation_id: str, expires_at: str,
                 uses: int = 1) -> None:  # links from before team links let in one person
        self.alliance_id = alliance_id
        self.invitation_id = invitation_id
        self.expires_at = expires_at
        self.uses = uses
        self.accepted_by: list[str] = []

    @classmethod
    def create(cls, *, alliance_id: Any, invitation_id: str, expires_at: str,
               uses: int = 1) -> tuple["InvitationLink", str]:
        secret = new_secret()
        link = cls(id=invitation_link_id(secret), alliance_id=str(alliance_id),
                   invitation_id=invitation_id, expires_at=expires_at, uses=uses)
        return link, secret

    def expired(self, now: datetime) -> bool:
        return now >= datetime.fromisoformat(self.expires_at)

    def used_up(self) -> bool:
        return len(self.accepted_by) >= self.uses

    @event("LinkAccepted", topic="invitation.LinkAccepted")
    def accept(self, user_id: str) -> None:
        self.accepted_by.append(user_id)
