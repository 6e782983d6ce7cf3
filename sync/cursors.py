"""Pull cursors: a position in the store's log, the entry standing there, and the
device's last acknowledged mutation, signed with the server's key so a device can
keep a cursor but never make one up."""

import base64
import hashlib
import json
from typing import Any

from events.keys import ServerKey


def mark(notification: Any) -> str:
    """A short fingerprint of one log entry: which event, as stored, stands there."""
    digest = hashlib.sha256(f"{notification.originator_id}/{notification.originator_version}/".encode())
    digest.update(notification.state)
    return digest.hexdigest()[:16]


def make_cursor(key: ServerKey, position: int, mark_: str, last_mutation_id: int, client_id: str) -> str:
    raw = json.dumps({"p": position, "k": mark_, "m": last_mutation_id, "c": client_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=") + "." + key.sign(raw)


def read_cursor(key: ServerKey, cursor: str | None, client_id: str, end: int) -> tuple[int, int, str] | None:
    """(log position, last mutation id, mark) from a cursor this server made for this
    device, or None when there is none or it cannot be trusted (then the pull resets)."""
    if not cursor:
        return None
    encoded, _, signature = cursor.partition(".")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        if not key.signed(raw, signature):
            return None
        data = json.loads(raw)
        position, last, owner, mark_ = int(data["p"]), int(data["m"]), data["c"], str(data["k"])
    except (ValueError, KeyError, TypeError):
        return None
    if owner != client_id or not 0 <= position <= end or last < 0:
        return None
    return position, last, mark_
