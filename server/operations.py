"""Operating the event store: migrate, backup and restore, export and import,
seal, stats, rebuild, export-person. `server/cli.py` is the argparse front; each
function here returns an exit code and raises OperationError (one line, exit 2)
for bad input.

The export format is JSON Lines. First, in log (notification id) order, one line
per stored event: {"id", "originator_id", "originator_version", "topic", "state"}
where `state` is the event's state as the transcoder writes it (datetimes as
{"_type_": "datetime_iso", "_data_": ...}), decrypted and decompressed, with every
text a person wrote sealed with their data key (issue 13: events/sealing.py).
Then one line per row of the key store: {"key": {"person", "scope", "key",
"erased_at"}}, the key unwrapped (base64) or, for an erasure, None beside its time.
So an export holds the keys in clear: it is as secret as the cipher key, and an
export taken after an erasure cannot read the erased words (their key is a tombstone).
Import re-encodes with the target store's transcoder, compressor and cipher and
wraps the keys with its cipher key, so a store can move between SQLite and
PostgreSQL and between cipher keys; chains verify unchanged. An export from before
issue 13 (plain texts, no key lines) is sealed as it is imported (see `Sealing`).
Snapshots are not exported: replay works without them, and new ones are
taken when alliances are saved again.

A backup of a SQLite store is a directory laid out like a data directory: the
events (`alliances.sqlite`) and the key store (`alliances-keys.sqlite`), each an
online SQLite backup, the events first (a key is made before the event that needs
it is saved, so every sealed text in the copy finds its key, or its tombstone).
Backups from before issue 13 are one SQLite file of events; `restore` takes both.
"""

import base64
import json
import os
import shutil
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlparse
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from jinja2 import Environment, FileSystemLoader

from events.accounts import account_id
from events.application import AllianceApplication
from events.audit import GENESIS, event_hash
from events.sealing import Sealer, UnreadableText, has_plain_text
from server.settings import Settings

STORE = "alliances"
BATCH = 500  # events per read or insert
SQLITE_MAGIC = b"SQLite format 3\x00"
SIGNED_UP_TOPIC = "account.SignedUp"
INVENTORY_STARTED_TOPIC = "inventory.InventoryStarted"


class OperationError(Exception):
    """An expected problem, told in one line (exit code 2)."""


# ----- the store -----

def sqlite_path(settings: Settings) -> Path:
    return settings.data_dir / f"{STORE}.sqlite"


def describe(settings: Settings) -> str:
    if settings.database_url:
        url = urlparse(settings.database_url)
        schema = parse_qs(url.query).get("schema", ["public"])[0]
        return f"PostgreSQL database {url.path.lstrip('/') or 'postgres'!r} on {url.hostname}, schema {schema!r}"
    return f"SQLite {sqlite_path(settings)}"


def open_store(settings: Settings, *, must_exist: bool = True, create_tables: bool | None = None) -> AllianceApplication:
    """The application on the configured store. A missing SQLite file is an
    error unless `must_exist` is off (opening would create an empty one)."""
    if must_exist and not settings.database_url and not sqlite_path(settings).exists():
        raise OperationError(f"there is no event store at {sqlite_path(settings)} "
                             "(set ALLIANCE_DATA_DIR, or run `alliance migrate` first)")
    env = settings.event_store_env(STORE)
    if settings.database_url:
        env.setdefault("POSTGRES_CONNECT_TIMEOUT", "10")  # an unreachable database: say so soon
    if create_tables is not None:
        env["CREATE_TABLE"] = "y" if create_tables else "n"
    return AllianceApplication(env=env)


def notifications(app: AllianceApplication, topics: tuple[str, ...] = ()) -> Iterator[Notification]:
    """The whole log (or the events with these topics) in notification id order."""
    start = None
    while True:
        found = app.recorder.select_notifications(start=start, limit=BATCH, topics=topics, inclusive_of_start=False)
        yield from found
        if len(found) < BATCH:
            return
        start = found[-1].id


def state_json(app: AllianceApplication, stored: bytes) -> bytes:
    """The transcoder's JSON text of stored state bytes (decrypted, decompressed)."""
    mapper = app.mapper
    if mapper.cipher:
        stored = mapper.cipher.decrypt(stored)
    if mapper.compressor:
        stored = mapper.compressor.decompress(stored)
    return stored


