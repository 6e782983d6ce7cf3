"""Stories over HTTP: people sign up, sign in and out, sync their devices,
read an alliance's present and past, and invite each other; and how the
service refuses, always as application/problem+json a person can read.

Every story runs on SQLite and on PostgreSQL (the `settings` fixture).
On PostgreSQL all stories share one database, so every email address,
client id and alliance id is made fresh.
"""

import re
from dataclasses import replace
from datetime import datetime, timezone
from uuid import uuid4

import pytest
from litestar.testing import TestClient

from people import PASSWORD, Person, fresh_email, problem
from server.app import create_app

def statuses(results: list[dict]) -> list[str]:
    return [r["status"] for r in results]


# ----- accounts -----

def test_ann_signs_up_once_and_the_service_knows_who_she_is(client):
    """Ann signs up and is signed in at once; her email (in any case) signs up only once."""
    ann = Person(client, "Ann")
    assert re.fullmatch(r"[0-9a-f-]{36}", ann.user_id) and ann.token.startswith(ann.user_id + ".")
    me = ann.get("/auth/me")
    assert me.status_code == 200 and me.json() == {"user_id": ann.user_id, "email": ann.email, "display_name": "Ann"}

    again = client.post("/api/v1/auth/signup", json={"email": ann.email.upper(), "password": PASSWORD,
                                                      "display_name": "Ann again"})
    assert problem(again, 409)["code"] == "email_taken"


def test_signing_in_needs_the_right_password_and_never_says_which_part_was_wrong(client):
    """A wrong password and an unknown email get the very same answer: no account oracle."""
    ann = Person(client, "Ann")
    right = client.post("/api/v1/auth/login", json={"email": ann.email, "password": PASSWORD})
    assert right.status_code == 200 and right.json()["user_id"] == ann.user_id
    assert right.json()["token"] != ann.token

    wrong_password = client.post("/api/v1/auth/login", json={"email": ann.email, "password": "not her password"})
    unknown_email = client.post("/api/v1/auth/login", json={"email": fresh_email("nobody"), "password": PASSWORD})
    assert problem(wrong_password, 401) == problem(unknown_email, 401)


@pytest.mark.parametrize("field, value", [
    ("password", "short"),  # fewer than 10 characters
    ("email", "not-an-email-address"),
    ("email", "a"),  # far too short to be one
    ("display_name", ""),
])
def test_a_weak_password_or_a_bad_email_is_refused_naming_the_field(client, field, value):
    """Cay mistypes her details: the answer says which one is wrong, in words."""
    details = {"email": fresh_email("cay"), "password": PASSWORD, "display_name": "Cay", field: value}
    response = client.post("/api/v1/auth/signup", json=details)
    assert response.status_code in (400, 422)
    words = field.replace("display_", "")  # "Give the name others see" is about the display name
    assert words in problem(response, response.status_code)["detail"].lower()


def test_signing_out_ends_that_token(client):
    ann = Person(client, "Ann")
    assert ann.post("/auth/logout").status_code == 204
    problem(ann.get("/auth/me"), 401)


def test_ann_sees_both_her_sign_ins_and_signs_one_out(client):
    """Ann signs in on her laptop too, sees both devices and signs the laptop out from her phone."""
    ann = Person(client, "Ann")
    laptop = client.post("/api/v1/auth/login", json={"email": ann.email, "password": PASSWORD,
                                                     "device_name": "laptop"}).json()["token"]
    devices = ann.get("/auth/devices").json()
    assert sorted((d["device_name"], d["current"]) for d in devices) == [("laptop", False), ("phone", True)]

    other = next(d for d in devices if not d["current"])
    assert ann.client.delete(f"/api/v1/auth/devices/{other['id']}", headers=ann.auth).status_code == 204
    problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {laptop}"}), 401)
    assert [d["device_name"] for d in ann.get("/auth/devices").json()] == ["phone"]


