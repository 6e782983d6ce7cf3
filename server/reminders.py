"""Reminders over HTTP: what needs me now, what I was reminded of (and how it was
delivered), my preferences' choices, my phones for Web Push, my calendar feed; and the
follower that decides and delivers reminders, run in a thread of `alliance serve`
(or alone, by `alliance remind`). See docs/PROTOCOL.md, "Reminders"."""

import asyncio
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import msgspec
from anyio import to_thread
from litestar import Controller, Request, Response, delete, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Template

from events import agenda
from events.accounts import Account
from events.application import AllianceApplication
from events.preferences import CHANNELS, DELIVERIES, KINDS
from events.alliance import NotFound
from events.deliveries import delivery_words
from events.reminders import Reminders
from server.auth import OPEN
from server.calendar_feed import feed
from server.notify import channels, read_unsubscribe_token, unsubscribe_words
from server.openapi import BEARER, problems
from server.pokes import poke
from server.settings import Settings

log = logging.getLogger("alliance")
Req = Request[Account, str, object]
TICK_SECONDS = 30  # the clock's reminders are looked for at least this often


class PushKeys(msgspec.Struct, forbid_unknown_fields=True):
    p256dh: Annotated[str, msgspec.Meta(min_length=16, max_length=200)]
    auth: Annotated[str, msgspec.Meta(min_length=8, max_length=100)]


class PushSubscription(msgspec.Struct, forbid_unknown_fields=True):
    """What the browser's PushSubscription.toJSON() gives, as it gives it."""
    endpoint: Annotated[str, msgspec.Meta(min_length=8, max_length=2000)]
    keys: PushKeys
    expirationTime: int | None = None  # noqa: N815 - the browser's own name


class Subscribed(msgspec.Struct):
    id: str


class Feed(msgspec.Struct):
    https: str
    webcal: str


def open_reminders(settings: Settings, alliances: AllianceApplication, channels: dict | None = None) -> Reminders:
    return Reminders(alliances, env=settings.event_store_env("reminders"), channels=channels or {},
                     lease=timedelta(seconds=settings.reminders_lease_seconds))


def start_reminders(app: Any, settings: Settings) -> None:
    """On startup: the follower's store for reading, and (unless another process runs it) its loop,
    which pokes the live streams of whoever it showed a reminder (through the app's channels)."""
    offered = channels(settings, app.state.alliances)
    app.state.reminders = open_reminders(settings, app.state.alliances, offered)
    app.state.push_key = offered["push"].public_key if "push" in offered else None
    loop, plugin = asyncio.get_running_loop(), app.plugins.get(ChannelsPlugin)

    def poke_people(people: set[str]) -> None:  # from the worker's thread: publish on the event loop
        loop.call_soon_threadsafe(poke, plugin, {"reminders": sorted(people)})

    app.state.reminder_worker = Worker(app.state.reminders, settings.reminders_poll_seconds, poke_people).start() \
        if settings.reminders else None


def stop_reminders(app: Any) -> None:
    if app.state.reminder_worker is not None:
        app.state.reminder_worker.stop()
    app.state.reminders.close()


class Worker:
    """The follower's loop, in a thread: follow the log, let the clock decide, deliver; again."""

    def __init__(self, reminders: Reminders, poll_seconds: float, poke_people: Any = None):
        self.reminders, self.poll, self.poke_people = reminders, poll_seconds, poke_people
        self.stopping = threading.Event()
        self.ticked = -TICK_SECONDS
        self.thread = threading.Thread(target=self.run, name="reminders", daemon=True)

    def start(self) -> "Worker":
        self.thread.start()
        return self

    def run(self) -> None:
        while not self.stopping.is_set():
            self.once()
            self.stopping.wait(self.poll)

    def once(self) -> None:
        try:
            self.reminders.follow_log()
            # The clock's reminders come at whole minutes (08:00): reading every alliance more than once a
            # second is waste, and with a slow poll, every poll (at most 30 s) is enough.
            if time.monotonic() - self.ticked >= min(TICK_SECONDS, max(self.poll, 1)):
                self.ticked = time.monotonic()
                self.reminders.tick()
            self.reminders.deliver()
            reached = self.reminders.take_reached()
            if reached and self.poke_people:
                self.poke_people(reached)
        except Exception:  # noqa: BLE001 - the store may be gone for a while: log, and look again later
            log.exception("reminders: a round failed")

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(10)


def needs_me(alliances: AllianceApplication, reminders: Reminders, user_id: str, now: datetime) -> dict[str, Any]:
    preferences = alliances.preferences(user_id)
    today = preferences.today(now)
    items = []
    for aid in alliances.account(user_id).alliances:
        items += agenda.needs_me(alliances.alliance(aid, copy=False), user_id, today)
    items.sort(key=lambda i: (i["urgency"], i["day"] or "", i["title"]))
    given = reminders.given_to(user_id)
    for reminder in given:
        reminder["delivered"] = delivery_words(reminder, preferences, now)
    return {"today": today.isoformat(), "needs_me": items, "reminders": given,
            "preferences": preferences.as_dict(),
            "choices": {"kinds": KINDS, "channels": CHANNELS, "deliveries": DELIVERIES}}