def stored_state(app: AllianceApplication, state: dict) -> bytes:
    """State from an export line, encoded as this store stores it."""
    mapper = app.mapper
    data = mapper.transcoder.encode(mapper.transcoder.decode(json.dumps(state).encode()))
    if mapper.compressor:
        data = mapper.compressor.compress(data)
    if mapper.cipher:
        data = mapper.cipher.encrypt(data)
    return data


class Progress:
    """A one-line progress display on stderr, redrawn at most 10 times a second."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done, self.shown = label, max(total, 0), 0, 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        if time.monotonic() - self.shown > 0.1:
            self._draw()

    def finish(self) -> None:
        self._draw()
        print(file=sys.stderr)

    def _draw(self) -> None:
        self.shown = time.monotonic()
        total = max(self.total, self.done)
        filled = 30 * self.done // total if total else 30
        print(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{total}",
              end="", file=sys.stderr, flush=True)


def _write_atomically(target: Path, force: bool, write: Any) -> None:
    """Write through a temporary file next to `target`, renamed into place
    only when complete, so a failed run never leaves a half file."""
    if target.exists() and not force:
        raise OperationError(f"{target} exists already (pass --force to replace it)")
    if not target.parent.is_dir():
        raise OperationError(f"there is no directory {target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    old = target.with_name(f".{target.name}.old")
    _remove(partial)
    try:
        write(partial)
        if target.is_dir() or partial.is_dir() and target.exists():  # no one-step swap with a directory
            os.replace(target, old)
        os.replace(partial, target)
    finally:
        _remove(partial)
        _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


# ----- commands -----

def migrate(settings: Settings) -> int:
    """Create the store's tables (idempotent)."""
    existed = _tables_exist(settings)
    if settings.database_url:
        _create_schema(settings)
    app = open_store(settings, must_exist=False, create_tables=True)
    try:
        repaired = app.repair_inventories()
        _create_reminder_tables(settings, app)
    finally:
        app.close()
    done = ["tables already there" if existed else "tables created"]
    if repaired:
        done.append(f"{repaired} account(s) pointing at an ally inventory never stored, repaired")
    print(f"{describe(settings)}: " + "; ".join(done if len(done) > 1 or not existed else [done[0] + ", nothing to do"]))
    return 0


def _create_reminder_tables(settings: Settings, app: AllianceApplication) -> None:
    """The reminders follower's own store (issue 12): its tables too are made here, once."""
    from events.reminders import Reminders

    env = dict(settings.event_store_env("reminders"), CREATE_TABLE="y")
    Reminders(app, env=env).close()


def export(settings: Settings, target: Path, force: bool = False) -> int:
    app = open_store(settings)
    try:
        counts = (0, 0)

        def write(path: Path) -> None:
            nonlocal counts
            counts = _export_to(app, path)

        _write_atomically(target, force, write)
    finally:
        app.close()
    print(f"Exported {counts[0]} events and {counts[1]} keys from {describe(settings)} to {target}")
    return 0


def _export_to(app: AllianceApplication, path: Path) -> tuple[int, int]:
    """(events, key rows) written. The keys are read after the events: a key is made
    before the event that needs it is saved, so every sealed text finds its row."""
    progress = Progress("export", app.recorder.max_notification_id() or 0)
    with path.open("w", encoding="utf-8") as out:
        for stored in notifications(app):
            out.write(_json_line(_line(app, stored)))
            progress.advance()
        progress.finish()
        rows = sorted(app.keys.rows(), key=lambda row: (row["person"], row["scope"]))
        for row in rows:
            out.write(_json_line({"key": row}))
    return progress.done, len(rows)


def _line(app: AllianceApplication, stored: Notification) -> dict:
    """A stored event as an export line."""
    return {"id": stored.id, "originator_id": str(stored.originator_id),
            "originator_version": stored.originator_version, "topic": stored.topic,
            "state": json.loads(state_json(app, stored.state))}


