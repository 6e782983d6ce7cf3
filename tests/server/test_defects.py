"""Defects found by trying the service from outside (issue 9), each as a person or a
careless client meets it over HTTP. Every story runs on SQLite and PostgreSQL."""

import base64
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from events.accounts import account_id
from events.allies import Inventory
from events.devices import device_id
from people import PASSWORD, Person, fresh_email
from events.application import AllianceApplication
from server.operations import migrate
from server.settings import Settings
from servers import add_question, create_alliance, join, login, push_ok, signup
from sync import SyncService


def goal(text: str) -> tuple[str, str, dict]:
    return ("add_goal", "", {"goal_id": str(uuid.uuid4()), "text": text})


# ----- 9.1: a refused first inventory mutation -----

def test_a_refused_first_inventory_change_leaves_the_account_working(client):
    ann = Person(client, "Ann")
    [refused] = ann.push(goal(""))
    assert refused["status"] == "rejected" and "cannot be empty" in refused["error"]["detail"]
    assert ann.pull()["reset"] is True  # a full pull: it answered 500 before
    [named] = ann.push(goal("Run a marathon"))
    assert named["status"] == "applied"
    assert [g["text"] for g in ann.pull()["inventory"]["goals"].values()] == ["Run a marathon"]
    assert ann.on_another_device().pull()["inventory"]["goals"]


def test_an_account_pointing_at_an_inventory_never_stored_is_repaired(client):
    """A store written before the fix may hold such accounts: they work, and the next change starts one."""
    ann = Person(client, "Ann")
    app = client.app.state.alliances
    account = app.account(ann.user_id)
    account.inventory_opened(str(uuid.uuid4()))  # what the defect saved: an id with nothing behind it
    app.save(account)
    assert ann.pull()["inventory"]["id"] is None  # the empty view: nothing stored behind that id
    assert ann.push(goal("Learn to sail"))[0]["status"] == "applied"
    assert [g["text"] for g in ann.pull()["inventory"]["goals"].values()] == ["Learn to sail"]


def test_alliance_migrate_repairs_every_such_account(tmp_path, capsys):
    settings = Settings(data_dir=tmp_path / "data")
    app = AllianceApplication(env=settings.event_store_env("alliances"))
    user_id, _ = app.sign_up(email="ann@example.org", password=PASSWORD, display_name="Ann")
    account = app.account(user_id)
    account.inventory_opened(str(uuid.uuid4()))
    app.save(account)
    app.close()
    assert migrate(settings) == 0
    assert "1 account(s) pointing at an ally inventory never stored, repaired" in capsys.readouterr().out
    app = AllianceApplication(env=settings.event_store_env("alliances"))
    assert SyncService(app).pull(user_id, "ann-phone-1", None)["inventory"]["goals"] == {}
    app.close()
    assert migrate(settings) == 0
    assert "tables already there, nothing to do" in capsys.readouterr().out


# ----- 9.2: ids a client chooses never meet ids the server makes -----

def test_nobody_can_design_an_alliance_on_an_id_the_server_makes(client):
    mallory, victim_email = Person(client, "Mallory"), fresh_email("victim")
    squats = {"an account to come": account_id(victim_email), "her own account": uuid.UUID(mallory.user_id),
              "a device": device_id("victim-phone-1"), "an inventory": None}
    mallory.push(goal("Be nosy"))
    squats["an inventory"] = uuid.UUID(client.app.state.alliances.account(mallory.user_id).inventory)
    for what, squatted in squats.items():
        [result] = mallory.push(("create_alliance", str(squatted), {"title": "Mine", "template": "blank"}))
        assert result["status"] == "rejected", what
        assert "random UUID" in result["error"]["detail"], what
    assert mallory.push(("create_alliance", str(uuid.uuid4()), {"title": "Mine", "template": "blank"}))[0]["status"] \
        == "applied"  # her outbox goes on
    victim = client.post("/api/v1/auth/signup", json={"email": victim_email, "password": PASSWORD,
                                                      "display_name": "Victim"})
    assert victim.status_code == 201
    pulled = client.post("/api/v1/sync/pull", headers={"Authorization": f"Bearer {victim.json()['token']}"},
                         json={"client_id": "victim-phone-1"})
    assert pulled.status_code == 200 and pulled.json()["reset"]


def test_an_alliance_id_already_used_by_anything_is_refused_not_a_5xx(client):
    """Before the fix inventory ids were random (version 4): a clash with anything stored is a refusal."""
    ann = Person(client, "Ann")
    app = client.app.state.alliances
    old_inventory = Inventory(id=uuid.uuid4(), owner=ann.user_id)
    app.save(old_inventory)
    [result] = ann.push(("create_alliance", str(old_inventory.id), {"title": "Clash", "template": "blank"}))
    assert result["status"] == "rejected" and "exists already" in result["error"]["detail"]
    taken = ann.design()
    [again] = ann.push(("create_alliance", taken, {"title": "Clash", "template": "blank"}))
    assert again["status"] == "rejected" and "exists already" in again["error"]["detail"]


# ----- 9.5: invitations while others push -----

def test_invitation_links_work_while_another_device_pushes(client):
    ann = Person(client, "Ann")
    alliance_id = ann.design()
    laptop = ann.on_another_device()

    def invite(_):
        return ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Bob"}).status_code

    def push_questions():
        for _ in range(20):
            laptop.push(("add_question", alliance_id, {"question_id": str(uuid.uuid4()), "section": "Ours",
                                                        "text": "What else?"}))

    with ThreadPoolExecutor(4) as pool:
        pushing = pool.submit(push_questions)
        answers = list(pool.map(invite, range(20)))
        pushing.result()
    assert answers == [201] * 20


