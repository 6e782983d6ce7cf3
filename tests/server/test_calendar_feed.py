"""A person's calendar feed: a secret address with every review and dated commitment of
their alliances (and nobody else's), alarms, stable UIDs; revoked, it answers 404."""

from datetime import date
from uuid import uuid4

import pytest
from icalendar import Calendar
from litestar.testing import TestClient

from people import Person
from server.app import create_app
from server.settings import Settings
from test_exports import frame


@pytest.fixture
def client(tmp_path):
    settings = Settings(data_dir=tmp_path, auth_per_minute=1000, reminders=False,
                        public_url="https://alliance.example.org")
    with TestClient(create_app(settings)) as client:
        yield client


def alliance_with(person: Person, title: str, *, review: str, due: str, text: str) -> str:
    alliance_id = person.design(title)
    person.push(("schedule_review", alliance_id, {"every": 1, "unit": "weeks", "next_date": review}),
                ("make_commitment", alliance_id, {"commitment_id": str(uuid4()), "text": text,
                                                  "owner_id": person.user_id, "due": due}))
    return alliance_id


def test_the_feed_carries_every_review_and_commitment_with_alarms_and_a_revoked_address_is_404(client):
    ann, bob = Person(client, "Ann"), Person(client, "Bob")
    ann.push(("set_reminder_preferences", "", {"morning": "07:30"}))
    coaching = alliance_with(ann, "Coaching", review="2027-01-14", due="2027-01-10", text="Draft the plan")
    trip = alliance_with(ann, "Lisbon trip", review="2027-02-01", due="2027-01-20", text="Book the flat")
    alliance_with(bob, "Bob's own", review="2027-01-15", due="2027-01-11", text="Bob's secret plan")

    made = ann.post("/reminders/feed")
    assert made.status_code == 201, made.text
    https, webcal = made.json()["https"], made.json()["webcal"]
    assert https.startswith("https://alliance.example.org/feed/") and https.endswith(".ics")
    assert webcal == "webcal://" + https.removeprefix("https://")
    path = https.removeprefix("https://alliance.example.org")
    response = client.get(path)  # no sign-in: calendar apps only have the address
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    frame(response.content)
    calendar = Calendar.from_ical(response.content)
    events = {str(e["UID"]): e for e in calendar.events}
    summaries = sorted(str(e["SUMMARY"]) for e in events.values())
    assert summaries == ["Due: Book the flat (Ann)", "Due: Draft the plan (Ann)", "Review: Coaching",
                         "Review: Lisbon trip"]
    assert events[f"review-{coaching}@alliance"].start == date(2027, 1, 14)
    assert events[f"review-{trip}@alliance"]["RRULE"].to_ical() == b"FREQ=WEEKLY;INTERVAL=1"
    for event in events.values():
        [alarm] = event.walk("VALARM")
        assert alarm["TRIGGER"].dt.total_seconds() == -(24 - 7.5) * 3600  # 07:30 the day before
    assert b"Bob" not in response.content
    assert ann.get("/reminders").json()["preferences"]["feed"] is True

    again = client.get(path)
    assert {str(e["UID"]) for e in Calendar.from_ical(again.content).events} == set(events)

    newer = ann.post("/reminders/feed").json()["https"].removeprefix("https://alliance.example.org")
    assert client.get(path).status_code == 404  # the old address stopped working
    assert client.get(newer).status_code == 200
    assert ann.request("DELETE", "/reminders/feed").status_code == 204
    gone = client.get(newer)
    assert gone.status_code == 404 and "no such calendar feed" in gone.json()["detail"]
    assert client.get("/feed/not-a-feed.ics").status_code == 404
    assert client.get(path.replace(ann.user_id, bob.user_id)).status_code == 404
