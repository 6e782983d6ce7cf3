"""The sync protocol over HTTP: push, pull and the live stream (docs/PROTOCOL.md)."""

import asyncio
import json
import logging
from typing import Annotated, Any, AsyncGenerator, Awaitable, Callable

import msgspec
from anyio import to_thread
from litestar import Controller, Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from events.accounts import Account
from events.application import AllianceApplication
from sync import SyncService
from sync.mutations import MAX_MUTATIONS
from server.metrics import LIVE_CLIENTS, count_push
from server.pokes import SIGNED_OUT, poke, session_channel, user_channel
from server.openapi import BEARER, problems

# (?!\n): in Python (msgspec) "$" also matches before a final newline; in the schema's regex it changes nothing.
CLIENT_ID = r"^[A-Za-z0-9_.:-]+$(?!\n)"
ClientId = Annotated[str, msgspec.Meta(min_length=8, max_length=100, pattern=CLIENT_ID)]
HEARTBEAT_SECONDS = 20
log = logging.getLogger("alliance")


class Mutation(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[int, msgspec.Meta(ge=1)]
    alliance_id: Annotated[str, msgspec.Meta(max_length=100)]
    name: Annotated[str, msgspec.Meta(max_length=100)]
    args: Any = msgspec.field(default_factory=dict)  # checked per mutation: a bad one is rejected alone


class Push(msgspec.Struct, forbid_unknown_fields=True):
    client_id: ClientId
    mutations: Annotated[list[Mutation], msgspec.Meta(max_length=MAX_MUTATIONS)]


class Problem(msgspec.Struct):
    type: str
    title: str
    detail: str
    code: str


class MutationResult(msgspec.Struct, omit_defaults=True):
    id: int
    status: str  # applied, duplicate, conflict or rejected
    error: Problem | None  # for rejected (and a duplicate of one): why, in words
    outcome: str | None = None  # for a duplicate: what happened the first time


class Pushed(msgspec.Struct):
    last_mutation_id: int
    results: list[MutationResult]


class Pull(msgspec.Struct, forbid_unknown_fields=True):
    client_id: ClientId
    cursor: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 500


class Event(msgspec.Struct):
    alliance_id: str
    version: int
    name: str
    at: str
    by: str
    data: dict[str, Any]


class Pulled(msgspec.Struct):
    cursor: str
    more: bool
    reset: bool
    last_mutation_id: int
    alliances: list[dict[str, Any]]
    events: list[Event]
    removed: list[str]
    inventory: dict[str, Any] | None  # your own ally inventory, when it changed (or on a reset); only ever yours


class SyncController(Controller):
    path = "/api/v1/sync"
    tags = ["sync"]
    security = BEARER

    @post("/push", status_code=200, summary="Apply a device's numbered mutations, exactly once",
          responses=problems(400, 401, 403, 409, 413))
    async def push(self, request: Request[Account, str, object], data: JSONBody[Push],
                   sync: NamedDependency[SyncService], channels: NamedDependency[ChannelsPlugin]) -> Pushed:
        mutations = [msgspec.structs.asdict(m) for m in data.mutations]
        result = await to_thread.run_sync(sync.push, request.user.user_id, data.client_id, mutations)
        count_push(result.results)
        poke(channels, result.changed, result.logged, data.client_id)
        return msgspec.convert({"last_mutation_id": result.last_mutation_id, "results": result.results}, Pushed)

    @post("/pull", status_code=200, summary="What changed since the cursor, in commit order",
          responses=problems(400, 401, 403, 413))
    async def pull(self, request: Request[Account, str, object], data: JSONBody[Pull],
                   sync: NamedDependency[SyncService]) -> Pulled:
        # Nothing new, as this process knows from memory: answered here; else by the store, in a thread.
        pulled = sync.pull_from_memory(request.user.user_id, data.client_id, data.cursor) or \
            await to_thread.run_sync(sync.pull, request.user.user_id, data.client_id, data.cursor, data.limit)
        return msgspec.convert(pulled, Pulled)

    @get("/live", summary="Server-sent events: each change of yours as a page, or a poke",
         media_type="text/event-stream", responses=problems(400, 401, 403))
    async def live(self, request: Request[Account, str, object], channels: NamedDependency[ChannelsPlugin],
                   alliances: NamedDependency[AllianceApplication], sync: NamedDependency[SyncService],
                   client_id: Annotated[str | None, QueryParameter(
                       min_length=8, max_length=100, pattern=CLIENT_ID,
                       description="the device's client id: changes come as pages for it")] = None) -> ServerSentEvent:
        user_id = request.user.user_id
        session = request.user.session_for(request.auth.partition(".")[2])
        # The device's last applied mutation (403 for another account's device), read again only
        # after a push of its own: a stale one can only make `from` miss, and then the device pulls.
        acknowledged = await to_thread.run_sync(sync.acknowledged, user_id, client_id) if client_id else 0

        def still_signed_in() -> bool:
            return alliances.authenticate(request.auth) is not None

        async def change(message: dict) -> ServerSentEventMessage:
            """The change as a page for this device, or a poke (a stream without a client id, a
            message without a log position, or a page that could not be made)."""
            nonlocal acknowledged
            if client_id is not None and "upto" in message:
                try:
                    if message.get("by") == client_id:
                        acknowledged = await to_thread.run_sync(sync.acknowledged, user_id, client_id)
                    data = await to_thread.run_sync(sync.change, user_id, client_id, message["after"], message["upto"],
                                                    acknowledged)
                except Exception as error:  # noqa: BLE001 - the device is poked and pulls: nothing is lost
                    log.warning(json.dumps({"live": "no change page", "error": repr(error)}))
                    data = None
                if data is not None:
                    return ServerSentEventMessage(event="change", data=data.decode())
            return await poked(message)

        return ServerSentEvent(pokes(channels, [user_channel(user_id), session_channel(session)],
                                     still_signed_in, change))


async def poked(message: dict) -> ServerSentEventMessage:
    """A poke: what changed, by id, and no more."""
    return ServerSentEventMessage(event="poke", data=msgspec.json.encode({"alliances": message["alliances"]}).decode())


async def pokes(channels: ChannelsPlugin, subscribed: list[str], still_signed_in: Callable[[], bool],
                change: Callable[[dict], Awaitable[ServerSentEventMessage]] = poked
                ) -> AsyncGenerator[ServerSentEventMessage, None]:
    """A 'ready' event, then a 'change' (or 'poke') per change and a comment now and then to keep
    proxies from closing. The stream ends when its device is signed out: at once when the sign-out
    is heard, and at the latest at the next heartbeat (a sign-out's message can be lost with a
    database restart)."""
    async with channels.start_subscription(subscribed) as subscriber:
        LIVE_CLIENTS.inc()  # and dec in the finally below, however the stream ends
        following = None
        try:
            yield ServerSentEventMessage(event="ready", data="{}")
            iterator = subscriber.iter_events().__aiter__()
            # Wait for the next message without cancelling it on a heartbeat: cancelling
            # (as wait_for does) would close iter_events, and the stream would die then.
            following = asyncio.ensure_future(iterator.__anext__())
            while True:
                done, _ = await asyncio.wait({following}, timeout=HEARTBEAT_SECONDS)
                if not done:
                    if not await to_thread.run_sync(still_signed_in):
                        return
                    yield ServerSentEventMessage(comment="still here")
                    continue
                try:
                    message = following.result()
                except StopAsyncIteration:  # the subscription ended: the server is stopping
                    return
                if message == SIGNED_OUT:
                    return
                following = asyncio.ensure_future(iterator.__anext__())
                yield await change(msgspec.json.decode(message))
        finally:
            if following is not None:
                following.cancel()
            LIVE_CLIENTS.dec()
