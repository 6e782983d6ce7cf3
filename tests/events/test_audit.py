"""Stories about the audit chain: someone edits the stored rows behind the
application's back, and `verify` names the first event that is wrong."""

import base64
import os
import sqlite3
import uuid

import pytest

from events.application import AllianceApplication
from events.audit import Anchor
from server.settings import Settings


def record_a_few_changes(app):
    alliance = app.design_alliance(alliance_id=uuid.uuid4(), by="ann", device="laptop", title="Team charter",
                                   template="team", facilitator_name="Ann")
    for n, text in enumerate(["We ship small", "We ship small and often", "We ship weekly"]):
        app.act(alliance.id, "answer_question", by="ann", device="laptop", question_id="purpose.why",
                text=text, base_revision=n)
    return alliance.id  # versions 1 to 4


@pytest.fixture
def sqlite_app(tmp_path):
    settings = Settings(data_dir=tmp_path)
    app = AllianceApplication(env=settings.event_store_env("alliances"))
    yield app, tmp_path / "alliances.sqlite"
    app.close()


def tamper(path, sql, *params):
    with sqlite3.connect(path) as db:
        assert db.execute(sql, params).rowcount >= 1


def test_an_untouched_store_verifies(app):
    aid = record_a_few_changes(app)
    report = app.verify(aid)
    assert report.ok and report.events == 4 and report.broken_at is None


def test_an_altered_row_is_named(sqlite_app):
    app, path = sqlite_app
    aid = record_a_few_changes(app)
    with sqlite3.connect(path) as db:  # the file holds this one alliance
        (state,) = db.execute("SELECT state FROM stored_events WHERE originator_version=3").fetchone()
    forged = bytes(state).replace(b'"by":"ann"', b'"by":"eve"')  # the words are sealed: who said them
    assert forged != bytes(state)
    tamper(path, "UPDATE stored_events SET state=? WHERE originator_version=3", forged)

    report = app.verify(aid)
    assert not report.ok and report.broken_at == 3
    assert report.problem == "event 3 was altered, removed or reordered"


def test_a_removed_row_is_named(sqlite_app):
    app, path = sqlite_app
    aid = record_a_few_changes(app)
    tamper(path, "DELETE FROM stored_events WHERE originator_version=2")
    report = app.verify(aid)
    assert (report.ok, report.broken_at) == (False, 2)
    assert "event 2 is missing" in report.problem


def test_reordered_rows_are_named(sqlite_app):
    app, path = sqlite_app
    aid = record_a_few_changes(app)
    with sqlite3.connect(path) as db:
        rows = dict(db.execute("SELECT originator_version, state FROM stored_events "
                               "WHERE originator_version IN (2, 3)").fetchall())
        db.execute("UPDATE stored_events SET state=? WHERE originator_version=2", (rows[3],))
        db.execute("UPDATE stored_events SET state=? WHERE originator_version=3", (rows[2],))
    report = app.verify(aid)
    assert (report.ok, report.broken_at) == (False, 2)


def test_an_altered_encrypted_row_is_named(tmp_path):
    key = base64.b64encode(os.urandom(32)).decode()
    settings = Settings(data_dir=tmp_path, cipher_key=key)
    app = AllianceApplication(env=settings.event_store_env("alliances"))
    aid = record_a_few_changes(app)
    raw = (tmp_path / "alliances.sqlite").read_bytes()
    assert b"We ship" not in raw  # encrypted at rest
    assert app.verify(aid).ok
    with sqlite3.connect(tmp_path / "alliances.sqlite") as db:
        (state,) = db.execute("SELECT state FROM stored_events WHERE originator_version=4").fetchone()
        flipped = bytes(state[:-1]) + bytes([state[-1] ^ 1])
        db.execute("UPDATE stored_events SET state=? WHERE originator_version=4", (flipped,))
    report = app.verify(aid)
    assert (report.ok, report.broken_at, report.problem) == (False, 4, "event 4 cannot be read")
    app.close()


def anchor_at(app, aid, version):
    """What a device keeps from a pull that brought `version`."""
    state = app.alliance(aid, version=version).as_dict()
    return Anchor(state["version"], state["chain_head"])


def test_an_anchor_a_device_kept_checks_out_until_what_it_saw_is_removed(sqlite_app):
    app, path = sqlite_app
    aid = record_a_few_changes(app)
    seen, earlier = anchor_at(app, aid, 4), anchor_at(app, aid, 2)
    assert app.verify(aid, seen).anchor_ok and app.verify(aid, earlier).anchor_ok
    assert app.verify(aid).anchor_ok is None

    tamper(path, "DELETE FROM stored_events WHERE originator_version>=3")
    assert app.verify(aid).ok  # consistent in itself: only what a device saw tells
    report = app.verify(aid, seen)
    assert (report.ok, report.anchor_ok, report.events, report.broken_at) == (False, False, 2, 3)
    assert report.problem == ("the stored record has only 2 events, but your device saw version 4 "
                              "(events 3 to 4 were removed)")
    assert app.verify(aid, earlier).ok


def test_an_anchor_that_is_not_in_the_chain_says_so(app):
    aid = record_a_few_changes(app)
    report = app.verify(aid, Anchor(3, "f" * 64))
    assert (report.ok, report.anchor_ok, report.events, report.broken_at) == (False, False, 4, 3)
    assert report.problem.startswith("one of events 1 to 3 was rewritten after your device saw version 3")


def test_a_break_before_the_anchor_is_named_first(sqlite_app):
    app, path = sqlite_app
    aid = record_a_few_changes(app)
    seen = anchor_at(app, aid, 4)
    tamper(path, "DELETE FROM stored_events WHERE originator_version=2")
    report = app.verify(aid, seen)
    assert (report.ok, report.anchor_ok, report.broken_at) == (False, False, 2)
    assert report.problem == "event 2 is missing (the next stored event is 3)"


def test_an_alliance_with_nothing_stored_does_not_verify(app):
    report = app.verify(uuid.uuid4())
    assert (report.ok, report.events, report.broken_at) == (False, 0, 1)


@pytest.mark.postgres
def test_an_altered_postgres_row_is_named(postgres_url):
    import psycopg

    app = AllianceApplication(env=Settings(database_url=postgres_url).event_store_env("alliances"))
    aid = record_a_few_changes(app)
    with psycopg.connect(postgres_url, autocommit=True) as db:
        (state,) = db.execute("SELECT state FROM alliances_events WHERE originator_id=%s AND originator_version=2",
                              (aid,)).fetchone()
        db.execute("UPDATE alliances_events SET state=%s WHERE originator_id=%s AND originator_version=2",
                   (bytes(state).replace(b'"by":"ann"', b'"by":"eve"'), aid))
    report = app.verify(aid)
    assert (report.ok, report.broken_at) == (False, 2)
    app.close()
