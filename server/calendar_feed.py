"""Alliances as iCalendar (RFC 5545), with the icalendar package: a person's secret feed of
every review and dated commitment of their alliances, and one alliance's file alone.

Reviews and due dates are days, so they are all-day events; each upcoming one carries an
alarm at the person's morning the day before (a trigger relative to the start, which
calendar apps read in the viewer's own time zone). UIDs are stable, so a calendar app
that refreshes the feed updates its events instead of adding them again.
"""

from datetime import date, datetime, time, timedelta
from typing import Iterable

from icalendar import Alarm, Calendar, Event

from events.alliance import Alliance, NotAllowedNow
from events.preferences import Preferences

PRODID = "-//Alliance//Designed alliances//EN"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    return calendar


def _alarm(text: str, preferences: Preferences) -> Alarm:
    """At the person's morning, the day before an all-day event."""
    morning = time.fromisoformat(preferences.settings["morning"])
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    alarm.add("trigger", -(timedelta(days=1) - timedelta(hours=morning.hour, minutes=morning.minute)))
    return alarm


def _all_day(uid: str, on: date, summary: str, description: str, link: str, now: datetime,
             alliance: Alliance) -> Event:
    event = Event.new(uid=uid, stamp=now, start=on, end=on + timedelta(days=1), summary=summary,
                      description=f"{description}\n{link}", url=link, sequence=alliance.version,
                      last_modified=alliance.modified_on)
    event.add("transp", "TRANSPARENT")
    return event


def alliance_events(alliance: Alliance, preferences: Preferences, *, now: datetime, public_url: str) -> list[Event]:
    """The alliance's reviews (held, and the rhythm's next one, repeating) and its open dated commitments."""
    app = f"{public_url.rstrip('/')}/app/"
    aid, title, events = str(alliance.id), alliance.title, []
    for review_id, review in sorted(alliance.reviews.items(), key=lambda r: r[1]["held_on"]):
        events.append(_all_day(f"review-{review_id}@alliance", date.fromisoformat(review["held_on"]),
                               f"Review held: {title}", f"The review of the alliance “{title}”.",
                               f"{app}#/a/{aid}/review", now, alliance))
    rhythm = alliance.rhythm
    if rhythm and alliance.status != "closed":
        event = _all_day(f"review-{aid}@alliance", date.fromisoformat(rhythm["next"]), f"Review: {title}",
                         f"Review of the alliance “{title}”, every {rhythm['every']} {rhythm['unit']}: look at the "
                         "commitments, what to keep, start and stop, and consent again if it changed.",
                         f"{app}#/a/{aid}/review", now, alliance)
        event.add("rrule", {"freq": "weekly" if rhythm["unit"] == "weeks" else "daily", "interval": rhythm["every"]})
        event.add_component(_alarm(f"Tomorrow: the review of “{title}”.", preferences))
        events.append(event)
    for commitment_id, commitment in alliance.commitments.items():
        if commitment["status"] != "open" or not commitment["due"] or alliance.status == "closed":
            continue
        owner = alliance.name_of(commitment["owner_id"])
        event = _all_day(f"commitment-{commitment_id}@alliance", date.fromisoformat(commitment["due"]),
                         f"Due: {commitment['text']} ({owner})",
                         f"A commitment of {owner} in the alliance “{title}”.",
                         f"{app}#/a/{aid}?part=commitments", now, alliance)
        event.add_component(_alarm(f"Due tomorrow: {commitment['text']} ({owner}).", preferences))
        events.append(event)
    return events


def feed(alliances: Iterable[Alliance], preferences: Preferences, *, name: str, now: datetime,
         public_url: str) -> bytes:
    """A person's whole calendar: every alliance they are in."""
    calendar = _calendar(f"Alliances of {name}")
    for alliance in alliances:
        for event in alliance_events(alliance, preferences, now=now, public_url=public_url):
            calendar.add_component(event)
    return calendar.to_ical()


def one_alliance(alliance: Alliance, preferences: Preferences, *, now: datetime, public_url: str) -> bytes:
    """One alliance's reviews and commitments, for a single download."""
    events = alliance_events(alliance, preferences, now=now, public_url=public_url)
    if not events:
        raise NotAllowedNow("There is nothing to put in a calendar: "
                            + ("the alliance is closed." if alliance.status == "closed"
                               else "set a review rhythm or give a commitment a date first."))
    calendar = _calendar(alliance.title)
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()
