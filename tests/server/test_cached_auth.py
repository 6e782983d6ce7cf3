"""A token is checked with the store once per process and then remembered (issue 14); a
sign-out or a revoked device is still refused at once, by every process: on PostgreSQL two
real server processes, each having remembered the token, refuse it on their very next
request after the other one signed it out."""

import uuid

import pytest

from servers import HTTP, auth, login, signup


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def status_of(url: str, token: str) -> int:
    return HTTP.get(f"{url}/api/v1/auth/me", headers=auth(token), timeout=10).status_code


def devices(url: str, token: str) -> list[dict]:
    response = HTTP.get(f"{url}/api/v1/auth/devices", headers=auth(token), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_remembered_token_is_refused_right_after_its_sign_out(client):
    """One process: the token was remembered; its sign-out ends it there and then, and the
    account's other device stays signed in."""
    email, password = f"{unique('ann')}@example.org", "a long enough secret"
    phone = client.post("/api/v1/auth/signup", json={"email": email, "password": password,
                                                     "display_name": "Ann"}).json()["token"]
    laptop = client.post("/api/v1/auth/login", json={"email": email, "password": password}).json()["token"]
    for _ in range(3):
        assert client.get("/api/v1/auth/me", headers=auth(phone)).status_code == 200
        assert client.get("/api/v1/auth/me", headers=auth(laptop)).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=auth(phone)).status_code == 204
    assert client.get("/api/v1/auth/me", headers=auth(phone)).status_code == 401
    assert client.post("/api/v1/sync/pull", headers=auth(phone), json={"client_id": "ann-phone-1"}).status_code == 401
    assert client.get("/api/v1/auth/me", headers=auth(laptop)).status_code == 200


def remembered_by_both(a, b, *tokens: str) -> None:
    """Each process has checked every token (three times) and remembers them."""
    for _ in range(3):
        for server in (a, b):
            assert [status_of(server.url, token) for token in tokens] == [200] * len(tokens)


@pytest.mark.postgres
def test_a_sign_out_through_one_process_is_refused_by_the_other_on_its_next_request(postgres_servers):
    a, b = postgres_servers
    email = f"{unique('ann')}@example.org"
    _, phone = signup(a.url, email)
    laptop = login(b.url, email)
    remembered_by_both(a, b, phone, laptop)

    assert HTTP.post(f"{a.url}/api/v1/auth/logout", headers=auth(phone), timeout=10).status_code == 204
    assert status_of(b.url, phone) == 401, b.log_tail()
    assert status_of(a.url, phone) == 401
    assert status_of(b.url, laptop) == 200 and status_of(a.url, laptop) == 200


@pytest.mark.postgres
def test_a_device_revoked_through_one_process_is_refused_by_the_other_on_its_next_request(postgres_servers):
    a, b = postgres_servers
    email = f"{unique('bob')}@example.org"
    _, phone = signup(a.url, email)
    tablet = login(a.url, email)
    remembered_by_both(a, b, phone, tablet)
    (tablet_device,) = [d for d in devices(b.url, tablet) if d["current"]]

    revoked = HTTP.delete(f"{b.url}/api/v1/auth/devices/{tablet_device['id']}", headers=auth(phone), timeout=10)
    assert revoked.status_code == 204, revoked.text
    assert status_of(a.url, tablet) == 401, a.log_tail()
    assert status_of(b.url, tablet) == 401
    assert status_of(a.url, phone) == 200 and status_of(b.url, phone) == 200
