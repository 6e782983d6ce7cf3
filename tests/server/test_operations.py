"""The operator's commands: migrate, export/import, backup/restore, stats.

Everything runs through `main([...])` with the settings in the environment,
on SQLite in temporary directories; one round trip goes to PostgreSQL.
"""

import base64
import json
import os
import threading
import uuid
from datetime import UTC, datetime

import pytest

from events.application import AllianceApplication
from server.cli import main
from server.settings import Settings
from sync import SyncService

PASSWORD = "a long enough secret"


def store_env(monkeypatch, data_dir=None, *, url="", cipher_key=""):
    for key in ("ALLIANCE_DATA_DIR", "ALLIANCE_DATABASE_URL", "ALLIANCE_CIPHER_KEY", "ALLIANCE_CREATE_TABLES"):
        monkeypatch.delenv(key, raising=False)
    if data_dir is not None:
        monkeypatch.setenv("ALLIANCE_DATA_DIR", str(data_dir))
    if url:
        monkeypatch.setenv("ALLIANCE_DATABASE_URL", url)
    if cipher_key:
        monkeypatch.setenv("ALLIANCE_CIPHER_KEY", cipher_key)


def open_app(monkeypatch, data_dir=None, **kwargs) -> AllianceApplication:
    store_env(monkeypatch, data_dir, **kwargs)
    return AllianceApplication(env=Settings.from_env().event_store_env("alliances"))


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def sign_up(app, name) -> str:
    user_id, _ = app.sign_up(email=f"{name}-{uuid.uuid4().hex[:8]}@example.org", password=PASSWORD,
                             display_name=name.capitalize())
    return user_id


def push(app, user_id, client_id, number, alliance_id, name, **args):
    mutation = {"id": number, "alliance_id": str(alliance_id), "name": name, "args": args}
    (result,) = SyncService(app).push(user_id, client_id, [mutation]).results
    assert result["status"] == "applied", result
    return result


def small_world(app) -> dict:
    """Two accounts, two alliances (one both joined, with a few changes)."""
    ann, bob = sign_up(app, "ann"), sign_up(app, "bob")
    first, second = uuid.uuid4(), uuid.uuid4()
    push(app, ann, "ann-phone", 1, first, "create_alliance", title="Coaching", template="coaching")
    push(app, bob, "bob-phone", 1, second, "create_alliance", title="Running", template="coaching")
    link = app.create_invitation(ann, str(first), name="Bob")
    app.accept_invitation(bob, link["token"])
    push(app, bob, "bob-phone", 2, first, "make_commitment", commitment_id=str(uuid.uuid4()),
         text="Weekly check-in", owner_id=bob, due="2027-03-03")
    return {"accounts": [ann, bob], "alliances": [first, second]}


