"""Benchmark of a pull against other people's writing (issue 14; not a pytest test). In-process
(SyncService, no HTTP), on SQLite in a fresh temporary directory:
1. A phone behind while others wrote 100,000 events in their own alliances: its catching-up pull
   (nothing of its own new) against an up-to-date pull (medians of 250 alternated, after 50 to warm up); pulls needed; ratio (goal <= 2).
2. A pull bringing one new event (pushed by the person's other device just before), in a store of
   10,000 entries and in one of 1,000,000 (medians of 200, alternated, after 50); ratio (goal <= 1.1).
Others' events are copies of one real push under new ids, stored raw in transactions of 10,000.

Run:  .venv/bin/python -O tests/benchmarks/bench_pull_behind.py [--quick]   (--quick: 200,000 in 2.)
"""

import argparse
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from eventsourcing.persistence import StoredEvent

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from events.application import AllianceApplication  # noqa: E402
from server.settings import Settings  # noqa: E402
from sync import SyncService  # noqa: E402

WHY = "purpose.why"


class Phone:
    def __init__(self, app: AllianceApplication, user_id: str):
        self.app, self.user_id, self.client_id, self.sent = app, user_id, f"bench-{uuid.uuid4().hex[:10]}", 0

    def push(self, alliance_id: str, *mutations: tuple[str, dict]) -> None:
        body = [{"id": self.sent + 1 + i, "alliance_id": alliance_id, "name": n, "args": a}
                for i, (n, a) in enumerate(mutations)]
        self.sent += len(body)
        SyncService(self.app).push(self.user_id, self.client_id, body)

    def pull(self, cursor: str | None) -> dict:
        return SyncService(self.app).pull(self.user_id, self.client_id, cursor)


def person(app: AllianceApplication, name: str) -> Phone:
    user_id, _ = app.sign_up(email=f"{name}-{uuid.uuid4().hex[:6]}@example.org", password="a long enough secret",
                             display_name=name)
    return Phone(app, user_id)


def a_push(phone: Phone) -> list:
    """The stored entries of one real push (a new alliance, eight answers, the ledger last)."""
    before = phone.app.recorder.max_notification_id() or 0
    phone.push(str(uuid.uuid4()), ("create_alliance", {"title": "Elsewhere", "template": "coaching"}),
               *(("give_own_answer", {"question_id": WHY, "text": f"Thought {n}"}) for n in range(8)))
    found = phone.app.recorder.select_notifications(start=before, limit=100, inclusive_of_start=False)
    return [n for n in found if not n.topic.startswith("account.")]


def others_write(app: AllianceApplication, push: list, count: int) -> None:
    batch, written = [], 0
    while written < count:
        ids: dict = {}
        batch += [StoredEvent(originator_id=ids.setdefault(n.originator_id, uuid.uuid4()),
                              originator_version=n.originator_version, topic=n.topic, state=n.state) for n in push]
        written += len(push)
        if len(batch) >= 10_000 or written >= count:
            app.recorder.insert_events(batch)
            batch = []


def median_ms(run, samples: int) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def one_new_event(phone: Phone, laptop: Phone, aid: str, cursor: str) -> tuple[float, str]:
    """Ms of a pull that brings one new event (the laptop's, pushed just before); its cursor."""
    laptop.push(aid, ("give_own_answer", {"question_id": WHY, "text": f"Laptop {laptop.sent}"}))
    started = time.perf_counter()
    pulled = phone.pull(cursor)
    ms = (time.perf_counter() - started) * 1000
    if len(pulled["events"]) != 1 or pulled["more"]:
        raise SystemExit(f"expected one new event in one page, got {len(pulled['events'])}")
    return ms, pulled["cursor"]


def store(path: Path, count: int) -> tuple:
    """A store of about `count` entries, almost all of others; (app, phone, laptop, alliance id, [cursor])."""
    app = AllianceApplication(env=Settings(data_dir=path).event_store_env("alliances"))
    ann, carol = person(app, "Ann"), person(app, "Carol")
    aid = str(uuid.uuid4())
    ann.push(aid, ("create_alliance", {"title": "Coaching", "template": "coaching"}))
    others_write(app, a_push(carol), count - (app.recorder.max_notification_id() or 0))
    return app, ann, Phone(app, ann.user_id), aid, [ann.pull(None)["cursor"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="grow section 2 to 200,000 entries, not 1,000,000")
    args = parser.parse_args()
    big = 200_000 if args.quick else 1_000_000
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        app = AllianceApplication(env=Settings(data_dir=Path(tmp) / "behind").event_store_env("alliances"))
        ann, carol = person(app, "Ann"), person(app, "Carol")
        aid = str(uuid.uuid4())
        ann.push(aid, ("create_alliance", {"title": "Coaching", "template": "coaching"}))
        cursor = ann.pull(None)["cursor"]
        elsewhere = a_push(carol)
        others_write(app, elsewhere, 100_000)
        pulls, at = 0, cursor
        while True:  # how many pulls the phone needs to catch up; `at` ends up at the end of the log
            pulls, pulled = pulls + 1, ann.pull(at)
            at = pulled["cursor"]
            if not pulled["more"]:
                break
        up_to_date, behind = [], []
        for _ in range(300):  # alternated, so the machine's other load falls on both alike
            up_to_date.append(median_ms(lambda: ann.pull(at), 1))
            behind.append(median_ms(lambda: ann.pull(cursor), 1))
        up_to_date, behind = statistics.median(up_to_date[50:]), statistics.median(behind[50:])
        print("1. A phone behind while others wrote 100,000 events in their own alliances\n")
        print(f"{'pull (in-process, SQLite)':<52}{'median ms':>10}")
        print(f"{'(a) up to date, nothing new':<52}{up_to_date:>10.3f}")
        print(f"{'(b) behind 100,000 events of others':<52}{behind:>10.3f}")
        print(f"  pulls to catch up: {pulls};  (b)/(a) = {behind / up_to_date:.2f}  (goal <= 2)\n")

        grow_started = time.perf_counter()
        stores = [store(Path(tmp) / f"store-{count}", count) for count in (10_000, big)]
        grown = time.perf_counter() - grow_started
        counts = [s[0].recorder.max_notification_id() for s in stores]
        times: list[list[float]] = [[], []]
        for _ in range(250):  # alternated between the stores, so the machine's other load falls on both alike
            for which, (app, phone, laptop, aid, cursors) in enumerate(stores):
                ms, cursors[0] = one_new_event(phone, laptop, aid, cursors[0])
                times[which].append(ms)
        small, large = (statistics.median(t[50:]) for t in times)
        print(f"2. A pull with one new event, 10,000 vs {big:,} entries stored (both built in {grown:.1f} s)\n")
        print(f"{'median ms of a pull (in-process, SQLite)':<44}{counts[0]:>10,}{counts[1]:>12,}{'ratio':>8}")
        print(f"{'1 new event (pushed just before)':<44}{small:>10.3f}{large:>12.3f}{large / small:>8.2f}"
              "  (goal <= 1.1)\n")
    print(f"Python {platform.python_version()}{' (-O, asserts off)' if not __debug__ else ''}, "
          f"{platform.platform()}, {len(__import__('os').sched_getaffinity(0))} CPUs")
    print(f"Command: .venv/bin/python -O tests/benchmarks/bench_pull_behind.py{' --quick' if args.quick else ''}"
          f"  ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
