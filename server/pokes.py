"""Pokes: telling live streams that something changed (or that their device was signed out).

Each person has a channel, and so does each signed-in device; with PostgreSQL the
channels reach every process (LISTEN/NOTIFY), so a poke is heard wherever the stream is.
A push's message says where it was logged, not what it holds (a NOTIFY carries 8,000 bytes
at most): the process of each stream builds the change page from the store.
"""

import msgspec
from litestar.channels import ChannelsPlugin

SIGNED_OUT = b'{"signed_out":true}'  # sent on a session's own channel: its live streams end


def user_channel(user_id: str) -> str:
    return f"user_{user_id.replace('-', '')}"


def session_channel(session_id: str) -> str:
    """A signed-in device's channel, named by the start of its token's hash (as DELETE /devices names it)."""
    return f"session_{session_id[:16]}"


def poke(channels: ChannelsPlugin, changed: dict[str, list[str]], logged: tuple[int, int] | None = None,
         pusher: str | None = None) -> None:
    """Tell every participant of the changed things (id -> the people who may see it) which of
    them changed, each person only of what they may see (an inventory's id reaches its owner
    alone), and, for a push, where in the log it was saved: `after` and `upto`, from which each
    process builds its listeners' change pages (server/sync.py), and the pushing device's client
    id (`by`: only its own stream need read its ledger again). Call it from the event loop:
    publishing is not thread-safe."""
    seen_by: dict[str, list[str]] = {}
    for thing, people in sorted(changed.items()):
        for uid in people:
            seen_by.setdefault(uid, []).append(thing)
    audiences: dict[tuple[str, ...], list[str]] = {}  # one message per distinct list, to all who get it
    for uid, things in seen_by.items():
        audiences.setdefault(tuple(things), []).append(user_channel(uid))
    where = {"after": logged[0], "upto": logged[1], "by": pusher} if logged else {}
    for things, people in audiences.items():
        channels.publish(msgspec.json.encode({"alliances": list(things), **where}), people)


def signed_out(channels: ChannelsPlugin, session_id: str | None) -> None:
    """End the live streams of a device that was just signed out, in every process."""
    if session_id:
        channels.publish(SIGNED_OUT, [session_channel(session_id)])
