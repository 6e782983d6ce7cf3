"""Properties that hold for any sequence of commands, refused ones included."""

import sqlite3
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from events.alliance import AllianceError
from events.application import AllianceApplication
from server.settings import Settings

PEOPLE = ("ann", "bob")
TEXTS = ("Yes", "No", "We meet on Mondays", "We meet on Fridays at nine", "Call first, then write",
         "Ship it", "", "Rest and good food")
OPERATIONS = ("answer", "answer_stale", "own_answer", "add_question", "reword", "remove_question",
              "make_commitment", "amend", "amend_stale", "complete", "withdraw", "resolve",
              "schedule", "consent", "object", "break", "renew", "appreciate", "restore")

commands = st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 10_000), st.sampled_from(TEXTS)),
                    max_size=25)
examples = hypothesis_settings(max_examples=25, deadline=None,
                               suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(request):
    if request.param == "postgres":
        settings = Settings(database_url=request.getfixturevalue("postgres_url"))
    else:
        settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="alliance-props-")))
    app = AllianceApplication(env=settings.event_store_env("alliances"))
    yield app, settings
    app.close()


@pytest.fixture(scope="module")
def sqlite_store():
    """Rows are edited in the SQLite file itself (PostgreSQL tampering is a story in test_audit)."""
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="alliance-tamper-")))
    app = AllianceApplication(env=settings.event_store_env("alliances"))
    yield app, settings.data_dir / "alliances.sqlite"
    app.close()


def pick(items, n):
    items = list(items)
    return items[n % len(items)] if items else None


def command_for(alliance, op, n, text):
    """One command (name, arguments) drawn from the alliance as it is now."""
    question = pick([q for q, v in alliance.questions.items() if not v["removed"]], n)
    commitment_id = pick(alliance.commitments, n)
    commitment = alliance.commitments.get(commitment_id, {"revision": 0})
    revision = alliance.answers.get(question, {}).get("revision", 0)
    new_id = str(uuid.UUID(int=n + 1))
    return {
        "answer": ("answer_question", dict(question_id=question, text=text, base_revision=revision)),
        "answer_stale": ("answer_question", dict(question_id=question, text=text, base_revision=max(0, revision - 1))),
        "own_answer": ("give_own_answer", dict(question_id=question, text=text)),
        "add_question": ("add_question", dict(question_id=new_id, section="ours", text=text or "Why?")),
        "reword": ("reword_question", dict(question_id=question, text=text)),
        "remove_question": ("remove_question", dict(question_id=question)),
        "make_commitment": ("make_commitment", dict(commitment_id=new_id, text=text, owner_id=pick(PEOPLE, n),
                                                    due=f"2027-0{n % 9 + 1}-1{n % 9}")),
        "amend": ("amend_commitment", dict(commitment_id=commitment_id, base_revision=commitment["revision"],
                                           text=text, due=f"2027-1{n % 3}-0{n % 9 + 1}")),
        "amend_stale": ("amend_commitment", dict(commitment_id=commitment_id,
                                                 base_revision=max(0, commitment["revision"] - 1), text=text)),
        "complete": ("complete_commitment", dict(commitment_id=commitment_id)),
        "withdraw": ("withdraw_commitment", dict(commitment_id=commitment_id, reason=text)),
        "resolve": ("resolve_conflict", dict(question_id=question, text=text)),
        "schedule": ("schedule_review", dict(every=n % 30 + 1, unit=pick(("days", "weeks"), n),
                                             next_date=f"2027-02-{n % 28 + 1:02d}")),
        "consent": ("give_consent", dict(version=alliance.version, stance=pick(("support", "live_with"), n))),
        "object": ("give_consent", dict(version=alliance.version, stance="object", reason=text)),
        "break": ("break_alliance", dict(what_happened=text, needs_discussing=text)),
        "renew": ("renew_alliance", dict(note=text)),
        "appreciate": ("appreciate", dict(participant_id=pick(PEOPLE, n + 1), note=text)),
        "restore": ("restore_version", dict(version=n % max(1, alliance.version - 1) + 1,
                                            base_version=alliance.version)),
    }[op]


def play(app, steps):
    """Design an alliance with Ann and Bob, then run every step; refusals are fine."""
    alliance = app.design_alliance(alliance_id=uuid.uuid4(), by="ann", device="a", title="Props",
                                   template="coaching", facilitator_name="Ann")
    invitation = uuid.uuid4()
    app.act(alliance.id, "invite_participant", by="ann", device="a", invitation_id=invitation, name="Bob")
    live = app.act(alliance.id, "join", by="bob", device="b", invitation_id=invitation, name="Bob")
    for op, n, text in steps:
        name, args = command_for(live, op, n, text)
        try:
            app.run_command(live, name, by=pick(PEOPLE, n), device="d", args=args)
        except AllianceError:
            continue
        app.save(live)
    return live


@given(steps=commands)
@examples
def test_replaying_the_stored_events_gives_the_live_state(store, steps):
    app, _ = store
    live = play(app, steps)
    replayed = None
    for stored_event in app.events.get(live.id):  # from the store, past any cache
        replayed = stored_event.mutate(replayed)
    assert replayed.as_dict() == live.as_dict()


@given(steps=commands, n=st.integers(0, 10_000))
@examples
def test_restoring_a_version_brings_back_its_content(store, steps, n):
    app, _ = store
    live = play(app, steps)
    version = n % (live.version - 1) + 1
    old = app.alliance(live.id, version=version).content()
    try:
        restored = app.act(live.id, "restore_version", by="ann", device="a", version=version,
                           base_version=live.version)
    except AllianceError as refusal:
        assert old == live.content() and "already says" in str(refusal)
        return
    assert restored.content() == old
    assert restored.version == live.version + 1


@given(steps=commands, a=st.integers(0, 10_000), b=st.integers(0, 10_000))
@examples
def test_a_diff_is_empty_exactly_when_the_versions_say_the_same(store, steps, a, b):
    app, _ = store
    live = play(app, steps)
    first, second = a % live.version + 1, b % live.version + 1
    same = app.alliance(live.id, version=first).comparable() == app.alliance(live.id, version=second).comparable()
    assert app.diff(live.id, first, second)["empty"] is same


@given(steps=commands, n=st.integers(0, 10_000), field=st.sampled_from(["by", "device", "timestamp", "chain"]))
@examples
def test_verify_names_any_single_altered_event(sqlite_store, steps, n, field):
    app, path = sqlite_store
    live = play(app, steps)
    assert app.verify(live.id).ok
    victim = n % live.version + 1
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT originator_id, state FROM stored_events WHERE originator_version=? AND "
                         "replace(originator_id, '-', '')=?", (victim, live.id.hex)).fetchone()
        state = app.mapper.decoded(row[1])
        state[field] = "2001-01-01T00:00:00+00:00" if field == "timestamp" else "mallory"
        db.execute("UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?",
                   (app.mapper.transcoder.encode(state), row[0], victim))
    report = app.verify(live.id)
    assert not report.ok
    assert report.broken_at == victim
