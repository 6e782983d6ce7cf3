"""Reminders on the clock of each person's time zone, decided exactly once by the follower.

The clock is the test's: `tick(now)` and `deliver(now)` are called with the moments a
person would live through (Berlin across the end of daylight saving time, quiet hours,
a digest), and what each person is shown is read back as the app reads it."""

import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from events.application import AllianceApplication
from events.reminders import Reminders
from server.settings import Settings
from sync import SyncService

BERLIN = ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


class Clock:
    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "postgres":  # a schema of this test's own: the clock reads every alliance in the store
        import psycopg

        url, schema = request.getfixturevalue("postgres_url"), f"story_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f'CREATE SCHEMA "{schema}"')
        settings = Settings(database_url=f"{url}?schema={schema}")
    else:
        settings = Settings(data_dir=tmp_path / "data")
    alliances = AllianceApplication(env=settings.event_store_env("alliances"))
    clock = Clock(utc("2026-10-20T12:00:00"))
    reminders = Reminders(alliances, env=settings.event_store_env("reminders"), clock=clock)
    yield alliances, reminders, clock, settings
    reminders.close()
    alliances.close()


def person(alliances, name: str, **preferences) -> str:
    user_id, _ = alliances.sign_up(email=f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.org",
                                   password="correct horse", display_name=name)
    if preferences:
        result = SyncService(alliances).push(user_id, f"{name.lower()}-phone-{uuid.uuid4().hex[:6]}",
                                [{"id": 1, "alliance_id": "", "name": "set_reminder_preferences", "args": preferences}])
        assert result.results[0]["status"] == "applied", result.results
    return user_id


def together(alliances, owner: str, guest: str, title: str = "Coaching with Bob") -> str:
    alliance = alliances.design_alliance(alliance_id=uuid.uuid4(), by=owner, device="test", title=title,
                                         template="blank", facilitator_name="Ann")
    invitation = str(uuid.uuid4())
    alliances.act(alliance.id, "invite_participant", by=owner, device="test", invitation_id=invitation, name="Bob")
    alliances.act(alliance.id, "join", by=guest, device="test", invitation_id=invitation, name="Bob")
    return str(alliance.id)


def shown(reminders: Reminders, user_id: str, kind: str | None = None) -> list[dict]:
    """What the person's app shows as delivered, newest first."""
    return [r for r in reminders.given_to(user_id) if (kind is None or r["kind"] == kind)
            and r["deliveries"].get("app", {}).get("status") == "sent"]


