"""What an alliance asks of each of its people, and when: the rules reminders follow,
and the words they say. Both the reminding follower (events/reminders.py) and the
"needs me" list read these, so a reminder and the app always say the same thing.

Reminders are stored, emailed and pushed, so what they say names who and where, never a
person's words (a commitment's text, a break, an appreciation): the app shows those. The
"needs me" list is made afresh for its person from what they can read, so it may.

Business dates (a review's date, a commitment's due date) are days; they become
moments only in the person's own time zone (events/preferences.py).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from events.alliance import Alliance
from events.history import day
from events.preferences import Preferences

CONSENT_AFTER_DAYS = 3  # consent asked and still not given after this many days: remind
SOON_DAYS = 3  # the "needs me" list shows what is due within this many days


@dataclass(frozen=True)
class Occasion:
    """One reminder to one person, decided by the rules below."""
    kind: str  # a key of events.preferences.KINDS
    alliance_id: str
    subject: str  # what it is about, stable: the same occasion always has the same subject
    due: datetime  # when it reminds (before quiet hours and digests move it)
    text: str  # what it says
    link: str  # where in the app it leads (the part after /app/)
    digest: bool = False  # only ever in the recipient's daily digest


def review_link(alliance_id: str) -> str:
    return f"#/a/{alliance_id}/review"


def alliance_link(alliance_id: str, part: str = "") -> str:
    return f"#/a/{alliance_id}" + (f"?part={part}" if part else "")


def timed_occasions(alliance: Alliance, user_id: str, preferences: Preferences,
                    consent_asked_at: datetime | None) -> list[Occasion]:
    """Every reminder the clock brings this participant, past and future (the caller picks the due ones)."""
    if alliance.status == "closed" or user_id not in alliance.members() or user_id in alliance.archived_by:
        return []  # an archived alliance is one the person put away: it waits until they bring it back
    aid, title, found = str(alliance.id), alliance.title, []
    if alliance.rhythm and alliance.rhythm["next"]:  # a closed alliance has no next review
        when = date.fromisoformat(alliance.rhythm["next"])
        found.append(Occasion("review_soon", aid, f"review:{when}", preferences.morning_of(when - timedelta(days=1)),
                              f"Tomorrow, {day(when.isoformat())}: the review of “{title}”.", review_link(aid)))
        found.append(Occasion("review_overdue", aid, f"review:{when}", preferences.morning_of(when + timedelta(days=1)),
                              f"The review of “{title}” was due on {day(when.isoformat())}: hold it, or set a new "
                              "date.", review_link(aid)))
    for cid, commitment in alliance.commitments.items():
        if commitment["status"] != "open" or not commitment["due"]:
            continue
        due, mine = date.fromisoformat(commitment["due"]), commitment["owner_id"] == user_id
        whose = "of yours" if mine else f"of {alliance.name_of(commitment['owner_id'])}'s"
        subject = f"commitment:{cid}:{due}"
        found.append(Occasion("commitment_soon", aid, subject, preferences.morning_of(due - timedelta(days=1)),
                              f"A commitment {whose} in “{title}” is due tomorrow: open it to read it.",
                              alliance_link(aid, "commitments"), digest=not mine))
        found.append(Occasion("commitment_overdue", aid, subject, preferences.morning_of(due + timedelta(days=1)),
                              f"A commitment {whose} in “{title}” is overdue since {day(due.isoformat())}: "
                              "open it to read it.", alliance_link(aid, "commitments"), digest=not mine))
    if consent_asked_at and alliance.status != "broken" and user_id in alliance.awaiting_consent():
        asked = preferences.today(consent_asked_at)
        found.append(Occasion("consent_waiting", aid, f"consent:{alliance.content_version}",
                              preferences.morning_of(asked + timedelta(days=CONSENT_AFTER_DAYS)),
                              f"“{title}” has waited {CONSENT_AFTER_DAYS} days for your consent to version "
                              f"{alliance.content_version}.", alliance_link(aid, "consent")))
    return found


# ----- what happened: reminded at once, to the others -----

def joined(alliance: Alliance, who: str) -> tuple[str, str]:
    return f"{alliance.name_of(who)} joined “{alliance.title}”.", alliance_link(str(alliance.id))


# A reminder is kept, emailed and pushed: it says who and where, never what someone wrote
# (their words stay sealed in the alliance, and erasable, issue 13).

def broken(alliance: Alliance, who: str) -> tuple[str, str]:
    return (f"{alliance.name_of(who)} said “{alliance.title}” is broken: open it to read what happened.",
            alliance_link(str(alliance.id), "life"))


def appreciated(alliance: Alliance, who: str) -> tuple[str, str]:
    return (f"{alliance.name_of(who)} appreciates you, in “{alliance.title}”: open it to read what they wrote.",
            alliance_link(str(alliance.id)))


# ----- the "needs me" list -----

def needs_me(alliance: Alliance, user_id: str, today: date) -> list[dict]:
    """What this alliance needs from the person now: overdue and soon-due things, consent awaited,
    a break to talk about. Each item: {kind, alliance_id, title, text, link, day, urgency}."""
    if alliance.status == "closed" or user_id not in alliance.members() or user_id in alliance.archived_by:
        return []  # an archived alliance is one the person put away: it waits until they bring it back
    aid, title, items = str(alliance.id), alliance.title, []

    def item(kind: str, text: str, link: str, on: date | None, urgency: int) -> None:
        items.append({"kind": kind, "alliance_id": aid, "title": title, "text": text, "link": link,
                      "day": on.isoformat() if on else None, "urgency": urgency})

    if alliance.status == "broken":
        item("broken", f"“{title}” is broken: talk about what needs discussing, then renew it.",
             alliance_link(aid, "life"), None, 0)
    if alliance.rhythm and alliance.rhythm["next"]:  # a closed alliance has no next review
        when = date.fromisoformat(alliance.rhythm["next"])
        if when < today:
            item("review_overdue", f"The review of “{title}” was due on {day(when.isoformat())}.",
                 review_link(aid), when, 1)
        elif when <= today + timedelta(days=SOON_DAYS):
            said = "today" if when == today else "tomorrow" if when == today + timedelta(days=1) \
                else f"on {day(when.isoformat())}"
            item("review_soon", f"Review of “{title}” {said}.", review_link(aid), when, 3)
    for commitment in alliance.commitments.values():
        if commitment["status"] != "open" or not commitment["due"] or commitment["owner_id"] != user_id:
            continue
        due = date.fromisoformat(commitment["due"])
        if due < today:
            item("commitment_overdue", f"Overdue since {day(due.isoformat())}: {commitment['text']}.",
                 alliance_link(aid, "commitments"), due, 1)
        elif due <= today + timedelta(days=SOON_DAYS):
            said = "today" if due == today else "tomorrow" if due == today + timedelta(days=1) \
                else f"by {day(due.isoformat())}"
            item("commitment_soon", f"Due {said}: {commitment['text']}.", alliance_link(aid, "commitments"), due, 2)
    if alliance.status != "broken" and user_id in alliance.awaiting_consent():
        item("consent_waiting", f"“{title}” waits for your consent to version {alliance.content_version}.",
             alliance_link(aid, "consent"), None, 4)
    return items
