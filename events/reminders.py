"""Reminders, decided exactly once by one follower of the event log, and delivered.

`Reminders` is an eventsourcing ProcessApplication with a store of its own. It
decides in two ways, both exactly once across processes and restarts:

- What happened (someone joined, broke the alliance, appreciated someone) is decided
  by its policy while it follows the alliances' log: the reminders it decides and the
  tracking record of how far it has got are saved in one transaction, so a crash
  leaves both or neither, and a second process re-processing the same notification
  fails on the tracking record and writes nothing.
- What the clock brings (a review tomorrow, a commitment overdue, consent awaited) is
  decided by `tick(now)`: each occasion has an id derived from what it is about, for
  whom and when, so only one process can ever create it.

Delivery is at least once by nature (a crash can come after sending and before
recording it), so each delivery is claimed first (a saved attempt: two processes
cannot both claim it), then sent, then its outcome is recorded with the channel's
answer. A claim left without an outcome for longer than the lease (its process died)
is tried again: at most that one is sent twice.
"""

import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from eventsourcing.application import AggregateNotFoundError, LocalNotificationLog, ProcessingEvent
from eventsourcing.persistence import IntegrityError
from eventsourcing.system import ProcessApplication

from events import agenda
from events.accounts import Account
from events.alliance import Alliance
from events.deliveries import Channel, Inbox, Outcome, Recipient, Reminder, Watch, inbox_id, reminder_id, watch_id
from events.preferences import Preferences

