"""Consent you can prove, over HTTP (issue 11): for a content version, who consented to which
content hash and when, and the content as rebuilt now, whose hash anyone in the alliance can
recompute by the recipe of docs/PROTOCOL.md. To anyone else the alliance does not exist.
Every story runs on SQLite and PostgreSQL."""

import hashlib
import json
from uuid import uuid4

import pytest

from events.application import NO_SUCH_ALLIANCE
from people import PROBLEM, Person

SECRET = "ANN-SECRET-pre-work-51d0"


def recomputed(content: dict) -> str:
    """What a phone does with SubtleCrypto: SHA-256 over the canonical JSON, in hex."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode("utf-8")).hexdigest()


@pytest.fixture
def agreed(client):
    """Ann and Sam agree on a team alliance; Ann's private pre-work answer is no part of it."""
    ann, sam = Person(client, "Ann"), Person(client, "Sam")
    aid = str(uuid4())
    assert ann.push(("create_alliance", aid, {"title": "Our team", "template": "team"}))[0]["status"] == "applied"
    link = ann.post(f"/alliances/{aid}/invitations", {"name": "Sam"}).json()["token"]
    assert sam.post(f"/invitations/{link}/accept").status_code == 200
    state = ann.get(f"/alliances/{aid}").json()
    private = next(q for q, question in state["questions"].items() if question["private"])
    shared = next(q for q, question in state["questions"].items() if not question["private"])
    results = ann.push(("give_own_answer", aid, {"question_id": private, "text": SECRET}),
                       ("answer_question", aid, {"question_id": shared, "text": "Ship it, together — ensemble",
                                                 "base_revision": 0}))
    assert [r["status"] for r in results] == ["applied", "applied"]
    for person in (ann, sam):
        version = person.get(f"/alliances/{aid}").json()["content_version"]
        [given] = person.push(("give_consent", aid, {"version": version, "stance": "support"}))
        assert given["status"] == "applied"
    state = ann.get(f"/alliances/{aid}").json()
    assert state["status"] == "agreed"
    return aid, ann, sam, state


def test_a_participant_reads_who_consented_to_which_hash(agreed):
    aid, ann, sam, state = agreed
    version = state["content_version"]
    response = sam.get(f"/alliances/{aid}/evidence", params={"version": version})
    assert response.status_code == 200, response.text
    evidence = response.json()
    assert evidence["version"] == version and evidence["name"] is None
    assert evidence["content_hash"] == recomputed(evidence["content"])  # anyone can check it
    assert [(c["name"], c["stance"], c["content_hash"], c["matches"]) for c in evidence["consents"]] == [
        ("Ann", "support", evidence["content_hash"], True), ("Sam", "support", evidence["content_hash"], True)]
    assert {uid: c["content_hash"] for uid, c in state["consents"].items()} == {
        ann.user_id: evidence["content_hash"], sam.user_id: evidence["content_hash"]}
    [agreement] = evidence["agreements"]
    assert agreement == state["agreements"][0] and agreement["at"] == evidence["consents"][-1]["at"]
    assert SECRET not in response.text  # private pre-work is no part of what was agreed
    assert ann.get(f"/alliances/{aid}/evidence", params={"version": version}).json() == evidence


def test_only_a_content_version_has_evidence(agreed):
    aid, ann, _, state = agreed
    response = ann.get(f"/alliances/{aid}/evidence", params={"version": state["version"]})
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == (f"Version {state['version']} is not a version of the content: "
                                         f"the content there was version {state['content_version']}.")
    assert ann.get(f"/alliances/{aid}/evidence", params={"version": state["version"] + 1}).status_code == 404
    missing = ann.get(f"/alliances/{aid}/evidence")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid_request"


def test_to_an_outsider_the_evidence_does_not_exist(client, agreed):
    aid, _, _, state = agreed
    mallory = Person(client, "Mallory")
    for alliance_id in (aid, str(uuid4())):  # the alliance, and one nobody ever made: alike
        response = mallory.get(f"/alliances/{alliance_id}/evidence", params={"version": state["content_version"]})
        assert response.status_code == 404 and response.json()["detail"] == NO_SUCH_ALLIANCE
