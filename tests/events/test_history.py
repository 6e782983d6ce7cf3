"""Stories about reading an alliance's past: as of a version or a moment,
history in words, the difference between versions, and restoring one."""

import time
import uuid
from datetime import datetime, timezone

import pytest

from events.alliance import NotFound
from events.application import AllianceApplication
from events.history import word_diff
from replays import replayed


def design(app, title="Trip to Lisbon"):
    alliance = app.design_alliance(alliance_id=uuid.uuid4(), by="ann", device="ann-phone", title=title,
                                   template="personal", facilitator_name="Ann")
    invitation = uuid.uuid4()
    app.act(alliance.id, "invite_participant", by="ann", device="ann-phone", invitation_id=invitation, name="Bob")
    app.act(alliance.id, "join", by="bob", device="bob-phone", invitation_id=invitation, name="Bob")
    return alliance.id


def test_history_tells_who_did_what_in_words_newest_first(app):
    aid = design(app)
    check_in = uuid.uuid4()
    app.act(aid, "make_commitment", by="ann", device="ann-phone", commitment_id=check_in,
            text="Weekly check-in", owner_id="bob", due="2027-03-03")
    app.act(aid, "amend_commitment", by="bob", device="bob-phone", commitment_id=check_in,
            base_revision=1, due="2027-03-10")

    page = app.history(aid)
    newest = page["entries"][0]
    assert newest["who"] == "Bob"
    assert newest["text"] == "moved the commitment 'Weekly check-in' from 3 March 2027 to 10 March 2027"
    assert newest["device"] == "bob-phone" and newest["version"] == 5
    assert [e["version"] for e in page["entries"]] == [5, 4, 3, 2, 1]
    assert page["entries"][-1]["text"].startswith("designed the alliance 'Trip to Lisbon'")
    assert page["entries"][2]["text"] == "joined the alliance"
    assert page["next_before"] is None


def test_history_pages_through_a_long_alliance(app):
    aid = design(app)
    question = "hopes.want"
    for n in range(1, 26):
        app.act(aid, "answer_question", by="ann", device="ann-phone", question_id=question,
                text=f"Answer number {n}", base_revision=n - 1)
    first = app.history(aid, limit=10)
    assert [e["version"] for e in first["entries"]] == list(range(28, 18, -1))
    second = app.history(aid, before=first["next_before"], limit=10)
    assert [e["version"] for e in second["entries"]] == list(range(18, 8, -1))
    assert "changed the answer to" in second["entries"][0]["text"]
    last = app.history(aid, before=second["next_before"], limit=10)
    assert [e["version"] for e in last["entries"]] == list(range(8, 0, -1))
    assert last["next_before"] is None


def test_history_names_the_moment_an_alliance_becomes_agreed(app):
    aid = design(app)
    version = app.alliance(aid).version
    app.act(aid, "give_consent", by="ann", device="ann-phone", version=version, stance="support")
    app.act(aid, "give_consent", by="bob", device="bob-phone", version=version, stance="live_with",
            reason="")
    newest = app.history(aid, limit=2)["entries"]
    assert newest[0]["text"] == "can live with version 1; the alliance is now agreed (version 1)"
    assert newest[1]["text"] == "supports version 1"