def test_the_fourth_sign_in_within_a_minute_is_throttled(settings):
    """A password guesser is slowed down: at 3 sign-ins a minute the 4th gets 429."""
    with TestClient(create_app(replace(settings, auth_per_minute=1000))) as roomy:
        ann = Person(roomy, "Ann")
    with TestClient(create_app(replace(settings, auth_per_minute=3))) as client:
        login = {"email": ann.email, "password": PASSWORD}
        for _ in range(3):
            assert client.post("/api/v1/auth/login", json=login).status_code == 200
        assert client.post("/api/v1/auth/login", json=login).status_code == 429
        assert client.get("/api/v1/auth/me", headers=ann.auth).status_code == 200  # only signing in is throttled


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not-a-token", "Basic YW5uOnB3", "forged"])
def test_no_token_or_a_forged_one_is_asked_to_sign_in(client, authorization):
    """Anything but a real token is 401 with a Bearer challenge, a forged secret included."""
    ann = Person(client, "Ann")
    if authorization == "forged":  # Ann's user id with a secret of the right shape, but not hers
        authorization = f"Bearer {ann.user_id}.{'x' * 43}"
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/api/v1/auth/me", headers=headers)
    problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


# ----- sync -----

def test_what_one_device_pushes_another_pulls_in_order(client):
    """Ann's phone pushes; her laptop starts from a reset pull and then gets the events in order."""
    ann = Person(client, "Ann")
    alliance_id = ann.design()
    laptop = ann.on_another_device()

    first = laptop.pull()
    assert first["reset"] and first["events"] == [] and first["last_mutation_id"] == 0
    assert [a["id"] for a in first["alliances"]] == [alliance_id]

    question = str(uuid4())
    assert statuses(ann.push(("add_question", alliance_id, {"question_id": question, "section": "purpose",
                                                            "text": "What would make this fun?"}),
                             ("give_own_answer", alliance_id, {"question_id": question, "text": "Music"}))) \
        == ["applied", "applied"]
    news = laptop.pull()
    assert not news["reset"] and not news["more"] and news["removed"] == []
    assert [(e["name"], e["version"]) for e in news["events"]] == [("QuestionAdded", 2), ("OwnAnswerGiven", 3)]
    [now] = news["alliances"]
    assert now["version"] == 3 and now["own_answers"] == {question: {ann.user_id: "Music"}}
    assert laptop.pull()["events"] == []  # nothing new since

    mine = ann.pull()
    assert mine["last_mutation_id"] == 3  # the phone learns all three of its mutations arrived


def test_a_push_with_an_unknown_field_is_refused_naming_it(client):
    ann = Person(client, "Ann")
    response = ann.post("/sync/push", {"client_id": ann.client_id, "mutations": [], "priority": "high"})
    assert "priority" in problem(response, 400)["detail"]


def test_a_body_over_the_limit_is_refused_as_too_large(settings):
    with TestClient(create_app(replace(settings, auth_per_minute=1000, max_body_bytes=2000))) as client:
        ann = Person(client, "Ann")
        alliance_id = ann.design()
        big = {"question_id": str(uuid4()), "section": "purpose", "text": "x" * 3000}
        response = ann.post("/sync/push", {"client_id": ann.client_id, "mutations": [
            {"id": 2, "alliance_id": alliance_id, "name": "add_question", "args": big}]})
        problem(response, 413)
        assert ann.get(f"/alliances/{alliance_id}").json()["version"] == 1


def test_a_mutation_numbered_past_a_gap_is_refused_and_says_which_comes_next(client):
    """A phone that lost mutation 3 is told to send 3 next; mutation 2 before the gap is kept."""
    ann = Person(client, "Ann")
    alliance_id = ann.design()
    mutation = {"alliance_id": alliance_id, "name": "give_own_answer",
                "args": {"question_id": "purpose.why", "text": "To grow"}}
    response = ann.post("/sync/push", {"client_id": ann.client_id,
                                       "mutations": [{"id": 2, **mutation}, {"id": 4, **mutation}]})
    body = problem(response, 409)
    assert (body["code"], body["expected_id"], body["last_mutation_id"]) == ("out_of_order", 3, 2)
    assert statuses(body["results"]) == ["applied"]  # what came before the gap is kept
    assert ann.get(f"/alliances/{alliance_id}").json()["version"] == 2


