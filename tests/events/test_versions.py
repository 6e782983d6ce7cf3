"""Stories of versions people can name, trust and restore (issue 11), on the application and
its store (SQLite and PostgreSQL): agreements told with who and when, names of versions,
consents that record the hash of what they were given to, the consent state after a break
and renewal, bringing back one answer or one commitment, and reopening a commitment."""

import hashlib
import json
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from events.alliance import Alliance, InvalidInput, NotAllowedNow, NotFound
from events.audit import GENESIS, event_hash
from replays import replayed

ANN, SAM = ({"by": who, "device": f"{who}-phone"} for who in ("ann", "sam"))
WHY, OUTCOMES = "purpose.why", "purpose.outcomes"  # the coaching template's first questions


def story(app, template="coaching"):
    """Ann designs a coaching alliance with Sam; Sam joins."""
    alliance = app.design_alliance(alliance_id=uuid4(), **ANN, title="Coaching with Sam", template=template,
                                   facilitator_name="Ann")
    invitation = uuid4()
    app.act(alliance.id, "invite_participant", **ANN, invitation_id=invitation, name="Sam")
    app.act(alliance.id, "join", **SAM, invitation_id=invitation, name="Sam")
    return alliance.id


def answer(app, aid, question, text, who=ANN):
    revision = app.alliance(aid).answers.get(question, {}).get("revision", 0)
    return app.act(aid, "answer_question", **who, question_id=question, text=text, base_revision=revision)


def consent(app, aid, *people, stance="support"):
    for who in people:
        app.act(aid, "give_consent", **who, version=app.alliance(aid).content_version, stance=stance)
    return app.alliance(aid)


def words(app, aid) -> list[str]:
    return [f"{e['who']} {e['text']}" for e in reversed(app.history(aid, limit=200)["entries"])]


def at_of(app, aid, version) -> str:
    [event] = [e for e in app.events.get(aid) if e.originator_version == version]
    return event.timestamp.isoformat()


