"""Stories about syncing: people's devices push numbered mutations and pull
what changed, and each test tells what they see (SYNC.md's guarantees).

Every story runs on SQLite and on PostgreSQL (the `app` fixture).
"""

from uuid import uuid4

import pytest

from events.alliance import NotFound
from events.devices import device_id
from events.signin import NO_SUCH_INVITATION
from events.application import NO_SUCH_ALLIANCE
from sync import DeviceNotYours, OutOfOrder, SyncService

WHY, OUTCOMES = "purpose.why", "purpose.outcomes"  # the coaching template's first questions


def mutation(number, alliance_id, name, **args) -> dict:
    return {"id": number, "alliance_id": str(alliance_id), "name": name, "args": args}


class Phone:
    """One device of one person: it numbers its mutations 1, 2, 3 … as a client does."""

    def __init__(self, app, user_id: str, name: str):
        self.app, self.user_id, self.client_id, self.sent = app, user_id, f"{name}-{uuid4().hex[:10]}", 0

    def next(self, alliance_id, name, **args) -> dict:
        self.sent += 1
        return mutation(self.sent, alliance_id, name, **args)

    def push(self, *mutations):
        return SyncService(self.app).push(self.user_id, self.client_id, list(mutations))

    def do(self, alliance_id, name, **args) -> dict:
        """One mutation in a push of its own; its result."""
        (result,) = self.push(self.next(alliance_id, name, **args)).results
        return result

    def design(self, title="Coaching") -> str:
        alliance_id = str(uuid4())
        assert self.do(alliance_id, "create_alliance", title=title, template="coaching")["status"] == "applied"
        return alliance_id

    def pull(self, cursor=None, limit=500) -> dict:
        return SyncService(self.app).pull(self.user_id, self.client_id, cursor, limit)

    def another_device(self, name) -> "Phone":
        return Phone(self.app, self.user_id, name)


def person(app, name) -> Phone:
    user_id, _ = app.sign_up(email=f"{name}-{uuid4().hex[:8]}@example.org", password="a long enough secret",
                             display_name=name.capitalize())
    return Phone(app, user_id, f"{name}-phone")


@pytest.fixture
def ann(app):
    return person(app, "ann")


@pytest.fixture
def bob(app):
    return person(app, "bob")


def joins(host: Phone, guest: Phone, alliance_id: str) -> None:
    link = host.app.create_invitation(host.user_id, alliance_id, name="Bob")
    host.app.accept_invitation(guest.user_id, link["token"])


def statuses(push_result) -> list[str]:
    return [r["status"] for r in push_result.results]


def ledger(app, phone):
    return app.repository.get(device_id(phone.client_id))


# ----- push: exactly once, in order, a bad change never blocks -----

def test_a_device_designs_an_alliance_and_edits_it(app, ann):
    """Ann, offline, designs an alliance, answers, commits and consents; one push applies it all."""
    aid = str(uuid4())
    result = ann.push(ann.next(aid, "create_alliance", title="Coaching with Ann", template="coaching"),
                      ann.next(aid, "answer_question", question_id=WHY, text="To grow", base_revision=0),
                      ann.next(aid, "make_commitment", commitment_id=str(uuid4()), text="Notes weekly",
                               owner_id=ann.user_id, due="2027-01-04"),
                      ann.next(aid, "give_consent", version=3, stance="support"))
    assert statuses(result) == ["applied"] * 4 and result.last_mutation_id == 4
    assert result.changed == {aid: [ann.user_id]}  # who to poke
    alliance = app.alliance(aid)
    assert (alliance.title, alliance.version, alliance.status) == ("Coaching with Ann", 4, "agreed")
    assert alliance.answers[WHY]["text"] == "To grow" and alliance.participants[ann.user_id]["name"] == "Ann"
    assert {e.device for e in app.events.get(alliance.id)} == {ann.client_id}


