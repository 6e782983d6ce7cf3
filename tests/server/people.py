"""People using the API in tests: someone signed up, with one device (a client id) that pushes and pulls."""

import copy
from uuid import uuid4

from litestar.testing import TestClient

PASSWORD = "correct horse battery"
PROBLEM = "application/problem+json"


def problem(response, status: int) -> dict:
    """The problem+json a refused request answers, checked: its status, its sentence."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


def fresh_email(name: str) -> str:
    return f"{name}-{uuid4().hex[:10]}@example.org"


class Person:
    def __init__(self, client: TestClient, name: str):
        self.client, self.name, self.email = client, name, fresh_email(name.lower())
        response = client.post("/api/v1/auth/signup", json={"email": self.email, "password": PASSWORD,
                                                            "display_name": name, "device_name": "phone"})
        assert response.status_code == 201, response.text
        self.user_id, self.token = response.json()["user_id"], response.json()["token"]
        self.client_id, self.last_id, self.cursor = f"{name.lower()}-{uuid4().hex[:12]}", 0, None

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, **kwargs):
        return self.client.request(method, f"/api/v1{path}", headers=self.auth, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def push(self, *mutations: tuple[str, str, object]) -> list[dict]:
        """Push (name, alliance id, args) mutations numbered on from the last; their results."""
        numbered = [{"id": self.last_id + i, "name": name, "alliance_id": aid, "args": args}
                    for i, (name, aid, args) in enumerate(mutations, start=1)]
        response = self.post("/sync/push", {"client_id": self.client_id, "mutations": numbered})
        assert response.status_code == 200, response.text
        self.last_id = response.json()["last_mutation_id"]
        return response.json()["results"]

    def pull(self, **headers) -> dict:
        response = self.client.post("/api/v1/sync/pull", headers={**self.auth, **headers},
                                    json={"client_id": self.client_id, "cursor": self.cursor})
        assert response.status_code == 200, response.text
        self.cursor = response.json()["cursor"]
        return response.json()

    def on_another_device(self) -> "Person":
        """The same person and token, on a device of its own (its own client id and numbering)."""
        other = copy.copy(self)
        other.client_id, other.last_id, other.cursor = f"{self.name.lower()}-{uuid4().hex[:12]}", 0, None
        return other

    def design(self, title: str = "Coaching with Ann") -> str:
        alliance_id = str(uuid4())
        [result] = self.push(("create_alliance", alliance_id, {"title": title, "template": "coaching"}))
        assert result["status"] == "applied", result
        return alliance_id

    def version_of(self, alliance_id: str) -> int:
        response = self.get(f"/alliances/{alliance_id}")
        assert response.status_code == 200, response.text
        return response.json()["version"]
