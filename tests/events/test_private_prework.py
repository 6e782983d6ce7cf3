"""Stories of private pre-work in a team alliance, on the application (SQLite and PostgreSQL)."""

from uuid import uuid4

import pytest

from events.alliance import NotAllowedNow

ANN, BOB = {"by": "ann", "device": "ann-phone"}, {"by": "bob", "device": "bob-phone"}
PRIVATE = "prework.matters"


@pytest.fixture
def team(app):
    alliance = app.design_alliance(alliance_id=uuid4(), **ANN, title="Our team", template="team",
                                   facilitator_name="Ann")
    invitation = uuid4()
    app.act(alliance.id, "invite_participant", **ANN, invitation_id=invitation, name="Bob")
    app.act(alliance.id, "join", **BOB, invitation_id=invitation, name="Bob")
    return alliance.id


def test_each_teammate_sees_their_own_pre_work_and_what_others_shared(app, team):
    app.act(team, "give_own_answer", **ANN, question_id=PRIVATE, text="Ann's reasons")
    app.act(team, "give_own_answer", **BOB, question_id=PRIVATE, text="Bob's reasons")
    alliance = app.alliance(team)
    assert alliance.private_questions() == {"prework.matters", "prework.conditions", "prework.count_on"}
    assert alliance.seen_by("ann").own_answers[PRIVATE] == {"ann": "Ann's reasons"}
    assert alliance.seen_by("bob").own_answers[PRIVATE] == {"bob": "Bob's reasons"}
    assert alliance.seen_by(None).own_answers[PRIVATE] == {"ann": "Ann's reasons", "bob": "Bob's reasons"}
    # When each answered is as private as what they answered.
    assert set(alliance.own_answered_at[PRIVATE]) == {"ann", "bob"}
    assert set(alliance.seen_by("bob").own_answered_at[PRIVATE]) == {"bob"}
    assert set(alliance.seen_by("bob").as_dict()["own_answered_at"][PRIVATE]) == {"bob"}
    assert set(alliance.seen_by("ann").own_answered_at[PRIVATE]) == {"ann"}

    shared = app.act(team, "share_own_answer", **ANN, question_id=PRIVATE)
    assert shared.seen_by("bob").own_answers[PRIVATE] == {"ann": "Ann's reasons", "bob": "Bob's reasons"}
    assert shared.shared_answers == {PRIVATE: ["ann"]}
    assert shared.seen_by("bob").own_answered_at[PRIVATE] == alliance.own_answered_at[PRIVATE]
    again = app.act(team, "share_own_answer", **ANN, question_id=PRIVATE)
    assert again.version == shared.version  # shared once, for good
    words = [e["text"] for e in app.history(team, viewer="ann")["entries"]]
    assert "answered 'What matters most to you about this work?' privately, for themselves" in words  # Bob's


def test_nobody_sets_an_agreed_answer_to_a_private_question(app, team):
    with pytest.raises(NotAllowedNow, match="own answer"):
        app.act(team, "answer_question", **ANN, question_id=PRIVATE, text="For us all", base_revision=0)
    with pytest.raises(NotAllowedNow, match="Give your own answer first"):
        app.act(team, "share_own_answer", **BOB, question_id=PRIVATE)
    assert app.verify(team).ok