def email_invitation(request: Any, alliances: AllianceApplication, data: Any, link: dict, url: str) -> None:
    """An invitation link made with an address goes there by email (sent by the follower)."""
    alliance = alliances.alliance(link["alliance_id"], copy=False)
    expires = datetime.fromisoformat(link["expires_at"]).strftime("%-d %B %Y")
    request.app.state.reminders.invite(address=data.email.strip(), name=data.name.strip(), alliance_id=str(alliance.id),
                                       inviter=request.user.display_name, title=alliance.title, url=url,
                                       expires=expires)


def feed_urls(settings: Settings, token: str) -> Feed:
    https = f"{settings.public_url.rstrip('/')}/feed/{token}.ics"
    return Feed(https=https, webcal="webcal://" + https.split("://", 1)[1])


class RemindersController(Controller):
    path = "/api/v1/reminders"
    tags = ["reminders"]
    security = BEARER

    @get("/", sync_to_thread=True, summary="What needs me now, what I was reminded of, my preferences",
         responses=problems(401))
    def read(self, request: Req, alliances: NamedDependency[AllianceApplication],
             settings: NamedDependency[Settings]) -> dict[str, Any]:
        answer = needs_me(alliances, request.app.state.reminders, request.user.user_id, datetime.now(timezone.utc))
        answer["push_key"] = request.app.state.push_key
        return answer

    @post("/feed", status_code=201, sync_to_thread=True, summary="A new secret calendar feed address (the old one stops)",
          responses=problems(401))
    def new_feed(self, request: Req, alliances: NamedDependency[AllianceApplication],
                 settings: NamedDependency[Settings]) -> Feed:
        return feed_urls(settings, alliances.new_feed(request.user.user_id))

    @delete("/feed", status_code=204, sync_to_thread=True, summary="Revoke the calendar feed address",
            responses=problems(401))
    def revoke_feed(self, request: Req, alliances: NamedDependency[AllianceApplication]) -> None:
        alliances.revoke_feed(request.user.user_id)

    @post("/phones", status_code=201, summary="This phone takes Web Push (its PushSubscription)",
          responses=problems(400, 401, 413, 422))
    async def subscribe(self, request: Req, data: JSONBody[PushSubscription],
                        alliances: NamedDependency[AllianceApplication]) -> Subscribed:
        session = request.user.session_for(request.auth.partition(".")[2]) or ""
        device = request.user.sessions.get(session, {}).get("device_name", "")
        subscription_id = await to_thread.run_sync(lambda: alliances.subscribe_push(
            request.user.user_id, endpoint=data.endpoint, p256dh=data.keys.p256dh, auth=data.keys.auth,
            session=session, device_name=device))
        return Subscribed(subscription_id)

    @delete("/phones/{phone_id:str}", status_code=204, sync_to_thread=True, summary="A phone takes no more Web Push",
            responses=problems(400, 401))
    def unsubscribe(self, request: Req, phone_id: FromPath[str], alliances: NamedDependency[AllianceApplication]) -> None:
        alliances.end_push(request.user.user_id, phone_id, "turned off on the phone")


@get("/feed/{token:str}", sync_to_thread=True, include_in_schema=False, opt=OPEN)
def calendar_feed(token: FromPath[str], alliances: NamedDependency[AllianceApplication],
                  settings: NamedDependency[Settings]) -> Response[bytes]:
    """A person's calendar, for calendar apps (no sign-in: the address is the secret)."""
    user_id = alliances.feed_owner(token.removesuffix(".ics"))
    account = alliances.account(user_id)
    found = []
    for aid in account.alliances:
        try:
            found.append(alliances.alliance_for(user_id, aid))
        except NotFound:  # left meanwhile
            continue
    body = feed(found, alliances.preferences(user_id), name=account.display_name,
                now=datetime.now(timezone.utc), public_url=settings.public_url)
    return Response(body, media_type="text/calendar", headers={"Cache-Control": "private, no-store"})


def _unsubscribe_page(alliances: AllianceApplication, token: str, *, do: bool) -> Template:
    found = read_unsubscribe_token(alliances, token)
    if found is None:
        return Template("unsubscribe.html", context={"valid": False}, status_code=404)
    user_id, kind = found
    if do:
        alliances.unsubscribe_email(user_id, kind)
    return Template("unsubscribe.html", context={"valid": True, "done": do, "token": token,
                                                 "what": unsubscribe_words(kind)})


# Async with an explicit thread: as sync_to_thread handlers these two answered 500 ("coroutine
# 'sync_to_thread' was never awaited", Litestar 2.25); why is not understood yet.
@get("/unsubscribe/{token:str}", include_in_schema=False, opt=OPEN)
async def unsubscribe_page(token: FromPath[str], alliances: NamedDependency[AllianceApplication]) -> Template:
    """What the link in an email stops, and a button (a link checker opening it changes nothing)."""
    return await to_thread.run_sync(lambda: _unsubscribe_page(alliances, token, do=False))


@post("/unsubscribe/{token:str}", status_code=200, include_in_schema=False, opt=OPEN)
async def unsubscribe(token: FromPath[str], alliances: NamedDependency[AllianceApplication]) -> Template:
    """The button, and mail clients' one-click unsubscribe (RFC 8058): no sign-in, the token is signed."""
    return await to_thread.run_sync(lambda: _unsubscribe_page(alliances, token, do=True))


REMINDERS: list[Any] = [RemindersController, calendar_feed, unsubscribe_page, unsubscribe]
