"""Logs are one JSON line per request and never carry passwords or tokens."""

import json
import logging
import uuid

from litestar.testing import TestClient

from server.app import create_app
from server.settings import Settings


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
