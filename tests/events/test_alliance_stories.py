"""Stories about an alliance: each test tells what people do and what the
alliance says afterwards, or how it refuses and what it tells them.

Most stories use the aggregate in memory; the last ones go through the
application and its store (SQLite and PostgreSQL).
"""

from uuid import uuid4

import pytest

from events.alliance import (
    Alliance, AlreadyExists, InvalidInput, NotAllowedNow, NotAParticipant, NotFound,
)
from events.commands import ALLIANCE_COMMANDS
from events.templates import TEMPLATES

ANN = {"by": "ann", "device": "ann-phone"}
BOB = {"by": "bob", "device": "bob-phone"}
CAY = {"by": "cay", "device": "cay-laptop"}
WHY = "purpose.why"  # the coaching template's first question
OUTCOMES = "purpose.outcomes"


def design(template="coaching", title="Coaching with Ann") -> Alliance:
    return Alliance.design(alliance_id=uuid4(), by="ann", device="ann-phone", title=title,
                           template=template, facilitator_name="Ann")


def invite(alliance, name, who=ANN):
    invitation = uuid4()
    alliance.invite_participant(**who, invitation_id=invitation, name=name)
    return invitation


def with_bob(alliance: Alliance) -> Alliance:
    alliance.join(**BOB, invitation_id=invite(alliance, "Bob"), name="Bob")
    return alliance


@pytest.fixture
def alliance() -> Alliance:
    """Ann designs a coaching alliance and Bob joins it."""
    return with_bob(design())


def consent(alliance, *people, stance="support"):
    for who in people:
        alliance.give_consent(**who, version=alliance.content_version, stance=stance)


def commitment(alliance, text="Send notes after each session", owner="bob", due="2027-03-10"):
    commitment_id = uuid4()
    alliance.make_commitment(**ANN, commitment_id=commitment_id, text=text, owner_id=owner, due=due)
    return str(commitment_id)


def last_at(alliance) -> str:
    """When the latest event happened (what its who-and-when fields say)."""
    return alliance.pending_events[-1].timestamp.isoformat()


def records_nothing(alliance, command, **args):
    before = len(alliance.pending_events)
    getattr(alliance, command)(**args)
    return len(alliance.pending_events) == before


# ----- design -----

@pytest.mark.parametrize("name", list(TEMPLATES))
def test_an_alliance_is_designed_from_each_template(name):
    """Ann picks a template: she is its facilitator, and its questions are ready to answer."""
    alliance = design(template=name, title="Our alliance")
    template = TEMPLATES[name]
    assert (alliance.title, alliance.template, alliance.template_version) == ("Our alliance", name, template.version)
    assert alliance.participants == {"ann": {"name": "Ann", "role": "facilitator", "status": "joined",
                                             "joined_at": alliance.created_on.isoformat()}}
    assert alliance.facilitator == "ann" and alliance.members() == ["ann"]
    assert list(alliance.questions) == [q.key for _, q in template.questions()]
    assert all(alliance.questions[q.key]["text"] == q.text for _, q in template.questions())
    assert (alliance.status, alliance.version, alliance.content_version) == ("draft", 1, 1)


def test_an_unknown_template_is_refused_naming_the_known_ones():
    with pytest.raises(InvalidInput, match="known templates: coaching, team, personal, blank"):
        design(template="wedding")


def test_an_alliance_needs_a_title_and_a_facilitator_name():
    with pytest.raises(InvalidInput, match="title cannot be empty"):
        design(title="   ")
    with pytest.raises(InvalidInput, match="facilitator's name cannot be empty"):
        Alliance.design(alliance_id=uuid4(), by="ann", device="ann-phone", title="T",
                        template="blank", facilitator_name="")
    with pytest.raises(InvalidInput, match="alliance id must be a UUID"):
        Alliance.design(alliance_id="one", by="ann", device="ann-phone", title="T",
                        template="blank", facilitator_name="Ann")


# ----- participants: invite, join, leave -----

def test_bob_joins_with_the_invitation_ann_sent():
    alliance = design()
    invitation = invite(alliance, "Bob")
    assert alliance.invitations[str(invitation)]["status"] == "open"
    alliance.join(**BOB, invitation_id=invitation, name="Bobby")
    joined_at = alliance.modified_on.isoformat()  # the time of the join event
    assert alliance.participants["bob"] == {"name": "Bobby", "role": "participant", "status": "joined",
                                            "joined_at": joined_at}
    assert alliance.invitations[str(invitation)]["status"] == "accepted"
    assert alliance.invitations[str(invitation)]["joined"] == ["bob"]
    assert alliance.members() == ["ann", "bob"]


