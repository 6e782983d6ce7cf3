"""Benchmark of the alliance domain on eventsourcing + SQLite (not a pytest test).

Measures, in one run, in a fresh temporary directory, each store on its own SQLite file:

1. Write throughput (events/s), the same number of events each:
   a. service, one command per save: `app.act(...)` (load, command, save),
      alternately answering a question and amending a commitment;
   b. service, batched like a sync push: load the alliance, 50 x `app.run_command`, one `app.save`;
   c. raw eventsourcing: a plain `Aggregate` with one `@event` method and the same fields
      (text of the same size), kept in memory, 50 events per save, plain `Application`, no snapshots;
      (c') the same but reloaded per batch, snapshots every 100 (the access pattern of b);
   d. raw `sqlite3.executemany` of comparable rows in one transaction, WAL mode.
2. Load times for one alliance of 10,000 events (snapshots every 100): the latest
   version (without and with the aggregate cache) and old versions, median ms (an old
   version is read after the latest, as `app.alliance(id, version=)` does).
3. `app.diff` between two far-apart versions, median ms.
4. One page of `app.history(limit=20)`, median ms.

Run:  make bench        (= .venv/bin/python -O tests/benchmarks/bench_domain.py)
      .venv/bin/python -O tests/benchmarks/bench_domain.py --events 20000
      .venv/bin/python -O tests/benchmarks/bench_domain.py --quick     (a smoke run)
Use -O (replay asserts cost about 2.5x); compare ratios within one run, not across machines.
"""

import argparse
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from events.application import AllianceApplication
from server.settings import Settings

BATCH = 50
TEXT = 200  # characters of free text per event, about a short answer
ME, PHONE = "ann", "phone"


def text(i: int) -> str:
    """A different TEXT-character text for every i (the domain ignores repeats)."""
    return (f"Answer number {i}: " + "we meet on Tuesdays and say what is hard. " * 5)[:TEXT]