def snapshot(app) -> dict:
    """Every alliance's state and chain, by id."""
    return {aid: (app.alliance(aid).as_dict(), app.verify(aid).as_dict()) for aid in app.alliance_ids()}


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr("events.accounts.PASSWORDS", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A SQLite store with a small world in tmp_path/source; its snapshot."""
    app = open_app(monkeypatch, tmp_path / "source")
    small_world(app)
    state = snapshot(app)
    app.close()
    assert len(state) == 2 and all(chain["ok"] for _, chain in state.values())
    return state


def read_store(monkeypatch, data_dir=None, **kwargs) -> dict:
    app = open_app(monkeypatch, data_dir, **kwargs)
    try:
        return snapshot(app)
    finally:
        app.close()


def test_export_then_import_into_an_empty_store_gives_the_same_alliances(world, tmp_path, monkeypatch, capsys):
    store_env(monkeypatch, tmp_path / "source")
    assert main(["export", str(tmp_path / "log.jsonl")]) == 0
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    events = [line for line in lines if "key" not in line]
    keys = lines[len(events):]  # the key store's rows come after the events
    assert [line["id"] for line in events] == list(range(1, len(events) + 1))
    designed = next(line for line in events if line["topic"] == "alliance.Designed")
    assert designed["state"]["timestamp"]["_type_"] == "datetime_iso"
    assert set(designed) == {"id", "originator_id", "originator_version", "topic", "state"}
    assert keys and all(set(line["key"]) == {"person", "scope", "key", "erased_at"} for line in keys)

    store_env(monkeypatch, tmp_path / "plain")
    assert main(["import", str(tmp_path / "log.jsonl")]) == 0
    assert f"Imported {len(events)} events and {len(keys)} keys" in capsys.readouterr().out
    assert read_store(monkeypatch, tmp_path / "plain") == world

    key = new_key()  # into a store encrypted at rest
    store_env(monkeypatch, tmp_path / "secret", cipher_key=key)
    assert main(["import", str(tmp_path / "log.jsonl")]) == 0
    assert read_store(monkeypatch, tmp_path / "secret", cipher_key=key) == world
    assert b"Coaching" not in (tmp_path / "secret" / "alliances.sqlite").read_bytes()

    # and out again through the cipher: the same lines
    store_env(monkeypatch, tmp_path / "secret", cipher_key=key)
    assert main(["export", str(tmp_path / "again.jsonl")]) == 0
    assert [json.loads(line) for line in (tmp_path / "again.jsonl").read_text().splitlines()] == lines
    assert main(["verify"]) == 0


def test_import_into_a_store_with_events_is_refused(world, tmp_path, monkeypatch, capsys):
    store_env(monkeypatch, tmp_path / "source")
    assert main(["export", str(tmp_path / "log.jsonl")]) == 0
    capsys.readouterr()
    assert main(["import", str(tmp_path / "log.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "is not empty: import only into an empty store" in err and "Traceback" not in err
    assert read_store(monkeypatch, tmp_path / "source") == world


def test_bad_input_is_a_one_line_error(world, tmp_path, monkeypatch, capsys):
    store_env(monkeypatch, tmp_path / "empty")
    assert main(["import", str(tmp_path / "missing.jsonl")]) == 2
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n')
    assert main(["import", str(tmp_path / "bad.jsonl")]) == 2
    assert main(["export", str(tmp_path / "x.jsonl")]) == 2  # no store in this data dir
    store_env(monkeypatch, tmp_path / "source")
    (tmp_path / "taken.jsonl").write_text("")
    assert main(["export", str(tmp_path / "taken.jsonl")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert [e.split(":")[0] for e in errors] == ["alliance"] * 4
    assert "bad.jsonl line 1:" in errors[1]
    with pytest.raises(SystemExit) as exit:
        main(["import"])
    assert exit.value.code == 2


def test_a_backup_taken_while_writing_restores_into_an_empty_dir(tmp_path, monkeypatch, capsys):
    app = open_app(monkeypatch, tmp_path / "live")
    world = small_world(app)
    ann, first = world["accounts"][0], world["alliances"][0]
    stop, written = threading.Event(), []

    def keep_writing():
        number = 1
        while not stop.is_set():
            number += 1
            push(app, ann, "ann-phone", number, first, "make_commitment", commitment_id=str(uuid.uuid4()),
                 text=f"Commitment {number}", owner_id=ann, due="2027-03-03")
            written.append(number)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        store_env(monkeypatch, tmp_path / "live")
        assert main(["backup", str(tmp_path / "backup")]) == 0
        during = len(written)
        while len(written) < during + 3:  # the service went on writing after the backup
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join()
    app.close()

    assert sorted(f.name for f in (tmp_path / "backup").iterdir()) == ["alliances-keys.sqlite", "alliances.sqlite"]
    store_env(monkeypatch, tmp_path / "restored")
    assert main(["restore", str(tmp_path / "backup")]) == 0
    restored = read_store(monkeypatch, tmp_path / "restored")
    assert all(chain["ok"] for _, chain in restored.values())
    assert restored.keys() == set(world["alliances"])
    # the copy is one consistent moment: some of the writes, complete
    made = len(restored[first][0]["commitments"])
    assert 5 <= made < len(written) + 1

    # identical to the store it came from, once that stops changing
    capsys.readouterr()
    store_env(monkeypatch, tmp_path / "live")
    assert main(["backup", str(tmp_path / "quiet")]) == 0
    store_env(monkeypatch, tmp_path / "restored-quiet")
    assert main(["restore", str(tmp_path / "quiet")]) == 0
    assert read_store(monkeypatch, tmp_path / "restored-quiet") == read_store(monkeypatch, tmp_path / "live")


def test_restore_refuses_a_dir_with_a_store_unless_forced(world, tmp_path, monkeypatch, capsys):
    store_env(monkeypatch, tmp_path / "source")
    assert main(["backup", str(tmp_path / "backup")]) == 0
    assert main(["backup", str(tmp_path / "backup")]) == 2  # not over an earlier one unless forced
    assert main(["backup", "--force", str(tmp_path / "backup")]) == 0
    store_env(monkeypatch, tmp_path / "other")
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["restore", str(tmp_path / "backup")]) == 2
    assert "a store exists at" in capsys.readouterr().err
    assert read_store(monkeypatch, tmp_path / "other") == {}
    store_env(monkeypatch, tmp_path / "other")
    assert main(["restore", "--force", str(tmp_path / "backup")]) == 0
    assert read_store(monkeypatch, tmp_path / "other") == world
    (tmp_path / "not-a-backup").mkdir()
    assert main(["restore", "--force", str(tmp_path / "not-a-backup")]) == 2
    assert "is not an `alliance backup` directory" in capsys.readouterr().err
    assert read_store(monkeypatch, tmp_path / "other") == world


def test_stats_counts_a_small_world(tmp_path, monkeypatch, capsys):
    app = open_app(monkeypatch, tmp_path / "data")
    small_world(app)
    events = app.recorder.max_notification_id()
    app.close()
    store_env(monkeypatch, tmp_path / "data")
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "Alliances:    2\n" in out
    assert "Participants: 2\n" in out
    assert "Accounts:     2\n" in out
    assert f"Events:       {events}\n" in out
    size = (tmp_path / "data" / "alliances.sqlite").stat().st_size
    assert int(out.split("Store size:")[1].split()[0]) >= size
    today = datetime.now(UTC).date().isoformat()
    assert f"  {today}  {events}\n" in out
    assert len([line for line in out.splitlines() if line.startswith("  20")]) == 14


def test_migrate_is_idempotent(tmp_path, monkeypatch, capsys):
    store_env(monkeypatch, tmp_path / "data")
    assert main(["migrate"]) == 0
    assert "tables created" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "tables already there, nothing to do" in capsys.readouterr().out
    monkeypatch.setenv("ALLIANCE_CREATE_TABLES", "no")
    assert main(["stats"]) == 0
    assert "Events:       0" in capsys.readouterr().out


@pytest.mark.postgres
def test_a_sqlite_store_moves_to_postgresql(world, tmp_path, monkeypatch, capsys, postgres_url):
    import psycopg

    schema = f"ops_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = f"{postgres_url}?schema={schema}"
        store_env(monkeypatch, tmp_path / "source")
        assert main(["export", str(tmp_path / "log.jsonl")]) == 0
        store_env(monkeypatch, url=url)
        assert main(["migrate"]) == 0
        assert main(["import", str(tmp_path / "log.jsonl")]) == 0
        assert read_store(monkeypatch, url=url) == world
        capsys.readouterr()
        store_env(monkeypatch, url=url)
        assert main(["stats"]) == 0
        out = capsys.readouterr().out
        assert "Alliances:    2\n" in out and int(out.split("Store size:")[1].split()[0]) > 0
        assert main(["import", str(tmp_path / "log.jsonl")]) == 2  # not empty any more
        # a backup on PostgreSQL is an export, and restores anywhere
        assert main(["backup", str(tmp_path / "pg-backup.jsonl")]) == 0
        assert (tmp_path / "pg-backup.jsonl").read_text() == (tmp_path / "log.jsonl").read_text()
        store_env(monkeypatch, tmp_path / "back")
        assert main(["restore", str(tmp_path / "pg-backup.jsonl")]) == 0
        assert read_store(monkeypatch, tmp_path / "back") == world
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as db:
            db.execute(f'DROP SCHEMA "{schema}" CASCADE')