def test_joining_needs_an_open_invitation_and_each_is_used_once(alliance):
    with pytest.raises(NotFound, match="invitation is not open"):
        alliance.join(**CAY, invitation_id=uuid4(), name="Cay")
    bobs = next(iter(alliance.invitations))
    with pytest.raises(NotFound, match="invitation is not open"):
        alliance.join(**CAY, invitation_id=bobs, name="Cay")
    with pytest.raises(AlreadyExists, match="already a participant"):
        alliance.join(**BOB, invitation_id=invite(alliance, "Bob again"), name="Bob")
    with pytest.raises(InvalidInput, match="invitation id must be a UUID"):
        alliance.join(**CAY, invitation_id="come-in", name="Cay")


def test_an_invitation_id_is_the_same_however_the_client_spells_it():
    """Bob's phone sends the invitation id in capitals; it is still his invitation."""
    alliance = design()
    invitation = invite(alliance, "Bob")
    alliance.join(**BOB, invitation_id=str(invitation).upper(), name="Bob")
    assert alliance.invitations[str(invitation)]["status"] == "accepted"
    assert alliance.members() == ["ann", "bob"]


def test_only_participants_can_invite(alliance):
    with pytest.raises(NotAParticipant, match="Only participants"):
        invite(alliance, "Dan", who=CAY)
    with pytest.raises(InvalidInput, match="invitee's name cannot be empty"):
        alliance.invite_participant(**ANN, invitation_id=uuid4(), name="")


def test_a_retried_invitation_records_nothing_new_but_a_different_name_is_refused(alliance):
    """Ann's phone lost the answer and sends the same invitation again."""
    invitation = invite(alliance, "Cay")
    assert records_nothing(alliance, "invite_participant", **ANN, invitation_id=invitation, name="Cay")
    with pytest.raises(AlreadyExists, match="invitation with this id already exists"):
        alliance.invite_participant(**ANN, invitation_id=invitation, name="Dan")


def test_the_only_participant_cannot_leave():
    with pytest.raises(NotAllowedNow, match="only participant: close the alliance"):
        design().leave(**ANN)


def test_after_leaving_bob_can_no_longer_change_the_alliance(alliance):
    alliance.leave(**BOB)
    assert alliance.participants["bob"]["status"] == "left" and alliance.members() == ["ann"]
    with pytest.raises(NotAParticipant, match="Only participants"):
        alliance.answer_question(**BOB, question_id=WHY, text="To grow", base_revision=0)
    with pytest.raises(NotAParticipant, match="Only participants"):
        alliance.leave(**BOB)


# ----- questions -----

def test_bob_adds_rewords_and_removes_a_question_of_their_own(alliance):
    question = uuid4()  # made by Bob's phone
    alliance.add_question(**BOB, question_id=question, section="purpose", text="What would surprise us?")
    qid = str(question)
    assert alliance.questions[qid] == {"section": "purpose", "text": "What would surprise us?", "removed": False,
                                       "added_by": "bob", "at": last_at(alliance)}
    assert records_nothing(alliance, "add_question", **BOB, question_id=question, section="purpose",
                           text="What would surprise us?")  # a retry
    with pytest.raises(AlreadyExists, match="question with this id already exists"):
        alliance.add_question(**BOB, question_id=question, section="purpose", text="Something else?")

    alliance.reword_question(**ANN, question_id=question, text="What would delight us?")
    assert alliance.questions[qid]["text"] == "What would delight us?"
    assert records_nothing(alliance, "reword_question", **ANN, question_id=qid, text="What would delight us?")

    alliance.remove_question(**ANN, question_id=qid)
    assert alliance.questions[qid]["removed"]
    with pytest.raises(NotFound, match="no such question"):
        alliance.answer_question(**BOB, question_id=qid, text="Joy", base_revision=0)
    with pytest.raises(NotFound, match="no such question"):
        alliance.remove_question(**ANN, question_id=qid)


def test_questions_need_a_uuid_a_section_and_words(alliance):
    with pytest.raises(InvalidInput, match="question id must be a UUID"):
        alliance.add_question(**ANN, question_id="q1", section="purpose", text="Why?")
    with pytest.raises(InvalidInput, match="section cannot be empty"):
        alliance.add_question(**ANN, question_id=uuid4(), section="", text="Why?")
    with pytest.raises(InvalidInput, match="question cannot be empty"):
        alliance.add_question(**ANN, question_id=uuid4(), section="purpose", text=" ")
    with pytest.raises(InvalidInput, match="question must be text"):
        alliance.reword_question(**ANN, question_id=WHY, text=42)
    with pytest.raises(NotFound, match="no such question"):
        alliance.reword_question(**ANN, question_id="purpose.nope", text="Why not?")


# ----- answers and conflicts -----

