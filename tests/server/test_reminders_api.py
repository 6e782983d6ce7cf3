"""Reminders over HTTP: preferences set by a pushed mutation and read back, what needs me
now in words, and refusals in words."""

from datetime import date, timedelta
from uuid import uuid4

import pytest
from litestar.testing import TestClient

from people import Person
from server.app import create_app
from server.settings import Settings


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path, auth_per_minute=1000, reminders=False))) as client:
        yield client


def test_preferences_are_set_through_the_outbox_and_read_back_with_the_choices_in_words(client):
    ann = Person(client, "Ann")
    [result] = ann.push(("set_reminder_preferences", "", {
        "time_zone": "Europe/Berlin", "quiet_hours": {"from": "21:30", "to": "07:00"}, "delivery": "digest",
        "channels": {"joined": ["app"], "review_soon": ["email", "app"]}}))
    assert result["status"] == "applied", result
    answer = ann.get("/reminders").json()
    preferences = answer["preferences"]
    assert (preferences["time_zone"], preferences["quiet_hours"], preferences["delivery"]) == \
        ("Europe/Berlin", {"from": "21:30", "to": "07:00"}, "digest")
    assert preferences["channels"]["joined"] == ["app"] and preferences["channels"]["review_soon"] == ["app", "email"]
    assert answer["choices"]["kinds"]["review_soon"] == "A review coming up (the day before)"
    assert answer["choices"]["channels"] == {"app": "In the app", "push": "On my phones", "email": "By email"}
    assert answer["push_key"] is None  # this server has no VAPID key


@pytest.mark.parametrize(("args", "words"), [
    ({"time_zone": "Mars/Olympus"}, "The time zone must be one like Europe/Berlin"),
    ({"morning": "25:00"}, "The morning time must be a time of day like 08:00"),
    ({"quiet_hours": "nights"}, "the quiet hours must be true or false or an object, not text"),
    ({"quiet_hours": True}, 'Quiet hours are {"from": "22:00", "to": "07:00"}, or false for none.'),
    ({"quiet_hours": {"from": "22:00"}}, "the quiet hours need 'to' as well."),
    ({"channels": {"review_soon": ["pigeon"]}}, "The channels of a reminder are a list of: app, push, email."),
    ({"channels": {"gossip": ["app"]}}, "There is no kind of reminder called 'gossip'."),
    ({"volume": 11}, "there is no argument called 'volume'."),
])
def test_bad_preferences_are_refused_in_words(client, args, words):
    ann = Person(client, "Ann")
    [result] = ann.push(("set_reminder_preferences", "", args))
    assert result["status"] == "rejected" and words in result["error"]["detail"], result


def test_what_needs_me_is_what_is_mine_and_due_in_words_with_a_link(client):
    ann, bob = Person(client, "Ann"), Person(client, "Bob")
    alliance_id = ann.design("Coaching with Bob")
    token = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Bob"}).json()["token"]
    assert bob.post(f"/invitations/{token}/accept").status_code == 200
    today = date.today()
    ann.push(("make_commitment", alliance_id, {"commitment_id": str(uuid4()), "text": "Send the agenda",
                                               "owner_id": ann.user_id, "due": (today - timedelta(days=2)).isoformat()}),
             ("make_commitment", alliance_id, {"commitment_id": str(uuid4()), "text": "Book the room",
                                               "owner_id": bob.user_id, "due": today.isoformat()}),
             ("schedule_review", alliance_id, {"every": 2, "unit": "weeks",
                                               "next_date": (today + timedelta(days=1)).isoformat()}))
    mine = ann.get("/reminders").json()["needs_me"]
    texts = [item["text"] for item in mine]
    assert texts[0].startswith("Overdue since ") and texts[0].endswith(": Send the agenda.")
    assert "Review of “Coaching with Bob” tomorrow." in texts
    assert "“Coaching with Bob” waits for your consent to version 6." in texts
    assert not any("Book the room" in text for text in texts)  # Bob's, not Ann's
    assert {item["link"] for item in mine} >= {f"#/a/{alliance_id}/review", f"#/a/{alliance_id}?part=commitments"}
    assert "Due today: Book the room." in [item["text"] for item in bob.get("/reminders").json()["needs_me"]]
