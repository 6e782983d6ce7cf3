"""A team's private pre-work, from the other teammates' side (issue 10.1, SYNC.md 13).

Ann, Bob and Cay design a team alliance. Ann answers a pre-work question from her side;
until she shares it, nothing Bob can fetch carries her words: not his pulls (state or
events), the alliance read now or at a version, its history, diffs, exports, printable and
audit pages. Every story runs on SQLite and PostgreSQL.
"""

from uuid import uuid4

import pytest

from people import Person

SECRET = "ANN-SECRET-pre-work-7c41"
PRIVATE = "prework.matters"


@pytest.fixture
def team(client):
    ann, bob, cay = Person(client, "Ann"), Person(client, "Bob"), Person(client, "Cay")
    alliance_id = str(uuid4())
    [made] = ann.push(("create_alliance", alliance_id, {"title": "Our team", "template": "team"}))
    assert made["status"] == "applied"
    for mate in (bob, cay):
        link = ann.post(f"/alliances/{alliance_id}/invitations", {"name": mate.name}).json()["token"]
        assert mate.post(f"/invitations/{link}/accept").status_code == 200
    for person in (ann, bob, cay):
        person.pull()
    return alliance_id, ann, bob, cay


def everything_fetchable(person: Person, alliance_id: str) -> dict[str, str]:
    """Every response about the alliance the person can fetch, as text."""
    latest = person.version_of(alliance_id)
    paths = [f"/alliances/{alliance_id}", f"/alliances/{alliance_id}/history?limit=200",
             f"/alliances/{alliance_id}/diff?from=1&to={latest}", f"/alliances/{alliance_id}/export.html",
             f"/alliances/{alliance_id}/export.md", f"/alliances/{alliance_id}/export.ics",
             f"/alliances/{alliance_id}/audit.html", f"/alliances/{alliance_id}/verify",
             *(f"/alliances/{alliance_id}?version={v}" for v in range(1, latest + 1))]
    content_version = person.get(f"/alliances/{alliance_id}").json()["content_version"]
    evidence = [f"/alliances/{alliance_id}/evidence?version={v}" for v in range(1, content_version + 1)]
    seen = {}
    for path in evidence:  # 404 for a content version nobody consented to
        response = person.get(path)
        assert response.status_code in (200, 404), (path, response.text)
        seen[path] = response.text
    for path in paths:
        response = person.get(path)
        assert response.status_code in (200, 409), (path, response.text)  # 409: no review to put in a calendar
        seen[path] = response.text
    fresh = person.on_another_device()
    seen["a new phone's first pull"] = str(fresh.pull())
    seen["his phone's next pull"] = str(person.pull())
    return seen


def test_a_private_answer_is_seen_by_its_author_alone_until_she_shares_it(team):
    alliance_id, ann, bob, cay = team
    [given] = ann.push(("give_own_answer", alliance_id, {"question_id": PRIVATE, "text": SECRET}))
    assert given["status"] == "applied"
    state = ann.get(f"/alliances/{alliance_id}").json()
    assert state["questions"][PRIVATE]["private"] is True
    assert state["own_answers"][PRIVATE] == {ann.user_id: SECRET}  # Ann sees her own
    assert SECRET in str(ann.on_another_device().pull())

    for person in (bob, cay):
        leaks = [where for where, text in everything_fetchable(person, alliance_id).items() if SECRET in text]
        assert leaks == [], f"{person.name} can read Ann's private answer in {leaks}"
    history = bob.get(f"/alliances/{alliance_id}/history").json()["entries"]
    assert any("privately, for themselves" in entry["text"] for entry in history)
    answered_at = state["own_answered_at"][PRIVATE][ann.user_id]  # Ann sees when she answered
    for person in (bob, cay):  # the others' states do not say when (nor that) she answered
        states = [person.get(f"/alliances/{alliance_id}").json(),
                  *(a for a in person.on_another_device().pull()["alliances"] if a["id"] == alliance_id)]
        assert len(states) == 2
        assert [s["own_answered_at"].get(PRIVATE, {}) for s in states] == [{}, {}], person.name

    [shared] = ann.push(("share_own_answer", alliance_id, {"question_id": PRIVATE}))
    assert shared["status"] == "applied"
    pulled = bob.pull()
    [seen] = [a for a in pulled["alliances"] if a["id"] == alliance_id]
    assert seen["own_answers"][PRIVATE] == {ann.user_id: SECRET} and seen["shared_answers"][PRIVATE] == [ann.user_id]
    assert seen["own_answered_at"][PRIVATE] == {ann.user_id: answered_at}  # shared: when, too
    assert SECRET in bob.get(f"/alliances/{alliance_id}/export.html").text


def test_teammates_answer_the_pre_work_each_from_their_side(team):
    alliance_id, ann, bob, _ = team
    ann.push(("give_own_answer", alliance_id, {"question_id": PRIVATE, "text": "Ann's reasons"}))
    bob.push(("give_own_answer", alliance_id, {"question_id": PRIVATE, "text": "Bob's reasons"}))
    assert ann.get(f"/alliances/{alliance_id}").json()["own_answers"][PRIVATE] == {ann.user_id: "Ann's reasons"}
    assert bob.get(f"/alliances/{alliance_id}").json()["own_answers"][PRIVATE] == {bob.user_id: "Bob's reasons"}
    [refused] = bob.push(("answer_question", alliance_id, {"question_id": PRIVATE, "text": "For all of us",
                                                           "base_revision": 0}))
    assert refused["status"] == "rejected" and "own answer" in refused["error"]["detail"]
    [early] = bob.push(("share_own_answer", alliance_id, {"question_id": "purpose.why"}))
    assert early["status"] == "rejected" and "seen by everyone already" in early["error"]["detail"]


def test_a_restore_brings_back_nobodys_private_words_to_the_others(team):
    """A restore event carries the content of the version it brings back: seen as the alliance is."""
    alliance_id, ann, bob, cay = team
    ann.push(("give_own_answer", alliance_id, {"question_id": PRIVATE, "text": SECRET}))
    with_secret = ann.version_of(alliance_id)
    ann.push(("give_own_answer", alliance_id, {"question_id": PRIVATE, "text": "changed my mind"}))
    [restored] = cay.push(("restore_version", alliance_id,
                           {"version": with_secret, "base_version": cay.version_of(alliance_id)}))
    assert restored["status"] == "applied"
    assert SECRET not in str(bob.pull())
    assert SECRET not in bob.get(f"/alliances/{alliance_id}/diff?from=1&to={bob.version_of(alliance_id)}").text
    assert ann.get(f"/alliances/{alliance_id}").json()["own_answers"][PRIVATE][ann.user_id] == SECRET
