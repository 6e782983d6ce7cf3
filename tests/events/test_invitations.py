"""Stories about invitation links (issue 10): a one-person link, a team link that lets in
several people until it is used up, expires or is withdrawn, and commitments given to
someone invited who has not joined yet.

Every story runs on SQLite and on PostgreSQL (the `app` fixture).
"""

from datetime import timedelta
from uuid import uuid4

import pytest
from argon2 import PasswordHasher
from eventsourcing.persistence import StoredEvent

from events.accounts import invitation_link_id
from events.alliance import AlreadyExists, InvalidInput, InvitationClosed, NotAllowedNow, NotFound
from events.audit import event_hash
from events.signin import NO_SUCH_INVITATION
from sync import SyncService

WITHDRAWN = "This invitation was withdrawn: ask for a new one."
USED_UP = "This link has let in as many people as it was made for: ask for a new one."
EXPIRED = "This invitation has expired: ask for a new one."


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    """argon2 at its cheapest: these stories are about invitations, not hashing."""
    monkeypatch.setattr("events.accounts.PASSWORDS", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def person(app, name: str) -> str:
    user_id, _ = app.sign_up(email=f"{name}-{uuid4().hex[:8]}@example.org", password="a long enough secret",
                             display_name=name)
    return user_id


def designed(app, ann: str) -> str:
    alliance = app.design_alliance(alliance_id=uuid4(), by=ann, device="ann-phone", title="Team offsite",
                                   template="team", facilitator_name="Ann")
    return str(alliance.id)


def refusal(call, *args) -> str:
    with pytest.raises(NotFound) as raised:
        call(*args)
    return str(raised.value)


def push(app, user_id: str, alliance_id: str, name: str, **args) -> dict:
    """One mutation from a phone of this person, as a sync push carries it."""
    [result] = SyncService(app).push(user_id, f"phone-{uuid4().hex[:8]}", [
        {"id": 1, "alliance_id": alliance_id, "name": name, "args": args}]).results
    return result


@pytest.fixture
def ann(app):
    return person(app, "Ann")


# ----- team links -----

def test_a_team_link_admits_three_and_once_withdrawn_refuses_a_fourth(app, ann):
    """Ann makes one link for her team of four; three join with it, each once. Ann then
    withdraws it, and the fourth is told so, on the link's page and when accepting."""
    aid = designed(app, ann)
    link = app.create_invitation(ann, aid, name="the team", uses=5, valid_for=timedelta(days=3))
    assert link["uses"] == 5 and link["expires_at"] > app.alliance(aid).modified_on.isoformat()
    bob, cay, dan, eve = (person(app, name) for name in ("Bob", "Cay", "Dan", "Eve"))
    for joiner in (bob, cay, dan):
        app.accept_invitation(joiner, link["token"])
    with pytest.raises(AlreadyExists, match="already a participant"):
        app.accept_invitation(bob, link["token"])

    alliance = app.alliance(aid)
    assert [alliance.name_of(uid) for uid in alliance.members()] == ["Ann", "Bob", "Cay", "Dan"]
    invitation = alliance.as_dict()["invitations"][link["invitation_id"]]
    assert invitation == {"name": "the team", "by": ann, "at": invitation["at"], "status": "open", "uses": 5,
                          "joined": [bob, cay, dan], "expires_at": link["expires_at"]}
    preview = app.invitation_preview(link["token"])
    assert (preview["uses"], preview["places_left"]) == (5, 2)

    assert push(app, cay, aid, "revoke_invitation", invitation_id=link["invitation_id"])["status"] == "applied"
    assert app.alliance(aid).invitations[link["invitation_id"]]["status"] == "revoked"
    assert refusal(app.accept_invitation, eve, link["token"]) == WITHDRAWN
    assert refusal(app.invitation_preview, link["token"]) == WITHDRAWN
    assert eve not in app.alliance(aid).members()
    assert app.history(aid, limit=1)["entries"][0]["text"] == "withdrew the invitation for the team"
    assert app.verify(aid).ok


def test_a_team_link_is_used_up_once_as_many_joined_as_it_was_made_for(app, ann):
    aid = designed(app, ann)
    link = app.create_invitation(ann, aid, uses=2)
    bob, cay, dan = (person(app, name) for name in ("Bob", "Cay", "Dan"))
    app.accept_invitation(bob, link["token"])
    assert app.invitation_preview(link["token"])["places_left"] == 1
    app.accept_invitation(cay, link["token"])

    invitation = app.alliance(aid).invitations[link["invitation_id"]]
    assert (invitation["status"], invitation["joined"], invitation["name"]) == \
        ("used up", [bob, cay], "up to 2 people (by link)")
    assert refusal(app.accept_invitation, dan, link["token"]) == USED_UP
    assert refusal(app.invitation_preview, link["token"]) == USED_UP
    with pytest.raises(NotAllowedNow, match="nothing left to withdraw"):
        app.act(aid, "revoke_invitation", by=ann, device="ann-phone", invitation_id=link["invitation_id"])


def test_an_expired_link_says_so_and_can_still_be_tidied_away(app, ann):
    aid = designed(app, ann)
    link = app.create_invitation(ann, aid, uses=3, valid_for=timedelta(0))  # its time is already over
    bob = person(app, "Bob")
    assert refusal(app.accept_invitation, bob, link["token"]) == EXPIRED
    assert refusal(app.invitation_preview, link["token"]) == EXPIRED
    assert app.alliance(aid).members() == [ann]
    app.act(aid, "revoke_invitation", by=ann, device="ann-phone", invitation_id=link["invitation_id"])
    assert app.alliance(aid).invitations[link["invitation_id"]]["status"] == "revoked"


def test_the_alliance_itself_refuses_a_join_by_an_expired_invitation(app, ann):
    """Even a join that does not come through the link's own check (a named invitation
    recorded with an expiry) is refused once that time is over."""
    aid = designed(app, ann)
    alliance = app.alliance(aid)
    invitation = str(uuid4())
    alliance.invite_by_link(by=ann, device="server", invitation_id=invitation, name="Bob", uses=1,
                            expires_at="2020-01-01T00:00:00+00:00")
    with pytest.raises(InvitationClosed, match="expired"):
        alliance.join(by="bob", device="bob-phone", invitation_id=invitation, name="Bob")


def test_a_one_person_link_works_once_and_a_used_one_is_like_one_nobody_made(app, ann):
    aid = designed(app, ann)
    link = app.create_invitation(ann, aid, name="Bob")
    bob, cay = person(app, "Bob"), person(app, "Cay")
    app.accept_invitation(bob, link["token"])
    assert app.alliance(aid).invitations[link["invitation_id"]]["status"] == "accepted"
    assert refusal(app.accept_invitation, cay, link["token"]) == NO_SUCH_INVITATION
    assert refusal(app.accept_invitation, cay, "a-token-nobody-made") == NO_SUCH_INVITATION


def test_withdrawing_twice_changes_nothing_the_second_time(app, ann):
    aid = designed(app, ann)
    link = app.create_invitation(ann, aid, name="Bob")
    app.act(aid, "revoke_invitation", by=ann, device="ann-phone", invitation_id=link["invitation_id"])
    version = app.alliance(aid).version
    assert push(app, ann, aid, "revoke_invitation", invitation_id=link["invitation_id"])["status"] == "applied"
    assert app.alliance(aid).version == version
    unknown = push(app, ann, aid, "revoke_invitation", invitation_id=str(uuid4()))
    assert unknown["status"] == "rejected" and unknown["error"]["detail"] == "There is no such invitation in this alliance."


def test_only_a_participant_can_withdraw_an_invitation(app, ann):
    aid = designed(app, ann)
    link = app.create_invitation(ann, aid, name="Bob", uses=3)
    mallory = person(app, "Mallory")
    assert push(app, mallory, aid, "revoke_invitation", invitation_id=link["invitation_id"])["status"] == "rejected"
    assert app.alliance(aid).invitations[link["invitation_id"]]["status"] == "open"


# ----- pending owners -----

def test_a_commitment_given_to_someone_invited_moves_to_them_when_they_join(app, ann):
    """Ann gives "Book the venue" to Sam, whom she has invited but who has not joined yet;
    when Sam joins by that link, the commitment is Sam's."""
    aid = designed(app, ann)
    link = app.create_invitation(ann, aid, name="Sam")
    commitment = str(uuid4())
    assert push(app, ann, aid, "make_commitment", commitment_id=commitment, text="Book the venue",
                owner_id=link["invitation_id"], due="2027-03-10")["status"] == "applied"
    before = app.alliance(aid)
    assert before.commitments[commitment]["owner_id"] == link["invitation_id"]
    assert app.history(aid, limit=1)["entries"][0]["text"] == \
        "made the commitment 'Book the venue' (owner: Sam, due 10 March 2027)"

    sam = person(app, "Sam")
    app.accept_invitation(sam, link["token"])
    after = app.alliance(aid).commitments[commitment]
    assert (after["owner_id"], after["text"], after["status"]) == (sam, "Book the venue", "open")
    assert after["revision"] == before.commitments[commitment]["revision"] + 1
    assert app.alliance(aid).name_of(after["owner_id"]) == "Sam"


def test_withdrawing_the_invitation_gives_the_commitment_back_to_its_maker(app, ann):
    aid = designed(app, ann)
    link = app.create_invitation(ann, aid, name="Sam")
    commitment = str(uuid4())
    app.act(aid, "make_commitment", by=ann, device="ann-phone", commitment_id=commitment,
            text="Book the venue", owner_id=link["invitation_id"])
    content_version = app.alliance(aid).content_version
    app.act(aid, "revoke_invitation", by=ann, device="ann-phone", invitation_id=link["invitation_id"])
    alliance = app.alliance(aid)
    assert alliance.commitments[commitment]["owner_id"] == ann
    assert alliance.content_version > content_version  # who does it changed: consent is asked again
    assert refusal(app.accept_invitation, person(app, "Sam"), link["token"]) == WITHDRAWN


def test_an_amendment_can_hand_a_commitment_to_someone_invited(app, ann):
    aid = designed(app, ann)
    link = app.create_invitation(ann, aid, name="Sam")
    commitment = str(uuid4())
    app.act(aid, "make_commitment", by=ann, device="ann-phone", commitment_id=commitment,
            text="Book the venue", owner_id=ann)
    app.act(aid, "amend_commitment", by=ann, device="ann-phone", commitment_id=commitment, base_revision=1,
            owner_id=link["invitation_id"].upper())  # however the phone spells the id
    assert app.alliance(aid).commitments[commitment]["owner_id"] == link["invitation_id"]
    sam = person(app, "Sam")
    app.accept_invitation(sam, link["token"])
    assert app.alliance(aid).commitments[commitment]["owner_id"] == sam


def test_only_an_open_one_person_invitation_can_own_a_commitment(app, ann):
    aid = designed(app, ann)
    team = app.create_invitation(ann, aid, uses=3)
    gone = app.create_invitation(ann, aid, name="Sam")
    app.act(aid, "revoke_invitation", by=ann, device="ann-phone", invitation_id=gone["invitation_id"])
    for owner, words in ((team["invitation_id"], "someone invited alone who has not joined yet"),
                         (str(uuid4()), "must be a participant"),
                         ("nobody", "must be a participant"),
                         (gone["invitation_id"], "invitation for Sam is no longer open")):
        with pytest.raises(InvalidInput, match=words):
            app.act(aid, "make_commitment", by=ann, device="ann-phone", commitment_id=str(uuid4()),
                    text="Bring snacks", owner_id=owner)


def test_a_commitment_made_offline_for_someone_who_joined_meanwhile_is_theirs(app, ann):
    """Ann's phone, offline, gives a commitment to Sam's invitation; Sam joins before the
    phone reaches the server: the commitment is Sam's, not refused."""
    aid = designed(app, ann)
    link = app.create_invitation(ann, aid, name="Sam")
    sam = person(app, "Sam")
    app.accept_invitation(sam, link["token"])
    commitment = str(uuid4())
    assert push(app, ann, aid, "make_commitment", commitment_id=commitment, text="Book the venue",
                owner_id=link["invitation_id"])["status"] == "applied"
    assert app.alliance(aid).commitments[commitment]["owner_id"] == sam


def test_crossing_edits_of_a_pending_commitment_keep_conflicts_working(app, ann):
    """Bob's phone changed the commitment's text from revision 1 while Sam joined and took
    it over: the text applies (nobody else changed it), while Bob's handing it to himself
    crosses the move to Sam and is kept beside it as a conflict."""
    aid = designed(app, ann)
    bob = person(app, "Bob")
    app.accept_invitation(bob, app.create_invitation(ann, aid, name="Bob")["token"])
    link = app.create_invitation(ann, aid, name="Sam")
    commitment = str(uuid4())
    app.act(aid, "make_commitment", by=ann, device="ann-phone", commitment_id=commitment,
            text="Book the venue", owner_id=link["invitation_id"])
    sam = person(app, "Sam")
    app.accept_invitation(sam, link["token"])
    app.act(aid, "amend_commitment", by=bob, device="bob-phone", commitment_id=commitment, base_revision=1,
            text="Book the venue by May", owner_id=bob)
    after = app.alliance(aid).commitments[commitment]
    assert (after["text"], after["owner_id"], after["conflict"]) == ("Book the venue by May", sam, {"owner_id": [bob]})
    assert app.alliance(aid).conflicts() == 1


# ----- stored history from before team links -----

def test_a_store_written_before_team_links_still_reads(app, ann):
    """Invitations, joins and links as the code before issue 10 stored them (no uses, no
    expiry, one person per link): they fold as one-person invitations, the audit chain
    still verifies, the used link stays spent, and new links work beside them."""
    aid = designed(app, ann)
    alliance = app.alliance(aid)
    bob = person(app, "Bob")
    invitation, secret = str(uuid4()), "an-old-secret"
    events = [("alliance.ParticipantInvited", ann, {"invitation_id": invitation, "name": "Bob"}),
              ("alliance.ParticipantJoined", bob, {"invitation_id": invitation, "name": "Bob"})]
    chain, stored = alliance.chain, []
    for version, (topic, by, fields) in enumerate(events, start=alliance.version + 1):
        state = {"timestamp": alliance.Event.create_timestamp(), "by": by, "device": "old-phone", **fields}
        chain = state["chain"] = event_hash(chain, topic, alliance.id, version, {**state})
        stored.append(StoredEvent(originator_id=alliance.id, originator_version=version, topic=topic,
                                  state=app.mapper.transcoder.encode(state)))
    link_id = invitation_link_id(secret)
    link_events = [("invitation.LinkCreated", {"originator_topic": "invitation",
                                               "alliance_id": aid, "invitation_id": invitation,
                                               "expires_at": "2099-01-01T00:00:00+00:00"}),
                   ("invitation.LinkAccepted", {"user_id": bob})]
    for version, (topic, fields) in enumerate(link_events, start=1):
        state = {"timestamp": alliance.Event.create_timestamp(), **fields}
        stored.append(StoredEvent(originator_id=link_id, originator_version=version, topic=topic,
                                  state=app.mapper.transcoder.encode(state)))
    app.recorder.insert_events(stored)

    old = app.alliance(aid)
    assert old.members() == [ann, bob] and app.verify(aid).ok
    state = old.as_dict()["invitations"][invitation]
    assert {k: state[k] for k in ("name", "status", "uses", "joined", "expires_at")} == \
        {"name": "Bob", "status": "accepted", "uses": 1, "joined": [bob], "expires_at": None}
    assert state["at"] and old.participants[bob]["joined_at"]
    assert refusal(app.accept_invitation, person(app, "Cay"), secret) == NO_SUCH_INVITATION

    team = app.create_invitation(ann, aid, uses=2)
    app.accept_invitation(person(app, "Dan"), team["token"])
    assert len(app.alliance(aid).members()) == 3 and app.verify(aid).ok
