"""Accounts over HTTP: sign up, sign in, sign out, signed-in devices; and the
Bearer-token check every other API call goes through."""

from typing import Annotated

import msgspec
from anyio import to_thread
from litestar import Controller, Request, delete, get, post
from litestar.channels import ChannelsPlugin
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.params import FromPath, JSONBody

from events.accounts import Account
from events.application import AllianceApplication
from server.account import refusal
from server.pokes import signed_out
from server.openapi import BEARER, problems

# Open routes carry opt={"exclude_from_auth": True}; the OpenAPI schema is open too.
OPEN = {"exclude_from_auth": True}


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
        alliances: AllianceApplication = connection.app.state.alliances
        account = await to_thread.run_sync(alliances.authenticate, token) if token else None
        if account is None:
            raise await to_thread.run_sync(refusal, alliances, token)  # in words: deleted, or not signed in
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
