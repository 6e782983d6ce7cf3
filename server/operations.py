"""Operating the event store: migrate, backup and restore, export and import,
stats, rebuild. `server/cli.py` is the argparse front; each function here returns an
exit code and raises OperationError (one line, exit 2) for bad input.

The export format is JSON Lines in log (notification id) order, one line per
stored event: {"id", "originator_id", "originator_version", "topic", "state"}
where `state` is the event's state as the transcoder writes it (datetimes as
{"_type_": "datetime_iso", "_data_": ...}), decrypted and decompressed.
Import re-encodes with the target store's transcoder, compressor and cipher,
so a store can move between SQLite and PostgreSQL and between cipher keys.
Snapshots are not exported: replay works without them, and new ones are
taken when alliances are saved again.
"""

import json
import os
import shutil
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlparse
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent

from events.application import AllianceApplication
from server.settings import Settings

STORE = "alliances"
BATCH = 500  # events per read or insert
SQLITE_MAGIC = b"SQLite format 3\x00"
SIGNED_UP_TOPIC = "account.SignedUp"


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
    try:
        write(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


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
        count = 0

        def write(path: Path) -> None:
            nonlocal count
            count = _export_to(app, path)

        _write_atomically(target, force, write)
    finally:
        app.close()
    print(f"Exported {count} events from {describe(settings)} to {target}")
    return 0


def _export_to(app: AllianceApplication, path: Path) -> int:
    progress = Progress("export", app.recorder.max_notification_id() or 0)
    with path.open("w", encoding="utf-8") as out:
        for stored in notifications(app):
            line = {"id": stored.id, "originator_id": str(stored.originator_id),
                    "originator_version": stored.originator_version, "topic": stored.topic,
                    "state": json.loads(state_json(app, stored.state))}
            out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            progress.advance()
    progress.finish()
    return progress.done


def import_(settings: Settings, source: Path) -> int:
    lines = _check_export(source)  # every line is checked before anything is written
    app = open_store(settings, must_exist=False)
    try:
        if app.recorder.max_notification_id() is not None:
            raise OperationError(f"{describe(settings)} is not empty: import only into an empty store")
        progress = Progress("import", lines)
        last_id = renumbered = 0
        with source.open(encoding="utf-8") as file:
            batch: list[StoredEvent] = []
            for number, line in enumerate(_export_lines(file), start=1):
                batch.append(StoredEvent(originator_id=UUID(line["originator_id"]),
                                         originator_version=line["originator_version"], topic=line["topic"],
                                         state=stored_state(app, line["state"])))
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
    print(f"Imported {lines} events from {source} into {describe(settings)}")
    if renumbered or end != last_id:
        print(f"Note: the log was renumbered (the export's ids had gaps; it ended at {last_id}, the store "
              f"now ends at {end}): devices should sign in again to pull everything afresh.")
    return 0


def _export_lines(file: IO[str]) -> Iterator[dict]:
    for text in file:
        if text.strip():
            yield json.loads(text)


def _check_export(source: Path) -> int:
    """Count the lines of an export, raising OperationError at the first bad one."""
    if not source.is_file():
        raise OperationError(f"there is no file {source}")
    previous, count = 0, 0
    with source.open(encoding="utf-8") as file:
        try:
            for number, text in enumerate(file, start=1):
                if not text.strip():
                    continue
                try:
                    line = json.loads(text)
                    problem = _line_problem(line, previous)
                except ValueError:
                    problem = "not JSON"
                if problem:
                    raise OperationError(f"{source} line {number}: {problem} (is this an `alliance export` file?)")
                previous, count = line["id"], count + 1
        except UnicodeDecodeError:
            raise OperationError(f"{source} is not a JSON Lines export (not UTF-8 text)") from None
    return count


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


def backup(settings: Settings, target: Path, force: bool = False) -> int:
    """A consistent copy while the service runs: SQLite's online backup, or
    on PostgreSQL an export."""
    if settings.database_url:
        return export(settings, target, force)
    source = sqlite_path(settings)
    if not source.exists():
        raise OperationError(f"there is no event store at {source}")

    def write(path: Path) -> None:
        with sqlite3.connect(source, timeout=10) as db, sqlite3.connect(path) as copy:
            db.backup(copy, progress=lambda _, remaining, total: print(
                f"\rbackup {total - remaining}/{total} pages", end="", file=sys.stderr, flush=True))
        db.close()
        copy.close()
        print(file=sys.stderr)

    _write_atomically(target, force, write)
    print(f"Backed up {source} to {target} ({target.stat().st_size} bytes)")
    return 0


def restore(settings: Settings, source: Path, force: bool = False) -> int:
    """A SQLite backup into an empty data dir, or an export into an empty store."""
    if not source.is_file():
        raise OperationError(f"there is no file {source}")
    with source.open("rb") as file:
        is_sqlite = file.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    if not is_sqlite:
        return import_(settings, source)
    if settings.database_url:
        raise OperationError(f"{source} is a SQLite backup; to move it to PostgreSQL, restore it into a SQLite "
                             "data dir, `alliance export` it there and `alliance import` the export")
    target = sqlite_path(settings)
    if target.exists() and not force:
        raise OperationError(f"a store exists at {target}: restore only into an empty data dir "
                             "(or pass --force to replace it; stop the service first)")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        shutil.copyfile(source, partial)
        events = _check_sqlite_store(partial, source)
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    print(f"Restored {source} into {target} ({events} events)")
    return 0


def _check_sqlite_store(path: Path, named: Path) -> int:
    try:
        with sqlite3.connect(path) as db:
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise OperationError(f"{named} is a damaged SQLite file")
            (count,) = db.execute("SELECT COUNT(*) FROM stored_events").fetchone()
        db.close()
    except sqlite3.DatabaseError as error:
        raise OperationError(f"{named} is not an alliance store backup ({error})") from None
    return count


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
        path = sqlite_path(settings)
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
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