def test_an_alliance_reads_as_of_any_version_and_any_moment(app):
    aid = design(app)
    app.act(aid, "answer_question", by="ann", device="ann-phone", question_id="hopes.want",
            text="Rest", base_revision=0)
    time.sleep(0.01)
    between = datetime.now(timezone.utc)
    time.sleep(0.01)
    app.act(aid, "answer_question", by="bob", device="bob-phone", question_id="hopes.want",
            text="Rest and good food", base_revision=1)

    assert app.alliance(aid).answers["hopes.want"]["text"] == "Rest and good food"
    assert app.alliance(aid, version=4).answers["hopes.want"]["text"] == "Rest"
    assert "hopes.want" not in app.alliance(aid, version=3).answers
    assert app.alliance(aid, at=between).version == 4
    with pytest.raises(NotFound, match="did not exist yet"):
        app.alliance(aid, at=datetime(2000, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(NotFound, match="versions 1 to 5"):
        app.alliance(aid, version=6)


def test_diff_shows_what_changed_with_a_word_level_diff(app):
    aid = design(app)
    app.act(aid, "answer_question", by="ann", device="ann-phone", question_id="hopes.want",
            text="Slow mornings and long walks", base_revision=0)
    before = app.alliance(aid).version
    app.act(aid, "answer_question", by="bob", device="bob-phone", question_id="hopes.want",
            text="Slow mornings and one museum", base_revision=1)
    new_question = uuid.uuid4()
    app.act(aid, "add_question", by="bob", device="bob-phone", question_id=new_question,
            section="money", text="Who pays for dinners?")
    version = app.alliance(aid).version
    app.act(aid, "give_consent", by="ann", device="ann-phone", version=version, stance="object",
            reason="Too many museums")

    changed = app.diff(aid, before, app.alliance(aid).version)
    by_section = {c["section"]: c for c in changed["changes"]}
    assert set(by_section) == {"answers", "questions", "consents"}
    answer = by_section["answers"]
    assert answer["change"] == "changed" and answer["label"] == "What are you hoping to get out of this?"
    assert answer["words"] == [["same", "Slow mornings and"], ["removed", "long walks"], ["added", "one museum"]]
    assert by_section["questions"]["change"] == "added"
    assert by_section["consents"]["label"] == "Ann"
    assert app.diff(aid, before, before)["empty"] is True


def test_word_diff_keeps_every_word_in_order():
    parts = word_diff("we meet every Monday", "we meet every other Friday")
    assert parts == [["same", "we meet every"], ["removed", "Monday"], ["added", "other Friday"]]
    assert word_diff("", "hello") == [["added", "hello"]]


def test_restoring_a_version_adds_one_event_and_erases_nothing(app):
    aid = design(app)
    app.act(aid, "answer_question", by="ann", device="ann-phone", question_id="hopes.want",
            text="Beaches", base_revision=0)
    good = app.alliance(aid).version
    app.act(aid, "answer_question", by="bob", device="bob-phone", question_id="hopes.want",
            text="Mountains", base_revision=1)
    app.act(aid, "remove_question", by="bob", device="bob-phone", question_id="money.budget")
    latest = app.alliance(aid).version

    restored = app.act(aid, "restore_version", by="ann", device="ann-phone", version=good, base_version=latest)

    assert restored.version == latest + 1
    assert restored.content() == app.alliance(aid, version=good).content()
    assert app.alliance(aid, version=latest).answers["hopes.want"]["text"] == "Mountains"
    assert app.history(aid, limit=1)["entries"][0]["text"] == f"restored version {good} (nothing was erased)"
    assert app.diff(aid, good, restored.version)["changes"] == []
    assert app.verify(aid).ok


def test_a_long_alliance_loads_from_snapshots_with_the_same_state(app, settings):
    aid = design(app)
    alliance = app.alliance(aid)
    for n in range(1, 248):  # batched as a sync push records them: ends at version 250
        app.run_command(alliance, "answer_question", by="ann", device="ann-phone",
                        args=dict(question_id="hopes.want", text=f"Answer {n}", base_revision=n - 1))
        if n % 50 == 0:
            app.save(alliance)
    app.save(alliance)

    # a snapshot where a save crossed 100 and 200 (saves end at 53, 103, 153, ...)
    assert [s.originator_version for s in app.snapshots.get(aid)] == [103, 203]
    fresh = AllianceApplication(env=settings.event_store_env("alliances"))  # nothing cached
    assert fresh.alliance(aid).as_dict() == replayed(app, aid).as_dict()
    assert fresh.alliance(aid, version=150).answers["hopes.want"]["text"] == "Answer 147"
    fresh.close()