def test_a_bad_mutation_is_rejected_alone_and_the_rest_apply(client):
    """Malformed arguments and unknown names are refused one by one; the push goes on."""
    ann = Person(client, "Ann")
    alliance_id = ann.design()
    results = ann.push(("give_own_answer", alliance_id, ["purpose.why", "list, not an object"]),
                       ("give_own_answer", alliance_id, {"question_id": "purpose.why", "text": "To grow"}),
                       ("teleport", alliance_id, {}),
                       ("give_own_answer", alliance_id, "text"),
                       ("reword_question", alliance_id, {"question_id": "purpose.why", "text": "Why now?"}))
    assert statuses(results) == ["rejected", "applied", "rejected", "rejected", "applied"]
    assert "object" in results[0]["error"]["detail"] and "'teleport'" in results[2]["error"]["detail"]
    alliance = ann.get(f"/alliances/{alliance_id}").json()
    assert alliance["version"] == 3 and alliance["questions"]["purpose.why"]["text"] == "Why now?"


# ----- reading the present and the past -----

@pytest.fixture
def story(client):
    """Ann designs an alliance and changes it four times: versions 1 to 5."""
    ann = Person(client, "Ann")
    alliance_id, question = ann.design(), str(uuid4())
    results = ann.push(("add_question", alliance_id, {"question_id": question, "section": "purpose",
                                                      "text": "What should we celebrate?"}),
                       ("give_own_answer", alliance_id, {"question_id": question, "text": "Small wins"}),
                       ("reword_question", alliance_id, {"question_id": question, "text": "What do we celebrate?"}),
                       ("answer_question", alliance_id, {"question_id": question, "text": "Every small win",
                                                         "base_revision": 0}))
    assert statuses(results) == ["applied"] * 4
    return ann, alliance_id, question


def test_the_alliance_now_at_a_version_and_at_a_moment(story):
    """Ann reads her alliance now, as of version 1, and as of the moments versions 3 and 2 were made."""
    ann, alliance_id, question = story
    now = ann.get(f"/alliances/{alliance_id}").json()
    assert now["version"] == 5 and now["answers"][question]["text"] == "Every small win"
    first = ann.get(f"/alliances/{alliance_id}", params={"version": 1}).json()
    assert first["version"] == 1 and question not in first["questions"]

    moments = {e["version"]: e["at"] for e in ann.get(f"/alliances/{alliance_id}/history").json()["entries"]}
    as_of = ann.get(f"/alliances/{alliance_id}", params={"at": moments[3]}).json()
    assert as_of["version"] == 3 and as_of["questions"][question]["text"] == "What should we celebrate?"
    in_utc = datetime.fromisoformat(moments[2]).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    assert ann.get(f"/alliances/{alliance_id}", params={"at": in_utc}).json()["version"] == 2
    problem(ann.get(f"/alliances/{alliance_id}", params={"at": "2001-01-01T00:00:00Z"}), 404)
    problem(ann.get(f"/alliances/{alliance_id}", params={"version": 6}), 404)


@pytest.mark.parametrize("at, words", [("2026-03-10T09:00:00", "time zone"), ("last tuesday", "ISO 8601"),
                                       ("2026-13-45T09:00:00Z", "ISO 8601")])
def test_a_moment_must_be_iso_with_a_time_zone(story, at, words):
    ann, alliance_id, _ = story
    assert words in problem(ann.get(f"/alliances/{alliance_id}", params={"at": at}), 400)["detail"]


