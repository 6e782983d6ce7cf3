"""The tamper-evident chain: every stored event carries a hash over its own
content and the hash of the event before it, so any edit, removal or
reordering of stored rows shows up when the chain is recomputed."""

import hashlib
import json
from dataclasses import dataclass
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
class ChainReport:
    ok: bool
    events: int
    head: str
    broken_at: int | None = None
    problem: str = ""

    def as_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "head": self.head,
                "broken_at": self.broken_at, "problem": self.problem}


def verify_chain(stored_events: Iterable[Any], decode: Callable[[bytes], dict]) -> ChainReport:
    """Recompute the chain over stored rows (objects with originator_id,
    originator_version, topic and state bytes); name the first bad event."""
    previous, expected, count = GENESIS, 1, 0
    for stored in stored_events:
        version = stored.originator_version
        if version != expected:
            return ChainReport(False, count, previous, expected,
                               f"event {expected} is missing (the next stored event is {version})")
        try:
            state = dict(decode(stored.state))
        except Exception:  # undecodable or undecryptable bytes are tampering too
            return ChainReport(False, count, previous, version, f"event {version} cannot be read")
        claimed = state.pop("chain", None)
        if claimed != event_hash(previous, stored.topic, stored.originator_id, version, state):
            return ChainReport(False, count, previous, version,
                               f"event {version} was altered, removed or reordered")
        previous, expected, count = claimed, expected + 1, count + 1
    return ChainReport(True, count, previous)
