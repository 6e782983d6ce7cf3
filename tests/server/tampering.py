"""Tampering with an alliance's stored events by hand, as someone with the SQLite file would."""

import sqlite3
from pathlib import Path
from uuid import UUID

from events.application import AllianceApplication
from events.audit import GENESIS, event_hash
from server.settings import Settings


def sql(data: Path, statement: str, *params) -> None:
    with sqlite3.connect(data / "alliances.sqlite") as db:
        assert db.execute(statement, params).rowcount == 1


def delete_event(data: Path, alliance_id: str, version: int) -> None:
    sql(data, "DELETE FROM stored_events WHERE originator_id=? AND originator_version=?",
        UUID(alliance_id).hex, version)


def scramble_event(data: Path, alliance_id: str, version: int) -> None:
    sql(data, "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?",
        b"\x00\xffnot an event", UUID(alliance_id).hex, version)


def rewrite_and_rechain(data: Path, alliance_id: str, version: int, old: str, new: str) -> None:
    """Change one event's text (with the key file as well) and recompute the chain from it on
    with events.audit.event_hash."""
    app = AllianceApplication(env=Settings(data_dir=data).event_store_env("alliances"))
    transcoder, previous, rows = app.mapper.transcoder, GENESIS, []
    for stored in app.recorder.select_events(UUID(alliance_id)):
        state = transcoder.decode(stored.state)
        if stored.originator_version == version:  # the texts are sealed: whoever has the key file reseals
            sealer, place = app.mapper.sealer, (stored.topic, stored.originator_id, version)
            plain = sealer.unseal_state(*place, state)
            assert plain["text"] == old
            state = sealer.seal_state(*place, dict(plain, text=new))
        if stored.originator_version >= version:
            del state["chain"]
            state["chain"] = event_hash(previous, stored.topic, stored.originator_id, stored.originator_version, state)
            rows.append((transcoder.encode(state), stored.originator_id.hex, stored.originator_version))
        previous = state["chain"]
    app.close()
    with sqlite3.connect(data / "alliances.sqlite") as db:
        db.executemany("UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?", rows)
