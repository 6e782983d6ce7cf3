"""Who may see and change what: the authorization matrix over HTTP.

Ann designs an alliance. Mallory is signed in but is not one of its
participants: to her the alliance must not exist. Every endpoint answers her
exactly as it answers for an alliance id nobody ever used, every mutation is
refused with the words used for a missing alliance, and her pulls never carry
a trace of it. Bob joins and later leaves: from then on he is an outsider too.

Every story runs on SQLite and on PostgreSQL (the `settings` fixture).
"""

from dataclasses import dataclass, replace
from uuid import uuid4

import pytest
from litestar.testing import TestClient

from events.devices import device_id
from events.application import NO_SUCH_ALLIANCE
from sync.mutations import INVENTORY_MUTATIONS, MUTATION_NAMES
from events.preferences import PREFERENCE_MUTATIONS
from people import PROBLEM, Person
from server.app import create_app

@dataclass
class World:
    client: TestClient
    ann: Person
    mallory: Person
    alliance_id: str
    commitment_id: str


@pytest.fixture
def world(settings):
    """Ann designs a coaching alliance with a commitment and an answer; Mallory
    signs up and designs an alliance of her own."""
    with TestClient(create_app(replace(settings, auth_per_minute=1000))) as client:
        ann, mallory = Person(client, "Ann"), Person(client, "Mallory")
        alliance_id, commitment_id = str(uuid4()), str(uuid4())
        results = ann.push(
            ("create_alliance", alliance_id, {"title": "Coaching with Ann", "template": "coaching"}),
            ("make_commitment", alliance_id, {"commitment_id": commitment_id, "text": "Send notes",
                                              "owner_id": ann.user_id, "due": "2027-03-10"}),
            ("answer_question", alliance_id, {"question_id": "purpose.why", "text": "To grow", "base_revision": 0}))
        assert [r["status"] for r in results] == ["applied"] * 3
        [own] = mallory.push(("create_alliance", str(uuid4()), {"title": "Mallory's own", "template": "blank"}))
        assert own["status"] == "applied"
        yield World(client, ann, mallory, alliance_id, commitment_id)


# ----- reading and inviting -----

ENDPOINTS = {  # what an outsider might try on an alliance: (method, path after the id, query, body)
    "read": ("GET", "", {}, None),
    "read a version": ("GET", "", {"version": 1}, None),
    "read as of a moment": ("GET", "", {"at": "2030-01-01T00:00:00Z"}, None),
    "history": ("GET", "/history", {}, None),
    "history page": ("GET", "/history", {"before": 3, "limit": 1}, None),
    "diff": ("GET", "/diff", {"from": 1, "to": 2}, None),
    "verify": ("GET", "/verify", {}, None),
    "consent evidence": ("GET", "/evidence", {"version": 1}, None),
    "invite": ("POST", "/invitations", {}, {"name": "Mallory's friend"}),
    "team link": ("POST", "/invitations", {}, {"name": "Mallory's friends", "uses": 5, "valid_days": 30}),
}


def attempt(person: Person, alliance_id: str, endpoint: str):
    method, path, params, body = ENDPOINTS[endpoint]
    return person.request(method, f"/alliances/{alliance_id}{path}", params=params, json=body)


def not_there(response) -> dict:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == NO_SUCH_ALLIANCE
    return response.json()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_to_an_outsider_the_alliance_does_not_exist(world, endpoint):
    """Mallory gets, byte for byte, what she gets for an id nobody ever used."""
    before = world.ann.version_of(world.alliance_id)
    hers = attempt(world.mallory, world.alliance_id, endpoint)
    nobodys = attempt(world.mallory, str(uuid4()), endpoint)
    assert not_there(hers) == not_there(nobodys)
    assert hers.content == nobodys.content
    assert world.ann.version_of(world.alliance_id) == before  # no invitation was recorded


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", ["account", "device"])
def test_ids_of_other_things_are_no_alliance_either(world, endpoint, kind):
    """The store keeps accounts and device ledgers beside alliances: their
    ids are not alliance ids, and must not say that something is there."""
    other = world.ann.user_id if kind == "account" else str(device_id(world.ann.client_id))
    nobodys = attempt(world.mallory, str(uuid4()), endpoint)
    assert not_there(attempt(world.mallory, other, endpoint)) == not_there(nobodys)
    [result] = world.mallory.push(("give_own_answer", other, {"question_id": "purpose.why", "text": "mine"}))
    assert result["status"] == "rejected" and result["error"]["detail"] == NO_SUCH_ALLIANCE