def test_a_retried_push_answers_with_the_stored_outcomes_and_records_nothing(app, ann):
    """The answer to Ann's push got lost; her phone sends it again and learns what
    happened the first time, refusal and all, while nothing is recorded twice."""
    aid = str(uuid4())
    first = [mutation(1, aid, "create_alliance", title="Coaching", template="coaching"),
             mutation(2, aid, "answer_question", question_id=WHY, text="To grow", base_revision=0),
             mutation(3, aid, "answer_question", question_id="no.such.question", text="?", base_revision=0)]
    original = ann.push(*first)
    version = app.alliance(aid).version
    retried = ann.push(*first)
    assert statuses(retried) == ["duplicate"] * 3 and retried.last_mutation_id == 3
    assert [r["outcome"] for r in retried.results] == ["applied", "applied", "rejected"]
    assert retried.results[2]["error"] == original.results[2]["error"]
    assert retried.results[2]["error"]["detail"] == "There is no such question in this alliance."
    assert app.alliance(aid).version == version == 2 and retried.changed == {}
    assert ledger(app, ann).last_mutation_id == 3
    # Later, after another edit went through, the old chunk comes again with a new mutation.
    learn = mutation(4, aid, "answer_question", question_id=WHY, text="To learn", base_revision=1)
    ann.push(learn)
    late = ann.push(*first, learn, mutation(5, aid, "give_own_answer", question_id=WHY, text="Mine"))
    assert statuses(late) == ["duplicate"] * 4 + ["applied"]
    alliance = app.alliance(aid)
    assert (alliance.version, alliance.answers[WHY]["text"], alliance.answers[WHY]["conflict"]) == (4, "To learn", [])


def test_a_mutation_numbered_past_the_next_one_is_out_of_order(app, ann):
    """Mutation 3 went missing: 1 and 2 are kept, nothing from 4 on is applied
    until the phone sends 3 again."""
    aid = str(uuid4())
    with pytest.raises(OutOfOrder) as raised:
        ann.push(mutation(1, aid, "create_alliance", title="Coaching", template="coaching"),
                 mutation(2, aid, "answer_question", question_id=WHY, text="One", base_revision=0),
                 mutation(4, aid, "answer_question", question_id=WHY, text="Three", base_revision=2),
                 mutation(5, aid, "answer_question", question_id=OUTCOMES, text="Four", base_revision=0))
    assert raised.value.expected == 3 and [r["id"] for r in raised.value.results] == [1, 2]
    alliance = app.alliance(aid)
    assert alliance.version == 2 and alliance.answers[WHY]["text"] == "One" and OUTCOMES not in alliance.answers
    assert ledger(app, ann).last_mutation_id == 2
    again = ann.push(mutation(3, aid, "answer_question", question_id=WHY, text="Two", base_revision=1),
                     mutation(4, aid, "answer_question", question_id=WHY, text="Three", base_revision=2))
    assert statuses(again) == ["applied", "applied"] and app.alliance(aid).answers[WHY]["text"] == "Three"


def test_a_refused_mutation_does_not_block_the_ones_after_it(app, ann):
    """An old client sends an unknown mutation and arguments the server cannot
    use; each is refused with words a person can read, and the rest go on."""
    aid = ann.design()
    bad = [(ann.next(aid, "teleport_alliance", to="Mars"), "no mutation called 'teleport_alliance'"),
           (ann.next(aid, "answer_question", question=WHY, words="Hi"), "Wrong arguments for answer_question"),
           (ann.next(aid, "answer_question", question_id=WHY, text=42, base_revision=0), "text must be text, not a whole number"),
           (ann.next(aid, "answer_question", question_id=WHY, text="Hi", base_revision="0"), "base revision"),
           ({**ann.next(aid, "answer_question"), "args": "To grow"}, "arguments of a mutation are an object"),
           (ann.next(aid, "make_commitment", commitment_id="c-1", text="Notes", owner_id=ann.user_id), "UUID")]
    good = ann.next(aid, "answer_question", question_id=WHY, text="To grow", base_revision=0)
    result = ann.push(*(m for m, _ in bad), good)
    assert statuses(result) == ["rejected"] * len(bad) + ["applied"]
    for (_, words), outcome in zip(bad, result.results):
        assert words in outcome["error"]["detail"] and outcome["error"]["code"] == "invalid_input"
    assert app.alliance(aid).answers[WHY]["text"] == "To grow" and result.last_mutation_id == ann.sent


def test_a_resolution_with_fields_as_text_is_refused_without_blocking(app, ann, bob):
    """Bug found by this suite: `fields` sent as text made the push fail (a
    ValueError), so the phone's queue could never move on again."""
    aid, cid = ann.design(), str(uuid4())
    joins(ann, bob, aid)
    ann.do(aid, "make_commitment", commitment_id=cid, text="Notes", owner_id=ann.user_id)
    ann.do(aid, "amend_commitment", commitment_id=cid, text="Notes on Monday", base_revision=1)
    assert bob.do(aid, "amend_commitment", commitment_id=cid, text="Notes on Friday", base_revision=1)["status"] \
        == "conflict"
    result = ann.push(ann.next(aid, "resolve_conflict", commitment_id=cid, fields="ab"),
                      ann.next(aid, "resolve_conflict", commitment_id=cid, fields={"text": "Notes on Friday"}))
    assert statuses(result) == ["rejected", "applied"]
    assert app.alliance(aid).commitments[cid]["text"] == "Notes on Friday"