# ----- 9.6: restore keeps what changed meanwhile -----

def test_restoring_an_old_version_offline_keeps_a_partners_newer_answer(client):
    ann, bob = Person(client, "Ann"), Person(client, "Bob")
    alliance_id = ann.design()
    link = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Bob"}).json()["token"]
    assert bob.post(f"/invitations/{link}/accept").status_code == 200
    ann.push(("answer_question", alliance_id, {"question_id": "purpose.why", "text": "To grow", "base_revision": 0}))
    first = ann.version_of(alliance_id)
    ann.push(("answer_question", alliance_id, {"question_id": "purpose.why", "text": "To lead", "base_revision": 1}))
    seen = ann.version_of(alliance_id)  # Ann's phone goes offline here, showing this version

    bob.push(("answer_question", alliance_id, {"question_id": "purpose.why", "text": "To lead a team",
                                               "base_revision": 2}))
    [restored] = ann.push(("restore_version", alliance_id, {"version": first, "base_version": seen}))
    assert restored["status"] == "conflict"
    answer = ann.get(f"/alliances/{alliance_id}").json()["answers"]["purpose.why"]
    assert answer["text"] == "To lead a team"  # Bob's words, never silently overwritten
    assert [c["text"] for c in answer["conflict"]] == ["To grow"]  # and the restored ones beside them

    [plain] = ann.push(("restore_version", alliance_id, {"version": first}))
    assert plain["status"] == "rejected" and "which version you were looking at" in plain["error"]["detail"]


# ----- 9.8: refusals quote a short prefix -----

def test_a_huge_refused_value_is_not_echoed_or_stored_whole(client):
    ann = Person(client, "Ann")
    alliance_id = ann.design()
    huge = "x" * 900_000
    [result] = ann.push(("make_commitment", alliance_id, {"commitment_id": huge, "text": "Call", "owner_id": ann.user_id}))
    assert result["status"] == "rejected" and len(result["error"]["detail"]) < 600
    [again] = ann.push(("add_question", alliance_id, {"question_id": str(uuid.uuid4()), "section": "s",
                                                      "text": "t", huge: 1}))
    assert again["status"] == "rejected" and len(again["error"]["detail"]) < 600
    ledger = client.app.state.alliances.repository.get(device_id(ann.client_id))
    assert len(json.dumps(ledger.outcomes)) < 2_000


# ----- 9.9: a cursor is the server's, or a reset -----

def test_a_forged_cursor_gets_a_reset_not_its_claims(client):
    ann = Person(client, "Ann")
    ann.design()
    real = ann.pull()["cursor"]
    encoded, _, _ = real.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    for forged in ({**claims, "m": 10**30}, {**claims, "p": 0}):
        raw = json.dumps(forged, separators=(",", ":")).encode()
        ann.cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        pulled = ann.pull()
        assert pulled["reset"] is True and pulled["last_mutation_id"] == 1
    ann.cursor = real
    assert ann.pull()["reset"] is False


# ----- 9.7 and 9.11, against a real server: live streams -----

def test_the_live_stream_ends_when_its_device_signs_out(sqlite_server):
    url = sqlite_server.url
    _, phone = signup(url, "ann@example.org")
    laptop = login(url, "ann@example.org")
    alliance_id = create_alliance(url, laptop, "ann-laptop-1")
    phone_stream, laptop_stream = sqlite_server.listen(phone), sqlite_server.listen(laptop)
    phone_stream.wait_ready()
    laptop_stream.wait_ready()

    assert httpx.post(f"{url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {phone}"}).status_code == 204
    assert phone_stream.ends_within(2)  # at once, not at the next heartbeat (20 s)
    push_ok(url, laptop, "ann-laptop-1", [add_question(2, alliance_id, "Still here?")])
    assert laptop_stream.wait_for(lambda e: e[0] == "poke", timeout=2) is not None  # the other device listens on
    assert [e[0] for e in phone_stream.events] == ["ready"]


def test_a_poke_names_the_pushers_inventory_to_nobody_else(sqlite_server):
    url = sqlite_server.url
    ann_id, ann = signup(url, "ann@example.org")
    _, bob = signup(url, "bob@example.org")
    alliance_id = create_alliance(url, ann, "ann-phone-1")
    join(url, ann, alliance_id, bob)
    bob_stream, ann_laptop = sqlite_server.listen(bob), sqlite_server.listen(login(url, "ann@example.org"))
    bob_stream.wait_ready()
    ann_laptop.wait_ready()
    push_ok(url, ann, "ann-phone-1", [
        {"id": 2, "name": "add_goal", "alliance_id": "", "args": {"goal_id": str(uuid.uuid4()), "text": "Sleep"}},
        add_question(3, alliance_id, "Who drives?")])
    heard = bob_stream.wait_for(lambda e: e[0] == "poke", timeout=2)
    assert heard is not None and heard[1] == {"alliances": [alliance_id]}
    own = ann_laptop.wait_for(lambda e: e[0] == "poke", timeout=2)
    assert own is not None and alliance_id in own[1]["alliances"] and len(own[1]["alliances"]) == 2
