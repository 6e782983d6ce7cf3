"""Deleting an account and taking your data with you, over HTTP, seen from the other person's side
(issue 13): Bob's token reaches only Bob's data and Bob's account; Ann's export holds every word of
hers and nothing of Bob's; once Ann deletes her account every token of hers is refused in words,
and Bob sees her as erased, her words gone and his intact.

Every story runs on SQLite and on PostgreSQL (the `settings` fixture)."""

import re
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest

from events.text import erased_text
from people import PASSWORD, Person, problem

ANN_WORDS = ["ann-marker-answer-7c1f", "ann-marker-commitment-2b9e", "ann-marker-thanks-5d0a"]
BOB_WORDS = ["bob-marker-answer-9e4c", "bob-marker-commitment-6a3d"]
PWA_PATTERN = Path(__file__).resolve().parents[2] / "pwa" / "js" / "dom.js"


@dataclass
class Pair:
    ann: Person
    bob: Person
    alliance_id: str


@pytest.fixture
def pair(client):
    """Ann and Bob in Ann's coaching alliance, each with words of their own in it."""
    ann, bob = Person(client, "Ann"), Person(client, "Bob")
    alliance_id = ann.design()
    token = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Bob"}).json()["token"]
    assert bob.post(f"/invitations/{token}/accept").status_code == 200
    results = ann.push(
        ("answer_question", alliance_id, {"question_id": "purpose.why", "text": ANN_WORDS[0], "base_revision": 0}),
        ("make_commitment", alliance_id, {"commitment_id": str(uuid4()), "text": ANN_WORDS[1],
                                          "owner_id": ann.user_id}),
        ("appreciate", alliance_id, {"participant_id": bob.user_id, "note": ANN_WORDS[2]}))
    results += bob.push(
        ("answer_question", alliance_id, {"question_id": "purpose.outcomes", "text": BOB_WORDS[0],
                                          "base_revision": 0}),
        ("make_commitment", alliance_id, {"commitment_id": str(uuid4()), "text": BOB_WORDS[1],
                                          "owner_id": bob.user_id}))
    assert [r["status"] for r in results] == ["applied"] * 5, results
    return Pair(ann, bob, alliance_id)


def test_anns_export_holds_every_word_of_hers_and_nothing_of_bobs(pair):
    response = pair.ann.get("/me/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="alliance-my-data.json"'
    assert response.headers["cache-control"] == "no-store"
    text = response.text
    assert [w for w in ANN_WORDS if w not in text] == []
    assert [w for w in BOB_WORDS if w in text] == [] and "Bob" not in text and pair.bob.email not in text
    assert pair.ann.email in text

    page = pair.ann.get("/me/export.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert [w for w in ANN_WORDS if w not in page.text] == []
    assert [w for w in BOB_WORDS if w in page.text] == [] and pair.bob.email not in page.text


def test_bobs_token_reaches_only_bobs_data(pair):
    """Nothing in these paths names a person: the token decides whose data it is."""
    mine = pair.bob.get("/me/export")
    assert mine.status_code == 200
    assert [w for w in BOB_WORDS if w not in mine.text] == []
    assert [w for w in ANN_WORDS if w in mine.text] == [] and pair.ann.email not in mine.text


def test_bob_cannot_delete_ann_and_a_wrong_password_deletes_nothing(pair):
    ann, bob = pair.ann, pair.bob
    refused = problem(bob.post("/account/delete", {"password": "not bob's password at all"}), 403)
    assert refused["code"] == "wrong_password" and "not deleted" in refused["detail"]
    # There is no naming someone else's account: the body holds the password alone.
    naming_ann = bob.post("/account/delete", {"password": PASSWORD, "email": ann.email})
    assert problem(naming_ann, 400)["code"] == "invalid_request"
    for person in (ann, bob):
        assert person.get("/auth/me").status_code == 200
    assert ann.version_of(pair.alliance_id) == bob.version_of(pair.alliance_id)
    assert ANN_WORDS[0] in str(bob.get(f"/alliances/{pair.alliance_id}").json())


def test_after_ann_deletes_her_account_every_token_of_hers_is_refused_and_bob_sees_her_erased(pair, client):
    ann, bob = pair.ann, pair.bob
    other = client.post("/api/v1/auth/login", json={"email": ann.email, "password": PASSWORD}).json()["token"]
    assert ann.post("/account/delete", {"password": PASSWORD}).status_code == 204

    for token in (ann.token, other):
        response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert problem(response, 401)["code"] == "account_deleted"
        assert response.json()["detail"] == "Your account was deleted."
        assert response.headers["www-authenticate"] == "Bearer"
    assert problem(ann.get("/me/export"), 401)["code"] == "account_deleted"
    # A made-up token of no account is just not signed in.
    stranger = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {uuid4()}.nothing"})
    assert problem(stranger, 401)["code"] == "not_signed_in"

    state = bob.get(f"/alliances/{pair.alliance_id}").json()
    assert state["participants"][ann.user_id]["status"] == "erased"
    assert state["erasures"][ann.user_id]["account_deleted"] is True
    seen = str(state) + str(bob.pull()) + str(bob.get(f"/alliances/{pair.alliance_id}/history").json())
    assert [w for w in ANN_WORDS if w in seen] == []
    assert erased_text(state["erasures"][ann.user_id]["at"]) in seen
    assert [w for w in BOB_WORDS if w not in str(state)] == []
    assert bob.get("/auth/me").status_code == 200


def test_the_app_recognises_the_placeholder_the_server_writes():
    """The phone shows erased words muted by their documented form (PROTOCOL.md): its pattern fits
    what the server writes, and nothing a person would type as an answer."""
    source = re.search(r"ERASED = /(.+)/;", PWA_PATTERN.read_text()).group(1)
    pattern = re.compile(source.replace("\\/", "/"))
    for at in ("2026-12-04T10:00:00+00:00", "2027-01-31T23:59:00+00:00"):
        assert pattern.fullmatch(erased_text(at)), erased_text(at)
    assert not pattern.search("I erased it at my own request")