def _json_line(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def import_(settings: Settings, source: Path) -> int:
    checked = _check_export(source)  # every line is checked before anything is written
    app = open_store(settings, must_exist=False)
    try:
        if app.recorder.max_notification_id() is not None:
            raise OperationError(f"{describe(settings)} is not empty: import only into an empty store")
        if next(iter(app.keys.rows()), None) is not None:
            raise OperationError(f"the key store of {describe(settings)} is not empty: import only into an empty store")
        app.keys.load(checked.keys)  # before the events: their sealed texts need them
        sealing = Sealing(app)
        progress = Progress("import", checked.events)
        last_id = renumbered = 0
        with source.open(encoding="utf-8") as file:
            batch: list[StoredEvent] = []
            for number, line in enumerate(_event_lines(file), start=1):
                batch.append(StoredEvent(originator_id=UUID(line["originator_id"]),
                                         originator_version=line["originator_version"], topic=line["topic"],
                                         state=stored_state(app, sealing.seal(line))))
                renumbered += line["id"] != number  # a fresh store numbers its log 1, 2, 3 …
                last_id = line["id"]
                if len(batch) == BATCH:
                    app.recorder.insert_events(batch)
                    progress.advance(len(batch))
                    batch = []
            if batch:
                app.recorder.insert_events(batch)
                progress.advance(len(batch))
        progress.finish()
        end = app.recorder.max_notification_id() or 0
    finally:
        app.close()
    print(f"Imported {checked.events} events and {len(checked.keys)} keys from {source} into {describe(settings)}")
    if sealing.sealed:
        print(sealing.said())
    if renumbered or end != last_id:
        print(f"Note: the log was renumbered (the export's ids had gaps; it ended at {last_id}, the store "
              f"now ends at {end}): devices should sign in again to pull everything afresh.")
    return 0


def _export_lines(file: IO[str]) -> Iterator[dict]:
    for text in file:
        if text.strip():
            yield json.loads(text)


def _event_lines(file: IO[str]) -> Iterator[dict]:
    return (line for line in _export_lines(file) if "key" not in line)


@dataclass
class CheckedExport:
    events: int = 0
    keys: list[dict] = field(default_factory=list)


def _check_export(source: Path) -> CheckedExport:
    """Count the events and gather the key rows of an export, raising OperationError
    at the first bad line, or when a sealed text has neither its key nor a tombstone."""
    if not source.is_file():
        raise OperationError(f"there is no file {source}")
    checked, previous = CheckedExport(), 0
    needed: dict[tuple[str, str], int] = {}  # (author, scope) of each sealed text -> the first line with one
    have: set[tuple[str, str]] = set()
    with source.open(encoding="utf-8") as file:
        try:
            for number, text in enumerate(file, start=1):
                if not text.strip():
                    continue
                try:
                    line = json.loads(text)
                    is_key = isinstance(line, dict) and "key" in line
                    problem = _key_problem(line["key"], have) if is_key else _line_problem(line, previous)
                except ValueError:
                    problem = "not JSON"
                if problem:
                    raise OperationError(f"{source} line {number}: {problem} (is this an `alliance export` file?)")
                if is_key:
                    checked.keys.append(line["key"])
                    have.add((line["key"]["person"], str(UUID(line["key"]["scope"]))))
                    continue
                for author in sealed_authors(line["state"]):
                    needed.setdefault((author, str(UUID(line["originator_id"]))), number)
                previous, checked.events = line["id"], checked.events + 1
        except UnicodeDecodeError:
            raise OperationError(f"{source} is not a JSON Lines export (not UTF-8 text)") from None
    missing = sorted((number, author, scope) for (author, scope), number in needed.items()
                     if (author, scope) not in have)
    if missing:
        number, author, scope = missing[0]
        raise OperationError(
            f"{source} line {number}: a text sealed with the key of {author} in {scope} has no key line, nor "
            f"the tombstone of an erasure ({len(missing)} such key(s) missing): the export is incomplete "
            "(cut short, or its key lines removed); nothing was imported")
    return checked


def _line_problem(line: Any, previous: int) -> str:
    if not isinstance(line, dict):
        return "not a JSON object"
    if not isinstance(line.get("id"), int) or line["id"] <= previous:
        return "`id` must be a number above the line before's"
    try:
        UUID(str(line.get("originator_id")))
    except ValueError:
        return "`originator_id` is not a UUID"
    if not isinstance(line.get("originator_version"), int) or line["originator_version"] < 1:
        return "`originator_version` must be a whole number above 0"
    if not isinstance(line.get("topic"), str) or not isinstance(line.get("state"), dict):
        return "`topic` must be text and `state` an object"
    return ""


def _key_problem(row: Any, have: set[tuple[str, str]]) -> str:
    """What is wrong with a key line's row (see KeyStore.rows in events/sealing.py), or ''."""
    if not isinstance(row, dict) or not isinstance(row.get("person"), str) or not isinstance(row.get("scope"), str):
        return "a key line needs `person` and `scope` as text"
    try:
        scope = str(UUID(row["scope"]))
    except ValueError:
        return "a key line's `scope` is not a UUID"
    if (row["person"], scope) in have:
        return f"a second key line for {row['person']} in {scope}"
    key, erased_at = row.get("key"), row.get("erased_at")
    if (key is None) == (erased_at is None):
        return "a key line has either a `key` or, for an erasure, `erased_at` (not both, not neither)"
    if erased_at is not None:
        return "" if isinstance(erased_at, str) and _is_time(erased_at) else "`erased_at` is not an ISO time"
    try:
        return "" if len(base64.b64decode(key, validate=True)) == 32 else "a `key` must be 32 bytes"
    except (ValueError, TypeError):
        return "a `key` must be base64 text"


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
        return True
    except ValueError:
        return False


def sealed_authors(value: Any) -> Iterator[str]:
    """The author of each sealed text in a state as exported (`{"_sealed_", "_by_"}`)."""
    if isinstance(value, dict):
        if "_sealed_" in value:
            yield value.get("_by_")
            return
        for item in value.values():
            yield from sealed_authors(item)
    elif isinstance(value, list):
        for item in value:
            yield from sealed_authors(item)


# ----- the upgrade to sealed texts (issue 13) -----

class Sealing:
    """Seals the plain texts of events stored before issue 13, in log order, and
    recomputes the chain of each alliance from its first such event (the chain is
    over the stored form, and that changes). A record whose old chain is already
    broken is recomputed only up to the break and keeps its stored hashes from
    there on, so `alliance verify` still shows the same first bad event."""

    def __init__(self, app: AllianceApplication):
        self.app = app
        # An inventory's texts are its owner's, named by its first event: met before the others in
        # log order (on import the store may not hold it yet, so it is not looked up there).
        self.owners: dict[str, str] = {}
        self.sealer = Sealer(app.keys, self.owners.__getitem__)
        self.old_heads: dict[str, str] = {}  # each alliance's chain so far, as it was stored
        self.heads: dict[str, str] = {}  # and as it is now
        self.rechained: set[str] = set()
        self.broken: set[str] = set()
        self.sealed = 0

    def seal(self, line: dict) -> dict:
        """The line's state to store: the same object when nothing changes."""
        old = line["state"]
        state = old
        if line["topic"] == INVENTORY_STARTED_TOPIC:
            self.owners[line["originator_id"]] = old["owner"]
        if has_plain_text(line["topic"], old):
            state = self.sealer.seal_state(line["topic"], UUID(line["originator_id"]), line["originator_version"], old)
            self.sealed += 1
        if "chain" not in old:  # only alliance events are chained
            return state
        aid = line["originator_id"]
        if state is not old or aid in self.rechained:
            self.rechained.add(aid)
            intact = aid not in self.broken and old["chain"] == self._hash(self.old_heads.get(aid, GENESIS), line, old)
            if intact:
                state = dict(state, chain=self._hash(self.heads.get(aid, GENESIS), line, state))
            else:
                self.broken.add(aid)
        self.old_heads[aid], self.heads[aid] = old["chain"], state["chain"]
        return state

    def _hash(self, previous: str, line: dict, state: dict) -> str:
        plain = {name: value for name, value in state.items() if name != "chain"}
        decoded = self.app.mapper.transcoder.decode(json.dumps(plain).encode())  # as `verify` reads it
        return event_hash(previous, line["topic"], UUID(line["originator_id"]), line["originator_version"], decoded)

    def said(self) -> str:
        text = (f"Sealed the plain texts of {self.sealed} events stored before texts were sealed, each with its "
                f"author's key; the chains of {len(self.rechained)} alliances were recomputed over the sealed "
                "form. The chain heads devices hold from before no longer match: each device gets the new "
                "head on its next pull, and a check against an older one reports a rewrite (this upgrade).")
        if self.broken:
            text += (f"\n{len(self.broken)} alliance(s) had a broken chain already; theirs was recomputed up to "
                     "the break only, so `alliance verify` still shows it: " + ", ".join(sorted(self.broken)))
        return text


def seal(settings: Settings) -> int:
    """Rewrite a store from before issue 13 in place: every plain text sealed with its
    author's key, the chains recomputed, the snapshots (plain text) deleted, and the
    dead bytes of the old rows removed from the files. Stop the service first. Safe to
    repeat: a sealed store is left as it is."""
    app = open_store(settings)
    try:
        sealing = Sealing(app)
        progress = Progress("seal", app.recorder.max_notification_id() or 0)
        rewritten: list[tuple[UUID, int, bytes]] = []
        for stored in notifications(app):
            line = _line(app, stored)
            state = sealing.seal(line)
            if state is not line["state"]:
                rewritten.append((stored.originator_id, stored.originator_version, stored_state(app, state)))
            if len(rewritten) == BATCH:
                _rewrite_events(app, rewritten)
                rewritten = []
            progress.advance()
        _rewrite_events(app, rewritten)
        progress.finish()
        if sealing.sealed:
            _delete_all_snapshots(app)
        assert app.snapshots is not None
        tables = [app.recorder.events_table_name, app.snapshots.recorder.events_table_name]
    finally:
        app.close()
    if not sealing.sealed:
        print(f"{describe(settings)}: every text is sealed already, nothing to do")
        return 0
    _drop_dead_rows(settings, tables)
    print(sealing.said())
    print("The snapshots were deleted (they held plain text); `alliance rebuild` takes fresh ones.")
    return 0


def _rewrite_events(app: AllianceApplication, rows: list[tuple[UUID, int, bytes]]) -> None:
    recorder = app.recorder
    table = recorder.events_table_name
    if getattr(recorder.datastore, "schema", None) is None:  # SQLite: ids are stored as hex text
        statement: Any = f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = ?"
        params = [(state, aggregate_id.hex, version) for aggregate_id, version, state in rows]
    else:
        from psycopg import sql

        statement = sql.SQL("UPDATE {}.{} SET state = %s WHERE originator_id = %s AND originator_version = %s"
                            ).format(sql.Identifier(recorder.datastore.schema), sql.Identifier(table))
        params = [(state, aggregate_id, version) for aggregate_id, version, state in rows]
    with recorder.datastore.transaction(commit=True) as cursor:
        for values in params:
            cursor.execute(statement, values)


def _delete_all_snapshots(app: AllianceApplication) -> None:
    assert app.snapshots is not None
    recorder = app.snapshots.recorder
    if getattr(recorder.datastore, "schema", None) is None:
        statement: Any = f"DELETE FROM {recorder.events_table_name}"
    else:
        from psycopg import sql

        statement = sql.SQL("DELETE FROM {}.{}").format(sql.Identifier(recorder.datastore.schema),
                                                        sql.Identifier(recorder.events_table_name))
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(statement)


def _drop_dead_rows(settings: Settings, tables: list[str]) -> None:
    """Rewritten and deleted rows leave their old bytes in the files until the database
    reclaims them: on SQLite VACUUM (with secure_delete) and an emptied WAL, on
    PostgreSQL VACUUM FULL of the events and snapshots tables."""
    if not settings.database_url:
        with sqlite3.connect(sqlite_path(settings), timeout=10, isolation_level=None) as db:
            db.execute("PRAGMA secure_delete=ON")
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        return
    from psycopg import sql

    with _postgres(settings) as db:
        for table in tables:
            db.execute(sql.SQL("VACUUM FULL {}.{}").format(sql.Identifier(_schema(settings)), sql.Identifier(table)))


def backup(settings: Settings, target: Path, force: bool = False) -> int:
    """A consistent copy while the service runs: on SQLite a directory holding an
    online backup of the events and then one of the key store; on PostgreSQL an
    export (the events, then the keys)."""
    if settings.database_url:
        return export(settings, target, force)
    source = sqlite_path(settings)
    if not source.exists():
        raise OperationError(f"there is no event store at {source}")
    keys = settings.key_store_path(STORE)

    def write(path: Path) -> None:
        path.mkdir()
        _sqlite_backup(source, path / source.name)
        if keys.exists():  # after the events: see the module's doc
            _sqlite_backup(keys, path / keys.name)

    _write_atomically(target, force, write)
    size = sum(f.stat().st_size for f in target.iterdir())
    print(f"Backed up {source} and its key store to {target}/ ({size} bytes)")
    return 0


def _sqlite_backup(source: Path, target: Path) -> None:
    with sqlite3.connect(source, timeout=10) as db, sqlite3.connect(target) as copy:
        db.backup(copy, progress=lambda _, remaining, total: print(
            f"\rbackup {source.name} {total - remaining}/{total} pages", end="", file=sys.stderr, flush=True))
    db.close()
    copy.close()
    print(file=sys.stderr)


def restore(settings: Settings, source: Path, force: bool = False) -> int:
    """A SQLite backup (a directory; or one file, from before issue 13) into an empty
    data dir, or an export into an empty store."""
    if source.is_dir():
        events, keys = source / f"{STORE}.sqlite", source / f"{STORE}-keys.sqlite"
        if not events.is_file():
            raise OperationError(f"{source} is not an `alliance backup` directory (it has no {events.name})")
        return _restore_sqlite(settings, source, events, keys if keys.exists() else None, force)
    if not source.is_file():
        raise OperationError(f"there is no file {source}")
    with source.open("rb") as file:
        is_sqlite = file.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    if not is_sqlite:
        return import_(settings, source)
    return _restore_sqlite(settings, source, source, None, force)  # from before issue 13: no key store


def _restore_sqlite(settings: Settings, named: Path, events: Path, keys: Path | None, force: bool) -> int:
    if settings.database_url:
        raise OperationError(f"{named} is a SQLite backup; to move it to PostgreSQL, restore it into a SQLite "
                             "data dir, `alliance export` it there and `alliance import` the export")
    targets = [sqlite_path(settings), settings.key_store_path(STORE)]
    if any(target.exists() for target in targets) and not force:
        raise OperationError(f"a store exists at {targets[0]}: restore only into an empty data dir "
                             "(or pass --force to replace it; stop the service first)")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    staged = settings.data_dir / ".restore.partial"  # both files checked before either replaces anything
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    try:
        shutil.copyfile(events, staged / targets[0].name)
        count = _check_sqlite_store(staged / targets[0].name, named)
        if keys is not None:
            shutil.copyfile(keys, staged / targets[1].name)
            _check_sqlite_file(staged / targets[1].name, keys)
        _check_readable(settings, staged / targets[0].name, staged / targets[1].name, named)
        for target in targets:
            for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
                leftover.unlink(missing_ok=True)
        targets[1].unlink(missing_ok=True)  # the replaced store's keys go with it
        for target in targets:
            if (staged / target.name).exists():
                os.replace(staged / target.name, target)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    said = "" if keys is not None else (" (one file, with no key store: if its texts are plain, "
                                        "run `alliance seal` now)")
    print(f"Restored {named} into {settings.data_dir} ({count} events){said}")
    return 0


def _check_sqlite_store(path: Path, named: Path) -> int:
    try:
        _check_sqlite_file(path, named)
        with sqlite3.connect(path) as db:
            (count,) = db.execute("SELECT COUNT(*) FROM stored_events").fetchone()
        db.close()
    except sqlite3.DatabaseError as error:
        raise OperationError(f"{named} is not an alliance store backup ({error})") from None
    return count


def _check_readable(settings: Settings, events: Path, keys: Path, named: Path) -> None:
    """Every stored event opens with this store's cipher key, and every sealed text in them
    has its key or the tombstone of an erasure."""
    env = dict(settings.event_store_env(STORE), SQLITE_DBNAME=str(events), KEYS_SQLITE_DBNAME=str(keys))
    app = AllianceApplication(env=env)
    try:
        missing = _keyless(app)
    except (ValueError, UnreadableText) as error:
        raise OperationError(f"{named} cannot be read with this ALLIANCE_CIPHER_KEY ({error})") from None
    finally:
        app.close()
    if missing:
        raise OperationError(f"{named} holds texts sealed with {len(missing)} key(s) that its key store does not "
                             f"have, nor their erasure's tombstone (the first: {missing[0][0]} in {missing[0][1]}): "
                             f"was {STORE}-keys.sqlite left behind? Nothing was restored")


def _keyless(app: AllianceApplication) -> list[tuple[str, str]]:
    """(author, scope) of the store's sealed texts that have neither their key nor a tombstone."""
    needed = set()
    for stored in notifications(app):
        state = json.loads(state_json(app, stored.state))
        needed.update((author, str(stored.originator_id)) for author in sealed_authors(state))
    return sorted(pair for pair in needed if app.keys.key(*pair) is None and app.keys.erased_at(*pair) is None)


def _check_sqlite_file(path: Path, named: Path) -> None:
    try:
        with sqlite3.connect(path) as db:
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise OperationError(f"{named} is a damaged SQLite file")
        db.close()
    except sqlite3.DatabaseError as error:
        raise OperationError(f"{named} is not a SQLite file ({error})") from None


def stats(settings: Settings, days: int = 14) -> int:
    app = open_store(settings)
    try:
        alliances, participants = 0, set()
        for aid in app.alliance_ids():
            alliances += 1
            participants.update(app.alliance(aid, copy=False).members())
        accounts = sum(1 for _ in notifications(app, (SIGNED_UP_TOPIC,)))
        events = app.recorder.max_notification_id() or 0
        today = datetime.now(UTC).date()
        first_day = today - timedelta(days=days - 1)
        per_day: Counter = Counter()
        progress = Progress("scanning the log", events)
        for stored in notifications(app):
            stamp = app.mapper.transcoder.decode(state_json(app, stored.state)).get("timestamp")
            if isinstance(stamp, datetime) and stamp.astimezone(UTC).date() >= first_day:
                per_day[stamp.astimezone(UTC).date()] += 1
            progress.advance()
        progress.finish()
    finally:
        app.close()
    print(f"Store:        {describe(settings)}")
    print(f"Alliances:    {alliances}")
    print(f"Participants: {len(participants)}")
    print(f"Accounts:     {accounts}")
    print(f"Events:       {events}")
    print(f"Store size:   {_store_size(settings)} bytes")
    print(f"Events per day (UTC, last {days} days):")
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        print(f"  {day.isoformat()}  {per_day[day]}")
    return 0


# ----- take your data with you (issue 13) -----

PAGES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)