# ----- changing -----

def args_for(name: str, world: World) -> dict:
    """Arguments that make sense for each mutation on Ann's alliance. A new
    mutation name fails here (KeyError) until it is given some."""
    ann, commitment = world.ann.user_id, world.commitment_id
    return {
        "leave_alliance": {},
        "erase_my_words": {},
        "invite_participant": {"invitation_id": str(uuid4()), "name": "Mallory's friend"},
        "revoke_invitation": {"invitation_id": str(uuid4())},
        "add_question": {"question_id": str(uuid4()), "section": "purpose", "text": "Who pays?"},
        "reword_question": {"question_id": "purpose.why", "text": "Why, really?"},
        "remove_question": {"question_id": "purpose.why"},
        "answer_question": {"question_id": "purpose.why", "text": "Money", "base_revision": 1},
        "give_own_answer": {"question_id": "purpose.why", "text": "Money"},
        "share_own_answer": {"question_id": "purpose.why"},
        "make_commitment": {"commitment_id": str(uuid4()), "text": "Pay Mallory", "owner_id": ann},
        "amend_commitment": {"commitment_id": commitment, "base_revision": 1, "text": "Send no notes"},
        "complete_commitment": {"commitment_id": commitment},
        "withdraw_commitment": {"commitment_id": commitment, "reason": "Because"},
        "schedule_review": {"every": 2, "unit": "weeks", "next_date": "2027-01-04"},
        "hold_review": {"review_id": str(uuid4()), "held_on": "2026-12-01", "attendees": [ann], "kept": {}},
        "give_consent": {"version": 3, "stance": "object", "reason": "I object"},
        "break_alliance": {"reason": "Mallory says so"},
        "renew_alliance": {"note": "Again"},
        "close_alliance": {"celebration": "It is over"},
        "appreciate": {"participant_id": ann, "note": "Thanks"},
        "restore_version": {"version": 1, "base_version": 1},
        "resolve_conflict": {"question_id": "purpose.why", "text": "Mine"},
        "rename_alliance": {"title": "Mallory's now"},
        "archive_alliance": {},
        "unarchive_alliance": {},
        "reopen_commitment": {"commitment_id": commitment},
        "restore_item": {"version": 1, "question_id": "purpose.why"},
        "name_version": {"version": 1, "name": "Mallory's version"},
    }[name]


# Every mutation that names an alliance (the ally inventory's are always the pusher's own).
CHANGES = [name for name in MUTATION_NAMES if name != "create_alliance" and name not in INVENTORY_MUTATIONS
           and name not in PREFERENCE_MUTATIONS]  # those two change your own things, no alliance


@pytest.mark.parametrize("name", CHANGES)
def test_an_outsiders_mutation_is_refused_as_if_there_were_no_alliance(world, name):
    """Mallory pushes each mutation at Ann's alliance and at an unused id: the same refusal, nothing changes."""
    before = world.ann.version_of(world.alliance_id)
    args = args_for(name, world)
    on_hers, on_nobodys = world.mallory.push((name, world.alliance_id, args), (name, str(uuid4()), args))
    assert on_hers["status"] == on_nobodys["status"] == "rejected"
    assert on_hers["error"] == on_nobodys["error"] and on_hers["error"]["detail"] == NO_SUCH_ALLIANCE
    assert world.ann.version_of(world.alliance_id) == before

    # The refusal is about who asks: Ann's same mutation reaches her alliance.
    [anns] = world.ann.push((name, world.alliance_id, args))
    assert (anns.get("error") or {}).get("detail") != NO_SUCH_ALLIANCE, anns


