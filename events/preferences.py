"""How each person wants to be reminded: which channels for which kind of reminder,
their time zone, quiet hours, immediate or a daily digest; the phones that take Web
Push, and the secret of their calendar feed.

One Preferences aggregate per person, its id derived from theirs. It is changed like
everything else a person changes (the `set_reminder_preferences` mutation, through
the outbox), and by the few commands that need the server: subscribing a phone,
making or revoking the feed, unsubscribing from an email link.
"""

import copy
import hashlib
import hmac
import secrets
import uuid
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from events.accounts import NAMESPACE
from events.alliance import InvalidInput, NotFound
from events.repository import retry_stale
from events.text import quote

# The kinds of reminder, in the words a person reads (the settings screen gets them from the server).
KINDS = {
    "review_soon": "A review coming up (the day before)",
    "review_overdue": "A review that is overdue",
    "commitment_soon": "A commitment due soon",
    "commitment_overdue": "A commitment that is overdue",
    "consent_waiting": "Your consent, still to give after a few days",
    "joined": "Someone joined an alliance",
    "broken": "Someone said an alliance is broken",
    "appreciated": "Appreciation for you",
}
CHANNELS = {"app": "In the app", "push": "On my phones", "email": "By email"}
DELIVERIES = {"immediate": "As they come", "digest": "One digest a day"}
DEFAULT_CHANNELS = {kind: ["app", "push"] + (["email"] if kind not in ("joined", "appreciated") else [])
                    for kind in KINDS}
DEFAULTS = {"time_zone": "UTC", "morning": "08:00", "quiet_hours": {"from": "22:00", "to": "07:00"},
            "delivery": "immediate", "digest_at": "18:00"}
MAX_SUBSCRIPTIONS = 20  # phones per person; the oldest goes first
ZONES = available_timezones()

# The mutation of the sync protocol -> the Preferences command it runs.
PREFERENCE_MUTATIONS = {"set_reminder_preferences": "change"}


def preferences_id(user_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"preferences:{user_id}")


def _clock(value: Any, what: str) -> str:
    try:
        return time.fromisoformat(value).strftime("%H:%M")
    except (TypeError, ValueError):
        raise InvalidInput(f"The {what} must be a time of day like 08:00, not {quote(value)}.") from None


def _zone(value: Any) -> str:
    if not isinstance(value, str) or value not in ZONES:
        raise InvalidInput(f"The time zone must be one like Europe/Berlin or America/New_York, not {quote(value)}.")
    return value


