"""Web Push to a stand-in push service on this machine: the request is encrypted and signed as
RFC 8291 and 8292 say (the test decrypts it with the subscription's own keys), a 404 or 410
ends the subscription, and so does signing the device out."""

import base64
import json
import time

import pytest
from litestar.testing import TestClient

from people import Person
from pushservice import PushService
from server.app import create_app
from server.push import new_key
from server.settings import Settings

PUBLIC = "https://alliance.example.org"


@pytest.fixture
def service():
    with PushService() as running:
        yield running


@pytest.fixture
def client(tmp_path):
    private, _ = new_key()
    settings = Settings(data_dir=tmp_path, auth_per_minute=1000, public_url=PUBLIC, reminders_poll_seconds=0.05,
                        vapid_private_key=private, vapid_subject="mailto:ops@alliance.example.org")
    with TestClient(create_app(settings)) as client:
        yield client


def wait_until(check, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "it did not happen"
        time.sleep(0.05)
    return found


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def pair(client) -> tuple[Person, Person, str]:
    ann, bob = Person(client, "Ann"), Person(client, "Bob")
    ann.push(("set_reminder_preferences", "", {"quiet_hours": False}))
    alliance_id = ann.design("Coaching with Bob")
    token = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Bob"}).json()["token"]
    bob.post(f"/invitations/{token}/accept")
    wait_until(lambda: ann.get("/reminders").json()["reminders"])  # "Bob joined": decided before any phone
    return ann, bob, alliance_id


def test_a_push_reaches_the_phone_encrypted_for_it_and_says_where_to_go(client, service):
    ann, bob, alliance_id = pair(client)
    key = ann.get("/reminders").json()["push_key"]
    assert len(base64.urlsafe_b64decode(key + "=")) == 65 and base64.urlsafe_b64decode(key + "=")[0] == 4
    phone = service.phone("ann-phone")
    made = ann.post("/reminders/phones", phone.subscription())
    assert made.status_code == 201, made.text
    assert [p["device_name"] for p in ann.get("/reminders").json()["preferences"]["phones"]] == ["phone"]

    bob.push(("appreciate", alliance_id, {"participant_id": ann.user_id, "note": "You listened so well"}))
    [push] = service.wait_for(1)
    assert push.path == "/push/ann-phone" and push.headers["content-encoding"] == "aes128gcm"
    assert int(push.headers["ttl"]) > 0
    scheme, _, params = push.headers["authorization"].partition(" ")
    fields = dict(part.split("=", 1) for part in params.split(","))
    assert scheme == "vapid" and fields["k"] == key
    assert claims(fields["t"])["aud"] == service.url and claims(fields["t"])["sub"] == "mailto:ops@alliance.example.org"
    assert claims(fields["t"])["exp"] - time.time() <= 24 * 3600  # what Apple's push service insists on
    assert b"Coaching" not in push.body  # encrypted: only the phone can read it
    payload = phone.decrypt(push)
    assert payload["title"] == "Alliance"
    assert payload["body"] == "Bob appreciates you, in “Coaching with Bob”: open it to read what they wrote."
    assert "listened" not in json.dumps(payload)  # the words stay in the alliance, to be read (or erased) there
    assert payload["url"] == f"{PUBLIC}/app/#/a/{alliance_id}"

    [reminder] = wait_until(lambda: [r for r in ann.get("/reminders").json()["reminders"]
                                     if r["deliveries"].get("push", {}).get("status") == "sent"])
    assert reminder["delivered"][1].startswith("Sent to your phone at ")


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_removed(client, service, status):
    ann, bob, alliance_id = pair(client)
    kept, gone = service.phone("kept"), service.phone("gone")
    service.answers["/push/gone"] = status
    ann.post("/reminders/phones", kept.subscription())
    ann.post("/reminders/phones", gone.subscription())
    assert len(ann.get("/reminders").json()["preferences"]["phones"]) == 2
    bob.push(("appreciate", alliance_id, {"participant_id": ann.user_id, "note": "Thanks"}))
    service.wait_for(1, "/push/gone")
    wait_until(lambda: len(ann.get("/reminders").json()["preferences"]["phones"]) == 1)
    assert kept.decrypt(service.wait_for(1, "/push/kept")[0])["body"].endswith(": open it to read what they wrote.")
    [reminder] = wait_until(lambda: [r for r in ann.get("/reminders").json()["reminders"]
                                     if r["deliveries"].get("push", {}).get("status") == "sent"])
    assert reminder["deliveries"]["push"]["answer"] == f"1 phone; ended: phone ({status})"

    bob.push(("appreciate", alliance_id, {"participant_id": ann.user_id, "note": "Again"}))
    service.wait_for(2, "/push/kept")
    assert len(service.wait_for(1, "/push/gone")) == 1  # never again


def test_a_device_that_signs_out_takes_no_more_pushes(client, service):
    ann, bob, alliance_id = pair(client)
    laptop = client.post("/api/v1/auth/login", json={"email": ann.email, "password": "correct horse battery",
                                                     "device_name": "laptop"}).json()["token"]
    headers = {"Authorization": f"Bearer {laptop}"}
    phone = service.phone("laptop")
    assert client.post("/api/v1/reminders/phones", json=phone.subscription(), headers=headers).status_code == 201
    assert [p["device_name"] for p in ann.get("/reminders").json()["preferences"]["phones"]] == ["laptop"]
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    wait_until(lambda: ann.get("/reminders").json()["preferences"]["phones"] == [])