def test_an_outsiders_pulls_never_carry_the_alliance(world):
    """Ann changes and shares her alliance while Mallory pulls (reset, then incrementally): no trace of it."""
    mallory = world.mallory
    first = mallory.pull()
    assert first["reset"] and [a["title"] for a in first["alliances"]] == ["Mallory's own"]

    question = str(uuid4())
    world.ann.push(("add_question", world.alliance_id, {"question_id": question, "section": "purpose",
                                                        "text": "A secret?"}),
                   ("leave_alliance", world.alliance_id, {}))  # refused (she is alone), and still no trace
    invitation = world.ann.request("POST", f"/alliances/{world.alliance_id}/invitations", json={"name": "Bob"})
    assert invitation.status_code == 201
    mallory.push(("give_own_answer", world.alliance_id, {"question_id": question, "text": "peek"}))

    later = mallory.pull()
    assert not later["reset"] and later["alliances"] == later["events"] == later["removed"] == []
    mallory.cursor = None
    again = mallory.pull()
    assert again["reset"] and [a["title"] for a in again["alliances"]] == ["Mallory's own"]
    for body in (first, later, again):
        assert world.alliance_id not in str(body) and "A secret?" not in str(body)


def test_a_device_belongs_to_one_account(world):
    """Mallory cannot push as Ann's phone, nor learn anything by trying."""
    response = world.mallory.request("POST", "/sync/push", json={"client_id": world.ann.client_id, "mutations": [
        {"id": 4, "alliance_id": world.alliance_id, "name": "give_own_answer",
         "args": {"question_id": "purpose.why", "text": "Money"}}]})
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "device_not_yours"
    assert world.ann.version_of(world.alliance_id) == 3
    [mine] = world.ann.push(("give_own_answer", world.alliance_id, {"question_id": "purpose.why", "text": "Own"}))
    assert mine["status"] == "applied"  # Ann's numbering was not disturbed


def test_nobody_pulls_as_another_accounts_device(world):
    """Pulling with Ann's client id tells Mallory nothing, not even how far Ann's phone got."""
    response = world.mallory.request("POST", "/sync/pull", json={"client_id": world.ann.client_id})
    assert response.status_code == 403 and response.json()["code"] == "device_not_yours"


# ----- leaving -----

def test_after_bob_leaves_the_alliance_is_closed_to_him(world):
    """Bob joins by link and reads everything; once he leaves, his pull drops the alliance,
    every endpoint answers him as for no alliance, and none of his mutations applies."""
    ann, bob, alliance_id = world.ann, Person(world.client, "Bob"), world.alliance_id
    token = ann.request("POST", f"/alliances/{alliance_id}/invitations", json={"name": "Bob"}).json()["token"]
    assert bob.request("POST", f"/invitations/{token}/accept").status_code == 200
    assert [a["id"] for a in bob.pull()["alliances"]] == [alliance_id]
    for endpoint in ENDPOINTS:
        assert attempt(bob, alliance_id, endpoint).status_code in (200, 201), endpoint

    [left] = bob.push(("leave_alliance", alliance_id, {}))
    assert left["status"] == "applied"
    news = bob.pull()
    assert news["removed"] == [alliance_id] and news["alliances"] == []

    for endpoint in ENDPOINTS:
        assert not_there(attempt(bob, alliance_id, endpoint)) == not_there(attempt(bob, str(uuid4()), endpoint))
    before = ann.version_of(alliance_id)
    # (All but erasing his words: his right even after leaving, see tests/events/test_erasure_stories.py.)
    changes = [name for name in CHANGES if name != "erase_my_words"]
    for result in bob.push(*[(name, alliance_id, args_for(name, world)) for name in changes]):
        assert result["status"] == "rejected", result
    assert ann.version_of(alliance_id) == before

    ann.push(("reword_question", alliance_id, {"question_id": "purpose.why", "text": "Why now, without Bob?"}))
    later = bob.pull()
    assert later["events"] == later["alliances"] == later["removed"] == []
    bob.cursor = None
    assert bob.pull()["alliances"] == []