def test_answering_from_a_stale_base_keeps_both_answers(app, ann, bob):
    """Ann and Bob both answer 'why' starting from the empty answer: Bob's arrives
    second and is kept beside Ann's as a conflict, not dropped."""
    aid = ann.design()
    joins(ann, bob, aid)
    assert ann.do(aid, "answer_question", question_id=WHY, text="To grow", base_revision=0)["status"] == "applied"
    assert bob.do(aid, "answer_question", question_id=WHY, text="To learn", base_revision=0)["status"] == "conflict"
    answer = app.alliance(aid).answers[WHY]
    assert (answer["text"], answer["by"]) == ("To grow", ann.user_id)
    assert answer["conflict"] == [{"text": "To learn", "by": bob.user_id}]
    assert bob.do(aid, "answer_question", question_id=OUTCOMES, text="Calm", base_revision=0)["status"] == "applied"


def test_outsiders_cannot_tell_someone_elses_alliance_from_no_alliance(app, ann, bob):
    """Bob tries Ann's alliance, a made-up one, a malformed id and Ann's account id:
    all are refused with the same words, and Ann's alliance is untouched."""
    aid = ann.design()
    args = {"question_id": WHY, "text": "Mine now", "base_revision": 0}
    results = [bob.do(target, "answer_question", **args)
               for target in (aid, uuid4(), "not-an-id", ann.user_id, bob.user_id)]
    assert all(r["status"] == "rejected" for r in results)
    assert {r["error"]["detail"] for r in results} == {NO_SUCH_ALLIANCE}
    assert len({str(r["error"]) for r in results}) == 1
    assert app.alliance(aid).version == 1


def test_an_alliance_id_in_capitals_is_the_same_alliance(app, ann):
    """Bug found by this suite: an id spelled in capitals crashed the push
    (KeyError), and a second creation under it silently replaced the first."""
    aid = str(uuid4())
    result = ann.push(ann.next(aid, "create_alliance", title="Coaching", template="coaching"),
                      ann.next(aid.upper(), "answer_question", question_id=WHY, text="To grow", base_revision=0),
                      ann.next(aid.upper(), "create_alliance", title="Another", template="blank"))
    assert statuses(result) == ["applied", "applied", "rejected"]
    alliance = app.alliance(aid)
    assert (alliance.title, alliance.version, alliance.answers[WHY]["text"]) == ("Coaching", 2, "To grow")
    assert ann.do(aid.upper(), "answer_question", question_id=OUTCOMES, text="Calm", base_revision=0)["status"] \
        == "applied"


def test_after_leaving_a_participant_can_no_longer_change_the_alliance(app, ann, bob):
    """Bob leaves Ann's alliance; what he sends afterwards is refused."""
    aid = ann.design()
    joins(ann, bob, aid)
    assert bob.do(aid, "leave_alliance")["status"] == "applied"
    refused = bob.do(aid, "answer_question", question_id=WHY, text="Still here?", base_revision=0)
    assert refused["status"] == "rejected" and refused["error"]["code"] in ("not_a_participant", "not_found")
    assert WHY not in app.alliance(aid).answers and aid not in app.account(bob.user_id).alliances


def test_breaking_an_alliance_takes_a_reason(app, ann):
    """The protocol calls it `reason`; the alliance records it as what happened."""
    aid = ann.design()
    result = ann.do(aid, "break_alliance", reason="We missed three sessions", needs_discussing="Time")
    assert result["status"] == "applied"
    alliance = app.alliance(aid)
    assert alliance.status == "broken"
    assert alliance.breaks[-1]["what_happened"] == "We missed three sessions"
    assert alliance.breaks[-1]["needs_discussing"] == "Time"


def test_an_alliance_cannot_be_created_twice_under_one_id(app, ann, bob):
    """A second creation with a used id is refused, by the owner or anyone else."""
    aid = ann.design(title="The first")
    for phone in (ann, bob):
        result = phone.do(aid, "create_alliance", title="The second", template="blank")
        assert result["status"] == "rejected" and "exists already" in result["error"]["detail"]
    assert (app.alliance(aid).title, app.alliance(aid).version) == ("The first", 1)
    assert aid not in app.account(bob.user_id).alliances


