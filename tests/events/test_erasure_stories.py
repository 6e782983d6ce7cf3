"""Stories about erasure and portability (issue 13), as people live them: Ann (a client) and
Bob (her coach) share an alliance; Ann takes back her words, or deletes her account, or takes
her data with her. Everything is read as the others read it, through the application: state,
history, the difference between versions, pulls, and Ann's own export.

Every story runs on SQLite and on PostgreSQL (the `app` fixture). What is checked here holds
with or without the sealed store: the erasure's fold itself puts the placeholder in place of
every text of Ann's, and older versions and history are read as they are after the erasure.
"""

import json
from uuid import UUID, uuid4

import pytest
from argon2 import PasswordHasher

from events.accounts import AccountWasDeleted, EmailTaken, WrongPassword
from events.alliance import InvitationClosed, NotAllowedNow, NotFound
from events.application import NO_SUCH_ALLIANCE
from events.text import erased_text
from sync import SyncService

WHY, OUTCOMES = "purpose.why", "purpose.outcomes"  # the coaching template's first questions
PASSWORD = "a long enough secret"
# Everything Ann writes carries one of these; Bob's words carry his own.
ANNS = ["ANN-FIRST-ANSWER", "ANN-SECOND-ANSWER", "ANN-OWN-ANSWER", "ANN-QUESTION", "ANN-COMMITMENT",
        "ANN-WITHDRAWN-BECAUSE", "ANN-THANKS", "ANN-REVIEW-NOTES", "ANN-REVIEW-KEEP", "ANN-VERSION-NAME",
        "ANN-OBJECTS-BECAUSE", "ANN-WHAT-HAPPENED", "ANN-NEEDS-DISCUSSING"]