def state_bytes(path: Path) -> float:
    """Mean size of the stored events' state column in a SQLite file."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT avg(length(state)) FROM stored_events").fetchone()[0]


# ----- the alliance workload -----

class Workload:
    """Commands that each record exactly one event: answers to the questions in turn,
    alternating with amendments of one commitment (the caller tracks revisions)."""

    def __init__(self, app: AllianceApplication) -> None:
        self.app, self.id, self.commitment = app, uuid.uuid4(), str(uuid.uuid4())
        alliance = app.design_alliance(alliance_id=self.id, by=ME, device=PHONE, title="Bench",
                                       template="team", facilitator_name="Ann")
        self.questions = sorted(set(alliance.questions) - alliance.private_questions())  # those take own answers
        app.act(self.id, "make_commitment", by=ME, device=PHONE, commitment_id=self.commitment,
                text="Send the notes", owner_id=ME, due="2026-12-01")
        self.revisions = {key: 0 for key in self.questions} | {self.commitment: 1}
        self.done = 0

    def next(self) -> tuple[str, dict]:
        i, self.done = self.done, self.done + 1
        if i % 2:
            key, command, args = self.commitment, "amend_commitment", {"commitment_id": self.commitment}
        else:
            key = self.questions[(i // 2) % len(self.questions)]
            command, args = "answer_question", {"question_id": key}
        args.update(text=text(i), base_revision=self.revisions[key])
        self.revisions[key] += 1
        return command, args

    def one_per_save(self, n: int) -> None:
        for _ in range(n):
            command, args = self.next()
            self.app.act(self.id, command, by=ME, device=PHONE, **args)

    def batched(self, n: int) -> None:
        for start in range(0, n, BATCH):
            alliance = self.app.alliance(self.id)
            for _ in range(min(BATCH, n - start)):
                command, args = self.next()
                self.app.run_command(alliance, command, by=ME, device=PHONE, args=args)
            self.app.save(alliance)

    def check(self, expected_events: int) -> None:
        found = self.app.alliance(self.id).version
        if found != expected_events:
            raise RuntimeError(f"expected {expected_events} events, found {found}")


def service(path: Path, n: int, batched: bool) -> tuple[float, Path]:
    app = AllianceApplication(env=Settings(data_dir=path).event_store_env("alliances"))
    work = Workload(app)  # design + first commitment: 2 events, not timed
    started = time.perf_counter()
    (work.batched if batched else work.one_per_save)(n)
    elapsed = time.perf_counter() - started
    work.check(n + 2)
    app.close()
    return elapsed, path / "alliances.sqlite"


# ----- raw eventsourcing -----

class Note(Aggregate):
    @event("Noted")
    def note(self, by: str, device: str, key: str, text: str, chain: str, base_revision: int) -> None:
        self.last = text


class SnapshottingApp(Application):
    snapshotting_intervals = {Note: 100}


def raw_eventsourcing(path: Path, n: int, reload: bool) -> tuple[float, Path]:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    app = (SnapshottingApp if reload else Application)(env=env)
    note = Note()
    app.save(note)
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        if reload:
            note = app.repository.get(note.id)
        for i in range(start, min(start + BATCH, n)):
            note.note(by=ME, device=PHONE, key="team.purpose.why", text=text(i),
                      chain=f"{i:064x}", base_revision=i)
        app.save(note)
    elapsed = time.perf_counter() - started
    if app.repository.get(note.id).version != n + 1:
        raise RuntimeError("raw eventsourcing lost events")
    app.close()
    return elapsed, path


# ----- raw sqlite3 -----

def raw_sqlite(path: Path, n: int) -> tuple[float, Path]:
    originator = str(uuid.uuid4())
    rows = [(originator, i + 1, "alliance.QuestionAnswered", json.dumps({
        "timestamp": {"_type_": "datetime_iso", "_data_": datetime.now(timezone.utc).isoformat()},
        "by": ME, "device": PHONE, "chain": hashlib.sha256(str(i).encode()).hexdigest(),
        "question_id": "team.purpose.why", "text": text(i), "base_revision": i}).encode())
        for i in range(n)]
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
               "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))")
    started = time.perf_counter()
    db.execute("BEGIN")
    db.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", rows)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed, path


# ----- reads -----

def median_ms(fn, runs: int) -> tuple[float, float]:
    """(median, min) milliseconds over `runs` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def reads(path: Path, total: int, runs: int) -> list[tuple[str, float, float]]:
    env = Settings(data_dir=path).event_store_env("alliances")
    app = AllianceApplication(env=env)
    cold = AllianceApplication(env=dict(env, AGGREGATE_CACHE_MAXSIZE=""))  # as a new process sees it
    work = Workload(app)
    work.batched(total - 2)
    work.check(total)
    a, i = work.id, total // 2
    measured = [
        (f"load latest, no cache (v{total:,}, a snapshot)", lambda: cold.alliance(a)),
        ("load latest, cached (fast-forwarded)", lambda: app.alliance(a)),
        (f"load v{total // 20:,}", lambda: app.alliance(a, version=total // 20)),
        (f"load v{i:,}", lambda: app.alliance(a, version=i)),
        (f"load v{i + 99:,} (99 events past a snapshot)", lambda: app.alliance(a, version=i + 99)),
        (f"diff v100 -> v{total - 100:,}", lambda: app.diff(a, 100, total - 100)),
        ("history page, limit=20 (newest)", lambda: app.history(a, limit=20)),
    ]
    results = [(label, *median_ms(fn, runs)) for label, fn in measured]
    app.close()
    cold.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, help="events per write test (default 5,000; quick 200)")
    parser.add_argument("--quick", action="store_true", help="a smoke run with small numbers")
    options = parser.parse_args()
    n = options.events or (200 if options.quick else 5_000)
    total, runs = (1_000, 3) if options.quick else (10_000, 15)

    with tempfile.TemporaryDirectory(prefix="bench-domain-") as tmp:
        root = Path(tmp)
        print(f"Write throughput: {n:,} events each, fresh SQLite file each, batches of {BATCH}\n")
        writes = {
            "a": ("service, one command per save (app.act)", service(root / "a", n, False)),
            "b": (f"service, batched ({BATCH} run_command + 1 save)", service(root / "b", n, True)),
            "c": (f"raw eventsourcing, {BATCH} events per save", raw_eventsourcing(root / "c", n, False)),
            "c'": ("  same, reload per batch + snapshots/100", raw_eventsourcing(root / "c2", n, True)),
            "d": ("raw sqlite3 executemany, 1 transaction", raw_sqlite(root / "d.sqlite", n)),
        }
        rate = {key: n / elapsed for key, (_, (elapsed, _)) in writes.items()}
        print(f"{'':3} {'variant':46} {'seconds':>8} {'events/s':>10} {'state bytes':>12}")
        for key, (label, (elapsed, path)) in writes.items():
            print(f"{key:3} {label:46} {elapsed:8.2f} {rate[key]:10,.0f} {state_bytes(path):12.0f}")
        print("\nRatios (throughput):")
        for x, y, what in (("b", "c", "batched service vs raw eventsourcing"),
                           ("a", "c", "one-per-save service vs raw eventsourcing"),
                           ("c", "d", "raw eventsourcing vs raw sqlite3"),
                           ("b", "d", "batched service vs raw sqlite3"),
                           ("b", "a", "batched vs one-per-save service"),
                           ("b", "c'", "batched service vs raw eventsourcing with reload+snapshots")):
            print(f"  {f'({x})/({y})':9} = {rate[x] / rate[y]:6.3f}   {what}")

        print(f"\nReads: one alliance of {total:,} events (built batched), median of {runs} runs\n")
        print(f"{'operation':46} {'median ms':>10} {'min ms':>8}")
        for label, median, fastest in reads(root / "reads", total, runs):
            print(f"{label:46} {median:10.2f} {fastest:8.2f}")

    asserts = "-O, asserts off" if sys.flags.optimize else "asserts ON: use -O"
    print(f"\nPython {platform.python_version()} ({asserts}), "
          f"eventsourcing {package_version('eventsourcing')}, SQLite {sqlite3.sqlite_version}")
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"Command: {' '.join(sys.orig_argv)}")


if __name__ == "__main__":
    main()
