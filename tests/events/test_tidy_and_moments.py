"""Stories of tidying an alliance (renaming, archiving) and of its moments (break, renew, close,
withdrawing someone's commitment), and of who did what when, on the application and its store
(SQLite and PostgreSQL)."""

from datetime import date, datetime, timezone
from uuid import UUID, uuid4

import pytest

from events import agenda
from events.alliance import InvalidInput, NotAllowedNow, NotAParticipant
from events.application import AllianceApplication
from events.history import describe_events
from events.preferences import Preferences
from server.calendar_feed import alliance_events
from server.operations import _rebuild_one
from replays import replayed

ANN, BOB, CAY = ({"by": who, "device": f"{who}-phone"} for who in ("ann", "bob", "cay"))
WANT = "hopes.want"  # the personal template's first question


def story(app, title="Trip to Lisbon"):
    """Ann designs a trip with Bob; Bob joins."""
    alliance = app.design_alliance(alliance_id=uuid4(), **ANN, title=title, template="personal",
                                   facilitator_name="Ann")
    invitation = uuid4()
    app.act(alliance.id, "invite_participant", **ANN, invitation_id=invitation, name="Bob")
    app.act(alliance.id, "join", **BOB, invitation_id=invitation, name="Bob")
    return alliance.id


def agreed(app, aid):
    for who in (ANN, BOB):
        app.act(aid, "give_consent", **who, version=app.alliance(aid).content_version, stance="support")
    assert app.alliance(aid).status == "agreed"


def words(app, aid, viewer=None) -> list[str]:
    return [f"{e['who']} {e['text']}" for e in reversed(app.history(aid, limit=200, viewer=viewer)["entries"])]


def at_of(app, aid, version) -> str:
    """When the event that made `version` happened."""
    [event] = [e for e in app.events.get(aid) if e.originator_version == version]
    return event.timestamp.isoformat()


# ----- renaming -----

def test_renaming_is_a_change_of_content_to_consent_to_again(app):
    aid = story(app)
    agreed(app, aid)
    before = app.alliance(aid)
    renamed = app.act(aid, "rename_alliance", **BOB, title="  Lisbon in May  ")
    assert renamed.title == "Lisbon in May" and renamed.status == "changed"
    assert renamed.content_version == renamed.version and renamed.awaiting_consent() == ["ann", "bob"]
    again = app.act(aid, "rename_alliance", **ANN, title="Lisbon in May")
    assert again.version == renamed.version  # the same title: nothing recorded
    assert words(app, aid)[-1] == "Bob renamed the alliance from 'Trip to Lisbon' to 'Lisbon in May'"
    [change] = app.diff(aid, before.version, renamed.version)["changes"]
    assert (change["section"], change["before"], change["after"]) == ("title", "Trip to Lisbon", "Lisbon in May")

    restored = app.act(aid, "restore_version", **ANN, version=before.version, base_version=renamed.version)
    assert restored.title == "Trip to Lisbon"
    agreed(app, aid)


def test_a_title_is_needed_short_enough_and_not_once_closed(app):
    aid = story(app)
    with pytest.raises(InvalidInput, match="title cannot be empty"):
        app.act(aid, "rename_alliance", **ANN, title="  ")
    with pytest.raises(InvalidInput, match="title is longer than 200 characters"):
        app.act(aid, "rename_alliance", **ANN, title="x" * 201)
    with pytest.raises(InvalidInput, match="Wrong arguments for rename_alliance: give the title"):
        app.act(aid, "rename_alliance", **ANN)
    with pytest.raises(NotAParticipant):
        app.act(aid, "rename_alliance", **CAY, title="Cay's now")
    app.act(aid, "close_alliance", **ANN, celebration="Pastéis de nata")
    with pytest.raises(NotAllowedNow, match="closed"):
        app.act(aid, "rename_alliance", **ANN, title="Lisbon, afterwards")
    assert app.alliance(aid).title == "Trip to Lisbon"


# ----- archiving, each for oneself -----

