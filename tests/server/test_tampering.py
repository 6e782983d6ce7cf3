"""Someone with the database file tampers with an alliance's stored events (SYNC.md 15).

Ann's phone keeps the chain head it last pulled. Deleting the newest event, or
rewriting an event and recomputing the chain after it with the public algorithm,
passes a plain verify (the stored chain is consistent in itself, as documented),
but not a verify with the anchor her phone holds. A record too broken to replay
(a middle event deleted, bytes that cannot be read) is reported as not ok, with
the place, by GET /verify, the audit page and the CLI, also after a restart:
never a 500.
"""

import re
from contextlib import contextmanager
from copy import copy
from pathlib import Path

import pytest
from litestar.testing import TestClient

from events.application import NO_SUCH_ALLIANCE
from people import Person
from server.app import create_app
from server.cli import main
from server.settings import Settings
from servers import HTTP, auth, get, pull, push_ok, signup
from tampering import delete_event, rewrite_and_rechain, scramble_event

DRAFTS = [f"Draft {n}" for n in range(1, 7)]  # the answers of versions 2 to 7


@contextmanager
def running(data: Path):
    """A server on the files in `data`; a second one on the same files is a restart."""
    with TestClient(create_app(Settings(data_dir=data, auth_per_minute=1000))) as client:
        yield client


def seven_versions(ann: Person) -> str:
    alliance_id = ann.design("Coaching with Ann")
    for n, text in enumerate(DRAFTS):
        [result] = ann.push(("answer_question", alliance_id,
                             {"question_id": "purpose.why", "text": text, "base_revision": n}))
        assert result["status"] == "applied", result
    return alliance_id


def anchor_of(person: Person, alliance_id: str) -> dict:
    """What the phone keeps from its last pull: the version and chain head it saw."""
    [state] = [s for s in person.pull()["alliances"] if s["id"] == alliance_id]
    return {"version": state["version"], "head": state["chain_head"]}


def on(client: TestClient, person: Person) -> Person:
    """The same person and device, talking to another server process."""
    moved = copy(person)
    moved.client = client
    return moved


def verify(person: Person, alliance_id: str, **anchor) -> dict:
    response = person.get(f"/alliances/{alliance_id}/verify", params=anchor)
    assert response.status_code == 200, response.text
    return response.json()


def audit_page(person: Person, alliance_id: str, **anchor) -> str:
    response = person.get(f"/alliances/{alliance_id}/audit.html", params=anchor)
    assert response.status_code == 200, response.text
    return response.text


