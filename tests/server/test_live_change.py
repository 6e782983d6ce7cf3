"""The live stream carries the change (issue 14), against real `alliance serve` processes: a
device listening with its client id gets a `change` event whose page is what its pull would
answer, from the cursor it holds; each person's page is their own view, so Bob's stream never
carries Ann's private pre-work answer, while Ann's other device gets it (SYNC.md 6, 13)."""

import json
import time
import uuid

import httpx
import pytest

from servers import auth, create_alliance, join, login, pull, push_ok, signup

SECRET = "ANN-SECRET-pre-work-51d0"
PRIVATE, SHARED = "prework.matters", "purpose.why"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def changes(listener, since: float = 0.0) -> list[dict]:
    return [data for event, data, at in list(listener.events) if event == "change" and at >= since]


def next_change(listener, since: float, timeout: float = 2) -> dict:
    found = listener.wait_for(lambda e: e[0] == "change" and e[2] >= since, timeout)
    assert found is not None, f"no change event within {timeout} s: {listener.events} {listener.error!r}"
    return found[1]


def own_answer(mutation_id: int, alliance_id: str, text: str) -> dict:
    return {"id": mutation_id, "alliance_id": alliance_id, "name": "give_own_answer",
            "args": {"question_id": PRIVATE, "text": text}}


def agreed_answer(mutation_id: int, alliance_id: str, text: str, base: int = 0) -> dict:
    return {"id": mutation_id, "alliance_id": alliance_id, "name": "answer_question",
            "args": {"question_id": SHARED, "text": text, "base_revision": base}}


def test_a_listening_device_gets_the_change_as_its_own_page_and_never_another_persons_private_answer(
        sqlite_server):
    url, ann_email = sqlite_server.url, unique("ann") + "@example.org"
    _, ann = signup(url, ann_email)
    _, bob = signup(url, unique("bob") + "@example.org")
    ann_phone, ann_laptop_id, bob_phone = unique("ann-phone"), unique("ann-laptop"), unique("bob-phone")
    alliance_id = create_alliance(url, ann, ann_phone, template="team")
    join(url, ann, alliance_id, bob)
    ann_laptop = login(url, ann_email)  # Ann's other device
    cursors = {bob_phone: pull(url, bob, bob_phone)["cursor"], ann_phone: pull(url, ann, ann_phone)["cursor"],
               ann_laptop_id: pull(url, ann_laptop, ann_laptop_id)["cursor"]}
    bob_hears, laptop_hears = sqlite_server.listen(bob, bob_phone), sqlite_server.listen(ann_laptop, ann_laptop_id)
    phone_hears = sqlite_server.listen(ann, ann_phone)
    for listener in (bob_hears, laptop_hears, phone_hears):
        listener.wait_ready()

    started = time.monotonic()
    push_ok(url, ann, ann_phone, [own_answer(2, alliance_id, SECRET), agreed_answer(3, alliance_id, "To ship it")])
    bobs, laptops = next_change(bob_hears, started), next_change(laptop_hears, started)
    # The pushing phone's ledger moved on in the push: no cursor it held is `from`, so it pulls (as it does anyway).
    pushers = next_change(phone_hears, started)
    assert pushers["from"] != cursors[ann_phone] and pushers["page"]["last_mutation_id"] == 3
    assert pushers["page"] == pull(url, ann, ann_phone, cursors[ann_phone])

    for change, token, client_id in ((bobs, bob, bob_phone), (laptops, ann_laptop, ann_laptop_id)):
        assert change["from"] == cursors[client_id]  # so the device applies it: no pull
        assert change["page"] == pull(url, token, client_id, cursors[client_id])  # what its pull answers
        assert [e["name"] for e in change["page"]["events"]] == ["OwnAnswerGiven", "QuestionAnswered"]
        assert change["page"]["alliances"][0]["answers"][SHARED]["text"] == "To ship it"
    assert laptops["page"]["alliances"][0]["own_answers"][PRIVATE] == {laptops["page"]["events"][0]["by"]: SECRET}
    assert SECRET in json.dumps(laptops)
    assert bobs["page"]["alliances"][0]["own_answers"][PRIVATE] == {}  # Bob's view: her words are not in it
    assert bobs["page"]["events"][0]["data"]["text"] is None

    # A device that applied the page goes on from its cursor: the next change is from there.
    started = time.monotonic()
    push_ok(url, ann, ann_phone, [own_answer(4, alliance_id, SECRET + " (again)"),
                                  agreed_answer(5, alliance_id, "To ship it well", base=1)])
    second = next_change(bob_hears, started)
    assert second["from"] == bobs["page"]["cursor"]
    assert second["page"]["alliances"][0]["answers"][SHARED]["text"] == "To ship it well"
    assert second["page"] == pull(url, bob, bob_phone, bobs["page"]["cursor"])

    time.sleep(0.3)  # anything more Bob's stream would carry
    assert len(changes(bob_hears)) == 2 and [e[0] for e in bob_hears.events] == ["ready", "change", "change"]
    assert SECRET not in json.dumps(bob_hears.events), "Ann's private answer reached Bob's stream"


def test_without_a_client_id_the_stream_pokes_and_another_accounts_device_is_refused(sqlite_server):
    url = sqlite_server.url
    _, ann = signup(url, unique("ann") + "@example.org")
    _, bob = signup(url, unique("bob") + "@example.org")
    ann_phone = unique("ann-phone")
    alliance_id = create_alliance(url, ann, ann_phone, template="team")
    join(url, ann, alliance_id, bob)
    plain = sqlite_server.listen(bob)
    plain.wait_ready()
    started = time.monotonic()
    push_ok(url, ann, ann_phone, [agreed_answer(2, alliance_id, "Pokes still come")])
    poke = plain.wait_for(lambda e: e[0] == "poke" and e[2] >= started, timeout=2)
    assert poke is not None and poke[1] == {"alliances": [alliance_id]}, plain.events  # no more than before

    with httpx.Client(timeout=5) as client:
        stolen = client.get(f"{url}/api/v1/sync/live?client_id={ann_phone}", headers=auth(bob))
        assert stolen.status_code == 403 and stolen.json()["code"] == "device_not_yours", stolen.text
        bad = client.get(f"{url}/api/v1/sync/live?client_id=no", headers=auth(bob))
        assert bad.status_code == 400 and "client_id" in bad.text, bad.text


@pytest.mark.postgres
def test_a_push_to_one_process_reaches_a_listener_on_another_as_a_change_page(postgres_servers):
    """The message between processes says only where the push was logged (NOTIFY carries little):
    process B builds Bob's page from the store itself."""
    a, b = postgres_servers
    _, ann = signup(a.url, unique("ann") + "@example.org")
    _, bob = signup(a.url, unique("bob") + "@example.org")
    ann_phone, bob_phone = unique("ann-phone"), unique("bob-phone")
    alliance_id = create_alliance(a.url, ann, ann_phone, template="team")
    join(a.url, ann, alliance_id, bob)
    cursor = pull(b.url, bob, bob_phone)["cursor"]
    listener = b.listen(bob, bob_phone)
    listener.wait_ready()

    started = time.monotonic()
    push_ok(a.url, ann, ann_phone, [own_answer(2, alliance_id, SECRET), agreed_answer(3, alliance_id, "Across")])
    change = next_change(listener, started)
    assert change["from"] == cursor
    assert change["page"]["alliances"][0]["answers"][SHARED]["text"] == "Across"
    assert change["page"] == pull(b.url, bob, bob_phone, cursor)
    assert SECRET not in json.dumps(listener.events)