log = logging.getLogger("alliance.reminders")
IMMEDIATE_WINDOW = timedelta(days=1)  # older events (a first start on an old store) remind nobody
CATCH_UP = timedelta(days=2)  # a clock occasion missed by more than this (the service was down) is let go
MAX_ATTEMPTS = 3  # a channel that keeps failing is given up on, with its last answer
RETRY_AFTER = timedelta(minutes=5)
FOLLOWED = ("alliance.Designed", "alliance.ParticipantJoined", "alliance.AllianceBroken",
            "alliance.ParticipantAppreciated", "alliance.AllianceClosed", "account.SessionEnded")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Reminders(ProcessApplication):
    name = "reminders"  # pinned: PostgreSQL table names derive from it
    topics = FOLLOWED

    def __init__(self, upstream: Any, *, env: dict | None = None, channels: dict[str, Channel] | None = None,
                 clock: Callable[[], datetime] = utc_now, lease: timedelta = timedelta(minutes=2),
                 process: str = "") -> None:
        super().__init__(env)
        self.upstream, self.channels, self.clock, self.lease = upstream, dict(channels or {}), clock, lease
        self.process = process or uuid.uuid4().hex[:8]
        self.follow(upstream.name, LocalNotificationLog(upstream.recorder, section_size=500))
        self.mappers[upstream.name] = upstream.mapper  # its events' texts are sealed with its keys
        self.watched: set[str] = set()
        self.pending: set[uuid.UUID] = set()
        self.decided: set[uuid.UUID] = set()
        self._seen = 0  # how far this process has read its own log (watches and decisions)
        self.reached: set[str] = set()  # people shown a reminder in the app since take_reached()

    # ----- following the alliances' log -----

    def follow_log(self) -> None:
        """Process what is new in the alliances' log. Another process may have processed a
        notification first: its tracking record wins, this one writes nothing and goes on after it."""
        for _ in range(100):
            try:
                self.pull_and_process(self.upstream.name)
                return
            except IntegrityError:
                continue

    def policy(self, domain_event: Any, processing_event: ProcessingEvent) -> None:
        topic = type(domain_event).__name__
        now = self.clock()
        if isinstance(domain_event, Account.Event):  # a device signed out: its phone gets no more pushes
            self.upstream.end_push_of_session(str(domain_event.originator_id), domain_event.token_hash)
            return
        aid = str(domain_event.originator_id)
        if topic == "Designed":
            processing_event.collect_events(Watch(id=watch_id(aid), alliance_id=aid))
            return
        if topic == "AllianceClosed":
            try:
                watch = self.repository.get(watch_id(aid))
            except AggregateNotFoundError:
                return
            watch.end()
            processing_event.collect_events(watch)
            return
        if domain_event.timestamp < now - IMMEDIATE_WINDOW:
            return  # long past: nobody is reminded of history
        alliance = self.upstream.alliance(aid, version=domain_event.originator_version)
        by = domain_event.by
        if topic == "ParticipantJoined":
            (text, link), kind, whom = agenda.joined(alliance, by), "joined", [u for u in alliance.members() if u != by]
        elif topic == "AllianceBroken":
            (text, link), kind, whom = agenda.broken(alliance, by), "broken", [u for u in alliance.members() if u != by]
        else:  # appreciated
            text, link = agenda.appreciated(alliance, by)
            kind, whom = "appreciated", [domain_event.participant_id]
        subject = f"event:{domain_event.originator_version}"
        for user_id in whom:
            occasion = agenda.Occasion(kind, aid, subject, now, text, link)
            processing_event.collect_events(*self._decision(occasion, user_id, now, processing_event))

    # ----- the clock -----

    def tick(self, now: datetime | None = None) -> int:
        """Decide every reminder the clock has brought by `now`; how many were new."""
        now = now or self.clock()
        self._read_own_log()
        made = 0
        for aid in sorted(self.watched):
            try:
                alliance = self.upstream.alliance(aid)
            except Exception:  # noqa: BLE001 - an alliance that cannot be read must not stop the others
                log.exception("reminders: cannot read alliance %s", aid)
                continue
            asked = self._consent_asked_at(alliance)
            for user_id in alliance.members():
                preferences = self.upstream.preferences(user_id)
                for occasion in agenda.timed_occasions(alliance, user_id, preferences, asked):
                    if now - CATCH_UP < occasion.due <= now:
                        made += self._decide(occasion, user_id, now)
        return made

    def _consent_asked_at(self, alliance: Alliance) -> datetime | None:
        if not alliance.awaiting_consent():
            return None
        (changed,) = self.upstream.events.get(alliance.id, gt=alliance.content_version - 1,
                                              lte=alliance.content_version)
        return changed.timestamp

    def _decide(self, occasion: agenda.Occasion, user_id: str, now: datetime) -> int:
        rid = reminder_id(user_id, occasion.kind, occasion.alliance_id, occasion.subject)
        for _ in range(20):
            if rid in self.decided or self.recorder.select_events(rid, limit=1):
                self.decided.add(rid)
                return 0
            try:
                self.save(*self._decision(occasion, user_id, now))
            except IntegrityError:  # another process decided it, or filed into the same inbox: look again
                continue
            self.decided.add(rid)
            return 1
        return 0

    def _decision(self, occasion: agenda.Occasion, user_id: str, now: datetime,
                  processing_event: ProcessingEvent | None = None) -> list:
        """The reminder and the recipient's inbox it is filed in (to save together)."""
        recipient = self.recipient(user_id)
        preferences = recipient.preferences
        bundled = occasion.digest or preferences.settings["delivery"] == "digest"
        deliver_at = preferences.delivery_moment(max(occasion.due, now), digest=bundled)
        channels = [c for c in ("app", "push", "email") if preferences.wants(occasion.kind, c)
                    and (c == "app" or (c in self.channels and self.channels[c].reaches(recipient)))]
        reminder = Reminder(id=reminder_id(user_id, occasion.kind, occasion.alliance_id, occasion.subject),
                            recipient=user_id, kind=occasion.kind, alliance_id=occasion.alliance_id,
                            subject=occasion.subject, text=occasion.text, link=occasion.link,
                            decided_at=now.isoformat(), deliver_at=deliver_at.isoformat(), bundled=bundled,
                            channels=channels or ["app"])
        inbox = self._inbox(user_id, processing_event)
        inbox.file(str(reminder.id))
        return [reminder, inbox]

    def _inbox(self, user_id: str, processing_event: ProcessingEvent | None) -> Inbox:
        if processing_event is not None:  # an earlier reminder of this same event filed into it already
            for aggregate in processing_event.aggregates.values():
                if isinstance(aggregate, Inbox) and aggregate.recipient == user_id:
                    return aggregate
        try:
            return self.repository.get(inbox_id(user_id))
        except AggregateNotFoundError:
            return Inbox(id=inbox_id(user_id), recipient=user_id)

    def recipient(self, user_id: str) -> Recipient:
        if user_id.startswith("email:"):  # someone invited by email, with no account yet
            address, _, name = user_id.removeprefix("email:").partition(" ")
            return Recipient(user_id, address, name, Preferences.start(user_id))
        account = self.upstream.account(user_id)
        return Recipient(user_id, account.email, account.display_name, self.upstream.preferences(user_id))

    def _read_own_log(self) -> None:
        """What this store says was decided and watched, by any process, since last read."""
        while True:
            found = self.recorder.select_notifications(
                start=self._seen, limit=500, inclusive_of_start=False,
                topics=["watch.WatchStarted", "watch.WatchEnded", "reminder.Decided"])
            for notification in found:
                if notification.topic == "reminder.Decided":
                    self.pending.add(notification.originator_id)
                    self.decided.add(notification.originator_id)
                else:
                    watch = self.repository.get(notification.originator_id)
                    (self.watched.discard if watch.ended else self.watched.add)(watch.alliance_id)
            if not found:
                return
            self._seen = found[-1].id

    # ----- delivery -----

    def deliver(self, now: datetime | None = None) -> int:
        """Deliver what is due; how many deliveries were made (or failed, recorded)."""
        now = now or self.clock()
        self._read_own_log()
        bundles: dict[tuple, list[Reminder]] = {}
        for rid in sorted(self.pending):
            reminder = self.repository.get(rid)
            if reminder.finished:
                self.pending.discard(rid)
                continue
            for channel in reminder.due_channels(now, self.lease):
                key = (reminder.recipient, channel, reminder.deliver_at if reminder.bundled else str(rid))
                bundles.setdefault(key, []).append(reminder)
        done = 0
        for (user_id, channel, _), reminders in sorted(bundles.items(), key=lambda kv: kv[1][0].deliver_at):
            done += self._deliver(user_id, channel, reminders, now)
        return done

    def _deliver(self, user_id: str, channel: str, reminders: list[Reminder], now: datetime) -> int:
        if channel == "app":  # nothing to send: the person's app shows it from now on
            done = self._record_outcome(reminders, channel, Outcome(True, "shown in the app"), now)
            if done:
                self.reached.add(user_id)
            return done
        # As stored now (another channel of the same reminders may have been recorded meanwhile).
        fresh = (self.repository.get(r.id) for r in reminders)
        reminders = [r for r in fresh if channel in r.due_channels(now, self.lease)]
        if not reminders:
            return 0
        for reminder in reminders:
            reminder.attempt(channel, now.isoformat(), self.process)
        try:
            self.save(*reminders)  # the claim: only one process gets it
        except IntegrityError:
            return 0
        sender = self.channels.get(channel)
        try:
            outcome = sender.send(self.recipient(user_id), reminders) if sender else \
                Outcome(False, f"{channel} is not set up on this server")
        except Exception as error:  # noqa: BLE001 - a channel's fault is this delivery's answer, not a crash
            log.exception("reminders: %s failed", channel)
            outcome = Outcome(False, f"{type(error).__name__}: {error}"[:300], retry=True)
        return self._record_outcome([r.id for r in reminders], channel, outcome, now)

    def _record_outcome(self, reminders: list, channel: str, outcome: Outcome, now: datetime) -> int:
        for _ in range(20):
            fresh = [self.repository.get(r if isinstance(r, uuid.UUID) else r.id) for r in reminders]
            for reminder in fresh:
                delivery = reminder.deliveries[channel]
                if outcome.sent:
                    reminder.record(channel, now.isoformat(), "sent", outcome.answer, None)
                elif outcome.retry and delivery["attempts"] < MAX_ATTEMPTS:
                    reminder.record(channel, now.isoformat(), "pending", outcome.answer,
                                    (now + RETRY_AFTER).isoformat())
                else:
                    reminder.record(channel, now.isoformat(), "failed", outcome.answer, None)
            try:
                self.save(*fresh)
                return len(fresh)
            except IntegrityError:
                continue
        return 0

    def take_reached(self) -> set[str]:
        """Who was shown a reminder in the app since the last call (their devices may be poked to fetch it)."""
        reached, self.reached = self.reached, set()
        return reached

    # ----- invitations by email: decided by the person who invites -----

    def invite(self, *, address: str, name: str, alliance_id: str, inviter: str, title: str, url: str,
               expires: str) -> bool:
        """Email an invitation link once (a retried request finds it decided)."""
        to = f"email:{address} {name}".strip()
        now = self.clock()
        text = f"{inviter} invites you to design the alliance “{title}” together. The link works once, until {expires}."
        reminder = Reminder(id=reminder_id(to, "invitation", alliance_id, url), recipient=to, kind="invitation",
                            alliance_id=alliance_id, subject=url, text=text, link=url, decided_at=now.isoformat(),
                            deliver_at=now.isoformat(), bundled=False, channels=["email"])
        try:
            self.save(reminder)
        except IntegrityError:
            return False
        return True

    # ----- reading, for the person -----

    def given_to(self, user_id: str, limit: int = 30) -> list[dict]:
        """The person's latest reminders, newest first, with how each was delivered."""
        try:
            inbox = self.repository.get(inbox_id(user_id))
        except AggregateNotFoundError:
            return []
        return [self.repository.get(uuid.UUID(rid)).as_dict() for rid in reversed(inbox.reminders[-limit:])]
