"""Accounts, signed-in devices and invitation links, as application commands
(mixed into AllianceApplication)."""

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from events.accounts import (
    Account, AccountWasDeleted, BadCredentials, EmailTaken, InvitationLink, account_id, invitation_link_id,
)
from events.alliance import Alliance, InvitationClosed, NotFound
from events.repository import retry_stale

NO_SUCH_INVITATION = "This invitation link is not valid: it may have been used or have expired. Ask for a new one."
DELETED = ("The account with this email address was deleted at its owner's request: it cannot be signed in to, "
           "and the address cannot make a new one.")


class SignIn:
    # ----- accounts and sessions -----

    def sign_up(self, *, email: str, password: str, display_name: str, device_name: str = "") -> tuple[str, str]:
        """A new account, signed in on this device: (user_id, token)."""
        account = Account.sign_up(email=email, password=password, display_name=display_name)
        token = account.start_session(device_name)
        try:
            self.save(account)
        except IntegrityError:
            if self._deleted_account(email):
                raise EmailTaken(DELETED) from None
            raise EmailTaken("An account with this email address exists already: sign in instead.") from None
        return account.user_id, token

    def log_in(self, *, email: str, password: str, device_name: str = "") -> tuple[str, str]:
        try:
            account = self.repository.get(account_id(email))
        except AggregateNotFoundError:
            account = None
        if isinstance(account, Account) and account.deleted_at:
            raise AccountWasDeleted(DELETED)
        if not isinstance(account, Account) or not account.check_password(password):
            raise BadCredentials("That email address and password do not match an account.")
        token = account.start_session(device_name)
        self.save(account)
        return account.user_id, token

    def authenticate(self, token: str) -> Account | None:
        """The account a bearer token belongs to, or None."""
        user_id, _, secret = token.partition(".")
        try:
            account = self.repository.get(UUID(user_id), deepcopy_from_cache=False)  # only read
        except (ValueError, AggregateNotFoundError):
            return None
        if not isinstance(account, Account) or account.deleted_at or account.session_for(secret) is None:
            return None
        return account

    def _deleted_account(self, email: str) -> bool:
        try:
            account = self.repository.get(account_id(email), deepcopy_from_cache=False)  # only read
        except AggregateNotFoundError:
            return False
        return isinstance(account, Account) and bool(account.deleted_at)

    def log_out(self, token: str) -> str | None:
        """Sign this token's device out; its session id (the token's hash), or None."""
        account = self.authenticate(token)
        if account is None:
            return None
        return self.end_session(account.user_id, account.session_for(token.partition(".")[2]))

    def sessions(self, user_id: str, current_token: str = "") -> list[dict]:
        account = self.repository.get(UUID(user_id))
        current = account.session_for(current_token.partition(".")[2])
        return [{"id": h[:16], "device_name": s["device_name"], "current": h == current}
                for h, s in account.sessions.items()]

    @retry_stale
    def end_session(self, user_id: str, session_id: str) -> str:
        """Sign a device out; the ended session's id (the token's hash)."""
        account = self.repository.get(UUID(user_id))
        ended = account.end_session(session_id)
        self.save(account)
        return ended

    def account(self, user_id: str, *, copy: bool = True) -> Account:
        """The account; with copy=False the cached one itself, only to be read."""
        return self.repository.get(UUID(user_id), deepcopy_from_cache=copy)

    # ----- invitation links -----

    @retry_stale  # a push saved the alliance meanwhile: again
    def create_invitation(self, user_id: str, alliance_id: Any, *, name: str = "", uses: int = 1,
                          valid_for: timedelta = timedelta(days=7)) -> dict:
        """A link for one new participant, or (uses > 1) a team link for up to that many;
        the secret is returned once."""
        alliance = self.alliance_for(user_id, alliance_id)
        invitation_id = str(uuid4())
        expires_at = (datetime.now(timezone.utc) + valid_for).isoformat(timespec="seconds")
        unnamed = "someone (by link)" if uses == 1 else f"up to {uses} people (by link)"
        alliance.invite_by_link(by=user_id, device="server", invitation_id=invitation_id,
                                name=name.strip() or unnamed, uses=uses, expires_at=expires_at)
        link, secret = InvitationLink.create(alliance_id=alliance.id, invitation_id=invitation_id,
                                             expires_at=expires_at, uses=uses)
        self.save(alliance, link)
        return {"token": secret, "invitation_id": invitation_id, "uses": uses, "expires_at": expires_at,
                "alliance_id": str(alliance.id), "members": alliance.members()}

    def invitation_preview(self, secret: str) -> dict:
        """What the invited person may see before joining: the title, who is in it, and how
        many more the link lets in."""
        link, alliance = self._open_link(secret)
        inviter = alliance.invitations[link.invitation_id]["by"]
        return {"title": alliance.title, "inviter": alliance.name_of(inviter),
                "participants": [alliance.name_of(uid) for uid in alliance.members()],
                "uses": link.uses, "places_left": link.uses - len(link.accepted_by),
                "expires": datetime.fromisoformat(link.expires_at).strftime("%d %B %Y")}

    def _open_link(self, secret: str) -> tuple[InvitationLink, Alliance]:
        """The link and its alliance, if the link can still let someone in. A withdrawn, expired
        or used-up team link says so; unknown and used one-person links fail alike, so a guess
        learns nothing."""
        try:
            link = self.repository.get(invitation_link_id(secret))
        except AggregateNotFoundError:
            raise NotFound(NO_SUCH_INVITATION) from None
        if not isinstance(link, InvitationLink):
            raise NotFound(NO_SUCH_INVITATION)
        alliance = self.alliance(link.alliance_id)
        if alliance.invitations.get(link.invitation_id, {}).get("status") == "revoked":
            raise InvitationClosed("revoked")
        if link.expired(datetime.now(timezone.utc)):
            raise InvitationClosed("expired")
        if link.used_up():
            raise InvitationClosed("used up") if link.uses > 1 else NotFound(NO_SUCH_INVITATION)
        return link, alliance

    @retry_stale
    def accept_invitation(self, user_id: str, secret: str) -> Alliance:
        """Join the alliance behind a link (the alliance refuses one who is in already)."""
        link, alliance = self._open_link(secret)
        account = self.account(user_id)
        alliance.join(by=user_id, device="server", invitation_id=link.invitation_id, name=account.display_name)
        account.alliance_joined(str(alliance.id))
        link.accept(user_id)
        self.save(alliance, account, link)  # the link last: it ends the transaction for pulls
        return alliance
