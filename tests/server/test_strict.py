"""Requests are read strictly, and whatever a body holds the answer is a 400 a
person can read (issue 9): never a 500, never a value quietly coerced."""

import json
import re
from uuid import uuid4

import pytest
from litestar.testing import TestClient

from people import PASSWORD, PROBLEM, Person
from server.app import create_app
from server.settings import Settings

DEEP = 1000
NESTED = "[" * DEEP + "]" * DEEP  # 2 KB
INVALID_UTF8 = b"\xff\xfe"


@pytest.fixture
def ann(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", log_level="WARNING"))) as client:
        ann = Person(client, "Ann")
        ann.alliance_id = ann.design("Strict")
        yield ann


def request_of(ann: Person, name: str) -> tuple[str, dict, str]:
    """(path, a valid body, a field of it to spoil) of each route that takes a body."""
    mutation = {"id": 2, "alliance_id": ann.alliance_id, "name": "add_question",
                "args": {"question_id": str(uuid4()), "section": "goal", "text": "Why?"}}
    return {
        "signup": ("/auth/signup", {"email": "bo@example.org", "password": PASSWORD, "display_name": "Bo"},
                   "display_name"),
        "login": ("/auth/login", {"email": ann.email, "password": PASSWORD}, "password"),
        "push": ("/sync/push", {"client_id": ann.client_id, "mutations": [mutation]}, "client_id"),
        "pull": ("/sync/pull", {"client_id": ann.client_id}, "client_id"),
        "invitations": (f"/alliances/{ann.alliance_id}/invitations", {"name": "Sam"}, "name"),
    }[name]


ROUTES = ["signup", "login", "push", "pull", "invitations"]


def json_with(body: dict, field: str, raw: bytes) -> bytes:
    """The body as JSON, with `raw` (bytes that may not be JSON) as the value of `field`."""
    return json.dumps({**body, field: "SPOILT"}).encode().replace(b'"SPOILT"', raw)


def refused(ann: Person, path: str, content: bytes) -> str:
    response = ann.client.post(f"/api/v1{path}", content=content, headers={**ann.auth, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "invalid_request" and problem["status"] == 400
    return problem["detail"]


def readable(detail: str) -> bool:
    return bool(re.match(r"[A-Za-z_]+[:\s]", detail)) and len(detail.split()) >= 3 and "Traceback" not in detail


@pytest.mark.parametrize("name", ROUTES)
def test_a_body_nested_a_thousand_deep_is_a_400_in_words(ann, name):
    path, body, field = request_of(ann, name)
    for content in (NESTED.encode(), b'{"a":' * DEEP + b"1" + b"}" * DEEP,
                    json_with(body, field, NESTED.encode())):
        assert readable(refused(ann, path, content))


def test_nesting_where_any_json_is_allowed_is_a_400_in_words(ann):
    """A mutation's `args` may hold anything, so only depth stops the decoder there."""
    mutation = {"id": 2, "alliance_id": ann.alliance_id, "name": "add_question", "args": "SPOILT"}
    content = json.dumps({"client_id": ann.client_id, "mutations": [mutation]}).encode()
    detail = refused(ann, "/sync/push", content.replace(b'"SPOILT"', NESTED.encode()))
    assert detail == "The body is nested too deeply to be read: send flatter JSON."


@pytest.mark.parametrize("name", ROUTES)
def test_invalid_utf8_inside_a_string_is_a_400_in_words(ann, name):
    path, body, field = request_of(ann, name)
    detail = refused(ann, path, json_with(body, field, b'"Bo' + INVALID_UTF8 + b'"'))
    assert detail == "The body is not valid UTF-8 text: send JSON encoded as UTF-8."


@pytest.mark.parametrize("name", ROUTES)
def test_a_body_that_is_not_json_is_a_400_in_words(ann, name):
    assert refused(ann, request_of(ann, name)[0], b"{nope}").startswith("The body is not valid JSON: ")


def test_the_valid_bodies_are_accepted(ann):
    """The bodies spoiled above, unspoiled, all go through."""
    for path, body, _ in (request_of(ann, name) for name in ROUTES):
        response = ann.post(path, body)
        assert response.status_code in (200, 201), (path, response.text)


@pytest.mark.parametrize("path, body, field", [
    ("/sync/push", lambda ann: {"client_id": ann.client_id, "mutations": [
        {"id": "2", "alliance_id": ann.alliance_id, "name": "leave_alliance"}]}, "mutations[0].id"),
    ("/sync/pull", lambda ann: {"client_id": ann.client_id, "limit": "5"}, "limit"),
    ("/sync/pull", lambda ann: {"client_id": ann.client_id, "limit": 5.0}, "limit"),
    ("/sync/pull", lambda ann: {"client_id": ann.client_id, "limit": True}, "limit"),
    ("/auth/login", lambda ann: {"email": ann.email, "password": 1234567890}, "password"),
])
def test_a_value_of_the_wrong_type_is_refused_not_coerced(ann, path, body, field):
    response = ann.post(path, body(ann))
    assert response.status_code == 400 and response.json()["field"] == field, response.text
    ann.push()
    assert ann.last_id == 1  # nothing was applied


@pytest.mark.parametrize("query", ["version=1e3", "version=1.0", "version=%201", "version=0x1"])
def test_a_query_number_is_digits(ann, query):
    response = ann.get(f"/alliances/{ann.alliance_id}?{query}")
    assert response.status_code == 400 and response.json()["field"] == "version", response.text
    assert ann.get(f"/alliances/{ann.alliance_id}?version=1").status_code == 200


def test_a_diff_and_a_history_page_are_asked_for_in_digits(ann):
    assert ann.get(f"/alliances/{ann.alliance_id}/diff?from=1e0&to=1").json()["field"] == "from"
    assert ann.get(f"/alliances/{ann.alliance_id}/history?limit=2.0").json()["field"] == "limit"


def test_a_client_id_is_only_its_characters(ann):
    """msgspec's pattern check let a final newline through ("$" matches before it in Python)."""
    response = ann.post("/sync/pull", {"client_id": f"{ann.client_id}\n"})
    assert response.status_code == 400 and response.json()["field"] == "client_id", response.text