def test_a_phone_editing_the_same_answer_twice_offline_does_not_conflict_with_itself(alliance):
    """Ann's phone saw revision 0 and saves twice before it syncs: both edits start from 0."""
    alliance.answer_question(**ANN, question_id=WHY, text="To lead", base_revision=0)
    alliance.answer_question(**ANN, question_id=WHY, text="To lead calmly", base_revision=0)
    assert (alliance.answers[WHY]["text"], alliance.answers[WHY]["conflict"]) == ("To lead calmly", [])

    # But once Bob changed it in between, Ann's phone's next edit from the old base is a conflict.
    alliance.answer_question(**BOB, question_id=WHY, text="To lead with energy", base_revision=2)
    alliance.answer_question(**ANN, question_id=WHY, text="To lead slowly", base_revision=0)
    assert alliance.answers[WHY]["conflict"] == [{"text": "To lead slowly", "by": "ann"}]


def test_a_phone_amending_a_commitment_twice_offline_does_not_conflict_with_itself(alliance):
    notes = commitment(alliance)
    alliance.amend_commitment(**BOB, commitment_id=notes, base_revision=1, due="2027-04-01")
    alliance.amend_commitment(**BOB, commitment_id=notes, base_revision=1, due="2027-04-08")
    assert (alliance.commitments[notes]["due"], alliance.commitments[notes]["conflict"]) == ("2027-04-08", {})
    alliance.amend_commitment(**ANN, commitment_id=notes, base_revision=1, due="2027-05-01")
    assert alliance.commitments[notes]["conflict"] == {"due": ["2027-05-01"]}


def test_two_offline_answers_to_one_question_are_both_kept_until_resolved(alliance):
    """Ann and Bob both answer 'why' on their phones while offline, from the same start."""
    alliance.answer_question(**ANN, question_id=WHY, text="To lead calmly", base_revision=0)
    answer = alliance.answers[WHY]
    assert (answer["text"], answer["by"], answer["revision"], answer["conflict"]) == ("To lead calmly", "ann", 1, [])

    alliance.answer_question(**BOB, question_id=WHY, text="To lead with energy", base_revision=0)
    answer = alliance.answers[WHY]
    assert answer["text"] == "To lead calmly" and answer["revision"] == 2
    assert answer["conflict"] == [{"text": "To lead with energy", "by": "bob"}]

    # the same words again, from either base, record nothing
    assert records_nothing(alliance, "answer_question", **BOB, question_id=WHY,
                           text="To lead with energy", base_revision=0)
    assert records_nothing(alliance, "answer_question", **ANN, question_id=WHY,
                           text="To lead calmly", base_revision=2)

    alliance.resolve_conflict(**ANN, question_id=WHY, text="To lead calmly, with energy")
    answer = alliance.answers[WHY]
    assert (answer["text"], answer["conflict"], answer["revision"]) == ("To lead calmly, with energy", [], 3)
    with pytest.raises(NotAllowedNow, match="not in conflict"):
        alliance.resolve_conflict(**BOB, question_id=WHY, text="Again")


def test_edits_to_different_questions_never_conflict(alliance):
    alliance.answer_question(**ANN, question_id=WHY, text="To grow", base_revision=0)
    alliance.answer_question(**BOB, question_id=OUTCOMES, text="A promotion", base_revision=0)
    alliance.answer_question(**BOB, question_id=WHY, text="To grow faster", base_revision=1)
    assert alliance.answers[WHY]["text"] == "To grow faster"
    assert alliance.answers[OUTCOMES]["text"] == "A promotion"
    assert not alliance.answers[WHY]["conflict"] and not alliance.answers[OUTCOMES]["conflict"]


@pytest.mark.parametrize("base", [-1, 2, "0", True, None])
def test_a_base_revision_out_of_range_is_refused(alliance, base):
    alliance.answer_question(**ANN, question_id=WHY, text="To grow", base_revision=0)
    with pytest.raises(InvalidInput, match="base revision must be a whole number from 0 to 1"):
        alliance.answer_question(**BOB, question_id=WHY, text="Other", base_revision=base)


def test_resolving_names_either_a_question_or_a_commitment(alliance):
    with pytest.raises(InvalidInput, match="Name either the question or the commitment"):
        alliance.resolve_conflict(**ANN, text="x")
    with pytest.raises(InvalidInput, match="Name either the question or the commitment"):
        alliance.resolve_conflict(**ANN, question_id=WHY, commitment_id=uuid4(), text="x")
    with pytest.raises(NotAllowedNow, match="not in conflict"):
        alliance.resolve_conflict(**ANN, question_id=WHY, text="x")  # never answered


def test_each_team_member_gives_their_own_answer_beside_the_shared_one():
    """Before the team meets, Ann and Bob each do the private pre-work."""
    team = with_bob(design(template="team", title="Platform team"))
    team.give_own_answer(**ANN, question_id="prework.matters", text="Quiet mornings")
    team.give_own_answer(**BOB, question_id="prework.matters", text="Pairing")
    assert team.own_answers["prework.matters"] == {"ann": "Quiet mornings", "bob": "Pairing"}
    assert "prework.matters" not in team.answers
    assert records_nothing(team, "give_own_answer", **BOB, question_id="prework.matters", text="Pairing")
    with pytest.raises(NotFound, match="no such question"):
        team.give_own_answer(**BOB, question_id="prework.unknown", text="?")