def test_a_client_id_belongs_to_one_account(app, ann, bob):
    """Bob's client happens to use Ann's client id: refused, nothing he sent is
    applied, and he cannot pull through it either (not even her count)."""
    ann.design()
    with pytest.raises(DeviceNotYours):
        SyncService(app).push(bob.user_id, ann.client_id, [mutation(2, uuid4(), "create_alliance", title="x", template="blank")])
    with pytest.raises(DeviceNotYours):
        SyncService(app).pull(bob.user_id, ann.client_id, None)
    assert ledger(app, ann).last_mutation_id == 1 and app.account(bob.user_id).alliances == []


# ----- pull: resets, commit order, paging, read your writes -----

def test_a_first_pull_brings_the_users_alliances_only(app, ann, bob):
    """Ann's new phone starts with the full state of her alliances, never Bob's."""
    mine, theirs = ann.design(), bob.design()
    ann.do(mine, "answer_question", question_id=WHY, text="To grow", base_revision=0)
    pulled = ann.pull()
    assert pulled["reset"] and not pulled["more"] and pulled["events"] == [] and pulled["removed"] == []
    assert pulled["alliances"] == [app.alliance(mine).as_dict()] and pulled["last_mutation_id"] == 2
    assert theirs not in str(pulled)


def test_a_pull_brings_another_participants_changes_in_order(app, ann, bob):
    """Bob works on their alliance; Ann's next pull brings his events in order and
    the alliance as it is now, and nothing of Bob's own alliance."""
    aid = ann.design()
    joins(ann, bob, aid)
    private = bob.design()
    cursor = ann.pull()["cursor"]
    bob.push(bob.next(aid, "answer_question", question_id=WHY, text="To learn", base_revision=0),
             bob.next(aid, "answer_question", question_id=OUTCOMES, text="Calm", base_revision=0))
    bob.do(aid, "make_commitment", commitment_id=str(uuid4()), text="Notes", owner_id=bob.user_id)
    bob.do(private, "answer_question", question_id=WHY, text="Private", base_revision=0)
    pulled = ann.pull(cursor)
    assert not pulled["reset"] and not pulled["more"] and pulled["last_mutation_id"] == 1
    assert [(e["name"], e["version"], e["by"]) for e in pulled["events"]] == [
        ("QuestionAnswered", 4, bob.user_id), ("QuestionAnswered", 5, bob.user_id),
        ("CommitmentMade", 6, bob.user_id)]
    assert {e["alliance_id"] for e in pulled["events"]} == {aid}
    assert pulled["events"][0]["data"] == {"question_id": WHY, "text": "To learn", "base_revision": 0}
    assert pulled["alliances"] == [app.alliance(aid).as_dict()]
    assert ann.pull(pulled["cursor"])["events"] == []


def test_large_pulls_are_paged_and_every_event_comes_once(app, ann, bob):
    """Ann pulls with a small limit: pages keep coming (more=True) until drained,
    every event arrives exactly once and in order, and a page never holds half a push."""
    aid = ann.design()
    joins(ann, bob, aid)
    cursor = ann.pull()["cursor"]
    start = app.alliance(aid).version
    for n in range(1, 8):
        (ann if n % 2 else bob).do(aid, "give_own_answer", question_id=WHY, text=f"Thought {n}")
    ann.push(*(ann.next(aid, "give_own_answer", question_id=OUTCOMES, text=f"Outcome {n}") for n in range(3)))
    pages = []
    while True:
        pages.append(ann.pull(cursor, limit=2))
        cursor = pages[-1]["cursor"]
        if not pages[-1]["more"]:
            break
    assert [len(p["events"]) for p in pages if p["events"]] == [2, 2, 2, 1 + 3]
    assert all(p["more"] for p in pages[:-1]) and not pages[-1]["more"]
    assert all(p["events"] for p in pages[:-1])  # only the last page may come back empty
    versions = [e["version"] for p in pages for e in p["events"]]
    assert versions == list(range(start + 1, app.alliance(aid).version + 1))
    for page in filter(lambda p: p["events"], pages):  # each page's state is as of its last event
        assert page["alliances"] == [app.alliance(aid, version=page["events"][-1]["version"]).as_dict()]
    assert pages[-1]["last_mutation_id"] == ann.sent
    assert [p["last_mutation_id"] for p in pages] == sorted(p["last_mutation_id"] for p in pages)


def test_a_cursor_that_cannot_be_trusted_gets_a_reset(app, ann):
    """A garbled cursor, or one from another of Ann's devices, is answered with the
    full state and a new cursor, never with a guess."""
    aid = ann.design()
    laptop = ann.another_device("ann-laptop")
    phone_cursor = ann.pull()["cursor"]
    for cursor, device in (("garbage!", ann), ("eyJwIjogMX0", ann), (phone_cursor[:-3], ann), (phone_cursor, laptop)):
        pulled = device.pull(cursor)
        assert pulled["reset"] and pulled["alliances"] == [app.alliance(aid).as_dict()], cursor
    assert laptop.pull(phone_cursor)["last_mutation_id"] == 0


