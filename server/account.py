"""Your account and your data over HTTP (issue 13): delete the account, and take everything
about you with you (JSON, or a readable page). See docs/PROTOCOL.md, "Erasure and your data"."""

from typing import Annotated, Any

import msgspec
from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.response import Template

from events.accounts import Account, WrongPassword
from events.application import AllianceApplication
from server.auth import ACCOUNT_DELETED, BEARER_CHALLENGE, DeletedAccountToken, tell_signed_out
from server.openapi import BEARER, problems
from server.pokes import poke, signed_out
from server.problems import problem

Req = Request[Account, str, object]
PRIVATE = {"Cache-Control": "no-store"}  # a person's whole data stays out of every cache
ATTACHMENT = 'attachment; filename="alliance-my-data.json"'


class DeleteAccount(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class PersonExport(msgspec.Struct, forbid_unknown_fields=True):
    """Everything about one person, as `export_person` gives it: their account, their words in every
    alliance with when, their inventory, their devices, their reminder settings. Nothing of anyone else.
    Closed: a field the application adds and this schema lacks fails loudly instead of going missing."""
    exported_at: str
    account: dict[str, Any]
    alliances: list[dict[str, Any]]
    inventory: dict[str, Any] | None
    devices: list[dict[str, Any]]
    reminders: dict[str, Any]


def _deleted_account_token(_: Request, error: DeletedAccountToken) -> Response:
    response = problem(401, ACCOUNT_DELETED, code="account_deleted")
    response.headers.update(BEARER_CHALLENGE)
    return response


def _wrong_password(_: Request, error: WrongPassword) -> Response:
    """Signed in, but not confirmed by the account's password: forbidden (a 401 would sign the device out)."""
    return problem(403, str(error), code=error.code)


ACCOUNT_PROBLEMS = {DeletedAccountToken: _deleted_account_token, WrongPassword: _wrong_password}


class AccountController(Controller):
    tags = ["accounts"]
    security = BEARER

    @post("/api/v1/account/delete", status_code=204, responses=problems(400, 401, 403, 413),
          summary="Delete this account: every alliance left with its words erased, every device signed out")
    async def delete(self, request: Req, data: JSONBody[DeleteAccount], alliances: NamedDependency[AllianceApplication],
                     channels: NamedDependency[ChannelsPlugin]) -> None:
        sessions = list(request.user.sessions)  # now: deleting the account ends them all

        def delete() -> dict[str, list[str]]:
            alliances.delete_account(request.user.user_id, password=data.password, device="server")
            return {aid: alliances.alliance(aid, copy=False).members()
                    for aid in alliances.alliances_ever(request.user.user_id)}
        changed = await to_thread.run_sync(delete)
        for session in sessions:
            signed_out(channels, session)
        await tell_signed_out(channels, request.app.state.echoes, request.user.user_id, request.app.state.several)
        poke(channels, changed)  # the others' devices pull the placeholder where the words were

    @get("/api/v1/me/export", sync_to_thread=True, responses=problems(401),
         summary="Everything about me, as a JSON file", response_headers=[ResponseHeader(
             name="Content-Disposition", documentation_only=True, description=ATTACHMENT)])
    def export(self, request: Req, alliances: NamedDependency[AllianceApplication]) -> Response[PersonExport]:
        data = msgspec.convert(alliances.export_person(request.user.user_id), PersonExport)
        return Response(data, headers={**PRIVATE, "Content-Disposition": ATTACHMENT})

    @get("/api/v1/me/export.html", sync_to_thread=True, responses=problems(401),
         summary="Everything about me, as a page to read or print")
    def export_html(self, request: Req, alliances: NamedDependency[AllianceApplication]) -> Template:
        return Template("my_data.html", context={"data": alliances.export_person(request.user.user_id)},
                        headers=PRIVATE)


ACCOUNT: list[Any] = [AccountController]