def my_data_page(data: dict) -> str:
    """The readable page of what `export_person` returns (the HTTP page renders the same template)."""
    return PAGES.get_template("my_data.html").render(data=data)


def export_person(settings: Settings, email: str, *, html: bool = False, output: Path | None = None,
                  force: bool = False) -> int:
    """Everything the store holds about one person, as JSON or as the readable page."""
    app = open_store(settings)
    try:
        user_id = account_id(email)
        if not app.stored(user_id):
            raise OperationError(f"there is no account with the email address {email}")
        data = app.export_person(str(user_id))
    finally:
        app.close()
    text = my_data_page(data) if html else json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return 0
    _write_atomically(output, force, lambda path: path.write_text(text, encoding="utf-8"))
    print(f"Wrote what the store holds about {email} to {output}", file=sys.stderr)
    return 0


# ----- the database underneath -----

def _schema(settings: Settings) -> str:
    return parse_qs(urlparse(settings.database_url).query).get("schema", ["public"])[0]


def _postgres(settings: Settings):
    import psycopg

    return psycopg.connect(settings.postgres_dsn, autocommit=True, connect_timeout=10)


def _create_schema(settings: Settings) -> None:
    from psycopg import sql

    with _postgres(settings) as db:
        db.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(_schema(settings))))


