"""One pull: the person's alliances that changed since a cursor, with their events in
commit order, cut only where a transaction ended (so a page never holds half a push);
or, without a trusted cursor, everything of theirs as it is now (a reset)."""

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from events.allies import owners_view
from events.alliance import Alliance
from events.application import AllianceApplication
from events.privacy import event_data_seen_by
from events.devices import device_id
from sync.cursors import make_cursor, mark, read_cursor

SCAN_CHUNK = 500  # log entries read per query during a pull
SCAN_BUDGET = 20_000  # log entries one pull reads at most before answering `more` (other people's included)
# Events that end a transaction touching alliances.
TRANSACTION_ENDS = ("device.MutationsApplied", "invitation.LinkAccepted", "invitation.LinkCreated")


def pull(app: AllianceApplication, user_id: str, client_id: str, cursor: str | None, limit: int) -> dict:
    key = app.server_key
    position = read_cursor(key, cursor, client_id, app.recorder.max_notification_id() or 0)
    # A cursor names the log entry it stands on: after a restore or an import the same
    # position may hold another entry, and then the device starts afresh instead of skipping.
    if position is None or _mark_at(app, position[0]) != position[2]:
        return full_state(app, user_id, client_id)
    start, last_mutation_id, start_mark = position
    account = app.account(user_id, copy=False)
    members = set(account.alliances)
    mine, own_inventory, inventory_version = device_id(client_id), account.inventory, None
    events: list[dict] = []
    gone: set[str] = set()
    # (log position, its mark, events kept, last mutation id, inventory version) where a transaction ended
    cut = (start, start_mark, 0, last_mutation_id, None)
    latest = None
    at, scanned, more, done = start, 0, False, False
    while not done:
        page = app.recorder.select_notifications(start=at, limit=SCAN_CHUNK, inclusive_of_start=False)
        for notification in page:
            at, origin, scanned, latest = notification.id, str(notification.originator_id), scanned + 1, notification
            if origin in members:
                events.append(_event_for_client(app.mapper.to_domain_event(notification)))
            elif own_inventory and origin == own_inventory:
                inventory_version = notification.originator_version
            elif notification.originator_id == mine and notification.topic == "device.MutationsApplied":
                last_mutation_id = _ledger_last(app.mapper.to_domain_event(notification))
            elif notification.topic == "alliance.ParticipantLeft" and \
                    app.mapper.to_domain_event(notification).by == user_id:
                gone.add(origin)
            if notification.topic in TRANSACTION_ENDS:
                cut = (at, mark(notification), len(events), last_mutation_id, inventory_version)
                if len(events) >= limit or scanned >= SCAN_BUDGET:
                    more = done = True
                    break
        else:
            if len(page) < SCAN_CHUNK:  # the end of the log ends every transaction
                done = True
                if latest is not None:
                    cut = (at, mark(latest), len(events), last_mutation_id, inventory_version)
    at, at_mark, kept, last_mutation_id, inventory_version = cut
    events = events[:kept]
    versions = {entry["alliance_id"]: entry["version"] for entry in events}  # the newest of each
    newest = {aid: app.alliance(aid, version=v, copy=False) for aid, v in versions.items()}
    alliances = [alliance.seen_by(user_id).as_dict() for alliance in newest.values()]
    events = _seen_by(user_id, events, newest)
    inventory = (owners_view(app.repository.get(UUID(own_inventory), version=inventory_version),
                             account.alliances, date.today()) if inventory_version else None)
    return {"cursor": make_cursor(key, at, at_mark, last_mutation_id, client_id), "more": more, "reset": False,
            "last_mutation_id": last_mutation_id, "alliances": alliances, "events": events,
            "removed": sorted(gone - members), "inventory": inventory}


def full_state(app: AllianceApplication, user_id: str, client_id: str) -> dict:
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
        watched = {UUID(a) for a in account.alliances} | {device_id(client_id), account.id}
        if account.inventory:
            watched.add(UUID(account.inventory))
        if after == before or not any(n.originator_id in watched for n in app.recorder.select_notifications(
                start=before, limit=after - before, inclusive_of_start=False)):
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
    """The events as `viewer` may see them (events.privacy): others' private words become null."""
    private = {aid: (alliance.private_questions(), alliance.shared_answers) for aid, alliance in newest.items()}
    return [dict(e, data=event_data_seen_by(viewer, e["name"], e["by"], e["data"], *private[e["alliance_id"]]))
            for e in events]


def _event_for_client(event: Any) -> dict:
    data = {k: v for k, v in vars(event).items()
            if k not in ("originator_id", "originator_version", "timestamp", "by", "device", "chain",
                         "originator_topic")}
    return {"alliance_id": str(event.originator_id), "version": event.originator_version,
            "name": type(event).__name__, "at": event.timestamp.isoformat(), "by": event.by, "data": data}
