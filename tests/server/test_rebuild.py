"""`alliance rebuild`: every snapshot checked against a replay of the events,
the ones that disagree replaced, and a fresh one at each latest version."""

import re
import sqlite3
import uuid

import pytest

from events.application import AllianceApplication
from server.cli import main
from server.operations import _comparable
from server.settings import Settings

COACH, CLIENT = "coach-user", "client-user"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    for key in ("ALLIANCE_DATABASE_URL", "ALLIANCE_CIPHER_KEY", "ALLIANCE_CREATE_TABLES"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def open_app() -> AllianceApplication:
    return AllianceApplication(env=Settings.from_env().event_store_env("alliances"))


@pytest.fixture
def alliance_of_250_events(data_dir) -> uuid.UUID:
    app = open_app()
    try:
        app.sign_up(email="ann@example.org", password="a long enough secret", display_name="Ann")
        alliance = app.design_alliance(alliance_id=uuid.uuid4(), by=COACH, device="cli", title="Run a half marathon",
                                       template="coaching", facilitator_name="Robin")
        for step in range(249):
            app.act(alliance.id, "make_commitment", by=COACH, device="cli", commitment_id=uuid.uuid4(),
                    text=f"Step {step}", owner_id=COACH)
        assert app.alliance(alliance.id).version == 250
        return alliance.id
    finally:
        app.close()


def snapshot_versions(data_dir, aid: uuid.UUID) -> list[int]:
    with sqlite3.connect(data_dir / "alliances.sqlite") as db:
        rows = db.execute("SELECT originator_version FROM stored_snapshots WHERE originator_id = ? "
                          "ORDER BY originator_version", (aid.hex,)).fetchall()
    db.close()
    return [version for (version,) in rows]


def rebuild(capsys) -> tuple[str, tuple[int, int, int]]:
    assert main(["rebuild"]) == 0
    captured = capsys.readouterr()
    assert "rebuild [" in captured.err  # the progress line
    found = re.search(r"^(\d+) aggregates checked, (\d+) snapshots written, (\d+) disagreements$",
                      captured.out, re.MULTILINE)
    assert found, captured.out
    return captured.out, tuple(int(n) for n in found.groups())


def replayed(app: AllianceApplication, aid: uuid.UUID):
    aggregate = None
    for event in app.events.get(aid):
        aggregate = event.mutate(aggregate)
    return aggregate


def test_rebuild_agrees_with_the_events_and_snapshots_the_latest_versions(alliance_of_250_events, data_dir, capsys):
    aid = alliance_of_250_events
    assert snapshot_versions(data_dir, aid) == [100, 200]  # taken by the service as it saved
    _, (checked, written, disagreements) = rebuild(capsys)
    assert disagreements == 0
    assert checked == 2  # the alliance and Ann's account (devices come with a first sync push)
    assert written == checked  # none of them had a snapshot at its latest version
    assert snapshot_versions(data_dir, aid) == [100, 200, 250]

    _, (checked_again, written_again, disagreements_again) = rebuild(capsys)
    assert (checked_again, written_again, disagreements_again) == (checked, 0, 0)  # nothing left to do


def test_rebuild_replaces_a_snapshot_that_disagrees_with_the_events(alliance_of_250_events, data_dir, capsys):
    aid = alliance_of_250_events
    rebuild(capsys)  # snapshots now at 100, 200 and 250: the service reads v250 first

    app = open_app()
    try:  # corrupt the latest snapshot: its title differs from what the events say
        transcoder = app.mapper.transcoder
        with sqlite3.connect(data_dir / "alliances.sqlite") as db:
            (state,) = db.execute("SELECT state FROM stored_snapshots WHERE originator_id = ? AND originator_version = 250",
                                  (aid.hex,)).fetchone()
            decoded = transcoder.decode(state)
            assert decoded["state"]["title"] == "Run a half marathon"
            decoded["state"]["title"] = "Tampered"
            db.execute("UPDATE stored_snapshots SET state = ? WHERE originator_id = ? AND originator_version = 250",
                       (transcoder.encode(decoded), aid.hex))
        db.close()
    finally:
        app.close()
    corrupted = open_app()
    try:
        assert corrupted.alliance(aid).title == "Tampered"  # the snapshot is what the service reads
    finally:
        corrupted.close()

    out, (_, written, disagreements) = rebuild(capsys)
    assert disagreements == 1 and written == 1
    assert f"alliance {aid}: snapshot at v250 disagreed with the events; replaced" in out
    assert snapshot_versions(data_dir, aid) == [100, 200, 250]

    fresh = open_app()
    try:
        now = fresh.alliance(aid)
        assert now.title == "Run a half marathon" and now.version == 250
        assert _comparable(fresh, now) == _comparable(fresh, replayed(fresh, aid))
    finally:
        fresh.close()
    assert rebuild(capsys)[1][1:] == (0, 0)


def test_rebuild_help(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["rebuild", "--help"])
    assert exit.value.code == 0
    assert "snapshots" in capsys.readouterr().out