def local(moment: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(BERLIN)


def test_a_weekly_review_in_berlin_reminds_at_eight_on_both_sides_of_the_end_of_daylight_saving(store):
    alliances, reminders, clock, _ = store
    ann = person(alliances, "Ann", time_zone="Europe/Berlin", quiet_hours=False)
    bob = person(alliances, "Bob", time_zone="Europe/Berlin", quiet_hours={"from": "22:00", "to": "09:00"})
    aid = together(alliances, ann, bob)
    alliances.act(aid, "schedule_review", by=ann, device="test", every=1, unit="weeks", next_date="2026-10-22")
    reminders.follow_log()

    assert reminders.tick(utc("2026-10-21T05:59:00")) == 0  # 07:59 in Berlin (summer time): not yet
    assert reminders.tick(utc("2026-10-21T06:00:00")) == 2  # 08:00 in Berlin: Ann and Bob
    reminders.deliver(utc("2026-10-21T06:00:00"))
    [first] = shown(reminders, ann, "review_soon")
    assert first["text"] == "Tomorrow, 22 October 2026: the review of “Coaching with Bob”."
    assert first["link"] == f"#/a/{aid}/review"
    assert (local(first["deliveries"]["app"]["at"]).hour, local(first["deliveries"]["app"]["at"]).utcoffset()) == \
        (8, local("2026-10-21T06:00:00+00:00").utcoffset())
    assert shown(reminders, bob) == []  # his quiet hours end at 09:00
    reminders.deliver(utc("2026-10-21T07:00:00"))
    assert local(shown(reminders, bob, "review_soon")[0]["deliveries"]["app"]["at"]).hour == 9

    alliances.act(aid, "hold_review", by=ann, device="test", review_id=str(uuid.uuid4()), held_on="2026-10-22",
                  attendees=[ann, bob], kept={}, next_date="2026-10-29")
    reminders.follow_log()
    assert reminders.tick(utc("2026-10-28T06:00:00")) == 0  # 07:00 in Berlin now (winter time): not yet
    assert reminders.tick(utc("2026-10-28T07:00:00")) == 2  # 08:00 in Berlin again
    reminders.deliver(utc("2026-10-28T08:00:00"))
    second = shown(reminders, ann, "review_soon")[0]
    assert second["text"] == "Tomorrow, 29 October 2026: the review of “Coaching with Bob”."
    assert first["deliver_at"][11:16] == "06:00" and second["deliver_at"][11:16] == "07:00"  # UTC moved by an hour
    assert local(second["deliver_at"]).hour == local(first["deliver_at"]).hour == 8
    assert local(shown(reminders, bob, "review_soon")[0]["deliver_at"]).hour == 9

    # Ticking again, or in another follower on the same store, decides nothing twice.
    assert reminders.tick(utc("2026-10-28T07:30:00")) == 0
    other = Reminders(alliances, env=store[3].event_store_env("reminders"), clock=clock)
    try:
        assert other.tick(utc("2026-10-28T07:30:00")) == 0
    finally:
        other.close()
    assert len(shown(reminders, ann, "review_soon")) == 2


def test_an_overdue_review_and_commitments_remind_their_owner_and_the_others_in_a_digest(store):
    alliances, reminders, clock, _ = store
    ann = person(alliances, "Ann", time_zone="Europe/Berlin", quiet_hours=False)
    bob = person(alliances, "Bob", time_zone="Europe/Berlin", quiet_hours=False, digest_at="18:00")
    aid = together(alliances, ann, bob)
    alliances.act(aid, "schedule_review", by=ann, device="test", every=2, unit="weeks", next_date="2026-11-03")
    alliances.act(aid, "make_commitment", by=ann, device="test", commitment_id=str(uuid.uuid4()),
                  text="Send the agenda", owner_id=ann, due="2026-11-02")
    reminders.follow_log()
    reminders.tick(utc("2026-11-01T07:00:00"))  # 08:00 in Berlin the day before it is due
    reminders.deliver(utc("2026-11-01T07:00:00"))
    assert [r["text"] for r in shown(reminders, ann, "commitment_soon")] == \
        ["A commitment of yours in “Coaching with Bob” is due tomorrow: open it to read it."]
    assert shown(reminders, bob) == []  # the others hear of it in their digest, at 18:00
    reminders.deliver(utc("2026-11-01T17:00:00"))
    [digest] = shown(reminders, bob, "commitment_soon")
    assert digest["text"] == "A commitment of Ann's in “Coaching with Bob” is due tomorrow: open it to read it."
    assert local(digest["deliver_at"]).hour == 18

    reminders.tick(utc("2026-11-04T07:00:00"))  # the day after the review date, nothing held
    reminders.deliver(utc("2026-11-04T07:00:00"))
    assert [r["text"] for r in shown(reminders, ann, "review_overdue")] == \
        ["The review of “Coaching with Bob” was due on 3 November 2026: hold it, or set a new date."]
    assert [r["text"] for r in shown(reminders, ann, "commitment_overdue")] == \
        ["A commitment of yours in “Coaching with Bob” is overdue since 2 November 2026: open it to read it."]


def test_joining_breaking_and_appreciation_remind_the_others_at_once_and_exactly_once(store):
    alliances, reminders, clock, settings = store
    clock.moment = datetime.now(timezone.utc)
    ann = person(alliances, "Ann", quiet_hours=False)
    bob = person(alliances, "Bob", quiet_hours=False)
    aid = together(alliances, ann, bob)
    alliances.act(aid, "appreciate", by=ann, device="test", participant_id=bob, note="Thank you for Tuesday")
    alliances.act(aid, "break_alliance", by=bob, device="test", what_happened="The session was cancelled twice")
    reminders.follow_log()
    reminders.follow_log()  # nothing new: nothing decided again
    again = Reminders(alliances, env=settings.event_store_env("reminders"), clock=clock)
    try:
        again.follow_log()  # another process after the first: tracking says it is all done
    finally:
        again.close()
    reminders.deliver()
    assert [r["text"] for r in shown(reminders, ann)] == \
        ["Bob said “Coaching with Bob” is broken: open it to read what happened.", "Bob joined “Coaching with Bob”."]
    assert [r["text"] for r in shown(reminders, bob)] == \
        ["Ann appreciates you, in “Coaching with Bob”: open it to read what they wrote."]
    if not settings.database_url:  # they say who and where: what was written is nowhere in their store
        raw = b"".join(path.read_bytes() for path in settings.data_dir.glob("reminders*"))
        assert b"Coaching with Bob" in raw and b"Tuesday" not in raw and b"cancelled" not in raw


def test_consent_not_given_after_three_days_reminds_who_has_not_given_it(store):
    alliances, reminders, clock, _ = store
    clock.moment = datetime.now(timezone.utc)
    ann = person(alliances, "Ann", quiet_hours=False)
    bob = person(alliances, "Bob", quiet_hours=False)
    aid = together(alliances, ann, bob)
    state = alliances.act(aid, "give_consent", by=ann, device="test", version=alliances.alliance(aid).version,
                          stance="support")
    reminders.follow_log()
    asked = state.modified_on
    assert reminders.tick(asked.replace(hour=23)) == 0
    from datetime import timedelta
    reminders.tick(asked.replace(hour=8, minute=0) + timedelta(days=3))
    reminders.deliver(asked.replace(hour=8, minute=0) + timedelta(days=3))
    assert shown(reminders, ann, "consent_waiting") == []
    [waiting] = shown(reminders, bob, "consent_waiting")
    assert "has waited 3 days for your consent" in waiting["text"] and waiting["link"].endswith("?part=consent")