class Preferences(Aggregate):
    TOPIC = "preferences"

    class Created(Aggregate.Created):  # the library's default; unused (__init__ records PreferencesStarted)
        TOPIC = "preferences.Created"

    @event("PreferencesStarted", topic="preferences.PreferencesStarted")
    def __init__(self, id: uuid.UUID, owner: str) -> None:
        self.owner = owner
        self.settings = copy.deepcopy(DEFAULTS)
        self.channels = copy.deepcopy(DEFAULT_CHANNELS)
        self.subscriptions: dict[str, dict] = {}  # subscription id -> endpoint, keys, session, device name
        self.feed: str | None = None  # sha256 of the calendar feed's secret

    @classmethod
    def start(cls, owner: str) -> "Preferences":
        return cls(id=preferences_id(owner), owner=owner)

    # ----- what the person sets -----

    def change(self, *, time_zone: Any = None, morning: Any = None, quiet_hours: Any = None,
               delivery: Any = None, digest_at: Any = None, channels: Any = None) -> None:
        """Change any of these; what is not given stays. `quiet_hours` is {"from", "to"} or
        false (none); `channels` is {kind: [channel, ...]} for the kinds to change. (A push's
        arguments are typed first: events.commands.SetReminderPreferences.)"""
        settings: dict[str, Any] = {}
        if time_zone is not None:
            settings["time_zone"] = _zone(time_zone)
        for key, value in (("morning", morning), ("digest_at", digest_at)):
            if value is not None:
                settings[key] = _clock(value, {"morning": "morning time", "digest_at": "digest time"}[key])
        if quiet_hours is not None:
            if quiet_hours is False:
                settings["quiet_hours"] = None
            elif isinstance(quiet_hours, dict) and set(quiet_hours) == {"from", "to"}:
                settings["quiet_hours"] = {"from": _clock(quiet_hours["from"], "start of the quiet hours"),
                                           "to": _clock(quiet_hours["to"], "end of the quiet hours")}
            else:
                raise InvalidInput('Quiet hours are {"from": "22:00", "to": "07:00"}, or false for none.')
        if delivery is not None:
            if delivery not in DELIVERIES:
                raise InvalidInput("Reminders come immediate (as they come) or digest (one a day).")
            settings["delivery"] = delivery
        chosen: dict[str, list[str]] = {}
        if channels is not None:
            if not isinstance(channels, dict):
                raise InvalidInput('Channels are {"review_soon": ["app", "email"], ...}.')
            for kind, picked in channels.items():
                if kind not in KINDS:
                    raise InvalidInput(f"There is no kind of reminder called {quote(kind)}.")
                if not isinstance(picked, list) or set(picked) - set(CHANNELS):
                    raise InvalidInput(f"The channels of a reminder are a list of: {', '.join(CHANNELS)}.")
                chosen[kind] = [c for c in CHANNELS if c in picked]
        settings = {k: v for k, v in settings.items() if self.settings[k] != v}
        chosen = {k: v for k, v in chosen.items() if self.channels[k] != v}
        if settings or chosen:
            self._changed(settings=settings, channels=chosen)

    @event("PreferencesChanged", topic="preferences.PreferencesChanged")
    def _changed(self, settings: dict, channels: dict) -> None:
        self.settings.update(settings)
        self.channels.update(channels)

    def unsubscribe(self, kind: str | None) -> None:
        """No more email for this kind (None: for every kind), from a link in an email."""
        kinds = [kind] if kind else list(KINDS)
        channels = {k: [c for c in self.channels[k] if c != "email"] for k in kinds}
        self.change(channels=channels)

    # ----- phones that take Web Push -----

    def subscribe(self, *, endpoint: str, p256dh: str, auth: str, session: str, device_name: str) -> str:
        if not endpoint.startswith(("https://", "http://")):
            raise InvalidInput("A push subscription's endpoint is an https:// address.")
        subscription_id = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
        known = self.subscriptions.get(subscription_id)
        if known and (known["p256dh"], known["auth"], known["session"]) == (p256dh, auth, session):
            return subscription_id
        self._subscribed(subscription_id=subscription_id, endpoint=endpoint, p256dh=p256dh, auth=auth,
                         session=session, device_name=device_name[:100])
        return subscription_id

    @event("PushSubscribed", topic="preferences.PushSubscribed")
    def _subscribed(self, subscription_id: str, endpoint: str, p256dh: str, auth: str, session: str,
                    device_name: str) -> None:
        self.subscriptions[subscription_id] = {"endpoint": endpoint, "p256dh": p256dh, "auth": auth,
                                               "session": session, "device_name": device_name}
        while len(self.subscriptions) > MAX_SUBSCRIPTIONS:
            del self.subscriptions[next(iter(self.subscriptions))]

    def unsubscribe_push(self, subscription_id: str, reason: str) -> bool:
        if subscription_id not in self.subscriptions:
            return False
        self._push_ended(subscription_id=subscription_id, reason=reason)
        return True

    @event("PushEnded", topic="preferences.PushEnded")
    def _push_ended(self, subscription_id: str, reason: str) -> None:
        del self.subscriptions[subscription_id]

    # ----- the calendar feed -----

    def new_feed(self) -> str:
        """A new secret feed address (the old one stops working); the secret is shown once."""
        secret = secrets.token_urlsafe(24)
        self._feed_set(feed=_digest(secret))
        return f"{self.owner}.{secret}"

    def revoke_feed(self) -> None:
        if self.feed is not None:
            self._feed_set(feed=None)

    @event("FeedSet", topic="preferences.FeedSet")
    def _feed_set(self, feed: str | None) -> None:
        self.feed = feed

    def feed_matches(self, secret: str) -> bool:
        return self.feed is not None and hmac.compare_digest(self.feed, _digest(secret))

    # ----- their account deleted (issue 13) -----

    def clear(self) -> None:
        """Nothing kept of the person's settings: no reminder by any channel, no phone, no feed."""
        self._cleared()

    @event("PreferencesCleared", topic="preferences.PreferencesCleared")
    def _cleared(self) -> None:
        self.settings = copy.deepcopy(DEFAULTS)
        self.channels = {kind: [] for kind in KINDS}
        self.subscriptions, self.feed = {}, None

    # ----- time: the person's clock -----

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.settings["time_zone"])
        except ZoneInfoNotFoundError:
            return ZoneInfo("UTC")

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def at(self, day: date, clock: str) -> datetime:
        """That local clock time on that day, as a moment (across daylight-saving changes, the clock
        time stays; a time that does not exist that day moves on by the gap)."""
        return datetime.combine(day, time.fromisoformat(clock), tzinfo=self.zone).astimezone(timezone.utc)

    def morning_of(self, day: date) -> datetime:
        return self.at(day, self.settings["morning"])

    def after_quiet_hours(self, moment: datetime) -> datetime:
        """The moment, or the end of the quiet hours it falls in."""
        quiet = self.settings["quiet_hours"]
        if not quiet or quiet["from"] == quiet["to"]:
            return moment
        local = moment.astimezone(self.zone)
        start, end = time.fromisoformat(quiet["from"]), time.fromisoformat(quiet["to"])
        clock = local.time().replace(tzinfo=None)
        if start < end:  # e.g. 13:00 to 15:00, within one day
            return self.at(local.date(), quiet["to"]) if start <= clock < end else moment
        if clock >= start:  # e.g. 22:00 to 07:00: from the evening to the next morning
            return self.at(local.date() + timedelta(days=1), quiet["to"])
        if clock < end:
            return self.at(local.date(), quiet["to"])
        return moment

    def delivery_moment(self, due: datetime, *, digest: bool = False) -> datetime:
        """When a reminder due at `due` goes out: at once or with the next digest, never in quiet hours."""
        if digest or self.settings["delivery"] == "digest":
            local = due.astimezone(self.zone)
            moment = self.at(local.date(), self.settings["digest_at"])
            if moment < due:
                moment = self.at(local.date() + timedelta(days=1), self.settings["digest_at"])
            return self.after_quiet_hours(moment)
        return self.after_quiet_hours(due)

    def wants(self, kind: str, channel: str) -> bool:
        return channel in self.channels.get(kind, [])

    # ----- as the person's devices see it -----

    def as_dict(self) -> dict:
        return {"version": self.version, **copy.deepcopy(self.settings), "channels": copy.deepcopy(self.channels),
                "phones": [{"id": sid, "device_name": s["device_name"]} for sid, s in self.subscriptions.items()],
                "feed": self.feed is not None}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def defaults_for(user_id: str) -> Preferences:
    """What a person who never set anything has (not saved until they change something)."""
    return Preferences.start(user_id)