def test_each_person_archives_the_alliance_for_themselves_even_once_closed(app):
    aid = story(app)
    agreed(app, aid)
    app.act(aid, "close_alliance", **ANN, celebration="Pastéis de nata")
    closed = app.alliance(aid)

    archived = app.act(aid, "archive_alliance", **BOB)
    assert archived.archived_by == ["bob"] and archived.as_dict()["archived_by"] == ["bob"]
    assert (archived.content_version, archived.status, archived.agreed_versions) == \
        (closed.content_version, "closed", closed.agreed_versions)  # nothing to consent to
    assert app.act(aid, "archive_alliance", **BOB).version == archived.version  # already archived
    both = app.act(aid, "archive_alliance", **ANN)
    assert both.archived_by == ["bob", "ann"]
    assert app.diff(aid, closed.version, both.version)["empty"]

    back = app.act(aid, "unarchive_alliance", **BOB)
    assert back.archived_by == ["ann"] and back.content_version == closed.content_version
    assert app.act(aid, "unarchive_alliance", **BOB).version == back.version  # not archived
    with pytest.raises(NotAParticipant, match="Only participants"):
        app.act(aid, "archive_alliance", **CAY)
    assert words(app, aid)[-3:] == [
        "Bob archived the alliance for themselves (out of their own list; nothing changed for anyone else)",
        "Ann archived the alliance for themselves (out of their own list; nothing changed for anyone else)",
        "Bob brought the alliance back into their own list",
    ]
    assert app.verify(aid).ok


def test_archiving_an_open_alliance_leaves_its_consent_as_it_was(app):
    aid = story(app)
    agreed(app, aid)
    archived = app.act(aid, "archive_alliance", **ANN)
    assert archived.status == "agreed" and archived.awaiting_consent() == []
    app.act(aid, "give_consent", **BOB, version=archived.content_version, stance="live_with")  # still that version


# ----- break and renew -----

def test_a_renewal_says_what_was_agreed(app):
    aid = story(app)
    agreed(app, aid)
    app.act(aid, "break_alliance", **BOB, what_happened="Ann booked without asking", needs_discussing="Money")
    for empty in ("", "   "):
        with pytest.raises(InvalidInput, match="Say what you agreed, so the renewal means something."):
            app.act(aid, "renew_alliance", **ANN, note=empty)
    with pytest.raises(InvalidInput, match="give the note"):
        app.act(aid, "renew_alliance", **ANN)
    still = app.alliance(aid)
    assert still.status == "broken" and still.breaks[-1]["renewed"] is None  # the break does not disappear

    renewed = app.act(aid, "renew_alliance", **ANN, note="We ask each other before paying")
    assert renewed.breaks == [{"by": "bob", "what_happened": "Ann booked without asking", "needs_discussing": "Money",
                               "at": at_of(app, aid, renewed.version - 1),
                               "renewed": {"by": "ann", "note": "We ask each other before paying",
                                           "at": at_of(app, aid, renewed.version)}}]
    assert words(app, aid)[-1] == ("Ann renewed the alliance: We ask each other before paying "
                                   f"(and so supports version {renewed.content_version}; "
                                   "the others are asked to consent again)")


# ----- closing -----

def test_closing_ends_what_was_open_and_leaves_no_next_review(app):
    aid = story(app)
    open_one, done_one, withdrawn_one = (str(uuid4()) for _ in range(3))
    for cid, text in ((open_one, "Book the flat"), (done_one, "Buy the guide"), (withdrawn_one, "Learn fado")):
        app.act(aid, "make_commitment", **ANN, commitment_id=cid, text=text, owner_id="bob", due="2020-05-01")
    app.act(aid, "complete_commitment", **BOB, commitment_id=done_one)
    app.act(aid, "withdraw_commitment", **BOB, commitment_id=withdrawn_one)
    app.act(aid, "schedule_review", **ANN, every=2, unit="weeks", next_date="2020-05-15")
    agreed(app, aid)
    before = app.alliance(aid)
    assert [i["kind"] for i in agenda.needs_me(before, "bob", date(2027, 1, 1))] == \
        ["review_overdue", "commitment_overdue"]
    put_away = app.act(aid, "archive_alliance", **BOB)  # out of Bob's list, and out of what needs him
    assert agenda.needs_me(put_away, "bob", date(2027, 1, 1)) == []
    assert len(agenda.needs_me(put_away, "ann", date(2027, 1, 1))) > 0
    app.act(aid, "unarchive_alliance", **BOB)

    closed = app.act(aid, "close_alliance", **ANN, celebration="Pastéis de nata at Belém")
    statuses = {cid: c["status"] for cid, c in closed.commitments.items()}
    assert statuses == {open_one: "ended", done_one: "done", withdrawn_one: "withdrawn"}
    assert closed.commitments[open_one]["at"] == closed.closing["at"] == at_of(app, aid, closed.version)
    assert closed.rhythm == {"every": 2, "unit": "weeks", "next": None}
    assert closed.content_version == before.content_version and closed.awaiting_consent() == []
    assert words(app, aid)[-1] == ("Ann closed the alliance, celebrating: Pastéis de nata at Belém; "
                                   "its one open commitment ended with it; no more reviews")

    # No next review anywhere: the needs-me list, the reminders' clock, the calendar.
    preferences = Preferences.start("bob")
    assert agenda.needs_me(closed, "bob", date(2027, 1, 1)) == []
    assert agenda.timed_occasions(closed, "bob", preferences, consent_asked_at=None) == []
    calendar = alliance_events(closed, preferences, now=datetime.now(timezone.utc), public_url="https://a.example")
    assert [str(e["SUMMARY"]) for e in calendar] == []  # no review held, nothing open and dated
    assert replayed(app, aid).as_dict() == app.alliance(aid).as_dict()