# ----- commitments -----

def test_ann_makes_a_commitment_for_bob_with_a_due_date(alliance):
    cid = commitment(alliance, due="2027-03-10")
    assert alliance.commitments[cid] | {"changed": None} == {
        "text": "Send notes after each session", "owner_id": "bob", "due": "2027-03-10",
        "status": "open", "revision": 1, "changed": None, "conflict": {}, "by": "ann", "at": last_at(alliance)}
    assert records_nothing(alliance, "make_commitment", **ANN, commitment_id=cid,
                           text="Send notes after each session", owner_id="bob", due="2027-03-10")
    with pytest.raises(AlreadyExists, match="commitment with this id already exists"):
        alliance.make_commitment(**ANN, commitment_id=cid, text="Other", owner_id="bob")


def test_a_commitment_needs_a_participant_owner_and_an_iso_due_date(alliance):
    with pytest.raises(InvalidInput, match="owner must be a participant"):
        commitment(alliance, owner="cay")
    with pytest.raises(InvalidInput, match="due date must be a date like 2026-03-10, not '10/03/2027'"):
        commitment(alliance, due="10/03/2027")
    with pytest.raises(InvalidInput, match="commitment id must be a UUID"):
        alliance.make_commitment(**ANN, commitment_id="c1", text="x", owner_id="ann")
    cid = commitment(alliance, due=None)
    assert alliance.commitments[cid]["due"] is None


def test_an_amendment_from_the_current_revision_applies(alliance):
    cid = commitment(alliance)
    alliance.amend_commitment(**BOB, commitment_id=cid, base_revision=1, due="2027-04-01", owner_id="ann")
    amended = alliance.commitments[cid]
    assert (amended["due"], amended["owner_id"], amended["revision"], amended["conflict"]) == \
        ("2027-04-01", "ann", 2, {})
    assert records_nothing(alliance, "amend_commitment", **BOB, commitment_id=cid, base_revision=2,
                           due="2027-04-01")


def test_two_stale_amendments_of_different_fields_both_apply(alliance):
    """Offline, Ann rewords the commitment while Bob moves its date."""
    cid = commitment(alliance)
    alliance.amend_commitment(**ANN, commitment_id=cid, base_revision=1, text="Send notes within a day")
    alliance.amend_commitment(**BOB, commitment_id=cid, base_revision=1, due="2027-05-01")
    amended = alliance.commitments[cid]
    assert (amended["text"], amended["due"], amended["conflict"]) == ("Send notes within a day", "2027-05-01", {})


def test_stale_amendments_of_the_same_field_are_kept_until_resolved(alliance):
    cid = commitment(alliance)
    alliance.amend_commitment(**ANN, commitment_id=cid, base_revision=1, due="2027-04-01")
    alliance.amend_commitment(**BOB, commitment_id=cid, base_revision=1, due="2027-05-01", text="Send a summary")
    amended = alliance.commitments[cid]
    assert amended["due"] == "2027-04-01" and amended["conflict"] == {"due": ["2027-05-01"]}
    assert amended["text"] == "Send a summary"  # nobody else touched the text

    with pytest.raises(InvalidInput, match="Give a value for each field in conflict: due"):
        alliance.resolve_conflict(**ANN, commitment_id=cid, fields={})
    with pytest.raises(InvalidInput, match="Give a value for each field in conflict: due"):
        alliance.resolve_conflict(**ANN, commitment_id=cid, fields={"due": "2027-04-15", "text": "x"})
    with pytest.raises(InvalidInput, match="due date must be a date"):
        alliance.resolve_conflict(**ANN, commitment_id=cid, fields={"due": "mid-April"})
    alliance.resolve_conflict(**ANN, commitment_id=cid, fields={"due": "2027-04-15"})
    assert (alliance.commitments[cid]["due"], alliance.commitments[cid]["conflict"]) == ("2027-04-15", {})
    with pytest.raises(NotAllowedNow, match="commitment is not in conflict"):
        alliance.resolve_conflict(**ANN, commitment_id=cid, fields={"due": "2027-04-16"})


def test_an_amendment_names_only_fields_a_commitment_has(alliance):
    cid = commitment(alliance)
    with pytest.raises(InvalidInput, match="has no colour; it can change text, owner_id, due"):
        alliance.amend_commitment(**ANN, commitment_id=cid, base_revision=1, colour="green")
    with pytest.raises(InvalidInput, match="owner must be a participant"):
        alliance.amend_commitment(**ANN, commitment_id=cid, base_revision=1, owner_id="cay")
    with pytest.raises(NotFound, match="no such commitment"):
        alliance.amend_commitment(**ANN, commitment_id=uuid4(), base_revision=1, text="x")