class PreferencesCommands:
    """The commands on preferences that need the server (mixed into AllianceApplication)."""

    def preferences(self, user_id: str) -> Preferences:
        try:
            found = self.repository.get(preferences_id(user_id))
        except AggregateNotFoundError:
            return defaults_for(user_id)
        if not isinstance(found, Preferences):
            return defaults_for(user_id)
        return found

    def _change_preferences(self, user_id: str, change) -> Any:
        @retry_stale
        def attempt() -> Any:
            preferences = self.preferences(user_id)
            result = change(preferences)
            if preferences.pending_events:
                self.save(preferences)
            return result
        return attempt()

    def subscribe_push(self, user_id: str, *, endpoint: str, p256dh: str, auth: str, session: str,
                       device_name: str) -> str:
        return self._change_preferences(user_id, lambda p: p.subscribe(
            endpoint=endpoint, p256dh=p256dh, auth=auth, session=session, device_name=device_name))

    def end_push(self, user_id: str, subscription_id: str, reason: str) -> bool:
        return self._change_preferences(user_id, lambda p: p.unsubscribe_push(subscription_id, reason))

    def end_push_of_session(self, user_id: str, session: str) -> int:
        """A signed-out device gets no more pushes."""
        def end(preferences: Preferences) -> int:
            gone = [sid for sid, s in preferences.subscriptions.items() if s["session"][:16] == session[:16]]
            for sid in gone:
                preferences.unsubscribe_push(sid, "the device signed out")
            return len(gone)
        return self._change_preferences(user_id, end)

    def new_feed(self, user_id: str) -> str:
        return self._change_preferences(user_id, lambda p: p.new_feed())

    def revoke_feed(self, user_id: str) -> None:
        self._change_preferences(user_id, lambda p: p.revoke_feed())

    def feed_owner(self, token: str) -> str:
        """The person whose feed this secret opens; NotFound for an unknown or revoked one."""
        user_id, _, secret = token.partition(".")
        try:
            uuid.UUID(user_id)
        except ValueError:
            raise NotFound("There is no such calendar feed.") from None
        if not secret or not self.preferences(user_id).feed_matches(secret):
            raise NotFound("There is no such calendar feed (it may have been revoked).")
        return user_id

    def unsubscribe_email(self, user_id: str, kind: str | None) -> None:
        self._change_preferences(user_id, lambda p: p.unsubscribe(kind))

    # Links that work without signing in (an email's unsubscribe link) are signed with the server's key.
    def sign(self, text: str) -> str:
        return self.server_key.sign(text)

    def signed(self, text: str, signature: str) -> bool:
        return self.server_key.signed(text, signature)


def saved_or_started(app, user_id: str) -> Preferences:
    """For a push: the person's stored preferences, or new ones (saved with the push)."""
    try:
        found = app.repository.get(preferences_id(user_id))
        if isinstance(found, Preferences):
            return found
    except AggregateNotFoundError:
        pass
    return Preferences.start(user_id)

