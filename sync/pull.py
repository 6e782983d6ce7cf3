"""One pull: the person's alliances that changed since a cursor, with their events in
commit order, cut only where a transaction ended (so a page never holds half a push);
or, without a trusted cursor, everything of theirs as it is now (a reset)."""

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from events import log
from events.allies import owners_view
from events.alliance import Alliance
from events.application import AllianceApplication
from events.erasure import erased_event_data, text_author
from events.privacy import event_data_seen_by
from events.devices import device_id
from sync.cursors import make_cursor, mark, read_cursor
from sync.heads import Heads, Reads

READ_CHUNK = 500  # log entries of the person's own read per query
# Events that end a transaction touching alliances.
TRANSACTION_ENDS = ("device.MutationsApplied", "invitation.LinkAccepted", "invitation.LinkCreated")


def quiet_pull(app: AllianceApplication, heads: Heads, user_id: str, client_id: str, cursor: str | None,
               ask_store: bool) -> dict | None:
    """The answer to a pull with nothing new, from memory (sync.heads): the same cursor back,
    nothing changed. None when there may be something new, or when this process does not know
    enough to say (then the store answers). With `ask_store`, positions not trusted now are
    confirmed by one indexed query; without, nothing but memory is touched."""
    reads = heads.reads(user_id)
    position = read_cursor(app.server_key, cursor, client_id, heads.furthest) if reads else None
    if position is None:
        return None
    start, last_mutation_id, _ = position
    mine = device_id(client_id)
    newest = heads.quiet([*reads.aggregates, mine], start,
                         (lambda ids: log.newest_positions(app.recorder, ids)) if ask_store else None)
    if newest is None or newest[reads.account] > reads.as_of:  # or the account changed since it was read
        return None
    if newest[mine] and heads.owner(client_id) is None:  # a ledger of someone's: whose is not known here
        return None
    # Nothing of the device's came after the cursor, so its last mutation id is the cursor's.
    return {"cursor": cursor, "more": False, "reset": False, "last_mutation_id": last_mutation_id,
            "alliances": [], "events": [], "removed": [], "inventory": None}


def pull(app: AllianceApplication, user_id: str, client_id: str, cursor: str | None, limit: int,
         heads: Heads | None = None, upto: int | None = None) -> dict:
    """`upto`: read no further than this committed log position (a live change page, sync/live.py)."""
    key = app.server_key
    # The log holds entries in commit order with no gap left to fill (the recorders serialise
    # writers), so everything up to `end` is committed: the page reads up to there, no further.
    end = upto if upto is not None else app.recorder.max_notification_id() or 0
    position = read_cursor(key, cursor, client_id, end)
    # A cursor names the log entry it stands on: after a restore or an import the same
    # position may hold another entry, and then the device starts afresh instead of skipping.
    if position is None or _mark_at(app, position[0]) != position[2]:
        return full_state(app, user_id, client_id, heads)
    start, last_mutation_id, start_mark = position
    account = app.account(user_id, copy=False)  # read after `end`: it knows every alliance joined by then
    members = set(account.alliances)
    mine, own_inventory, inventory_version = device_id(client_id), account.inventory, None
    watched = read_by(account, client_id)  # only what is about this person (events.log)
    if heads is not None:
        heads.remember_reads(user_id, Reads(account.id, tuple(a for a in watched if a != mine), as_of=end))
    events: list[dict] = []
    gone: set[str] = set()
    at, cut, more, last = start, end, False, None
    while at < cut:
        found = log.entries_of(app.recorder, watched, after=at, upto=cut, limit=READ_CHUNK)
        for notification in found:
            if notification.id > cut:
                break
            at, origin, last = notification.id, str(notification.originator_id), notification
            if origin in members:
                events.append(_event_for_client(app.mapper.to_domain_event(notification)))
                if len(events) == limit:
                    # The page is full, but may end only where a transaction ends: at the first
                    # end after this event, whoever's it is (usually the ledger entry closing this
                    # very push, a few entries on), or at `end`, which ends every transaction.
                    # Found by walking the log by notification id from here (no topic index).
                    cut = log.first_of_topics(app.recorder, TRANSACTION_ENDS, after=at, upto=end) or end
                    more = cut < end
            elif origin == own_inventory:
                inventory_version = notification.originator_version
            elif notification.originator_id == mine and notification.topic == "device.MutationsApplied":
                last_mutation_id = _ledger_last(app.mapper.to_domain_event(notification))
            elif notification.originator_id == account.id and notification.topic == "account.AllianceLeft":
                gone.add(app.mapper.to_domain_event(notification).alliance_id)
        if len(found) < READ_CHUNK or at >= cut:
            break
    at_mark = start_mark if cut == start else mark(last) if last and last.id == cut else _mark_at(app, cut)
    versions = {entry["alliance_id"]: entry["version"] for entry in events}  # the newest of each
    newest = {aid: app.alliance(aid, version=v, copy=False) for aid, v in versions.items()}
    alliances = [alliance.seen_by(user_id).as_dict() for alliance in newest.values()]
    events = _seen_by(user_id, events, newest)
    inventory = (owners_view(app.repository.get(UUID(own_inventory), version=inventory_version),
                             account.alliances, date.today()) if inventory_version else None)
    return {"cursor": make_cursor(key, cut, at_mark, last_mutation_id, client_id), "more": more, "reset": False,
            "last_mutation_id": last_mutation_id, "alliances": alliances, "events": events,
            "removed": sorted(gone - members), "inventory": inventory}


