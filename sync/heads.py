"""What this process knows of the log's newest entries, so that a pull with nothing new is
answered from memory (issue 14).

For each aggregate a pull reads (a person's alliances, inventory and account, a device's
ledger) it keeps the newest log position it knows of. The store tells it once (one indexed
query for all of them, `events.log.newest_positions`); after that the commits this process
makes (`follow`) and the announcements of the others (`announcement` / `hear`, sent over
the channels every process listens to) keep it current. A position the store confirmed is
trusted for `TRUST_SECONDS` only, so a commit nobody announced (another tool on the
database, an announcement lost while the database restarted) is missed for no longer.
Until then, and after start-up or a lost listener connection, it claims nothing.
"""

import json
import time
from dataclasses import dataclass
from threading import Lock
from typing import Callable, Iterable
from uuid import UUID

from eventsourcing.application import Recording

CHANNEL = "heads"  # every process listens to it (PostgreSQL: LISTEN/NOTIFY)
TRUST_SECONDS = 2.0  # how long a position the store confirmed is trusted without asking again
MOST_KNOWN = 100_000  # aggregates remembered; then everything is forgotten and learnt again
NewestOf = Callable[[list[UUID]], dict[UUID, int]]  # the store's newest position of each (absent: none)


@dataclass(frozen=True)
class Reads:
    """What a person's pull reads, as their account said at log position `as_of`."""
    account: UUID
    aggregates: tuple[UUID, ...]  # their alliances and inventory, and the account itself
    as_of: int


class Heads:
    def __init__(self, trust_seconds: float = TRUST_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.trust_seconds, self._clock = trust_seconds, clock
        self._lock = Lock()
        self._newest: dict[UUID, int] = {}  # aggregate -> the newest log position heard of
        self._confirmed: dict[UUID, float] = {}  # aggregate -> when the store last confirmed it
        self._reads: dict[str, Reads] = {}  # user id -> what their pull reads
        self._owners: dict[str, str] = {}  # client id -> the user whose device it is (that never changes)
        self._forgotten = 0  # how many times everything was forgotten: a store answer from before is void
        self.furthest = 0  # the furthest log position known to exist

    # ----- what is heard -----

    def heard(self, positions: dict[UUID, int]) -> None:
        """Commits: these aggregates have an entry at these log positions."""
        with self._lock:
            if len(self._newest) > MOST_KNOWN:
                self._forget()
            for aggregate, position in positions.items():
                if position > self._newest.get(aggregate, 0):
                    self._newest[aggregate] = position
            self.furthest = max(self.furthest, *positions.values(), 0)

    def forget(self) -> None:
        """An announcement may have been missed: claim nothing until the store is asked again."""
        with self._lock:
            self._forget()

    def _forget(self) -> None:
        self._newest.clear()
        self._confirmed.clear()
        self._reads.clear()
        self._forgotten += 1

    # ----- what a pull reads -----

    def remember_reads(self, user_id: str, reads: Reads) -> None:
        """After a pull that read the store up to `reads.as_of`: what that person's pull reads."""
        with self._lock:
            if len(self._reads) > MOST_KNOWN:
                self._forget()
            self._reads[user_id] = reads
            self.furthest = max(self.furthest, reads.as_of)

    def remember_owner(self, client_id: str, user_id: str) -> None:
        with self._lock:
            if len(self._owners) > MOST_KNOWN:
                self._owners.clear()
            self._owners[client_id] = user_id

    def reads(self, user_id: str) -> Reads | None:
        return self._reads.get(user_id)

    def owner(self, client_id: str) -> str | None:
        return self._owners.get(client_id)

    def quiet(self, aggregates: Iterable[UUID], since: int, newest_of: NewestOf | None) -> dict[UUID, int] | None:
        """The newest position of each aggregate, when none of them has an entry after `since`;
        None when one has (or may have). Asks the store (`newest_of`, one query) only about
        those whose position is not trusted now; without `newest_of`, they make it None."""
        aggregates = list(aggregates)
        now = self._clock()
        with self._lock:
            known = {a: self._newest.get(a, 0) for a in aggregates
                     if now - self._confirmed.get(a, -1e9) < self.trust_seconds}
            forgotten = self._forgotten
        if any(position > since for position in known.values()):
            return None
        unknown = [a for a in aggregates if a not in known]
        if unknown and newest_of is None:
            return None
        if unknown:
            stored = newest_of(unknown)
            with self._lock:
                if forgotten != self._forgotten:  # the store answered about a past this process let go of
                    return None
                for aggregate in unknown:  # what was heard while the store answered is newer still
                    known[aggregate] = self._newest[aggregate] = max(stored.get(aggregate, 0),
                                                                     self._newest.get(aggregate, 0))
                    self._confirmed[aggregate] = now
                self.furthest = max(self.furthest, *known.values(), 0)
        return None if any(position > since for position in known.values()) else known


# ----- how commits are heard -----

def positions_of(recordings: list[Recording]) -> dict[UUID, int]:
    """The newest log position of each aggregate a save recorded."""
    positions: dict[UUID, int] = {}
    for recording in recordings:
        notification = recording.notification
        positions[notification.originator_id] = max(notification.id, positions.get(notification.originator_id, 0))
    return positions


def follow(app, heard: Callable[[dict[UUID, int]], None]) -> None:
    """Call `heard` with what each save of this application recorded, in the saving thread,
    before the save returns (so before any answer or poke that follows it)."""
    app.on_commit = lambda recordings: heard(positions_of(recordings))


def announcements(positions: dict[UUID, int], per_message: int = 100) -> list[bytes]:
    """A commit, told to the other processes, in messages of at most `per_message` aggregates
    (a NOTIFY payload holds up to 8,000 bytes)."""
    items = list(positions.items())
    return [json.dumps({"heads": {a.hex: p for a, p in items[i:i + per_message]}}, separators=(",", ":")).encode()
            for i in range(0, len(items), per_message)]


def hear(message: bytes) -> dict[UUID, int] | None:
    """The positions an announcement tells, or None for anything else on the channel (a listener
    that reconnected says {"alliances": []}: something may have been missed)."""
    try:
        return {UUID(a): int(p) for a, p in json.loads(message)["heads"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