def test_history_comes_newest_first_in_pages(story):
    ann, alliance_id, _ = story
    pages, before = [], None
    while True:
        params = {"limit": 2, **({"before": before} if before else {})}
        page = ann.get(f"/alliances/{alliance_id}/history", params=params).json()
        pages.append([e["version"] for e in page["entries"]])
        before = page["next_before"]
        if before is None:
            break
    assert pages == [[5, 4], [3, 2], [1]]
    newest = ann.get(f"/alliances/{alliance_id}/history").json()["entries"][0]
    assert newest["who"] == "Ann" and newest["device"] == ann.client_id and "Every small win" in newest["text"]
    assert "limit" in problem(ann.get(f"/alliances/{alliance_id}/history", params={"limit": "all"}), 400)["detail"]


def test_the_difference_between_two_versions(story):
    ann, alliance_id, question = story
    diff = ann.get(f"/alliances/{alliance_id}/diff", params={"from": 1, "to": 5}).json()
    assert (diff["from"], diff["to"], diff["empty"]) == (1, 5, False)
    changes = {(c["section"], c["id"]): c for c in diff["changes"]}
    assert changes[("questions", question)]["change"] == "added"
    assert changes[("answers", question)]["after"]["text"] == "Every small win"
    assert ann.get(f"/alliances/{alliance_id}/diff", params={"from": 5, "to": 5}).json()["empty"]
    problem(ann.get(f"/alliances/{alliance_id}/diff", params={"from": 1}), 400)


def test_the_audit_chain_verifies(story):
    ann, alliance_id, _ = story
    check = ann.get(f"/alliances/{alliance_id}/verify").json()
    assert (check["ok"], check["events"], check["broken_at"]) == (True, 5, None) and len(check["head"]) == 64


# ----- invitations -----

def test_bob_joins_by_link_and_the_link_works_once(client):
    """Ann invites Bob by link; Bob joins and his phone pulls the alliance; the link is then spent."""
    ann, bob = Person(client, "Ann"), Person(client, "Bob")
    alliance_id = ann.design()
    bob.pull()
    invitation = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Bob"})
    assert invitation.status_code == 201
    token = invitation.json()["token"]
    assert invitation.json()["url"].endswith(f"/invite/{token}")

    joined = bob.post(f"/invitations/{token}/accept")
    assert joined.status_code == 200 and joined.json()["participants"][bob.user_id]["status"] == "joined"
    news = bob.pull()
    assert [a["id"] for a in news["alliances"]] == [alliance_id]
    assert [e["name"] for e in news["events"]][-1] == "ParticipantJoined"
    assert bob.get(f"/alliances/{alliance_id}").status_code == 200

    again = bob.post(f"/invitations/{token}/accept")
    random = bob.post(f"/invitations/{uuid4().hex}/accept")
    assert problem(again, 404) == problem(random, 404)


# ----- how the service answers -----

def test_every_error_is_problem_json(client):
    ann = Person(client, "Ann")
    responses = [client.get("/api/v1/auth/me"), ann.get(f"/alliances/{uuid4()}"),
                 ann.post("/sync/push", {"client_id": "!"}), client.get("/api/v1/no-such-thing", headers=ann.auth),
                 client.put("/api/v1/auth/me", headers=ann.auth)]
    assert [r.status_code for r in responses] == [401, 404, 400, 404, 405]
    for response in responses:
        problem(response, response.status_code)


def test_a_large_pull_comes_gzipped(client):
    """A phone that accepts gzip gets a large pull compressed."""
    ann = Person(client, "Ann")
    for n in range(3):
        ann.design(f"Alliance {n}")
    response = client.post("/api/v1/sync/pull", headers={**ann.auth, "Accept-Encoding": "gzip"},
                           json={"client_id": ann.client_id})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert len(response.json()["alliances"]) == 3  # httpx unzipped it
    assert int(response.headers["content-length"]) < len(response.content) / 3  # and it was worth it


def test_health_and_readiness_need_no_token(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_the_openapi_schema_lists_every_api_path(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    routes = {re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path) for route in client.app.routes}
    api = {path for path in routes if path.startswith("/api/v1/")}
    assert len(api) >= 14 and api <= set(paths)