def _tables_exist(settings: Settings) -> bool:
    if not settings.database_url:
        path = sqlite_path(settings)
        if not path.exists():
            return False
        with sqlite3.connect(path) as db:
            found = db.execute("SELECT name FROM sqlite_master WHERE name='stored_events'").fetchone()
        db.close()
        return found is not None
    with _postgres(settings) as db:
        (found,) = db.execute("SELECT to_regclass(%s) IS NOT NULL",
                              (f'"{_schema(settings)}"."{STORE}_events"',)).fetchone()
    return bool(found)


def _store_size(settings: Settings) -> int:
    if not settings.database_url:
        files = [sqlite_path(settings), settings.key_store_path(STORE)]
        return sum(p.stat().st_size for f in files for p in (f, Path(f"{f}-wal")) if p.exists())
    with _postgres(settings) as db:
        (size,) = db.execute(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname LIKE %s",
            (_schema(settings), f"{STORE}\\_%")).fetchone()
    return int(size)


# ----- rebuild: the read models (snapshots) from the events -----

REBUILT_TOPICS = {"alliance.Designed": "alliance", SIGNED_UP_TOPIC: "account", "device.DeviceRegistered": "device"}


def rebuild(settings: Settings) -> int:
    """Replay every alliance, account and device from its events alone, check
    each stored snapshot against the replay, replace any that disagree, and
    snapshot each one at its latest version."""
    app = open_store(settings)
    try:
        found = [(REBUILT_TOPICS[n.topic], n.originator_id) for n in notifications(app, tuple(REBUILT_TOPICS))]
        progress = Progress("rebuild", len(found))
        written = disagreements = 0
        problems: list[str] = []
        for kind, aggregate_id in found:
            bad, count = _rebuild_one(app, aggregate_id)
            written += count
            disagreements += len(bad)
            problems += [f"{kind} {aggregate_id}: snapshot at v{version} disagreed with the events; replaced"
                         for version in bad]
            progress.advance()
        progress.finish()
    finally:
        app.close()
    for line in problems:
        print(line)
    print(f"{len(found)} aggregates checked, {written} snapshots written, {disagreements} disagreements")
    return 0


