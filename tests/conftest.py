"""Shared fixtures: an alliance store on SQLite and on PostgreSQL.

The PostgreSQL store lives in a database made for this test run and dropped
after it. Outside CI, an unreachable PostgreSQL skips those tests with the
reason; with ALLIANCE_REQUIRE_POSTGRES=1 (as .ci/run sets) they fail instead.
"""

import os
import uuid

import pytest

from events.application import AllianceApplication
from server.settings import Settings

POSTGRES = os.environ.get("ALLIANCE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture(scope="session")
def postgres_url():
    """A database of this run's own; yields its URL."""
    import psycopg

    name = f"alliance_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("ALLIANCE_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here but unreachable at {POSTGRES}: {error}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{POSTGRES}/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request, tmp_path):
    if request.param == "postgres":
        return Settings(database_url=request.getfixturevalue("postgres_url"))
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def app(settings):
    application = AllianceApplication(env=settings.event_store_env("alliances"))
    yield application
    application.close()