BOBS = ["BOB-TITLE", "BOB-ANSWER", "BOB-COMMITMENT", "BOB-SECOND-COMMITMENT", "BOB-RENEWED", "BOB-THANKS"]


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    """argon2 at its cheapest: these stories are about erasure, not hashing."""
    monkeypatch.setattr("events.accounts.PASSWORDS", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


class Phone:
    """One device of one person: it numbers its mutations 1, 2, 3 … and keeps its pull cursor."""

    def __init__(self, app, user_id: str, token: str, email: str):
        self.app, self.user_id, self.token, self.email = app, user_id, token, email
        self.client_id, self.sent, self.cursor = f"phone-{uuid4().hex[:10]}", 0, None

    def do(self, alliance_id, mutation, **args) -> dict:
        self.sent += 1
        (result,) = SyncService(self.app).push(self.user_id, self.client_id, [
            {"id": self.sent, "alliance_id": str(alliance_id), "name": mutation, "args": args}]).results
        return result

    def does(self, alliance_id, mutation, **args) -> None:
        result = self.do(alliance_id, mutation, **args)
        assert result["status"] == "applied", result

    def pull(self) -> list[dict]:
        """Every page up to now, from where this phone last was."""
        pages = []
        while True:
            page = SyncService(self.app).pull(self.user_id, self.client_id, self.cursor)
            pages.append(page)
            self.cursor = page["cursor"]
            if not page["more"]:
                return pages


def person(app, name: str) -> Phone:
    email = f"{name.lower()}-{uuid4().hex[:8]}@example.org"
    user_id, token = app.sign_up(email=email, password=PASSWORD, display_name=name)
    return Phone(app, user_id, token, email)


def said(thing) -> str:
    return json.dumps(thing, ensure_ascii=False, default=str)


def markers_in(thing, markers) -> list[str]:
    text = said(thing)
    return [m for m in markers if m in text]


class Story:
    """Bob designs a coaching alliance and invites Ann; both write in it (every kind of text Ann
    can write, each with a marker); Bob's phone pulled once at the start."""

    def __init__(self, app):
        self.app, self.ann, self.bob = app, person(app, "Ann"), person(app, "Bob")
        ann, bob = self.ann, self.bob
        self.id = aid = str(uuid4())
        bob.does(aid, "create_alliance", title="BOB-TITLE coaching", template="coaching")
        bob.pull()
        bob.does(aid, "answer_question", question_id=OUTCOMES, text="BOB-ANSWER", base_revision=0)
        self.bobs_commitment, self.withdrawn = str(uuid4()), str(uuid4())
        bob.does(aid, "make_commitment", commitment_id=self.bobs_commitment, text="BOB-COMMITMENT",
                 owner_id=bob.user_id)
        bob.does(aid, "make_commitment", commitment_id=self.withdrawn, text="BOB-SECOND-COMMITMENT",
                 owner_id=bob.user_id)
        app.accept_invitation(ann.user_id, app.create_invitation(bob.user_id, aid, name="Ann")["token"])

        ann.does(aid, "answer_question", question_id=WHY, text="ANN-FIRST-ANSWER", base_revision=0)
        self.first_answer_version = self.alliance().version
        ann.does(aid, "answer_question", question_id=WHY, text="ANN-SECOND-ANSWER", base_revision=1)
        ann.does(aid, "give_own_answer", question_id=WHY, text="ANN-OWN-ANSWER")
        self.question, self.anns_commitment = str(uuid4()), str(uuid4())
        ann.does(aid, "add_question", question_id=self.question, section="purpose", text="ANN-QUESTION?")
        ann.does(aid, "make_commitment", commitment_id=self.anns_commitment, text="ANN-COMMITMENT",
                 owner_id=ann.user_id)
        ann.does(aid, "withdraw_commitment", commitment_id=self.withdrawn, reason="ANN-WITHDRAWN-BECAUSE")
        ann.does(aid, "appreciate", participant_id=bob.user_id, note="ANN-THANKS")
        ann.does(aid, "hold_review", review_id=str(uuid4()), held_on="2026-11-30",
                 attendees=[ann.user_id, bob.user_id], kept={}, notes="ANN-REVIEW-NOTES", keep="ANN-REVIEW-KEEP")
        ann.does(aid, "name_version", version=self.alliance().content_version, name="ANN-VERSION-NAME")
        ann.does(aid, "give_consent", version=self.alliance().content_version, stance="object",
                 reason="ANN-OBJECTS-BECAUSE")
        ann.does(aid, "break_alliance", reason="ANN-WHAT-HAPPENED", needs_discussing="ANN-NEEDS-DISCUSSING")
        bob.does(aid, "renew_alliance", note="BOB-RENEWED")
        bob.does(aid, "appreciate", participant_id=ann.user_id, note="BOB-THANKS")
        self.cays_link = app.create_invitation(ann.user_id, aid, name="Cay")
        self.before = self.alliance().version

    def alliance(self):
        return self.app.alliance(self.id)

    def bobs_view(self) -> dict:
        return self.app.alliance_for(self.bob.user_id, self.id).seen_by(self.bob.user_id).as_dict()

    def history(self) -> list[dict]:
        return self.app.history(self.id, limit=200, viewer=self.bob.user_id)["entries"]


@pytest.fixture
def story(app) -> Story:
    return Story(app)


# ----- erase my words -----

def test_once_ann_erases_her_words_bob_reads_the_placeholder_wherever_she_wrote(app, story):
    """Every kind of text Ann wrote, as Bob's state says it: the placeholder in its place, Bob's own
    words as he wrote them, and who did what and when as it was."""
    assert markers_in(story.bobs_view(), ANNS) == ANNS[1:]  # (the story put them there; the first changed since)
    history_before = story.history()

    story.ann.does(story.id, "erase_my_words")

    state, gone = story.bobs_view(), erased_text(story.alliance().erasures[story.ann.user_id]["at"])
    assert markers_in(state, ANNS) == []
    assert markers_in(state, BOBS) == BOBS
    ann = story.ann.user_id
    assert state["answers"][WHY]["text"] == gone and state["answers"][WHY]["by"] == ann
    assert state["questions"][story.question]["text"] == gone
    assert state["commitments"][story.anns_commitment]["text"] == gone
    assert state["commitments"][story.withdrawn]["text"] == "BOB-SECOND-COMMITMENT"
    assert state["commitments"][story.withdrawn]["withdrawn"]["reason"] == gone
    assert [a["note"] for a in state["appreciations"]] == [gone, "BOB-THANKS"]
    assert [(r["notes"], r["keep"], r["start"]) for r in state["reviews"].values()] == [(gone, gone, "")]
    assert [n["name"] for n in state["version_names"].values()] == [gone]
    assert (state["breaks"][0]["what_happened"], state["breaks"][0]["renewed"]["note"]) == (gone, "BOB-RENEWED")
    # Who did what and when stays: Ann is still named, out of the alliance for good.
    assert state["participants"][ann]["name"] == "Ann" and state["participants"][ann]["status"] == "erased"
    assert state["erasures"] == {ann: {"at": story.alliance().erasures[ann]["at"], "account_deleted": False}}
    assert ann not in state["consents"] and state["awaiting_consent"] == []  # she no longer counts

    history = story.history()
    assert markers_in(history, ANNS) == []
    assert markers_in([e["text"] for e in history], ["BOB-ANSWER", "BOB-COMMITMENT", "BOB-RENEWED"]) == \
        ["BOB-ANSWER", "BOB-COMMITMENT", "BOB-RENEWED"]
    assert (history[0]["who"], history[0]["text"]) == \
        ("Ann", "had their words erased, at their request; the alliance is now agreed (version 12)")
    assert [{k: e[k] for k in ("version", "at", "who", "kind")} for e in history[1:]] == \
        [{k: e[k] for k in ("version", "at", "who", "kind")} for e in history_before]
    assert all(gone in e["text"] for e in history if e["kind"] == "QuestionAnswered" and e["who"] == "Ann")

    # Between two versions from before (Ann's answer changing), and from before to after.
    changed = app.diff(story.id, story.first_answer_version, story.first_answer_version + 1, viewer=story.bob.user_id)
    whole = app.diff(story.id, 1, story.alliance().version, viewer=story.bob.user_id)
    assert markers_in(changed, ANNS) == [] and markers_in(whole, ANNS) == []
    assert markers_in(whole, ["BOB-ANSWER", "BOB-COMMITMENT"]) == ["BOB-ANSWER", "BOB-COMMITMENT"]
    assert app.verify(story.id).ok


def test_bobs_phone_pulls_the_erasure_and_no_word_of_anns_even_from_events_it_had_not_pulled(story):
    story.ann.does(story.id, "erase_my_words")
    pages = story.bob.pull()  # everything since his first pull: Ann's whole time in the alliance
    assert markers_in(pages, ANNS) == []
    assert markers_in(pages, ["BOB-ANSWER", "BOB-RENEWED"]) == ["BOB-ANSWER", "BOB-RENEWED"]
    assert "WordsErased" in [e["name"] for page in pages for e in page["events"]]
    [alliance] = pages[-1]["alliances"]
    assert alliance["participants"][story.ann.user_id]["status"] == "erased"


def test_ann_cannot_act_rejoin_or_read_it_again_and_her_phone_drops_it(app, story):
    ann = story.ann
    ann.pull()
    ann.does(story.id, "erase_my_words")

    refused = ann.do(story.id, "give_own_answer", question_id=WHY, text="ANN-AGAIN")
    assert refused["status"] == "rejected" and refused["error"]["code"] == "not_a_participant"
    with pytest.raises(NotFound, match=NO_SUCH_ALLIANCE):
        app.alliance_for(ann.user_id, story.id)
    [page] = ann.pull()
    assert page["removed"] == [story.id] and page["alliances"] == []
    link = app.create_invitation(story.bob.user_id, story.id, name="Ann again")["token"]
    with pytest.raises(NotAllowedNow, match="erased at your request, for good: it cannot take you back in"):
        app.accept_invitation(ann.user_id, link)
    assert "ANN-AGAIN" not in said(story.bobs_view())


def test_the_invitation_ann_left_open_is_withdrawn_and_her_open_commitment_waits_for_bob(app, story):
    """Her link for Cay stops working. Her own open commitment stays hers, as when someone leaves:
    Bob can hand it over (or withdraw it, saying why)."""
    story.ann.does(story.id, "erase_my_words")
    with pytest.raises(InvitationClosed, match="withdrawn"):
        app.invitation_preview(story.cays_link["token"])
    state = story.bobs_view()
    assert state["invitations"][story.cays_link["invitation_id"]]["status"] == "revoked"
    mine = state["commitments"][story.anns_commitment]
    assert (mine["status"], mine["owner_id"]) == ("open", story.ann.user_id)
    story.bob.does(story.id, "amend_commitment", commitment_id=story.anns_commitment,
                   base_revision=mine["revision"], owner_id=story.bob.user_id)
    assert story.bobs_view()["commitments"][story.anns_commitment]["owner_id"] == story.bob.user_id


def test_the_erasure_cannot_be_undone_by_bringing_back_an_old_version(app, story):
    """Bob restores the version where Ann's first answer stood, and then tries that answer alone:
    the history he restores from reads the placeholder, so nothing of hers comes back."""
    story.ann.does(story.id, "erase_my_words")
    old = story.first_answer_version
    assert markers_in(app.alliance(story.id, version=old).as_dict(), ANNS) == []

    refused = story.bob.do(story.id, "restore_item", version=old, question_id=WHY)
    assert refused["status"] == "rejected"
    assert refused["error"]["detail"] == (f"The answer of version {old} was Ann's, erased at their request: "
                                          "there is nothing to bring back.")
    story.bob.does(story.id, "restore_version", version=old, base_version=story.alliance().version)
    state = story.bobs_view()
    assert markers_in(state, ANNS) == [] and state["answers"][WHY]["text"].startswith("(erased at their request")
    assert markers_in(story.history(), ANNS) == []
    assert markers_in(app.diff(story.id, old, story.alliance().version, viewer=story.bob.user_id), ANNS) == []
    # Erasing again changes nothing: it was for good the first time.
    assert app.erase_words(story.ann.user_id, story.id, device="ann-phone").version == story.alliance().version


def test_her_words_read_erased_wherever_they_went_a_restore_a_rewording_a_crossing_answer(app):
    """Bob brings back an answer Ann gave; Ann rewords Bob's commitment and a template question, and
    her answer crosses Bob's: each text is known as hers, and reads erased once she erases her words."""
    ann, bob = person(app, "Ann"), person(app, "Bob")
    aid, cid = str(uuid4()), str(uuid4())
    bob.does(aid, "create_alliance", title="Runs", template="coaching")
    app.accept_invitation(ann.user_id, app.create_invitation(bob.user_id, aid, name="Ann")["token"])
    ann.does(aid, "answer_question", question_id=OUTCOMES, text="ANN-BROUGHT-BACK", base_revision=0)
    hers = app.alliance(aid).version
    bob.does(aid, "answer_question", question_id=OUTCOMES, text="BOB-LATER", base_revision=1)
    bob.does(aid, "restore_item", version=hers, question_id=OUTCOMES)
    bob.does(aid, "make_commitment", commitment_id=cid, text="BOB-COMMITMENT", owner_id=bob.user_id)
    ann.does(aid, "amend_commitment", commitment_id=cid, base_revision=1, text="ANN-REWORDED-COMMITMENT")
    ann.does(aid, "reword_question", question_id=WHY, text="ANN-REWORDED-QUESTION?")
    bob.does(aid, "answer_question", question_id=WHY, text="BOB-WHY", base_revision=0)
    assert ann.do(aid, "answer_question", question_id=WHY, text="ANN-CROSSING", base_revision=0)["status"] == \
        "conflict"
    [restored] = [e for e in app.events.get(UUID(aid)) if type(e).__name__ == "AnswerRestored"]
    assert (restored.by, restored.text_by) == (bob.user_id, ann.user_id)  # sealed with her key, not his

    ann.does(aid, "erase_my_words")

    state = app.alliance_for(bob.user_id, aid).as_dict()
    gone = erased_text(state["erasures"][ann.user_id]["at"])
    assert state["answers"][OUTCOMES]["text"] == gone and state["answers"][OUTCOMES]["by"] == bob.user_id
    assert state["commitments"][cid]["text"] == gone
    assert state["questions"][WHY]["text"] == gone
    assert state["answers"][WHY]["text"] == "BOB-WHY"
    assert state["answers"][WHY]["conflict"] == [{"text": gone, "by": ann.user_id}]
    assert markers_in([state, app.history(aid, limit=200, viewer=bob.user_id)], ["ANN-"]) == []


def test_someone_who_left_and_the_last_one_in_it_can_have_their_words_erased(app):
    ann, bob = person(app, "Ann"), person(app, "Bob")
    aid = str(uuid4())
    bob.does(aid, "create_alliance", title="Walks", template="coaching")
    app.accept_invitation(ann.user_id, app.create_invitation(bob.user_id, aid, name="Ann")["token"])
    ann.does(aid, "answer_question", question_id=WHY, text="ANN-LEFT-WORDS", base_revision=0)
    ann.does(aid, "leave_alliance")

    app.erase_words(ann.user_id, aid, device="ann-laptop")
    app.erase_words(bob.user_id, aid, device="bob-phone")  # then nobody is in it: it stays, to be read
    alliance = app.alliance(aid)
    assert "ANN-LEFT-WORDS" not in said(alliance.as_dict())
    assert {p["status"] for p in alliance.participants.values()} == {"erased"}
    with pytest.raises(NotFound, match=NO_SUCH_ALLIANCE):
        app.erase_words(person(app, "Mallory").user_id, aid, device="mallorys")


# ----- delete my account -----

def test_deleting_her_account_erases_ann_everywhere_and_signs_her_out(app, story):
    ann = story.ann
    own = str(uuid4())
    ann.does(own, "create_alliance", title="ANN-OWN-TITLE", template="personal")
    ann.does(own, "give_own_answer", question_id=next(iter(app.alliance(own).questions)), text="ANN-ALONE")
    ann.does(own, "add_goal", goal_id=str(uuid4()), text="ANN-GOAL")
    ann.does(own, "add_ally", ally_id=str(uuid4()), name="ANN-ALLY-NAME", note="ANN-ALLY-NOTE")
    app.new_feed(ann.user_id)
    app.subscribe_push(ann.user_id, endpoint="https://push.example.org/ann", p256dh="k", auth="a",
                       session="s" * 64, device_name="Ann's phone")
    inventory = app.inventory_of(ann.user_id).id

    with pytest.raises(WrongPassword, match="not your password: your account was not deleted"):
        app.delete_account(ann.user_id, password="not it at all", device="ann-phone")
    assert app.authenticate(ann.token) is not None

    app.delete_account(ann.user_id, password=PASSWORD, device="ann-phone")

    assert app.authenticate(ann.token) is None
    with pytest.raises(AccountWasDeleted, match="deleted at its owner's request"):
        app.log_in(email=ann.email, password=PASSWORD)
    with pytest.raises(EmailTaken, match="the address cannot make a new one"):
        app.sign_up(email=ann.email, password=PASSWORD, display_name="Ann")
    for aid in (story.id, own):
        alliance = app.alliance(aid)
        assert alliance.participants[ann.user_id]["status"] == "erased"
        assert alliance.erasures[ann.user_id]["account_deleted"] is True
        assert markers_in(alliance.as_dict(), [*ANNS, "ANN-ALONE"]) == []
    assert markers_in(story.bobs_view(), BOBS) == BOBS
    # (Bob alone is left, and he supports it: agreed.)
    assert story.history()[0]["text"] == ("deleted their account: their words here are erased, at their request; "
                                          "the alliance is now agreed (version 12)")
    with pytest.raises(InvitationClosed, match="withdrawn"):
        app.invitation_preview(story.cays_link["token"])
    left = app.repository.get(inventory)
    assert (left.goals, left.allies) == ({}, {}) and left.erased_at
    account = app.account(ann.user_id)
    assert (account.sessions, account.alliances, account.inventory) == ({}, [], None)
    assert ann.email not in said(vars(account))
    reminders = app.preferences(ann.user_id).as_dict()
    assert (reminders["phones"], reminders["feed"]) == ([], False)
    assert all(channels == [] for channels in reminders["channels"].values())
    with pytest.raises(NotAllowedNow, match="deleted already"):
        app.delete_account(ann.user_id, password=PASSWORD, device="ann-phone")


# ----- take my data with me -----

def test_anns_export_holds_every_word_she_wrote_and_nothing_of_bobs(app, story):
    story.ann.does(story.id, "add_goal", goal_id=str(uuid4()), text="ANN-GOAL")
    app.subscribe_push(story.ann.user_id, endpoint="https://push.example.org/ann", p256dh="k", auth="a",
                       session="s" * 64, device_name="Ann's phone")

    export = app.export_person(story.ann.user_id)

    assert markers_in(export, [*ANNS, "ANN-GOAL"]) == [*ANNS, "ANN-GOAL"]  # her first answer too, changed since
    assert markers_in(export, BOBS) == [] and "Bob" not in said(export)
    assert story.bob.user_id not in said(export) and "Cay" not in said(export)
    assert export["account"]["email"] == story.ann.email and export["reminders"]["phones"][0]["device_name"] == \
        "Ann's phone"
    [alliance] = export["alliances"]
    assert (alliance["alliance_id"], alliance["my_name"], alliance["my_status"]) == (story.id, "Ann", "joined")
    first = next(w for w in alliance["words"] if w["texts"] == {"text": "ANN-FIRST-ANSWER"})
    assert first["kind"] == "QuestionAnswered" and first["at"]

    # Bob's own export has his words and none of hers.
    bobs = app.export_person(story.bob.user_id)
    assert markers_in(bobs, BOBS) == BOBS and markers_in(bobs, ANNS) == []


def test_after_erasing_her_words_anns_export_reads_the_placeholder_too(app, story):
    story.ann.does(story.id, "erase_my_words")
    export = app.export_person(story.ann.user_id)
    assert markers_in(export, ANNS) == []
    [alliance] = export["alliances"]
    assert alliance["my_status"] == "erased" and alliance["erased_at"]
    assert {text for w in alliance["words"] for text in w["texts"].values()} == {erased_text(alliance["erased_at"])}


def test_a_consent_to_words_erased_since_is_told_as_such_not_as_tampering(app):
    """Ann and Bob both support a version holding Ann's answer; Ann erases her words. The evidence
    of that agreement can no longer rebuild its content: it says why, and claims no mismatch."""
    ann, bob = person(app, "Ann"), person(app, "Bob")
    aid = str(uuid4())
    bob.does(aid, "create_alliance", title="Coaching", template="coaching")
    app.accept_invitation(ann.user_id, app.create_invitation(bob.user_id, aid, name="Ann")["token"])
    ann.does(aid, "answer_question", question_id=WHY, text="ANN-WHY", base_revision=0)
    version = app.alliance(aid).content_version
    for phone in (ann, bob):
        phone.does(aid, "give_consent", version=version, stance="support")
    assert [c["matches"] for c in app.evidence(aid, version)["consents"]] == [True, True]

    ann.does(aid, "erase_my_words")
    consents = app.evidence(aid, version)["consents"]
    assert [(c["matches"], c["erased_since"]) for c in consents] == [(None, True), (None, True)]
    assert not markers_in(app.evidence(aid, version), ["ANN-WHY"])
