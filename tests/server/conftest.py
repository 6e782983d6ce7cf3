"""Fixtures: the app in-process with a test client (`client`), and real `alliance serve`
processes (see servers.py); every server a test starts is stopped when the test ends,
whatever happened."""

from dataclasses import replace

import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient

from server.app import create_app
from servers import Server


@pytest.fixture
def client(settings):
    """The app in this process, on the test's store, with sign-in limits out of the way."""
    with TestClient(create_app(replace(settings, auth_per_minute=1000))) as client:
        yield client


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    """argon2 at its cheapest in this process: these tests are about the service, not hashing."""
    monkeypatch.setattr("events.accounts.PASSWORDS", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def servers(tmp_path):
    """start(env, name="a") -> a running Server logging to tmp_path/<name>.log."""
    started: list[Server] = []

    def start(env: dict[str, str], name: str = "server") -> Server:
        server = Server(env, tmp_path / f"{name}.log")
        started.append(server)
        return server.start()

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def sqlite_server(servers, tmp_path):
    return servers({"ALLIANCE_DATA_DIR": str(tmp_path / "data")}, "sqlite")


@pytest.fixture
def postgres_servers(servers, postgres_url):
    """Two processes on one PostgreSQL database: A creates the tables, B does not."""
    first = servers({"ALLIANCE_DATABASE_URL": postgres_url}, "pg-a")
    second = servers({"ALLIANCE_DATABASE_URL": postgres_url, "ALLIANCE_CREATE_TABLES": "no"}, "pg-b")
    return first, second
