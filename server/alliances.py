"""Reading an alliance's present and past, and invitation links, over HTTP.
Every path answers 404 for an alliance the user is not in."""

from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
from anyio import to_thread
from litestar import Controller, Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from events.accounts import Account
from events.alliance import MAX_LINK_USES
from events.application import AllianceApplication
from events.audit import Anchor
from events.text import quote
from server.access import participants_only
from server.openapi import BEARER, problems
from server.settings import Settings
from server.pokes import poke
from server.reminders import email_invitation

Req = Request[Account, str, object]


class InvitationRequest(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=100)] = ""  # who it is for, as others will see it until they join
    email: Annotated[str, msgspec.Meta(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$(?!\n)")] | None = None  # issue 12
    uses: Annotated[int, msgspec.Meta(ge=1, le=MAX_LINK_USES, description="how many people it lets in (more "
                                      "than 1: a team link)")] = 1
    valid_days: Annotated[int, msgspec.Meta(ge=1, le=90, description="how many days it works (default: "
                                            "the server's ALLIANCE_INVITATION_DAYS)")] | None = None


class Invitation(msgspec.Struct):
    token: str
    url: str
    invitation_id: str
    uses: int
    expires_at: str


class ChainCheck(msgspec.Struct):
    ok: bool
    events: int
    head: str
    broken_at: int | None
    problem: str
    anchor_ok: bool | None


# A device's anchor: the `version` and `chain_head` of a state it pulled (both or neither).
AnchorVersion = Annotated[int | None, QueryParameter(name="version", ge=1, description="the version the device saw")]
AnchorHead = Annotated[str | None, QueryParameter(name="head", pattern="^[0-9a-f]{64}$",
                                                  description="the chain_head it saw at that version")]


def device_anchor(version: int | None, head: str | None) -> Anchor | None:
    if (version is None) != (head is None):
        raise ValidationException("An anchor is a 'version' and a 'head' together: send both or neither.")
    return None if version is None else Anchor(version, head)


def moment(at: str | None) -> datetime | None:
    if at is None:
        return None
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        raise ValidationException(f"'at' must be an ISO 8601 moment like 2026-03-10T09:00:00Z, not {quote(at)}.") from None
    if parsed.tzinfo is None:
        raise ValidationException("'at' needs a time zone, e.g. 2026-03-10T09:00:00Z.")
    return parsed


class AlliancesController(Controller):
    path = "/api/v1/alliances/{alliance_id:str}"
    tags = ["alliances"]
    security = BEARER
    guards = [participants_only]

    @get("/", sync_to_thread=True, summary="The alliance now, as of a version, or as of a moment",
         responses=problems(400, 401, 404))
    def read(self, request: Req, alliance_id: FromPath[str], alliances: NamedDependency[AllianceApplication],
             version: Annotated[int | None, QueryParameter(ge=1)] = None,
             at: FromQuery[str | None] = None) -> dict[str, Any]:
        alliance = alliances.alliance(alliance_id, version=version, at=moment(at), copy=False)
        return alliance.seen_by(request.user.user_id).as_dict()

    @get("/history", sync_to_thread=True, summary="History in words, newest first, paged",
         responses=problems(400, 401, 404))
    def history(self, request: Req, alliance_id: FromPath[str], alliances: NamedDependency[AllianceApplication],
                before: Annotated[int | None, QueryParameter(ge=1)] = None,
                limit: Annotated[int, QueryParameter(ge=1, le=200)] = 20) -> dict[str, Any]:
        return alliances.history(alliance_id, before=before, limit=limit, viewer=request.user.user_id)

    @get("/diff", sync_to_thread=True, summary="What changed between two versions, word by word",
         responses=problems(400, 401, 404))
    def diff(self, request: Req, alliance_id: FromPath[str], alliances: NamedDependency[AllianceApplication],
             from_version: Annotated[int, QueryParameter(name="from", ge=1)],
             to_version: Annotated[int, QueryParameter(name="to", ge=1)]) -> dict[str, Any]:
        return alliances.diff(alliance_id, from_version, to_version, viewer=request.user.user_id)

    @get("/evidence", sync_to_thread=True, summary="Who consented to one content version, to which content hash, "
         "and when", responses=problems(400, 401, 404))
    def evidence(self, alliance_id: FromPath[str], alliances: NamedDependency[AllianceApplication],
                 version: Annotated[int, QueryParameter(ge=1, description="a content version")]) -> dict[str, Any]:
        return alliances.evidence(alliance_id, version)

    @get("/verify", sync_to_thread=True, summary="Recompute the audit chain over the stored events",
         responses=problems(400, 401, 404))
    def verify(self, request: Req, alliance_id: FromPath[str], alliances: NamedDependency[AllianceApplication],
               version: AnchorVersion = None, head: AnchorHead = None) -> ChainCheck:
        report = alliances.verify(alliance_id, device_anchor(version, head))
        return ChainCheck(**report.as_dict())

    @post("/invitations", status_code=201, summary="A link for one new participant, or a team link for several",
          responses=problems(400, 401, 404, 409, 413))
    async def invite(self, request: Req, alliance_id: FromPath[str], alliances: NamedDependency[AllianceApplication],
                     settings: NamedDependency[Settings], channels: NamedDependency[ChannelsPlugin],
                     data: JSONBody[InvitationRequest | None] = None) -> Invitation:
        data = data or InvitationRequest()
        valid_for = timedelta(days=data.valid_days) if data.valid_days else settings.invitation_lifetime
        link = await to_thread.run_sync(lambda: alliances.create_invitation(
            request.user.user_id, alliance_id, name=data.name, uses=data.uses, valid_for=valid_for))
        poke(channels, {link["alliance_id"]: link["members"]})
        url = f"{settings.public_url.rstrip('/')}/invite/{link['token']}"
        if data.email:  # reminders (issue 12): the link also goes to that address
            await to_thread.run_sync(lambda: email_invitation(request, alliances, data, link, url))
        return Invitation(token=link["token"], url=url, invitation_id=link["invitation_id"], uses=link["uses"],
                          expires_at=link["expires_at"])


class InvitationsController(Controller):
    path = "/api/v1/invitations"
    tags = ["alliances"]
    security = BEARER

    @post("/{token:str}/accept", status_code=200, summary="Join the alliance behind a link",
          responses=problems(400, 401, 404, 409))
    async def accept(self, request: Req, token: FromPath[str], alliances: NamedDependency[AllianceApplication],
                     channels: NamedDependency[ChannelsPlugin]) -> dict[str, Any]:
        alliance = await to_thread.run_sync(alliances.accept_invitation, request.user.user_id, token)
        poke(channels, {str(alliance.id): alliance.members()})
        return alliance.seen_by(request.user.user_id).as_dict()
