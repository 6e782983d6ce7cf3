"""What the reminders follower keeps (events/reminders.py): each reminder and its delivery on
every channel, each person's inbox of them, the alliances the clock watches; what a channel
answers; and how a delivery reads to the one reminded."""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from eventsourcing.domain import Aggregate, event

from events.accounts import NAMESPACE
from events.preferences import Preferences

INBOX_KEEP = 200  # reminders each person can look back on


def reminder_id(recipient: str, kind: str, alliance_id: str, subject: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"reminder:{recipient}:{kind}:{alliance_id}:{subject}")


def inbox_id(recipient: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"inbox:{recipient}")


def watch_id(alliance_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"watch:{alliance_id}")


class Reminder(Aggregate):
    """One reminder to one person, and its delivery on each channel they chose."""

    TOPIC = "reminder"

    class Created(Aggregate.Created):  # the library's default; unused (__init__ records Decided)
        TOPIC = "reminder.Created"

    @event("Decided", topic="reminder.Decided")
    def __init__(self, id: uuid.UUID, recipient: str, kind: str, alliance_id: str, subject: str, text: str,
                 link: str, decided_at: str, deliver_at: str, bundled: bool, channels: list) -> None:
        self.recipient, self.kind, self.alliance_id, self.subject = recipient, kind, alliance_id, subject
        self.text, self.link, self.decided_at, self.deliver_at, self.bundled = text, link, decided_at, deliver_at, bundled
        self.deliveries = {c: {"status": "pending", "attempts": 0, "at": None, "answer": "", "retry_at": None}
                           for c in channels}

    @event("DeliveryAttempted", topic="reminder.DeliveryAttempted")
    def attempt(self, channel: str, at: str, by: str) -> None:
        delivery = self.deliveries[channel]
        delivery.update(status="sending", at=at, by=by, attempts=delivery["attempts"] + 1)

    @event("DeliveryRecorded", topic="reminder.DeliveryRecorded")
    def record(self, channel: str, at: str, status: str, answer: str, retry_at: str | None) -> None:
        self.deliveries[channel].update(status=status, at=at, answer=answer, retry_at=retry_at)

    def due_channels(self, now: datetime, lease: timedelta) -> list[str]:
        """The channels to deliver on now: pending ones past their moment, failed ones to retry,
        and claims whose process never recorded an outcome (it died) once the lease is over."""
        if datetime.fromisoformat(self.deliver_at) > now:
            return []
        due = []
        for channel, d in self.deliveries.items():
            if d["status"] == "pending" and (d["retry_at"] is None or datetime.fromisoformat(d["retry_at"]) <= now):
                due.append(channel)
            elif d["status"] == "sending" and datetime.fromisoformat(d["at"]) + lease <= now:
                due.append(channel)
        return due

    @property
    def finished(self) -> bool:
        return all(d["status"] in ("sent", "failed") for d in self.deliveries.values())

    def as_dict(self) -> dict:
        return {"id": str(self.id), "kind": self.kind, "alliance_id": self.alliance_id, "text": self.text,
                "link": self.link, "decided_at": self.decided_at, "deliver_at": self.deliver_at,
                "deliveries": {c: {k: d[k] for k in ("status", "at", "answer", "attempts")}
                               for c, d in self.deliveries.items()}}


class Inbox(Aggregate):
    """The reminders one person was given, newest last (so the app can show them)."""

    TOPIC = "inbox"

    class Created(Aggregate.Created):
        TOPIC = "inbox.Created"

    @event("InboxOpened", topic="inbox.InboxOpened")
    def __init__(self, id: uuid.UUID, recipient: str) -> None:
        self.recipient = recipient
        self.reminders: list[str] = []

    @event("ReminderFiled", topic="inbox.ReminderFiled")
    def file(self, reminder_id: str) -> None:
        self.reminders = [*self.reminders, reminder_id][-INBOX_KEEP:]


class Watch(Aggregate):
    """An alliance the clock may bring reminders for (closed ones are let go)."""

    TOPIC = "watch"

    class Created(Aggregate.Created):
        TOPIC = "watch.Created"

    @event("WatchStarted", topic="watch.WatchStarted")
    def __init__(self, id: uuid.UUID, alliance_id: str) -> None:
        self.alliance_id = alliance_id
        self.ended = False

    @event("WatchEnded", topic="watch.WatchEnded")
    def end(self) -> None:
        self.ended = True


@dataclass(frozen=True)
class Outcome:
    """What a channel answered: sent, or not (and then whether trying again may help)."""
    sent: bool
    answer: str
    retry: bool = False


@dataclass(frozen=True)
class Recipient:
    user_id: str
    email: str
    name: str
    preferences: Preferences


class Channel(Protocol):
    def reaches(self, recipient: Recipient) -> bool: ...

    def send(self, recipient: Recipient, reminders: list[Reminder]) -> Outcome: ...


# ----- how a delivery reads to its recipient -----

CHANNEL_WORDS = {"app": "shown here", "push": "sent to your phone", "email": "sent by email"}


def delivery_words(reminder: dict, preferences: Preferences, now: datetime) -> list[str]:
    """Each channel's delivery, in words: "Sent to your phone at 08:00", "Not sent by email: …"."""
    def moment(iso: str) -> str:
        local = datetime.fromisoformat(iso).astimezone(preferences.zone)
        same_day = local.date() == preferences.today(now)
        return f"at {local:%H:%M}" if same_day else f"on {local.day} {local:%B} at {local:%H:%M}"

    words = []
    for channel, delivery in reminder["deliveries"].items():
        what = CHANNEL_WORDS[channel]
        phones = re.match(r"(\d+) phones\b", delivery["answer"]) if channel == "push" else None
        if phones and delivery["status"] == "sent":
            what = f"sent to your {phones[1]} phones"
        if delivery["status"] == "sent":
            words.append(f"{what[:1].upper()}{what[1:]} {moment(delivery['at'])}.")
        elif delivery["status"] == "failed":
            words.append(f"Not {what}: {delivery['answer']}")
        elif delivery["status"] == "sending":
            words.append(f"Going out {what.split(' ', 1)[1]} now.")
        elif delivery["answer"]:  # pending again after a failure
            words.append(f"Not {what} yet ({delivery['answer']}); trying again.")
        else:
            words.append(f"Comes {moment(reminder['deliver_at'])}.")
    return words
