"""Logs are one JSON line per request and never carry passwords or tokens; a client that
hangs up is logged (and counted) as 499, not as a fault of ours."""

import asyncio
import json
import logging
import socket
import time
import uuid

import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app, request_log
from server.settings import Settings
from servers import HTTP, Server, pull, signup


def test_request_logs_hold_no_secrets(tmp_path, caplog):
    password = "a secret password 123"
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client, caplog.at_level(logging.INFO, "alliance"):
        signed = client.post("/api/v1/auth/signup", json={"email": "ann@example.org", "password": password,
                                                          "display_name": "Ann"}).json()
        headers = {"Authorization": f"Bearer {signed['token']}"}
        alliance_id = str(uuid.uuid4())
        client.post("/api/v1/sync/push", headers=headers, json={"client_id": "ann-phone-1", "mutations": [
            {"id": 1, "alliance_id": alliance_id, "name": "create_alliance", "args": {"title": "T", "template": "blank"}}]})
        link = client.post(f"/api/v1/alliances/{alliance_id}/invitations", headers=headers).json()
        client.get(f"/invite/{link['token']}")
        client.post(f"/api/v1/invitations/{link['token']}/accept", headers=headers)

    lines = [r.getMessage() for r in caplog.records if r.name == "alliance"]
    assert len(lines) == 5
    entries = [json.loads(line) for line in lines]
    assert [e["status"] for e in entries] == [201, 200, 201, 200, 409]  # Ann is in the alliance already
    assert entries[3]["path"] == "/invite/…"
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (password, signed["token"], signed["token"].split(".")[1], link["token"]):
        assert secret not in everything


def request_lines(server: Server) -> list[dict]:
    """The server's request log: its JSON lines (uvicorn's and our start markers are not)."""
    return [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]


def hang_up_pull(server: Server, token: str) -> None:
    """A pull whose client hangs up halfway through sending it: the server never has the whole
    request (a whole one is answered at once now, from memory, before a hang-up is noticed)."""
    body = json.dumps({"client_id": "ann-phone-1", "cursor": None}).encode()
    head = (f"POST /api/v1/sync/pull HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(head.encode() + body[:len(body) // 2])


def test_a_client_that_hangs_up_is_a_499_not_a_500(sqlite_server):
    """Nobody got an answer, and nothing failed here: in the log and in /metrics these requests
    are 499 ("client closed the request", as nginx says), so a 5xx alert means a real fault."""
    _, token = signup(sqlite_server.url, "ann@example.org")
    pull(sqlite_server.url, token, "ann-phone-1")  # a normal one: its real status
    for _ in range(10):
        hang_up_pull(sqlite_server, token)
    deadline = time.monotonic() + 10
    while len(pulls := [e for e in request_lines(sqlite_server) if e["path"] == "/api/v1/sync/pull"]) < 11:
        assert time.monotonic() < deadline, sqlite_server.log_tail()
        time.sleep(0.05)

    assert [(e["status"], e.get("client_gone")) for e in pulls] == [(200, None)] + [(499, True)] * 10
    assert 500 not in {e["status"] for e in request_lines(sqlite_server)}
    metrics = HTTP.get(f"{sqlite_server.url}/metrics").text
    pulled = {s.labels["status"]: s.value for family in text_string_to_metric_families(metrics)
              for s in family.samples if s.name == "alliance_http_requests_total"
              and s.labels["route"] == "/api/v1/sync/pull"}
    assert pulled == {"200": 1, "499": 10}


def test_a_fault_after_the_request_was_read_is_still_a_500(caplog):
    """The client is still there: nothing answered, so it is ours (uvicorn sends the 500)."""
    async def broken(scope, receive, send):
        await receive()
        raise RuntimeError("a bug of ours")

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        pass

    with caplog.at_level(logging.INFO, "alliance"), pytest.raises(RuntimeError):
        asyncio.run(request_log(broken)({"type": "http", "method": "POST", "path": "/x"}, receive, send))
    [entry] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "alliance"]
    assert entry["status"] == 500 and "client_gone" not in entry