def test_commitments_are_completed_or_withdrawn_once(alliance):
    done, dropped = commitment(alliance, "Book the room"), commitment(alliance, "Read the book")
    alliance.complete_commitment(**BOB, commitment_id=done)
    alliance.withdraw_commitment(**ANN, commitment_id=dropped, reason="No time this quarter")
    assert alliance.commitments[done]["status"] == "done"
    assert alliance.commitments[dropped]["status"] == "withdrawn"
    with pytest.raises(NotAllowedNow, match="commitment is withdrawn, no longer open"):
        alliance.complete_commitment(**BOB, commitment_id=dropped)
    with pytest.raises(NotAllowedNow, match="commitment is done, no longer open"):
        alliance.withdraw_commitment(**BOB, commitment_id=done)
    with pytest.raises(NotFound, match="no such commitment"):
        alliance.complete_commitment(**BOB, commitment_id=uuid4())


# ----- reviews -----

def test_ann_sets_a_review_rhythm(alliance):
    alliance.schedule_review(**ANN, every=2, unit="weeks", next_date="2027-01-15")
    assert alliance.rhythm == {"every": 2, "unit": "weeks", "next": "2027-01-15"}
    assert records_nothing(alliance, "schedule_review", **BOB, every=2, unit="weeks", next_date="2027-01-15")


@pytest.mark.parametrize("every, unit, next_date, message", [
    (0, "days", "2027-01-15", "every 1 to 365"),
    (366, "days", "2027-01-15", "every 1 to 365"),
    ("2", "weeks", "2027-01-15", "every 1 to 365"),
    (True, "weeks", "2027-01-15", "every 1 to 365"),
    (1, "months", "2027-01-15", "counted in days or weeks"),
    (1, "weeks", None, "Give the date of the next review"),
    (1, "weeks", "soon", "next review date must be a date"),
])
def test_a_review_rhythm_must_make_sense(alliance, every, unit, next_date, message):
    with pytest.raises(InvalidInput, match=message):
        alliance.schedule_review(**ANN, every=every, unit=unit, next_date=next_date)


def test_a_review_records_who_came_and_which_commitments_are_kept(alliance):
    alliance.schedule_review(**ANN, every=4, unit="weeks", next_date="2027-01-15")
    notes, book = commitment(alliance, "Send notes"), commitment(alliance, "Read the book")
    review = uuid4()
    held = dict(review_id=review, held_on="2027-01-15", attendees=["bob", "ann"],
                kept={notes: True, book: False}, keep="Short sessions", start="Agenda first",
                stop="Running late", next_date="2027-02-12")
    alliance.hold_review(**ANN, **held)
    recorded = alliance.reviews[str(review)]
    assert recorded["attendees"] == ["ann", "bob"] and recorded["kept"] == {notes: True, book: False}
    assert (recorded["keep"], recorded["start"], recorded["stop"]) == ("Short sessions", "Agenda first", "Running late")
    assert alliance.rhythm["next"] == "2027-02-12"

    assert records_nothing(alliance, "hold_review", **ANN, **held)  # a retry
    with pytest.raises(AlreadyExists, match="review with this id already exists"):
        alliance.hold_review(**ANN, **dict(held, held_on="2027-01-22"))

    # A retry still counts as one after a commitment it covered was completed.
    alliance.complete_commitment(**ANN, commitment_id=notes)
    assert records_nothing(alliance, "hold_review", **ANN, **held)


def test_a_review_speaks_only_of_open_commitments_and_of_participants(alliance):
    done = commitment(alliance)
    alliance.complete_commitment(**BOB, commitment_id=done)
    held = dict(review_id=uuid4(), held_on="2027-01-15", attendees=["ann"], kept={})
    for kept in ({done: True}, {str(uuid4()): False}, {commitment(alliance): "yes"}):
        with pytest.raises(InvalidInput, match="open commitments only"):
            alliance.hold_review(**ANN, **dict(held, kept=kept))
    for attendees in ([], ["ann", "cay"], "ann"):
        with pytest.raises(InvalidInput, match="Attendees must be participants"):
            alliance.hold_review(**ANN, **dict(held, attendees=attendees))
    with pytest.raises(InvalidInput, match="Give the date the review was held"):
        alliance.hold_review(**ANN, **dict(held, held_on=None))


# ----- consent and the lifecycle -----

def test_the_alliance_is_agreed_when_everyone_supports_or_can_live_with_it(alliance):
    assert alliance.status == "draft" and alliance.awaiting_consent() == ["ann", "bob"]
    alliance.give_consent(**ANN, version=alliance.content_version, stance="support")
    assert alliance.status == "draft" and alliance.awaiting_consent() == ["bob"]
    alliance.give_consent(**BOB, version=alliance.content_version, stance="live_with")
    assert alliance.status == "agreed" and alliance.awaiting_consent() == []
    assert alliance.agreed_versions == [alliance.content_version]