def _rebuild_one(app: AllianceApplication, aggregate_id: UUID) -> tuple[list[int], int]:
    """(versions of the snapshots that disagreed, snapshots written) for one aggregate."""
    assert app.snapshots is not None
    stored = {s.originator_version: s for s in app.snapshots.recorder.select_events(aggregate_id)}
    bad: list[int] = []
    fresh: list[StoredEvent] = []  # encoded at once: the replay goes on changing the aggregate in place
    aggregate = None
    for event in app.events.get(aggregate_id):
        aggregate = event.mutate(aggregate)
        if aggregate is not None and aggregate.version in stored \
                and not _snapshot_agrees(app, stored[aggregate.version], aggregate):
            bad.append(aggregate.version)
            fresh.append(app.mapper.to_stored_event(type(aggregate).Snapshot.take(aggregate)))
    if aggregate is None:
        return bad, 0
    if aggregate.version not in stored:
        fresh.append(app.mapper.to_stored_event(type(aggregate).Snapshot.take(aggregate)))
    # A snapshot beyond the last event would be read before the events: it goes too.
    bad += [version for version in stored if version > aggregate.version]
    if bad:
        _delete_snapshots(app, aggregate_id, bad)
    written = 0
    for snapshot in fresh:
        try:
            app.snapshots.recorder.insert_events([snapshot])
            written += 1
        except IntegrityError:  # the running service took this very snapshot meanwhile
            pass
    return bad, written