def test_a_pull_acknowledges_exactly_the_devices_own_mutations(app, ann):
    """What a pull says about `last_mutation_id` is this device's count, refusals
    included; Ann's laptop sees her phone's changes but acknowledges nothing until
    it pushes. (Bug found by this suite: the first push of a device that had pulled
    before made its next pull fail on the device's registration event.)"""
    aid = ann.design()
    laptop = ann.another_device("ann-laptop")
    cursors = {ann: ann.pull()["cursor"], laptop: laptop.pull()["cursor"]}
    ann.push(ann.next(aid, "answer_question", question_id=WHY, text="To grow", base_revision=0),
             ann.next(aid, "teleport_alliance"))
    ann.do(aid, "answer_question", question_id=OUTCOMES, text="Calm", base_revision=0)
    assert ann.pull(cursors[ann])["last_mutation_id"] == ann.pull()["last_mutation_id"] == 4
    seen = laptop.pull(cursors[laptop])
    assert len(seen["events"]) == 2 and seen["last_mutation_id"] == laptop.pull()["last_mutation_id"] == 0
    laptop.do(aid, "give_own_answer", question_id=WHY, text="From the laptop")
    after = laptop.pull(seen["cursor"])
    assert after["last_mutation_id"] == 1 and [e["name"] for e in after["events"]] == ["OwnAnswerGiven"]


# ----- invitations and leaving -----

def test_an_invitation_link_lets_one_person_join_once(app, ann, bob):
    """Bob accepts Ann's link and his phone then pulls the alliance; the link is
    spent, and a used link fails exactly like one nobody ever made."""
    aid = ann.design()
    cursor = bob.pull()["cursor"]
    link = app.create_invitation(ann.user_id, aid, name="Bob")
    app.accept_invitation(bob.user_id, link["token"])
    assert bob.user_id in app.alliance(aid).members()
    assert bob.pull()["alliances"] == [app.alliance(aid).as_dict()]
    pulled = bob.pull(cursor)
    assert pulled["alliances"] == [app.alliance(aid).as_dict()]
    assert [e["name"] for e in pulled["events"]] == ["ParticipantInvited", "ParticipantJoined"]
    messages = []
    for token in (link["token"], "a-token-nobody-made"):
        with pytest.raises(NotFound) as raised:
            app.accept_invitation(ann.user_id, token)
        messages.append(str(raised.value))
    assert messages == [NO_SUCH_INVITATION] * 2


def test_the_leavers_pull_lists_the_alliance_as_removed(app, ann, bob):
    """Bob leaves; his next pull tells his phone to drop the alliance, and later
    changes by Ann never reach him."""
    aid = ann.design()
    joins(ann, bob, aid)
    cursor = bob.pull()["cursor"]
    bob.do(aid, "leave_alliance")
    ann.do(aid, "answer_question", question_id=WHY, text="Without Bob", base_revision=0)
    pulled = bob.pull(cursor)
    assert pulled["removed"] == [aid] and pulled["alliances"] == [] and pulled["events"] == []
    assert pulled["last_mutation_id"] == 1
    assert bob.pull(pulled["cursor"])["removed"] == [] and bob.pull()["alliances"] == []


def test_a_cursor_from_another_history_starts_the_device_afresh(tmp_path):
    """After a restore or an import, a log position can hold another event: a phone's old
    cursor must then reset rather than skip what it never saw."""
    from events.application import AllianceApplication
    from server.settings import Settings

    def store(name):
        return AllianceApplication(env=Settings(data_dir=tmp_path / name).event_store_env("alliances"))

    def create(app, user, title, mutation_id=1):
        return SyncService(app).push(user, "ann-phone-1", [{
            "id": mutation_id, "alliance_id": str(uuid4()), "name": "create_alliance",
            "args": {"title": title, "template": "blank"}}])

    before, after = store("before"), store("after")
    for app in (before, after):
        user, _ = app.sign_up(email="ann@example.org", password="correct horse", display_name="Ann")
    create(before, user, "Before")
    cursor = SyncService(before).pull(user, "ann-phone-1", None)["cursor"]
    create(after, user, "After")  # the same positions, other events
    create(after, user, "Later", 2)
    pulled = SyncService(after).pull(user, "ann-phone-1", cursor)
    assert pulled["reset"] is True
    assert sorted(a["title"] for a in pulled["alliances"]) == ["After", "Later"]
    before.close()
    after.close()