def test_an_objection_needs_a_reason_and_holds_the_agreement(alliance):
    consent(alliance, ANN)
    with pytest.raises(InvalidInput, match="reason cannot be empty"):
        alliance.give_consent(**BOB, version=alliance.content_version, stance="object")
    alliance.give_consent(**BOB, version=alliance.content_version, stance="object", reason="Too many sessions")
    assert alliance.status == "draft" and alliance.awaiting_consent() == ["bob"]
    with pytest.raises(InvalidInput, match="Consent is one of: support, live_with"):
        alliance.give_consent(**BOB, version=alliance.content_version, stance="maybe")
    with pytest.raises(InvalidInput, match="There is no version 99"):
        alliance.give_consent(**BOB, version=99, stance="support")


def test_consent_to_a_version_older_than_the_content_is_refused(alliance):
    read = alliance.content_version
    alliance.answer_question(**ANN, question_id=WHY, text="To grow", base_revision=0)
    with pytest.raises(NotAllowedNow, match=f"changed since version {read} \\(now version {alliance.version}\\)"):
        alliance.give_consent(**BOB, version=read, stance="support")


def test_a_change_after_agreement_asks_everyone_again(alliance):
    consent(alliance, ANN, BOB)
    agreed = alliance.content_version
    alliance.answer_question(**BOB, question_id=WHY, text="To grow", base_revision=0)
    assert alliance.status == "changed" and alliance.awaiting_consent() == ["ann", "bob"]
    consent(alliance, ANN, BOB)
    assert alliance.status == "agreed" and alliance.agreed_versions == [agreed, alliance.content_version]


def test_a_newcomer_to_an_agreed_alliance_must_consent_too(alliance):
    consent(alliance, ANN, BOB)
    alliance.join(**CAY, invitation_id=invite(alliance, "Cay"), name="Cay")
    assert alliance.status == "changed" and alliance.awaiting_consent() == ["cay"]
    consent(alliance, CAY)
    assert alliance.status == "agreed"


def test_appreciations_reviews_and_done_commitments_do_not_change_the_agreement(alliance):
    cid = commitment(alliance)
    consent(alliance, ANN, BOB)
    content_version = alliance.content_version
    alliance.appreciate(**BOB, participant_id="ann", note="Thanks for the patience")
    alliance.hold_review(**ANN, review_id=uuid4(), held_on="2027-01-15", attendees=["ann"], kept={cid: True})
    alliance.complete_commitment(**BOB, commitment_id=cid)
    assert alliance.status == "agreed" and alliance.content_version == content_version


# ----- break, renew, close -----

def test_a_broken_alliance_is_renewed_and_agreed_again(alliance):
    """Bob missed three sessions without a word; Ann says the alliance is broken."""
    consent(alliance, ANN, BOB)
    alliance.break_alliance(**ANN, what_happened="Three sessions missed without a word",
                            needs_discussing="How we cancel")
    assert alliance.status == "broken"
    assert alliance.breaks == [{"by": "ann", "what_happened": "Three sessions missed without a word",
                                "needs_discussing": "How we cancel", "renewed": None, "at": last_at(alliance)}]
    with pytest.raises(NotAllowedNow, match="already broken"):
        alliance.break_alliance(**BOB, what_happened="Again")
    with pytest.raises(NotAllowedNow, match="broken: renew it before consenting"):
        alliance.give_consent(**BOB, version=alliance.content_version, stance="support")

    alliance.renew_alliance(**BOB, note="I will cancel a day ahead")
    assert alliance.breaks[-1]["renewed"] == {"by": "bob", "note": "I will cancel a day ahead",
                                              "at": last_at(alliance)}
    # Bob's renewal is his support; Ann's consent stays visible, as given before the break.
    assert alliance.consents["bob"]["stance"] == "support" and "before_break" not in alliance.consents["bob"]
    assert alliance.consents["ann"]["before_break"] and alliance.awaiting_consent() == ["ann"]
    assert alliance.status == "changed"  # agreed once before; awaiting Ann's consent again
    consent(alliance, ANN)
    assert alliance.status == "agreed"


def test_an_alliance_broken_before_it_was_agreed_renews_to_draft(alliance):
    alliance.break_alliance(**BOB, what_happened="We never started")
    with pytest.raises(InvalidInput, match="Say what you agreed, so the renewal means something"):
        alliance.renew_alliance(**ANN, note=" ")
    assert alliance.status == "broken"
    alliance.renew_alliance(**ANN, note="We start on Monday")
    assert alliance.status == "draft"
    with pytest.raises(NotAllowedNow, match="Only a broken alliance can be renewed"):
        alliance.renew_alliance(**ANN, note="Again")
    with pytest.raises(InvalidInput, match="what happened cannot be empty"):
        alliance.break_alliance(**ANN, what_happened="")


