"""Accounts over HTTP: sign up, sign in, sign out, signed-in devices; and the
Bearer-token check every other API call goes through, answered from memory once a token
was checked (`SignedIn`)."""

import asyncio
import hashlib
import json
import time
from threading import Lock
from typing import Annotated, Callable, Iterable
from uuid import UUID, uuid4

import msgspec
from anyio import to_thread
from litestar import Controller, Request, delete, get, post
from litestar.channels import ChannelsPlugin
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.params import FromPath, JSONBody

from events.accounts import Account
from events.application import AllianceApplication
from server.pokes import signed_out
from sync.heads import CHANNEL
from server.openapi import BEARER, problems

# Open routes carry opt={"exclude_from_auth": True}; the OpenAPI schema is open too.
OPEN = {"exclude_from_auth": True}
TOKEN_SECONDS = 10.0  # a remembered token is checked with the store again after this long (a lost message)
SETTLE_TURNS = 4
ECHO_SECONDS = 1.0  # how long a sign-out waits to hear its message back from the channel
MOST_TOKENS = 10_000


class SignedIn:
    """Which account each bearer token belongs to, remembered per process (by the token's hash).
    Whenever an account changes (a device signed out, an account deleted...) its tokens are
    forgotten as soon as this process hears of it: at once for its own commits, by a message on
    the channel every process listens to for the others' (`changed`)."""

    def __init__(self, alliances: AllianceApplication, seconds: float = TOKEN_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.alliances, self.seconds, self._clock = alliances, seconds, clock
        self._lock = Lock()
        self._tokens: dict[str, tuple[Account, float]] = {}  # token hash -> (account, until when)
        self._of_account: dict[UUID, set[str]] = {}  # account id -> its remembered token hashes
        self._changes = 0  # accounts heard of changing: a check that began before one is not remembered

    def remembered(self, token: str) -> Account | None:
        account, until = self._tokens.get(_hashed(token), (None, 0.0))
        return account if until > self._clock() else None

    def authenticate(self, token: str) -> Account | None:
        """Ask the store (in a worker thread), and remember a token that is good."""
        changes = self._changes
        account = self.alliances.authenticate(token)
        if account is not None:
            with self._lock:
                if changes == self._changes:
                    if len(self._tokens) >= MOST_TOKENS:
                        self._forget_all()
                    hashed = _hashed(token)
                    self._tokens[hashed] = (account, self._clock() + self.seconds)
                    self._of_account.setdefault(account.id, set()).add(hashed)
        return account

    def changed(self, aggregates: Iterable[UUID]) -> None:
        """These aggregates changed: forget the tokens of any that is an account."""
        with self._lock:
            self._changes += 1
            for aggregate in aggregates:
                for hashed in self._of_account.pop(aggregate, ()):
                    self._tokens.pop(hashed, None)

    def forget_all(self) -> None:
        with self._lock:
            self._changes += 1
            self._forget_all()

    def _forget_all(self) -> None:
        self._tokens.clear()
        self._of_account.clear()


def _hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signed_out_message(user_id: str, nonce: str) -> bytes:
    return json.dumps({"signed_out": user_id, "nonce": nonce}).encode()


def signed_out_of(message: bytes) -> tuple[UUID, str] | None:
    """The account a sign-out message names, and its nonce; None for any other message."""
    try:
        told = json.loads(message)
        return UUID(told["signed_out"]), str(told["nonce"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class Echoes:
    """Sign-out messages this process sent and waits to hear back (in the event loop)."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future] = {}

    def expect(self, nonce: str) -> asyncio.Future:
        return self._waiting.setdefault(nonce, asyncio.get_running_loop().create_future())

    def heard(self, nonce: str) -> None:
        waiting = self._waiting.pop(nonce, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(None)


async def tell_signed_out(channels: ChannelsPlugin, echoes: Echoes, user_id: str, several: bool) -> None:
    """After an account's sign-in ended (a sign-out, a revoked device, the account deleted), every
    process forgets its tokens: this one did at the commit itself; the others are told on the channel
    they all listen to, and this returns once this process heard the message back (or after a
    second): PostgreSQL sends it to every listener at once, so the others have it by then too."""
    if not several:
        return
    nonce = uuid4().hex
    echo = echoes.expect(nonce)
    await channels.wait_published(signed_out_message(user_id, nonce), [CHANNEL])
    try:
        await asyncio.wait_for(echo, ECHO_SECONDS)
    except asyncio.TimeoutError:  # the listener is down: it forgets everything when it is back
        echoes.heard(nonce)


class SignUp(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=10, max_length=1024)]
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    device_name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class LogIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=320)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    device_name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class Signed(msgspec.Struct):
    user_id: str
    token: str


class SignedInDevice(msgspec.Struct):
    id: str
    device_name: str
    current: bool


class Me(msgspec.Struct):
    user_id: str
    email: str
    display_name: str


def bearer_token(connection: ASGIConnection) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class BearerAuth(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        token = bearer_token(connection)
        signed_in: SignedIn = connection.app.state.signed_in
        if token and connection.app.state.several and signed_in.remembered(token) is not None:
            # A sign-out message that reached this process already takes a few turns of the event loop
            # (the listener, the channels plugin, ours) to be heard: let it be, first.
            for _ in range(SETTLE_TURNS):
                await asyncio.sleep(0)
        account = signed_in.remembered(token) if token else None
        if account is None and token:
            account = await to_thread.run_sync(signed_in.authenticate, token)
        if account is None:
            raise NotAuthorizedException("Sign in first: send 'Authorization: Bearer <token>'.",
                                         headers={"WWW-Authenticate": "Bearer"})
        return AuthenticationResult(user=account, auth=token)


bearer_auth = DefineMiddleware(BearerAuth, exclude=[r"^/schema"])  # and routes with OPEN


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["accounts"]

    @post("/signup", status_code=201, sync_to_thread=True, opt=OPEN, summary="Create an account, signed in on this device",
          responses=problems(400, 409, 413, 422, 429))
    def signup(self, data: JSONBody[SignUp], alliances: NamedDependency[AllianceApplication]) -> Signed:
        user_id, token = alliances.sign_up(email=data.email, password=data.password,
                                           display_name=data.display_name, device_name=data.device_name)
        return Signed(user_id, token)

    @post("/login", status_code=200, sync_to_thread=True, opt=OPEN, summary="Sign in on this device",
          responses=problems(400, 401, 413, 429))
    def login(self, data: JSONBody[LogIn], alliances: NamedDependency[AllianceApplication]) -> Signed:
        user_id, token = alliances.log_in(email=data.email, password=data.password, device_name=data.device_name)
        return Signed(user_id, token)

    @post("/logout", status_code=204, summary="Sign this device out", security=BEARER, responses=problems(401))
    async def logout(self, request: Request[Account, str, object], alliances: NamedDependency[AllianceApplication],
                     channels: NamedDependency[ChannelsPlugin]) -> None:
        signed_out(channels, await to_thread.run_sync(alliances.log_out, request.auth))
        await tell_signed_out(channels, request.app.state.echoes, request.user.user_id, request.app.state.several)

    @get("/me", sync_to_thread=False, summary="Who is signed in", security=BEARER, responses=problems(401))
    def me(self, request: Request[Account, str, object]) -> Me:
        return Me(request.user.user_id, request.user.email, request.user.display_name)

    @get("/devices", sync_to_thread=True, summary="The devices signed in to this account",
         security=BEARER, responses=problems(401))
    def devices(self, request: Request[Account, str, object], alliances: NamedDependency[AllianceApplication]) -> list[SignedInDevice]:
        return [SignedInDevice(**s) for s in alliances.sessions(request.user.user_id, request.auth)]

    @delete("/devices/{device_id:str}", status_code=204, summary="Sign a device out",
            security=BEARER, responses=problems(400, 401, 404))
    async def revoke(self, request: Request[Account, str, object], device_id: FromPath[str],
                     alliances: NamedDependency[AllianceApplication], channels: NamedDependency[ChannelsPlugin]) -> None:
        signed_out(channels, await to_thread.run_sync(alliances.end_session, request.user.user_id, device_id))
        await tell_signed_out(channels, request.app.state.echoes, request.user.user_id, request.app.state.several)