# ----- withdrawing -----

def test_withdrawing_someone_elses_commitment_needs_a_reason(app):
    aid = story(app)
    bobs, anns = str(uuid4()), str(uuid4())
    app.act(aid, "make_commitment", **ANN, commitment_id=bobs, text="Book the flat", owner_id="bob")
    app.act(aid, "make_commitment", **BOB, commitment_id=anns, text="Find a fado bar", owner_id="ann")
    for no_reason in ({}, {"reason": "  "}):
        with pytest.raises(InvalidInput, match="This commitment is Bob's: say why you withdraw it"):
            app.act(aid, "withdraw_commitment", **ANN, commitment_id=bobs, **no_reason)
    assert app.alliance(aid).commitments[bobs]["status"] == "open"

    withdrawn = app.act(aid, "withdraw_commitment", **ANN, commitment_id=bobs, reason="We stay with friends")
    assert withdrawn.commitments[bobs]["withdrawn"] == {"by": "ann", "reason": "We stay with friends",
                                                        "at": at_of(app, aid, withdrawn.version)}
    own = app.act(aid, "withdraw_commitment", **ANN, commitment_id=anns)  # her own: no reason needed
    assert own.commitments[anns]["withdrawn"] == {"by": "ann", "reason": "", "at": at_of(app, aid, own.version)}
    assert words(app, aid)[-2:] == ["Ann withdrew Bob's commitment 'Book the flat': We stay with friends",
                                    "Ann withdrew the commitment 'Find a fado bar'"]


# ----- who and when -----

def test_who_did_what_when_is_kept_and_the_same_after_replay(app, settings):
    aid = story(app)
    question, cid = str(uuid4()), str(uuid4())
    app.act(aid, "answer_question", **ANN, question_id=WANT, text="Sea and sun", base_revision=0)
    app.act(aid, "give_own_answer", **BOB, question_id=WANT, text="Museums")
    app.act(aid, "add_question", **BOB, question_id=question, section="hopes", text="Which day trip?")
    app.act(aid, "make_commitment", **ANN, commitment_id=cid, text="Book the flat", owner_id="bob")
    app.act(aid, "amend_commitment", **BOB, commitment_id=cid, base_revision=1, due="2027-05-01")
    app.act(aid, "give_consent", **BOB, version=app.alliance(aid).content_version, stance="support")
    app.act(aid, "appreciate", **ANN, participant_id="bob", note="Great idea")
    alliance = app.alliance(aid)
    v = {e.originator_version: e.timestamp.isoformat() for e in app.events.get(aid)}

    assert alliance.participants["ann"]["joined_at"] == v[1] == alliance.created_on.isoformat()
    assert (alliance.answers[WANT]["by"], alliance.answers[WANT]["at"]) == ("ann", v[4])
    assert alliance.own_answered_at == {WANT: {"bob": v[5]}}
    assert (alliance.questions[question]["added_by"], alliance.questions[question]["at"]) == ("bob", v[6])
    assert "added_by" not in alliance.questions[WANT]  # a template question: nobody added it
    assert (alliance.commitments[cid]["by"], alliance.commitments[cid]["at"]) == ("ann", v[8])  # amended last
    assert alliance.consents["bob"]["at"] == v[9]
    assert alliance.appreciations[0]["at"] == v[10]

    # Bookkeeping, not content: versions compare and restore on what they say.
    assert "'at':" not in str(alliance.comparable()) and "'joined_at':" not in str(alliance.comparable())
    assert app.diff(aid, 9, 10)["empty"]  # an appreciation changes nothing consented to
    again = app.act(aid, "give_consent", **BOB, version=alliance.content_version, stance="support")
    assert again.version == alliance.version  # the same consent: not recorded twice

    fresh = AllianceApplication(env=settings.event_store_env("alliances"))  # nothing cached
    try:
        assert fresh.alliance(aid).as_dict() == replayed(app, aid).as_dict() == alliance.as_dict()
    finally:
        fresh.close()