def test_closing_needs_a_celebration(alliance):
    with pytest.raises(InvalidInput, match="celebration cannot be empty"):
        alliance.close_alliance(**ANN, celebration=" ")
    alliance.close_alliance(**ANN, celebration="Dinner at the harbour")
    assert alliance.status == "closed"
    assert alliance.closing == {"by": "ann", "celebration": "Dinner at the harbour", "at": last_at(alliance)}


# Archiving is about one's own list, not the alliance: closed ones are archived most of all.
# Erasing one's words is one's right, closed or not (tests/events/test_erasure_stories.py).
@pytest.mark.parametrize("command", [c for c in ALLIANCE_COMMANDS
                                     if c not in ("archive_alliance", "unarchive_alliance", "erase_words")])
def test_a_closed_alliance_can_be_read_but_no_longer_changed(alliance, command):
    cid, cays = commitment(alliance), invite(alliance, "Cay")
    alliance.close_alliance(**ANN, celebration="We reached the goal")
    args = {
        "invite_participant": dict(invitation_id=uuid4(), name="Dan"),
        "join": dict(invitation_id=cays, name="Cay"),
        "leave": {},
        "add_question": dict(question_id=uuid4(), section="purpose", text="Why?"),
        "reword_question": dict(question_id=WHY, text="Why really?"),
        "remove_question": dict(question_id=WHY),
        "answer_question": dict(question_id=WHY, text="To grow", base_revision=0),
        "give_own_answer": dict(question_id=WHY, text="To grow"),
        "share_own_answer": dict(question_id=WHY),
        "make_commitment": dict(commitment_id=uuid4(), text="More", owner_id="ann"),
        "amend_commitment": dict(commitment_id=cid, base_revision=1, text="Less"),
        "complete_commitment": dict(commitment_id=cid),
        "withdraw_commitment": dict(commitment_id=cid),
        "resolve_conflict": dict(question_id=WHY, text="x"),
        "schedule_review": dict(every=1, unit="weeks", next_date="2027-01-15"),
        "hold_review": dict(review_id=uuid4(), held_on="2027-01-15", attendees=["ann"], kept={}),
        "give_consent": dict(version=alliance.content_version, stance="support"),
        "break_alliance": dict(what_happened="x"),
        "renew_alliance": dict(note="Again"),
        "close_alliance": dict(celebration="Again"),
        "rename_alliance": dict(title="Another name"),
        "appreciate": dict(participant_id="bob", note="Thanks"),
        "restore_version": dict(version=1, content=design().content(), base_version=1,
                                base_content=design().content()),
        "revoke_invitation": dict(invitation_id=cays),
        "reopen_commitment": dict(commitment_id=cid),
        "restore_item": dict(version=1, content=design().content(), commitment_id=cid),
        "name_version": dict(version=1, name="As designed", content_version_then=1),
    }[command]
    with pytest.raises(NotAllowedNow, match="closed"):
        getattr(alliance, command)(**(CAY if command == "join" else ANN), **args)
    assert alliance.status == "closed"


# ----- appreciation -----

def test_ann_thanks_bob(alliance):
    alliance.appreciate(**ANN, participant_id="bob", note="You kept every promise")
    assert alliance.appreciations == [{"by": "ann", "to": "bob", "note": "You kept every promise",
                                       "at": last_at(alliance)}]
    with pytest.raises(InvalidInput, match="Appreciation goes to someone else"):
        alliance.appreciate(**ANN, participant_id="ann", note="Well done me")
    with pytest.raises(InvalidInput, match="Appreciate a participant"):
        alliance.appreciate(**ANN, participant_id="cay", note="Thanks")
    with pytest.raises(InvalidInput, match="appreciation cannot be empty"):
        alliance.appreciate(**ANN, participant_id="bob", note="")


# ----- every event says who, from which device, and when -----

def test_every_event_records_who_acted_from_which_device_and_when(alliance):
    cid = commitment(alliance)
    alliance.answer_question(**BOB, question_id=WHY, text="To grow", base_revision=0)
    alliance.amend_commitment(**BOB, commitment_id=cid, base_revision=1, due="2027-04-01")
    alliance.appreciate(**BOB, participant_id="ann", note="Thanks")
    consent(alliance, ANN, BOB)
    events = alliance.collect_events()
    assert len(events) == alliance.version == 9
    devices = {"ann": "ann-phone", "bob": "bob-phone"}
    for recorded in events:
        assert devices[recorded.by] == recorded.device
        assert recorded.timestamp.tzinfo is not None and recorded.timestamp.utcoffset() is not None
    assert [e.by for e in events] == ["ann", "ann", "bob", "ann", "bob", "bob", "bob", "ann", "bob"]


# ----- restore -----