def _snapshot_agrees(app: AllianceApplication, stored: StoredEvent, replayed: Any) -> bool:
    try:
        from_snapshot = app.mapper.to_domain_event(stored).mutate(None)
    except Exception:  # undecodable, or of a class that no longer fits: it disagrees
        return False
    return _comparable(app, from_snapshot) == _comparable(app, replayed)


def _comparable(app: AllianceApplication, aggregate: Any) -> Any:
    """The aggregate's state as the transcoder writes it, read back as plain JSON."""
    state = dict(vars(aggregate))
    state.pop("_pending_events", None)
    return type(aggregate).__qualname__, json.loads(app.mapper.transcoder.encode(state))


def _delete_snapshots(app: AllianceApplication, aggregate_id: UUID, versions: list[int]) -> None:
    assert app.snapshots is not None
    recorder = app.snapshots.recorder
    table = recorder.events_table_name
    if getattr(recorder.datastore, "schema", None) is None:  # SQLite: ids are stored as hex text
        statement: Any = f"DELETE FROM {table} WHERE originator_id = ? AND originator_version = ?"
        key: Any = aggregate_id.hex
    else:
        from psycopg import sql

        statement = sql.SQL("DELETE FROM {}.{} WHERE originator_id = %s AND originator_version = %s").format(
            sql.Identifier(recorder.datastore.schema), sql.Identifier(table))
        key = aggregate_id
    with recorder.datastore.transaction(commit=True) as cursor:
        for version in versions:
            cursor.execute(statement, (key, version))
