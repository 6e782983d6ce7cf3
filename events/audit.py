"""The tamper-evident chain: every stored event carries a hash over its own
content and the hash of the event before it, so an edit, removal or
reordering of stored rows shows up when the chain is recomputed.

The algorithm is public and has no secret, so recomputing proves only that the
stored rows agree with each other: whoever can write them can also drop the
newest ones, or rewrite one and recompute every hash after it. What a device
saw closes that gap: every pulled state carries its chain head, and checking
that head (an anchor) against the stored chain shows whether anything up to
its version was rewritten or removed since.

The hash covers each event as stored: every person's texts in their sealed form (events/sealing.py).
So destroying a person's key (an erasure) changes no stored byte and breaks no chain: the chain
still proves the same of every row, while the erased words can no longer be read by anyone."""

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Callable, Iterable
from uuid import UUID

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot hash a {type(value).__name__}")


def event_hash(previous: str, topic: str, originator_id: Any, version: int, state: dict) -> str:
    """Hash of one event as stored: its topic, place in the sequence and state
    (without its own hash), chained to the hash before it."""
    body = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)
    text = "\n".join((previous, topic, str(originator_id), str(version), body))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Anchor:
    """A chain head a device saw at a version (the `chain_head` of a state it pulled)."""
    version: int
    head: str


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int  # the first events that check out on their own; `head` is the hash of the last of them
    head: str
    broken_at: int | None = None
    problem: str = ""
    anchor_ok: bool | None = None  # None: no anchor was given

    def as_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "head": self.head,
                "broken_at": self.broken_at, "problem": self.problem, "anchor_ok": self.anchor_ok}


def verify_chain(stored_events: Iterable[Any], decode: Callable[[bytes], dict],
                 anchor: Anchor | None = None) -> ChainReport:
    """Recompute the chain over stored rows (objects with originator_id,
    originator_version, topic and state bytes) and, given an anchor, check the
    stored chain still has exactly its head at its version; name the first bad
    version and say in words what is wrong."""
    report, seen = _walk(stored_events, decode, anchor.version if anchor else 0)
    if anchor is None:
        return report
    if report.events >= anchor.version:
        if seen == anchor.head:
            return replace(report, anchor_ok=True)
        return replace(report, ok=False, anchor_ok=False, broken_at=anchor.version, problem=(
            f"one of events 1 to {anchor.version} was rewritten after your device saw version {anchor.version} "
            "(the stored chain there is not the head your device holds)"))
    if not report.ok:  # broken before the anchor's version: what the device saw is not there as it was
        return replace(report, anchor_ok=False)
    first, last = report.events + 1, anchor.version
    gone = f"event {last} was removed" if first == last else f"events {first} to {last} were removed"
    return replace(report, ok=False, anchor_ok=False, broken_at=first, problem=(
        f"the stored record has only {report.events} events, but your device saw version {last} ({gone})"))


def _walk(stored_events: Iterable[Any], decode: Callable[[bytes], dict], at: int) -> tuple[ChainReport, str | None]:
    """The report on the stored rows alone, and the checked hash at version `at` (None if not reached)."""
    previous, expected, count, seen = GENESIS, 1, 0, None
    for stored in stored_events:
        version = stored.originator_version
        if version != expected:
            return ChainReport(False, count, previous, expected,
                               f"event {expected} is missing (the next stored event is {version})"), seen
        try:
            state = dict(decode(stored.state))
            claimed = state.pop("chain", None)
            computed = event_hash(previous, stored.topic, stored.originator_id, version, state)
        except Exception:  # undecodable or undecryptable bytes are tampering too
            return ChainReport(False, count, previous, version, f"event {version} cannot be read"), seen
        if claimed != computed:
            return ChainReport(False, count, previous, version,
                               f"event {version} was altered, removed or reordered"), seen
        previous, expected, count = claimed, expected + 1, count + 1
        seen = claimed if version == at else seen
    if count == 0:  # an alliance has at least the event that designed it
        return ChainReport(False, 0, GENESIS, 1, "event 1 is missing (nothing of this alliance is stored)"), seen
    return ChainReport(True, count, previous), seen