def words(page: str) -> str:
    """The page as a person reads it: no tags, single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).replace("&#39;", "'").split()).replace(" .", ".")


# ----- what a device's anchor catches -----

def test_the_state_a_pull_carries_holds_the_chain_head(tmp_path):
    with running(tmp_path) as client:
        ann = Person(client, "Ann")
        alliance_id = seven_versions(ann)
        anchor = anchor_of(ann, alliance_id)
        check = verify(ann, alliance_id, **anchor)
        assert anchor["version"] == 7 and anchor["head"] == check["head"]
        assert (check["ok"], check["anchor_ok"], check["events"], check["broken_at"], check["problem"]) \
            == (True, True, 7, None, "")
        assert ann.get(f"/alliances/{alliance_id}").json()["chain_head"] == anchor["head"]
        assert verify(ann, alliance_id)["anchor_ok"] is None  # no anchor sent: nothing said about one
        assert "version 7 is exactly as your device saw it" in words(audit_page(ann, alliance_id, **anchor))


def test_deleting_the_newest_event_is_caught_by_the_device_that_saw_it(tmp_path):
    with running(tmp_path) as client:
        ann = Person(client, "Ann")
        alliance_id = seven_versions(ann)
        anchor = anchor_of(ann, alliance_id)
    delete_event(tmp_path, alliance_id, 7)

    with running(tmp_path) as client:
        ann = on(client, ann)
        plain = verify(ann, alliance_id)
        assert (plain["ok"], plain["events"]) == (True, 6)  # consistent in itself: what a plain verify can say
        check = verify(ann, alliance_id, **anchor)
        assert (check["ok"], check["anchor_ok"], check["broken_at"]) == (False, False, 7)
        assert check["problem"] == ("the stored record has only 6 events, but your device saw version 7 "
                                    "(event 7 was removed)")
        page = words(audit_page(ann, alliance_id, **anchor))
        assert f"The audit chain is broken at event 7: {check['problem']}." in page


def test_a_rewrite_with_the_chain_recomputed_is_caught_by_the_device_that_saw_it(tmp_path):
    with running(tmp_path) as client:
        ann = Person(client, "Ann")
        alliance_id = seven_versions(ann)
        anchor = anchor_of(ann, alliance_id)
        at_2 = ann.get(f"/alliances/{alliance_id}", params={"version": 2}).json()
        earlier = {"version": 2, "head": at_2["chain_head"]}
    rewrite_and_rechain(tmp_path, alliance_id, 3, "Draft 2", "We never agreed to this")

    with running(tmp_path) as client:
        ann = on(client, ann)
        plain = verify(ann, alliance_id)
        assert (plain["ok"], plain["events"], plain["anchor_ok"]) == (True, 7, None)  # the documented limit
        assert plain["head"] != anchor["head"]
        check = verify(ann, alliance_id, **anchor)
        assert (check["ok"], check["anchor_ok"], check["broken_at"]) == (False, False, 7)
        assert check["problem"] == ("one of events 1 to 7 was rewritten after your device saw version 7 "
                                    "(the stored chain there is not the head your device holds)")
        # A device that saw only version 2 cannot tell: the rewrite begins after what it saw.
        assert verify(ann, alliance_id, **earlier)["anchor_ok"] is True
        page = words(audit_page(ann, alliance_id))
        assert "The audit chain is intact: all 7 stored events link up." in page
        assert "cannot show a rewrite no device saw" in page


def test_a_half_or_malformed_anchor_is_refused(tmp_path):
    with running(tmp_path) as client:
        ann = Person(client, "Ann")
        alliance_id = ann.design()
        for params in ({"version": 1}, {"head": "0" * 64}, {"version": 1, "head": "not a hash"},
                       {"version": 0, "head": "0" * 64}):
            response = ann.get(f"/alliances/{alliance_id}/verify", params=params)
            assert response.status_code == 400, (params, response.text)
        assert verify(ann, alliance_id, version=2, head="0" * 64)["problem"] == \
            "the stored record has only 1 events, but your device saw version 2 (event 2 was removed)"


# ----- a record too broken to replay: not ok, never a 500 -----

@pytest.mark.parametrize("tamper, problem", [
    (delete_event, "event 4 is missing (the next stored event is 5)"),
    (scramble_event, "event 4 cannot be read"),
])
def test_a_broken_record_is_reported_with_its_place_on_a_running_server_and_after_a_restart(
        tmp_path, tamper, problem):
    with running(tmp_path) as client:
        ann, mallory = Person(client, "Ann"), Person(client, "Mallory")
        alliance_id = seven_versions(ann)
        anchor = anchor_of(ann, alliance_id)
        tamper(tmp_path, alliance_id, 4)
        check = verify(ann, alliance_id)
        assert (check["ok"], check["events"], check["broken_at"], check["problem"]) == (False, 3, 4, problem)
        assert f"The audit chain is broken at event 4: {problem}." in words(audit_page(ann, alliance_id))

    with running(tmp_path) as client:
        ann, mallory = on(client, ann), on(client, mallory)
        check = verify(ann, alliance_id, **anchor)
        assert (check["ok"], check["anchor_ok"], check["broken_at"], check["problem"]) == (False, False, 4, problem)
        page = audit_page(ann, alliance_id)
        assert f"The audit chain is broken at event 4: {problem}." in words(page)
        assert "Shown below: versions 1 to 3, the part of the stored record whose chain links up." in words(page)
        assert re.findall(r'<tr id="v(\d+)">', page) == ["3", "2", "1"]  # what still checks out, shown
        assert "Draft 2" in page and "Draft 3" not in page
        for path in ("verify", "audit.html"):  # still nobody else's business
            response = mallory.get(f"/alliances/{alliance_id}/{path}")
            assert response.status_code == 404 and response.json()["detail"] == NO_SUCH_ALLIANCE


def test_a_record_whose_first_event_cannot_be_read_still_has_an_audit_page(tmp_path):
    with running(tmp_path) as client:
        ann = Person(client, "Ann")
        alliance_id = seven_versions(ann)
    scramble_event(tmp_path, alliance_id, 1)
    with running(tmp_path) as client:
        ann = on(client, ann)
        check = verify(ann, alliance_id)
        assert (check["ok"], check["events"], check["broken_at"]) == (False, 0, 1)
        page = words(audit_page(ann, alliance_id))
        assert "The audit chain is broken at event 1: event 1 cannot be read." in page
        assert "Nothing of it can be shown" in page


def test_the_cli_names_the_broken_place(tmp_path, monkeypatch, capsys):
    with running(tmp_path) as client:
        ann = Person(client, "Ann")
        broken, scrambled, fine = seven_versions(ann), seven_versions(ann), seven_versions(ann)
    delete_event(tmp_path, broken, 4)
    scramble_event(tmp_path, scrambled, 2)
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path))
    assert main(["verify"]) == 1
    shown = capsys.readouterr().out
    assert f"{broken}: BROKEN at event 4: event 4 is missing (the next stored event is 5)" in shown
    assert f"{scrambled}: BROKEN at event 2: event 2 cannot be read" in shown
    assert fine not in shown and "3 alliances checked, 2 broken" in shown


def test_a_real_server_after_a_restart_answers_200_with_the_place(sqlite_server, tmp_path):
    """The same over a real `alliance serve` process that is stopped, tampered with and started again."""
    url = sqlite_server.url
    _, token = signup(url, "ann@example.org", "Ann")
    alliance_id = "0b8f9f5e-1c1d-4d7e-9c39-3f5f2f6a0c11"
    mutations = [{"id": 1, "alliance_id": alliance_id, "name": "create_alliance",
                  "args": {"title": "Ours", "template": "coaching"}}]
    mutations += [{"id": n + 2, "alliance_id": alliance_id, "name": "answer_question",
                   "args": {"question_id": "purpose.why", "text": text, "base_revision": n}}
                  for n, text in enumerate(DRAFTS)]
    push_ok(url, token, "ann-phone-1", mutations)
    [state] = pull(url, token, "ann-phone-1")["alliances"]
    sqlite_server.stop()
    delete_event(tmp_path / "data", alliance_id, 5)
    sqlite_server.start()

    check = get(url, token, f"/api/v1/alliances/{alliance_id}/verify?version=7&head={state['chain_head']}")
    assert (check["ok"], check["broken_at"], check["anchor_ok"]) == (False, 5, False)
    page = HTTP.get(f"{url}/api/v1/alliances/{alliance_id}/audit.html", headers=auth(token))
    assert page.status_code == 200
    assert "The audit chain is broken at event 5: event 5 is missing (the next stored event is 6)." in words(page.text)