def test_a_restore_keeps_who_added_a_question_and_who_made_a_commitment(app):
    aid = story(app)
    question, cid = str(uuid4()), str(uuid4())
    app.act(aid, "add_question", **BOB, question_id=question, section="hopes", text="Which day trip?")
    app.act(aid, "make_commitment", **BOB, commitment_id=cid, text="Book the flat", owner_id="bob")
    base = app.act(aid, "reword_question", **ANN, question_id=question, text="Which day trips?")
    restored = app.act(aid, "restore_version", **ANN, version=base.version - 1, base_version=base.version)
    assert restored.questions[question]["text"] == "Which day trip?"
    assert (restored.questions[question]["added_by"], restored.questions[question]["at"]) == \
        ("bob", at_of(app, aid, 4))
    assert restored.commitments[cid]["by"] == "bob"
    assert restored.commitments[cid]["at"] == at_of(app, aid, restored.version)  # a restore rewrites it
    assert replayed(app, aid).as_dict() == app.alliance(aid).as_dict()


def test_an_alliance_snapshotted_before_who_and_when_still_loads_and_goes_on(app, settings):
    """A snapshot taken by the version before this one lacks every new field: the alliance
    loads from it, folds new events on top, and shows who and when for what happened since."""
    aid = story(app)
    cid = str(uuid4())
    app.act(aid, "make_commitment", **ANN, commitment_id=cid, text="Book the flat", owner_id="bob")
    app.act(aid, "answer_question", **ANN, question_id=WANT, text="Sea and sun", base_revision=0)
    app.act(aid, "give_consent", **ANN, version=app.alliance(aid).content_version, stance="support")
    old = replayed(app, aid)
    snapshot = type(old).Snapshot.take(old)
    state = snapshot.state  # as the version before this one snapshotted it
    for gone in ("_acting_at", "own_answered_at", "archived_by"):
        state.pop(gone, None)
    state["participants"]["ann"].pop("joined_at")
    state["participants"]["bob"].pop("joined_at", None)
    state["commitments"][cid].pop("by"), state["commitments"][cid].pop("at")
    state["answers"][WANT].pop("at"), state["consents"]["ann"].pop("at")
    app.snapshots.put([snapshot])

    fresh = AllianceApplication(env=settings.event_store_env("alliances"))  # loads from that snapshot
    try:
        loaded = fresh.alliance(aid)
        assert loaded.as_dict()["own_answered_at"] == {} and loaded.as_dict()["archived_by"] == []
        assert "at" not in loaded.commitments[cid] and loaded.title == "Trip to Lisbon"
        assert loaded.comparable() == old.comparable() and loaded.content() == old.content()
        fresh.act(aid, "give_own_answer", **BOB, question_id=WANT, text="Museums")
        fresh.act(aid, "archive_alliance", **BOB)
        fresh.act(aid, "withdraw_commitment", **ANN, commitment_id=cid, reason="We stay with friends")
        fresh.act(aid, "give_consent", **ANN, version=fresh.alliance(aid).content_version, stance="support")
        fresh.act(aid, "close_alliance", **ANN, celebration="Home again")
        now = fresh.alliance(aid)
        assert now.own_answered_at == {WANT: {"bob": at_of(app, aid, 7)}} and now.archived_by == ["bob"]
        assert now.commitments[cid]["withdrawn"]["at"] == at_of(app, aid, 9)
        assert now.consents["ann"]["at"] == at_of(app, aid, 10)
        assert now.seen_by("ann").as_dict()["own_answered_at"] == {WANT: {"bob": at_of(app, aid, 7)}}
        assert describe_events(None, list(fresh.events.get(aid)), now)[-1]["text"].startswith("closed the alliance")
        assert fresh.history(aid)["entries"][0]["who"] == "Ann" and fresh.verify(aid).ok
        # `alliance rebuild` replaces that old snapshot (and the store is left as a real one would be:
        # the crash tests check every snapshot in the database against its events).
        assert _rebuild_one(fresh, UUID(str(aid)))[0] == [old.version]
    finally:
        fresh.close()