def test_restoring_on_the_aggregate_needs_the_content_of_that_version(alliance):
    alliance.answer_question(**ANN, question_id=WHY, text="To grow", base_revision=0)
    now = dict(base_version=4, base_content=alliance.content())
    with pytest.raises(TypeError):
        alliance.restore_version(**ANN, version=1)  # pylint: disable=missing-kwoa
    with pytest.raises(InvalidInput, match="Give the content"):
        alliance.restore_version(**ANN, version=1, content={}, **now)
    with pytest.raises(InvalidInput, match="Restore a version between 1 and 3"):
        alliance.restore_version(**ANN, version=4, content=alliance.content(), **now)
    with pytest.raises(InvalidInput, match="which version you were looking at"):
        alliance.restore_version(**ANN, version=1, content=alliance.content(), base_version=5,
                                 base_content=alliance.content())
    with pytest.raises(NotAllowedNow, match="already says what version 3 said"):
        alliance.restore_version(**ANN, version=3, content=alliance.content(), **now)


def story(app, template="personal"):
    alliance = app.design_alliance(alliance_id=uuid4(), **ANN, title="Trip to Lisbon",
                                   template=template, facilitator_name="Ann")
    invitation = uuid4()
    app.act(alliance.id, "invite_participant", **ANN, invitation_id=invitation, name="Bob")
    app.act(alliance.id, "join", **BOB, invitation_id=invitation, name="Bob")
    return alliance.id


def test_restoring_brings_back_an_earlier_version_as_one_new_event(app):
    """Bob rewrites the plan; they prefer Ann's first answer and bring it back."""
    aid = story(app)
    app.act(aid, "answer_question", **ANN, question_id="hopes.want", text="Sea and sun", base_revision=0)
    app.act(aid, "answer_question", **BOB, question_id="hopes.want", text="Museums", base_revision=1)
    app.act(aid, "appreciate", **ANN, participant_id="bob", note="Nice idea anyway")
    assert app.alliance(aid).version == 6

    restored = app.act(aid, "restore_version", **BOB, version=4, base_version=6)
    assert restored.version == 7
    assert app.alliance(aid).content() == app.alliance(aid, version=4).content()
    assert app.alliance(aid).answers["hopes.want"]["text"] == "Sea and sun"
    assert app.alliance(aid, version=5).answers["hopes.want"]["text"] == "Museums"  # nothing erased

    with pytest.raises(NotAllowedNow, match="already says what version 4 said"):
        app.act(aid, "restore_version", **ANN, version=4, base_version=7)
    for version in (0, 7, 99, None):
        with pytest.raises(InvalidInput, match="Restore a version between 1 and 6"):
            app.act(aid, "restore_version", **ANN, version=version, base_version=6)
    assert app.alliance(aid).version == 7 and app.verify(aid).ok


# ----- the application -----

def test_a_retried_design_returns_the_stored_alliance(app):
    aid = uuid4()
    design_it = dict(alliance_id=aid, **ANN, title="Trip", template="personal", facilitator_name="Ann")
    app.design_alliance(**design_it)
    app.act(aid, "schedule_review", **ANN, every=1, unit="weeks", next_date="2027-01-15")
    again = app.design_alliance(**design_it)
    assert again.id == aid and again.version == 2 and app.alliance(aid).version == 2
    with pytest.raises(AlreadyExists, match="alliance with this id already exists"):
        app.design_alliance(**dict(design_it, title="Another trip"))


def test_the_application_refuses_unknown_commands_alliances_and_arguments(app):
    aid = story(app)
    with pytest.raises(InvalidInput, match="no command called 'dance'"):
        app.act(aid, "dance", **ANN)
    with pytest.raises(InvalidInput, match="no command called '_left'"):
        app.act(aid, "_left", **ANN)
    with pytest.raises(NotFound, match="no such alliance"):
        app.act(uuid4(), "leave", **ANN)
    with pytest.raises(NotFound, match="no such alliance"):
        app.act("not-an-id", "leave", **ANN)
    with pytest.raises(InvalidInput, match="Wrong arguments for appreciate"):
        app.act(aid, "appreciate", **ANN, person="bob", note="Thanks")
    with pytest.raises(NotAParticipant, match="Only participants"):
        app.act(aid, "leave", **CAY)
    assert app.alliance(aid).version == 3


def test_a_done_commitment_can_no_longer_be_amended(alliance):
    """An offline phone amends a commitment someone else already completed: refused, with the reason."""
    done = commitment(alliance)
    alliance.complete_commitment(**ANN, commitment_id=done)
    with pytest.raises(NotAllowedNow, match="This commitment is done, no longer open"):
        alliance.amend_commitment(**BOB, commitment_id=done, base_revision=1, due="2027-04-01")


def test_consent_names_a_real_version_number(alliance):
    with pytest.raises(InvalidInput, match="There is no version True"):
        alliance.give_consent(**ANN, version=True, stance="support")


def test_resolved_fields_come_as_an_object(alliance):
    with pytest.raises(InvalidInput, match="resolved fields as an object"):
        alliance.resolve_conflict(**ANN, commitment_id=commitment(alliance), fields="due")