def by_hand(content: dict) -> str:
    """The recipe of docs/PROTOCOL.md, followed step by step as a phone would."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ----- agreements, with who and when -----

def test_each_agreement_says_when_and_by_whom(app):
    aid = story(app)
    answer(app, aid, WHY, "To lead with calm")
    first = consent(app, aid, ANN, SAM)
    assert first.status == "agreed" and first.agreed_versions == [first.content_version]
    hash_then = first.consents["ann"]["content_hash"]
    assert first.as_dict()["agreements"] == [{
        "version": first.content_version, "at": at_of(app, aid, first.version),  # Sam's consent completed it
        "consents": {"ann": {"stance": "support", "at": at_of(app, aid, first.version - 1), "content_hash": hash_then},
                     "sam": {"stance": "support", "at": at_of(app, aid, first.version), "content_hash": hash_then}}}]

    answer(app, aid, WHY, "To lead with calm and care")
    app.act(aid, "give_consent", **ANN, version=app.alliance(aid).content_version, stance="live_with")
    second = consent(app, aid, SAM)
    agreements = second.as_dict()["agreements"]
    assert [a["version"] for a in agreements] == second.agreed_versions == [first.content_version,
                                                                            second.content_version]
    assert {uid: c["stance"] for uid, c in agreements[1]["consents"].items()} == {"ann": "live_with", "sam": "support"}
    assert agreements[0] == first.as_dict()["agreements"][0]  # the first agreement stays as it was
    assert replayed(app, aid).all_agreements() == agreements  # a fold of the stored events, nothing else


# ----- names of versions -----

def test_a_version_is_named_renamed_and_its_name_taken_away(app):
    aid = story(app)
    answer(app, aid, WHY, "To lead with calm")
    agreed = consent(app, aid, ANN, SAM)
    version = agreed.content_version
    named = app.act(aid, "name_version", **SAM, version=version, name="  after our first session ")
    assert named.version_names == {str(version): {"name": "after our first session", "by": "sam",
                                                  "at": at_of(app, aid, named.version)}}
    # Not content: no new content version, nobody is asked to consent again.
    assert (named.content_version, named.status, named.awaiting_consent()) == (version, "agreed", [])

    renamed = app.act(aid, "name_version", **ANN, version=version, name="after our first review")
    assert renamed.as_dict()["version_names"] == {str(version): {"name": "after our first review", "by": "ann",
                                                                 "at": at_of(app, aid, renamed.version)}}
    same = app.act(aid, "name_version", **ANN, version=version, name="after our first review")
    assert same.version == renamed.version  # the same name again records nothing
    app.act(aid, "name_version", **ANN, version=1, name="as designed")  # any content version, agreed or not
    unnamed = app.act(aid, "name_version", **ANN, version=version, name="")
    assert unnamed.version_names == {"1": {"name": "as designed", "by": "ann", "at": at_of(app, aid, unnamed.version - 1)}}

    assert words(app, aid)[-4:] == [
        f"Sam named version {version} 'after our first session'",
        f"Ann renamed version {version} from 'after our first session' to 'after our first review'",
        "Ann named version 1 'as designed'",
        f"Ann took away the name 'after our first review' of version {version}"]


def test_only_a_content_version_can_be_named_and_only_shortly(app):
    aid = story(app)
    answer(app, aid, WHY, "To lead with calm")
    agreed = consent(app, aid, ANN, SAM)  # two consents after the answer: versions the content did not move at
    with pytest.raises(InvalidInput, match=f"Version {agreed.version} is not a version of the content: "
                                           f"the content there was version {agreed.content_version}; name that one."):
        app.act(aid, "name_version", **ANN, version=agreed.version, name="agreed")
    with pytest.raises(InvalidInput, match="The name is longer than 100 characters"):
        app.act(aid, "name_version", **ANN, version=agreed.content_version, name="x" * 101)
    with pytest.raises(InvalidInput, match=f"Name a version between 1 and {agreed.version}"):
        app.act(aid, "name_version", **ANN, version=agreed.version + 1, name="later")
    assert app.alliance(aid).version_names == {}


# ----- consent you can prove -----

def test_each_consent_records_the_hash_of_what_it_was_given_to(app):
    aid = story(app, template="team")  # its "Before we meet" pre-work is private
    private = next(iter(app.alliance(aid).private_questions()))
    agreed_question = next(q for q in app.alliance(aid).questions if q not in app.alliance(aid).private_questions())
    answer(app, aid, agreed_question, "Ship the new onboarding, fränkisch und herzlich")
    app.act(aid, "give_own_answer", **ANN, question_id=private, text="I fear the deadline")
    agreed = consent(app, aid, ANN, SAM)
    at_version = app.alliance(aid, version=agreed.content_version)
    recorded = agreed.consents["ann"]["content_hash"]
    assert recorded == agreed.consents["sam"]["content_hash"] == by_hand(at_version.consented_content())
    # What is consented to leaves the private pre-work out: it is no part of the agreement.
    assert private not in at_version.consented_content()["own_answers"]
    assert app.alliance(aid).own_answers[private] == {"ann": "I fear the deadline"}
    app.act(aid, "give_own_answer", **ANN, question_id=private, text="I fear the deadline less")
    assert by_hand(app.alliance(aid).consented_content()) == recorded

    evidence = app.evidence(aid, agreed.content_version)
    assert evidence["content"] == at_version.consented_content()
    assert evidence["content_hash"] == recorded == by_hand(evidence["content"])
    assert [(c["name"], c["stance"], c["content_hash"], c["matches"], c["by_renewal"]) for c in evidence["consents"]] == [
        ("Ann", "support", recorded, True, False), ("Sam", "support", recorded, True, False)]
    assert [c["at"] for c in evidence["consents"]] == [a["at"] for a in evidence["agreements"][0]["consents"].values()]

    # The content moves on: a new consent hashes the new content; the old evidence stands.
    answer(app, aid, agreed_question, "Ship the new onboarding by March")
    again = consent(app, aid, SAM)
    assert again.consents["sam"]["content_hash"] != recorded
    assert again.consents["sam"]["content_hash"] == by_hand(again.consented_content())
    assert app.evidence(aid, agreed.content_version) == evidence
    with pytest.raises(NotFound, match=f"Version {agreed.version} is not a version of the content"):
        app.evidence(aid, agreed.version)


def test_a_consent_after_progress_is_checked_against_the_content_it_saw(app):
    """Completing a commitment is progress, not a new version: Sam's consent after it
    hashes what he saw, and the evidence rebuilds exactly that."""
    aid = story(app)
    cid = str(uuid4())
    app.act(aid, "make_commitment", **ANN, commitment_id=cid, text="Send notes", owner_id="sam")
    consent(app, aid, ANN)
    app.act(aid, "complete_commitment", **SAM, commitment_id=cid)
    agreed = consent(app, aid, SAM)
    evidence = app.evidence(aid, agreed.content_version)
    ann, sam = evidence["consents"]
    assert ann["matches"] and sam["matches"]
    assert ann["content_hash"] == evidence["content_hash"] != sam["content_hash"]
    seen = app.alliance(aid, version=sam["event_version"] - 1)  # the state Sam consented on
    assert sam["content_hash"] == sam["recomputed_hash"] == by_hand(seen.consented_content())


# ----- a break, and renewal -----

def test_after_a_break_and_renewal_the_consent_state_is_true(app):
    aid = story(app)
    answer(app, aid, WHY, "To lead with calm")
    agreed = consent(app, aid, ANN, SAM)
    version, before = agreed.content_version, agreed.consents
    app.act(aid, "break_alliance", **SAM, what_happened="Two sessions missed")
    renewed = app.act(aid, "renew_alliance", **ANN, note="We text a day ahead")

    # Ann's renewal is her support of the content as it stands; Sam's consent is from before the break.
    assert renewed.consents == {
        "ann": {"version": version, "stance": "support", "reason": "", "at": at_of(app, aid, renewed.version),
                "content_hash": by_hand(renewed.consented_content())},
        "sam": dict(before["sam"], before_break=True)}
    assert renewed.awaiting_consent() == ["sam"] and renewed.status == "changed"
    assert words(app, aid)[-1] == ("Ann renewed the alliance: We text a day ahead "
                                   f"(and so supports version {version}; the others are asked to consent again)")

    again = consent(app, aid, SAM)
    assert again.status == "agreed" and "before_break" not in again.consents["sam"]
    assert again.agreed_versions == [version]  # the same content, agreed twice
    assert [(a["version"], sorted(a["consents"])) for a in again.as_dict()["agreements"]] == [
        (version, ["ann", "sam"]), (version, ["ann", "sam"])]
    assert [(c["name"], c["by_renewal"], c["matches"]) for c in app.evidence(aid, version)["consents"]] == [
        ("Ann", False, True), ("Sam", False, True), ("Ann", True, True), ("Sam", False, True)]


def test_consent_is_given_again_after_a_renewal_even_in_the_same_words(app):
    aid = story(app)
    consent(app, aid, ANN, SAM)
    app.act(aid, "break_alliance", **ANN, what_happened="We drifted")
    app.act(aid, "renew_alliance", **SAM, note="Fortnightly, no matter what")
    assert app.alliance(aid).awaiting_consent() == ["ann"]
    assert consent(app, aid, ANN).status == "agreed"  # the same stance as before the break counts anew


# ----- bringing back one thing -----

def test_one_answer_is_brought_back_and_nothing_else_changes(app):
    aid = story(app)
    then = answer(app, aid, WHY, "To lead with calm")
    answer(app, aid, OUTCOMES, "A calmer team")
    cid = str(uuid4())
    app.act(aid, "make_commitment", **ANN, commitment_id=cid, text="Send notes", owner_id="sam")
    answer(app, aid, WHY, "To lead", who=SAM)
    answer(app, aid, OUTCOMES, "A calmer team by June", who=SAM)
    app.act(aid, "schedule_review", **SAM, every=2, unit="weeks", next_date="2027-02-01")
    before = app.alliance(aid)

    restored = app.act(aid, "restore_item", **ANN, version=then.content_version, question_id=WHY)
    after = restored.content()
    assert after["answers"][WHY]["text"] == "To lead with calm"
    expected = before.content()
    expected["answers"][WHY]["text"] = "To lead with calm"
    assert after == expected  # the other answer, the commitment and the rhythm as they were
    assert restored.answers[WHY]["by"] == "ann" and restored.answers[WHY]["revision"] == before.answers[WHY]["revision"] + 1
    assert restored.content_version == restored.version  # a change of content: consent is asked again
    assert words(app, aid)[-1] == (f"Ann brought back the answer to 'What brings you to coaching right now?' "
                                   f"as it was in version {then.content_version}: 'To lead with calm'")

    with pytest.raises(NotAllowedNow, match=f"The answer already says what it said in version {then.content_version}"):
        app.act(aid, "restore_item", **ANN, version=then.content_version, question_id=WHY)
    with pytest.raises(NotFound, match="This question had no answer yet in version 2: there is nothing to bring back"):
        app.act(aid, "restore_item", **ANN, version=2, question_id=WHY)
    with pytest.raises(InvalidInput, match="Name either the question whose answer to bring back, or the commitment"):
        app.act(aid, "restore_item", **ANN, version=2, question_id=WHY, commitment_id=cid)
    with pytest.raises(InvalidInput, match=f"Bring something back from a version between 1 and {restored.version - 1}"):
        app.act(aid, "restore_item", **ANN, version=restored.version, question_id=WHY)
    assert app.alliance(aid).version == restored.version


def test_one_commitment_is_brought_back_and_nothing_else_changes(app):
    aid = story(app)
    cid, other = str(uuid4()), str(uuid4())
    then = app.act(aid, "make_commitment", **ANN, commitment_id=cid, text="Send notes after each session",
                   owner_id="sam", due="2027-03-10")
    app.act(aid, "make_commitment", **ANN, commitment_id=other, text="Book the room", owner_id="ann")
    revision = app.alliance(aid).commitments[cid]["revision"]
    app.act(aid, "amend_commitment", **SAM, commitment_id=cid, base_revision=revision, text="Send notes",
            due="2027-04-01")
    app.act(aid, "withdraw_commitment", **SAM, commitment_id=cid, reason="Too much")
    answer(app, aid, WHY, "To lead with calm")
    before = app.alliance(aid)

    restored = app.act(aid, "restore_item", **ANN, version=then.content_version, commitment_id=cid)
    brought = restored.commitments[cid]
    assert {k: brought[k] for k in ("text", "owner_id", "due", "status")} == {
        "text": "Send notes after each session", "owner_id": "sam", "due": "2027-03-10", "status": "open"}
    assert "withdrawn" not in brought and brought["at"] == at_of(app, aid, restored.version)
    expected = before.content()
    expected["commitments"][cid].update(text="Send notes after each session", due="2027-03-10", status="open")
    assert restored.content() == expected  # the other commitment and the answer untouched
    assert words(app, aid)[-1] == (f"Ann brought back the commitment 'Send notes after each session' "
                                   f"as it was in version {then.content_version}")
    # An editor who started from before the restore meets a conflict, not a silent overwrite.
    app.act(aid, "amend_commitment", **SAM, commitment_id=cid, base_revision=before.commitments[cid]["revision"],
            text="Notes monthly")
    assert app.alliance(aid).commitments[cid]["conflict"] == {"text": ["Notes monthly"]}

    with pytest.raises(NotFound, match=f"This commitment did not exist yet in version {then.content_version - 1}"):
        app.act(aid, "restore_item", **ANN, version=then.content_version - 1, commitment_id=cid)
    with pytest.raises(NotAllowedNow, match=f"This commitment already is as it was in version {then.content_version}"):
        app.act(aid, "restore_item", **ANN, version=then.content_version, commitment_id=cid)


# ----- undo of completing and withdrawing -----

def test_a_completed_or_withdrawn_commitment_is_reopened(app):
    aid = story(app)
    cid = str(uuid4())
    app.act(aid, "make_commitment", **ANN, commitment_id=cid, text="Send notes", owner_id="sam")
    agreed = consent(app, aid, ANN, SAM)
    done = app.act(aid, "complete_commitment", **SAM, commitment_id=cid)
    reopened = app.act(aid, "reopen_commitment", **SAM, commitment_id=cid)
    assert reopened.commitments[cid]["status"] == "open"
    assert reopened.commitments[cid]["revision"] == done.commitments[cid]["revision"] + 1
    assert (reopened.content_version, reopened.status) == (agreed.content_version, "agreed")  # progress, undone

    withdrawn = app.act(aid, "withdraw_commitment", **ANN, commitment_id=cid, reason="Sam has enough on")
    assert withdrawn.status == "changed"
    back = app.act(aid, "reopen_commitment", **ANN, commitment_id=cid)
    assert back.commitments[cid]["status"] == "open" and "withdrawn" not in back.commitments[cid]
    assert back.content_version == back.version  # back in the agreement: a change to consent to
    with pytest.raises(NotAllowedNow, match="This commitment is open already"):
        app.act(aid, "reopen_commitment", **ANN, commitment_id=cid)
    with pytest.raises(NotFound, match="There is no such commitment"):
        app.act(aid, "reopen_commitment", **ANN, commitment_id=str(uuid4()))
    assert words(app, aid)[-4:] == [
        "Sam completed the commitment 'Send notes'",
        "Sam reopened the commitment 'Send notes': it is not done after all",
        "Ann withdrew Sam's commitment 'Send notes': Sam has enough on",
        "Ann brought back the withdrawn commitment 'Send notes': it is open again"]


# ----- events from before issue 11 -----

def stored_without(app, alliance: Alliance, field: str) -> list[StoredEvent]:
    """The alliance's new events as an older version of the code stored them: `field`
    absent from the last one, each chained over what it stores (texts sealed)."""
    events, stored, previous = alliance.collect_events(), [], GENESIS
    for event in events:
        state = app.mapper.sealed_state(event)
        if event is events[-1]:
            del state[field]
        del state["chain"]
        state["chain"] = previous = event_hash(previous, get_topic(type(event)), event.originator_id,
                                               event.originator_version, state)
        stored.append(app.mapper.stored_event(event, state))
    return stored


def test_a_consent_from_before_content_hashes_still_loads(app):
    alliance = Alliance.design(alliance_id=uuid4(), **ANN, title="From long ago", template="blank",
                               facilitator_name="Ann")
    alliance.give_consent(**ANN, version=1, stance="support")
    app.recorder.insert_events(stored_without(app, alliance, "content_hash"))

    old = app.alliance(alliance.id)
    assert old.consents["ann"]["content_hash"] is None and old.status == "agreed"
    assert old.as_dict()["agreements"][0]["consents"]["ann"]["content_hash"] is None
    assert app.verify(alliance.id).ok
    [told] = app.evidence(alliance.id, 1)["consents"]
    assert (told["content_hash"], told["matches"]) == (None, None)  # nothing recorded, nothing to match


def test_a_renewal_from_before_it_counted_as_consent_still_clears_consents(app):
    alliance = Alliance.design(alliance_id=uuid4(), **ANN, title="From long ago", template="blank",
                               facilitator_name="Ann")
    alliance.give_consent(**ANN, version=1, stance="support")
    alliance.break_alliance(**ANN, what_happened="We stopped")
    alliance.renew_alliance(**ANN, note="We start again")
    app.recorder.insert_events(stored_without(app, alliance, "content_hash"))

    old = app.alliance(alliance.id)
    assert old.consents == {} and old.awaiting_consent() == ["ann"] and app.verify(alliance.id).ok
    assert words(app, alliance.id)[-1] == "Ann renewed the alliance: We start again"
    assert [c["by_renewal"] for c in app.evidence(alliance.id, 1)["consents"]] == [False]