def read_by(account: Any, client_id: str) -> list[UUID]:
    """What a pull of this person's device reads: their alliances, their inventory, the device's
    ledger (for last_mutation_id) and their account (the alliances they left)."""
    inventory = [UUID(account.inventory)] if account.inventory else []
    return [UUID(a) for a in account.alliances] + inventory + [device_id(client_id), account.id]


def full_state(app: AllianceApplication, user_id: str, client_id: str, heads: Heads | None = None) -> dict:
    """Every alliance of the user as it is now, and a cursor at the log position where
    exactly that is true (history comes on demand)."""
    for _ in range(20):
        before = app.recorder.max_notification_id() or 0
        account = app.account(user_id, copy=False)
        device = app.device(client_id, copy=False)
        last_mutation_id = device.last_mutation_id if device else 0
        alliances = [app.alliance(aid, copy=False).seen_by(user_id).as_dict() for aid in account.alliances]
        inventory = app.inventory_of(user_id)
        after = app.recorder.max_notification_id() or 0
        watched = set(read_by(account, client_id))
        if after == before or not log.entries_of(app.recorder, watched, after=before, upto=after, limit=1):
            if heads is not None:
                heads.remember_reads(user_id, Reads(account.id, tuple(watched - {device_id(client_id)}), as_of=after))
            return {"cursor": make_cursor(app.server_key, after, _mark_at(app, after), last_mutation_id, client_id),
                    "more": False, "reset": True,
                    "last_mutation_id": last_mutation_id, "alliances": alliances, "events": [],
                    "removed": [], "inventory": owners_view(inventory, account.alliances, date.today())}
    raise IntegrityError("The user's alliances kept changing while reading them; try again.")


def _mark_at(app: AllianceApplication, position: int) -> str:
    if position == 0:
        return ""
    found = app.recorder.select_notifications(start=position, limit=1)
    return mark(found[0]) if found and found[0].id == position else "gone"


def _ledger_last(event: Any) -> int:
    return event.first + len(event.outcomes) - 1


def _seen_by(viewer: str, events: list[dict], newest: dict[str, Alliance]) -> list[dict]:
    """The events as `viewer` may see them (events.privacy): others' private words become null,
    and the words of anyone erased by the newest version pulled read erased (issue 13)."""
    private = {aid: (alliance.private_questions(), alliance.shared_answers) for aid, alliance in newest.items()}
    seen = []
    for e in events:
        data = event_data_seen_by(viewer, e["name"], e["by"], e["data"], *private[e["alliance_id"]])
        erasure = newest[e["alliance_id"]].erasures.get(text_author(e["by"], data))
        seen.append(dict(e, data=erased_event_data(e["name"], data, erasure["at"]) if erasure else data))
    return seen


def _event_for_client(event: Any) -> dict:
    data = {k: v for k, v in vars(event).items()
            if k not in ("originator_id", "originator_version", "timestamp", "by", "device", "chain",
                         "originator_topic")}
    return {"alliance_id": str(event.originator_id), "version": event.originator_version,
            "name": type(event).__name__, "at": event.timestamp.isoformat(), "by": event.by, "data": data}
