"""Reminders by email, to a real SMTP server (aiosmtpd): the message's headers, its text and
HTML bodies and their link into the app, the delivery shown to the person, an unsubscribe
link that works without signing in, and an invitation sent to an address."""

import re
import time
from datetime import timedelta
from uuid import uuid4

import pytest
from litestar.testing import TestClient

from mailbox import Mailbox
from people import Person
from server.app import create_app
from server.settings import Settings
from sync import SyncService

PUBLIC = "https://alliance.example.org"


@pytest.fixture
def mailbox():
    with Mailbox() as running:
        yield running


@pytest.fixture
def client(tmp_path, mailbox):
    settings = Settings(data_dir=tmp_path, auth_per_minute=1000, public_url=PUBLIC, reminders_poll_seconds=0.05,
                        smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_tls="none",
                        mail_from="Alliance <reminders@alliance.example.org>")
    with TestClient(create_app(settings)) as client:
        yield client


def wait_until(check, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "it did not happen"
        time.sleep(0.05)
    return found


def delivered(person: Person, kind: str) -> list[dict]:
    return [r for r in person.get("/reminders").json()["reminders"] if r["kind"] == kind
            and all(d["status"] != "pending" and d["status"] != "sending" for d in r["deliveries"].values())]


def test_an_appreciation_arrives_by_email_with_a_link_and_one_click_stops_those_emails(client, mailbox):
    ann, bob = Person(client, "Ann"), Person(client, "Bob")
    ann.push(("set_reminder_preferences", "", {"quiet_hours": False, "channels": {"appreciated": ["app", "email"]}}))
    alliance_id = ann.design("Coaching with Bob")
    token = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Bob"}).json()["token"]
    bob.post(f"/invitations/{token}/accept")
    bob.push(("appreciate", alliance_id, {"participant_id": ann.user_id, "note": "You listened so well"}))

    [message] = mailbox.wait_for(1)
    assert message["To"].addresses[0].addr_spec == ann.email and message["To"].addresses[0].display_name == "Ann"
    assert str(message["From"]) == "Alliance <reminders@alliance.example.org>"
    assert str(message["Subject"]) == "Bob appreciates you, in “Coaching with Bob”: open it to read what they wrote."
    assert re.fullmatch(r"<[0-9a-f-]{36}\.reminder@alliance\.example\.org>", str(message["Message-ID"]).strip())
    assert str(message["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    link = f"{PUBLIC}/app/#/a/{alliance_id}"
    assert "Hello Ann," in text and "Bob appreciates you, in “Coaching with Bob”: open it to read what they wrote." in text
    assert f"Open it in the app: {link}\n" in text and f'href="{link}"' in html
    assert "Bob appreciates you, in “Coaching with Bob”: open it to read what they wrote." in html
    assert "listened" not in message.as_string()  # the words stay in the alliance, to be read (or erased) there
    [reminder] = wait_until(lambda: delivered(ann, "appreciated"))
    assert re.fullmatch(r"Sent by email at \d\d:\d\d\.", reminder["delivered"][1]), reminder["delivered"]
    assert reminder["deliveries"]["email"]["answer"] == f"accepted by 127.0.0.1 for {ann.email}"

    unsubscribe = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert unsubscribe.startswith(f"{PUBLIC}/unsubscribe/") and unsubscribe in text
    path = unsubscribe.removeprefix(PUBLIC)
    page = client.get(path)  # no sign-in; looking changes nothing
    assert page.status_code == 200 and "Stop emails about “appreciation for you”?" in page.text
    assert "email" in ann.get("/reminders").json()["preferences"]["channels"]["appreciated"]
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "No more emails about “appreciation for you”" in done.text
    assert ann.get("/reminders").json()["preferences"]["channels"]["appreciated"] == ["app"]
    assert client.get(path.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 404

    bob.push(("appreciate", alliance_id, {"participant_id": ann.user_id, "note": "And for the notes"}))
    wait_until(lambda: len(delivered(ann, "appreciated")) == 2)
    assert len(mailbox.messages) == 1  # in the app only, now


def test_an_invitation_with_an_address_is_emailed_with_its_link(client, mailbox):
    ann = Person(client, "Ann")
    alliance_id = ann.design("Lisbon trip")
    invitation = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Cleo", "email": "cleo@example.org"})
    assert invitation.status_code == 201, invitation.text
    [message] = mailbox.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "cleo@example.org"
    assert str(message["Subject"]) == "You are invited to design an alliance together"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Ann invites you to design the alliance “Lisbon trip” together." in text
    assert f"Join here: {invitation.json()['url']}\n" in text and "List-Unsubscribe" not in message
    bad = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Dan", "email": "not an address"})
    assert bad.status_code == 400 and bad.json()["field"] == "email"


def test_a_mail_server_that_cannot_be_reached_is_said_in_the_app(tmp_path):
    settings = Settings(data_dir=tmp_path, auth_per_minute=1000, public_url=PUBLIC, reminders_poll_seconds=0.05,
                        smtp_host="127.0.0.1", smtp_port=Mailbox().port, smtp_tls="none",
                        mail_from="reminders@alliance.example.org")
    with TestClient(create_app(settings)) as client:
        ann, bob = Person(client, "Ann"), Person(client, "Bob")
        ann.push(("set_reminder_preferences", "", {"quiet_hours": False,
                                                   "channels": {"appreciated": ["email"]}}))
        alliance_id = ann.design("Coaching with Bob")
        token = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Bob"}).json()["token"]
        bob.post(f"/invitations/{token}/accept")
        bob.push(("appreciate", alliance_id, {"participant_id": ann.user_id, "note": "Thanks"}))
        words = wait_until(lambda: [w for r in ann.get("/reminders").json()["reminders"] for w in r["delivered"]
                                    if w.startswith("Not sent by email")])
        assert words[0].startswith("Not sent by email yet (could not reach the mail server (ConnectionRefusedError")
        assert words[0].endswith("trying again.")


def test_a_daily_digest_bundles_the_days_reminders_into_one_email_at_its_hour(tmp_path, mailbox):
    """On the follower's clock (the test's), with the real email channel and SMTP server."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from events.application import AllianceApplication
    from events.reminders import Reminders
    from server.notify import EmailChannel

    settings = Settings(data_dir=tmp_path, public_url=PUBLIC, smtp_host="127.0.0.1", smtp_port=mailbox.port,
                        smtp_tls="none", mail_from="reminders@alliance.example.org")
    alliances = AllianceApplication(env=settings.event_store_env("alliances"))
    now = datetime.now(timezone.utc)
    reminders = Reminders(alliances, env=settings.event_store_env("reminders"), clock=lambda: now,
                          channels={"email": EmailChannel(settings, alliances)})
    try:
        ann, _ = alliances.sign_up(email="ann@example.org", password="correct horse", display_name="Ann")
        bob, _ = alliances.sign_up(email="bob@example.org", password="correct horse", display_name="Bob")
        SyncService(alliances).push(ann, "ann-phone-1", [{"id": 1, "alliance_id": "", "name": "set_reminder_preferences", "args": {
            "time_zone": "Europe/Berlin", "delivery": "digest", "digest_at": "18:00", "quiet_hours": False,
            "channels": {"appreciated": ["app", "email"], "broken": ["app", "email"]}}}])
        alliance = alliances.design_alliance(alliance_id=uuid4(), by=ann, device="t", title="Coaching with Bob",
                                             template="blank", facilitator_name="Ann")
        alliances.act(alliance.id, "invite_participant", by=ann, device="t", invitation_id=str(uuid4()), name="Bob")
        invitation = next(iter(alliances.alliance(alliance.id).invitations))
        alliances.act(alliance.id, "join", by=bob, device="t", invitation_id=invitation, name="Bob")
        alliances.act(alliance.id, "appreciate", by=bob, device="t", participant_id=ann, note="Thanks for today")
        alliances.act(alliance.id, "break_alliance", by=bob, device="t", what_happened="We missed two sessions")
        reminders.follow_log()
        reminders.deliver(now)
        assert mailbox.messages == []  # nothing before the digest's hour
        berlin = now.astimezone(ZoneInfo("Europe/Berlin"))
        evening = berlin.replace(hour=18, minute=0, second=0, microsecond=0)
        if evening < berlin:
            evening += timedelta(days=1)
        reminders.deliver(evening.astimezone(timezone.utc))
        [digest] = mailbox.wait_for(1)
        assert str(digest["Subject"]) == "Your alliances: 2 reminders"
        text = digest.get_body(("plain",)).get_content()
        assert "Bob appreciates you, in “Coaching with Bob”: open it to read what they wrote." in text
        assert "Bob said “Coaching with Bob” is broken: open it to read what happened." in text
        reminders.deliver(evening.astimezone(timezone.utc) + timedelta(minutes=5))
        assert len(mailbox.messages) == 1
    finally:
        reminders.close()
        alliances.close()
