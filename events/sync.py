"""The sync protocol's two halves, push and pull (mixed into AllianceApplication).

Push applies a device's numbered mutations exactly once: everything a push
causes is saved in one transaction together with the device's ledger, which
is saved last so that it ends the transaction in the log. Pull reads the log
in commit order from an opaque cursor and cuts pages only where a
transaction ended, so a page never holds half of a push.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from events.accounts import Account
from events.allies import Inventory
from events.alliance import Alliance, AllianceError, InvalidInput, NotFound, new_aggregate_id
from events.devices import Device, device_id
from events.repository import retry_stale
from events.keys import SERVER_KEY_ID, ServerKey
from events.preferences import PREFERENCE_MUTATIONS, saved_or_started  # reminders (issue 12)
from events.text import quote

MAX_MUTATIONS = 1000  # per push; clients chunk their outbox
SCAN_CHUNK = 500  # log entries read per query during a pull
SCAN_BUDGET = 20_000  # log entries one pull reads at most before answering `more` (other people's included)
NO_SUCH_ALLIANCE = "There is no such alliance, or you are not one of its participants."

# Mutation names of the protocol -> (alliance command, {protocol argument: command argument}).
MUTATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "leave_alliance": ("leave", {}),
    "invite_participant": ("invite_participant", {}),
    "add_question": ("add_question", {}),
    "reword_question": ("reword_question", {}),
    "remove_question": ("remove_question", {}),
    "answer_question": ("answer_question", {}),
    "give_own_answer": ("give_own_answer", {}),
    "make_commitment": ("make_commitment", {}),
    "amend_commitment": ("amend_commitment", {}),
    "complete_commitment": ("complete_commitment", {}),
    "withdraw_commitment": ("withdraw_commitment", {}),
    "schedule_review": ("schedule_review", {}),
    "hold_review": ("hold_review", {}),
    "give_consent": ("give_consent", {}),
    "break_alliance": ("break_alliance", {"reason": "what_happened"}),
    "renew_alliance": ("renew_alliance", {}),
    "close_alliance": ("close_alliance", {}),
    "appreciate": ("appreciate", {}),
    "restore_version": ("restore_version", {}),
    "resolve_conflict": ("resolve_conflict", {}),
}
# The ally inventory's mutations change the person's own inventory; their alliance_id is not used.
INVENTORY_MUTATIONS = {"add_goal": "add_goal", "add_ally": "add_ally", "update_ally": "update_ally",
                       "remove_ally": "remove_ally", "check_in_with_ally": "check_in", "thank_ally": "thank"}
MUTATION_NAMES = ("create_alliance", *MUTATIONS, *INVENTORY_MUTATIONS, *PREFERENCE_MUTATIONS)
# Events that end a transaction touching alliances (see the module docstring).
TRANSACTION_ENDS = ("device.MutationsApplied", "invitation.LinkAccepted", "invitation.LinkCreated")


class OutOfOrder(Exception):
    """A mutation numbered past the next expected one: nothing from it on is applied."""

    def __init__(self, expected: int, results: list[dict]):
        super().__init__(f"Expected mutation {expected} next.")
        self.expected, self.results = expected, results


class DeviceNotYours(Exception):
    pass


@dataclass
class PushResult:
    last_mutation_id: int
    results: list[dict]
    changed: dict[str, list[str]] = field(default_factory=dict)  # alliance id -> its participants


MAX_DETAIL = 500  # characters of a refusal's message: the ledger keeps 1,000 outcomes


def problem(error: AllianceError) -> dict:
    detail = str(error)
    return {"type": f"urn:alliance:problem:{error.code}", "title": error.code.replace("_", " ").capitalize(),
            "detail": detail if len(detail) <= MAX_DETAIL else detail[:MAX_DETAIL] + "…", "code": error.code}


class Sync:
    # ----- push -----

    def push(self, user_id: str, client_id: str, mutations: list[dict]) -> PushResult:
        """Apply a device's mutations once each, in order; see docs/PROTOCOL.md."""
        return retry_stale(self._push_once)(user_id, client_id, mutations)

    def _push_once(self, user_id: str, client_id: str, mutations: list[dict]) -> PushResult:
        device = self._device(user_id, client_id) or Device.register(client_id, user_id)
        batch = _Batch(self, user_id, client_id)
        last_before = device.last_mutation_id
        results: list[dict] = []
        outcomes: list[dict] = []  # of the mutations applied by this push, in order
        for mutation in mutations:
            number, expected = mutation["id"], last_before + len(outcomes) + 1
            if number < expected:
                stored = device.outcome(number) if number <= last_before else outcomes[number - last_before - 1]
                results.append({"id": number, "status": "duplicate", "error": stored["error"],
                                "outcome": stored["status"]})
            elif number > expected:
                self._save_push(batch, device, last_before + 1, outcomes)
                raise OutOfOrder(expected, results)
            else:
                outcome = batch.apply(mutation)
                outcomes.append(outcome)
                results.append({"id": number, **outcome})
        self._save_push(batch, device, last_before + 1, outcomes)
        return PushResult(device.last_mutation_id, results, batch.changed())

    def _save_push(self, batch: "_Batch", device: Device, first: int, outcomes: list[dict]) -> None:
        if outcomes:
            device.mutations_applied(first=first, outcomes=outcomes)
            self.save(*batch.aggregates(), device)  # the ledger last: it ends the transaction

    # ----- pull -----

    def pull(self, user_id: str, client_id: str, cursor: str | None, limit: int = 500) -> dict:
        """The user's alliances that changed since `cursor`, and their events in
        commit order, up to about `limit` events; see docs/PROTOCOL.md."""
        limit = max(1, min(limit, 1000))
        self._device(user_id, client_id)
        position = _read_cursor(self._server_key(), cursor, client_id, self.recorder.max_notification_id() or 0)
        # A cursor names the log entry it stands on: after a restore or an import the same
        # position may hold another entry, and then the device starts afresh instead of skipping.
        if position is None or self._mark_at(position[0]) != position[2]:
            return self._full_state(user_id, client_id)
        start, last_mutation_id, start_mark = position
        account = self.account(user_id)
        members = set(account.alliances)
        mine, own_inventory, inventory_version = device_id(client_id), account.inventory, None
        events: list[dict] = []
        gone: set[str] = set()
        # (log position, its mark, events kept, last mutation id) where a transaction ended
        cut = (start, start_mark, 0, last_mutation_id, None)
        latest = None
        at, scanned, more, done = start, 0, False, False
        while not done:
            page = self.recorder.select_notifications(start=at, limit=SCAN_CHUNK, inclusive_of_start=False)
            for notification in page:
                at, origin, scanned, latest = notification.id, str(notification.originator_id), scanned + 1, notification
                if origin in members:
                    events.append(_event_for_client(self.mapper.to_domain_event(notification)))
                elif own_inventory and origin == own_inventory:
                    inventory_version = notification.originator_version
                elif notification.originator_id == mine and notification.topic == "device.MutationsApplied":
                    last_mutation_id = _ledger_last(self.mapper.to_domain_event(notification))
                elif notification.topic == "alliance.ParticipantLeft" and \
                        self.mapper.to_domain_event(notification).by == user_id:
                    gone.add(origin)
                if notification.topic in TRANSACTION_ENDS:
                    cut = (at, _mark(notification), len(events), last_mutation_id, inventory_version)
                    if len(events) >= limit or scanned >= SCAN_BUDGET:
                        more = done = True
                        break
            else:
                if len(page) < SCAN_CHUNK:  # the end of the log ends every transaction
                    done = True
                    if latest is not None:
                        cut = (at, _mark(latest), len(events), last_mutation_id, inventory_version)
        at, mark, kept, last_mutation_id, inventory_version = cut
        events = events[:kept]
        versions = {entry["alliance_id"]: entry["version"] for entry in events}  # the newest of each
        alliances = [self.alliance(aid, version=v).as_dict() for aid, v in versions.items()]
        inventory = (self.repository.get(UUID(own_inventory), version=inventory_version).as_dict()
                     if inventory_version else None)
        return {"cursor": _make_cursor(self._server_key(), at, mark, last_mutation_id, client_id),
                "more": more, "reset": False,
                "last_mutation_id": last_mutation_id, "alliances": alliances, "events": events,
                "removed": sorted(gone - members), "inventory": inventory}

    def _full_state(self, user_id: str, client_id: str) -> dict:
        """Every alliance of the user as it is now, and a cursor at the log
        position where exactly that is true (history comes on demand)."""
        for _ in range(20):
            before = self.recorder.max_notification_id() or 0
            account = self.account(user_id)
            device = self._device(user_id, client_id)
            last_mutation_id = device.last_mutation_id if device else 0
            alliances = [self.alliance(aid).as_dict() for aid in account.alliances]
            inventory = self._inventory_of(user_id)
            after = self.recorder.max_notification_id() or 0
            watched = {UUID(a) for a in account.alliances} | {device_id(client_id), account.id}
            if account.inventory:
                watched.add(UUID(account.inventory))
            if after == before or not any(n.originator_id in watched for n in self.recorder.select_notifications(
                    start=before, limit=after - before, inclusive_of_start=False)):
                return {"cursor": _make_cursor(self._server_key(), after, self._mark_at(after), last_mutation_id,
                                               client_id),
                        "more": False, "reset": True,
                        "last_mutation_id": last_mutation_id, "alliances": alliances, "events": [],
                        "removed": [], "inventory": inventory.as_dict() if inventory else None}
        raise IntegrityError("The user's alliances kept changing while reading them; try again.")


    def _device(self, user_id: str, client_id: str) -> Device | None:
        """The device's ledger, or None before its first push; never another account's."""
        try:
            device = self.repository.get(device_id(client_id))
        except AggregateNotFoundError:
            return None
        if not isinstance(device, Device) or device.user_id != user_id:
            raise DeviceNotYours("This client id belongs to another account: make a new one.")
        return device

    def _server_key(self) -> ServerKey:
        """Made once, by whichever process needs it first; then kept in memory."""
        key = self.__dict__.get("server_key")
        if key is None:
            try:
                key = self.repository.get(SERVER_KEY_ID)
            except AggregateNotFoundError:
                key = ServerKey.make()
                try:
                    self.save(key)
                except IntegrityError:  # another process made it meanwhile
                    key = self.repository.get(SERVER_KEY_ID)
            self.__dict__["server_key"] = key
        return key

    def _inventory_of(self, user_id: str) -> Inventory | None:
        """The person's own ally inventory, or None before their first ally (or when an
        account from before issue 9 points at one that was never stored)."""
        inventory = self.account(user_id).inventory
        if not inventory:
            return None
        try:
            return self.repository.get(UUID(inventory))
        except AggregateNotFoundError:
            return None

    def _mark_at(self, position: int) -> str:
        if position == 0:
            return ""
        found = self.recorder.select_notifications(start=position, limit=1)
        return _mark(found[0]) if found and found[0].id == position else "gone"


class _Batch:
    """The aggregates one push touches, loaded once and saved together."""

    def __init__(self, app, user_id: str, client_id: str):
        self.app, self.user_id, self.client_id = app, user_id, client_id
        self.loaded: dict[str, Any] = {}
        self.touched: set[str] = set()

    def aggregates(self) -> list:
        return [self.loaded[key] for key in self.touched]

    def changed(self) -> dict[str, list[str]]:
        """What the push changed, and whom to poke: each alliance's participants; an inventory's owner."""
        changed = {key: list(a.participants) for key, a in self.loaded.items()
                   if key in self.touched and isinstance(a, Alliance)}
        if "inventory" in self.touched:
            changed[str(self.loaded["inventory"].id)] = [self.user_id]
        if "preferences" in self.touched:  # reminders (issue 12): the person's own devices only
            changed[str(self.loaded["preferences"].id)] = [self.user_id]
        return changed

    def inventory(self) -> Inventory:
        """The pushing person's own ally inventory, started on first use: nobody else's, ever."""
        if "inventory" not in self.loaded:
            inventory = self.app._inventory_of(self.user_id)
            if inventory is None:
                # Saved with the account that points at it, even if this mutation is refused.
                inventory = Inventory.start(self.user_id)
                self.account().inventory_opened(str(inventory.id))
                self.touched.update((self.user_id, "inventory"))
            self.loaded["inventory"] = inventory
        return self.loaded["inventory"]

    def account(self) -> Account:
        if self.user_id not in self.loaded:
            self.loaded[self.user_id] = self.app.account(self.user_id)
        return self.loaded[self.user_id]

    def alliance(self, alliance_id: Any) -> Alliance:
        key = _canonical(alliance_id)
        if key is None:
            raise NotFound(NO_SUCH_ALLIANCE)
        if key not in self.loaded:
            try:
                alliance = self.app.alliance(key)
            except NotFound:
                raise NotFound(NO_SUCH_ALLIANCE) from None
            self.loaded[key] = alliance
        alliance = self.loaded[key]
        if not isinstance(alliance, Alliance) or self.user_id not in alliance.participants:
            raise NotFound(NO_SUCH_ALLIANCE)  # never tell outsiders that it exists (nor that an account does)
        return alliance

    def apply(self, mutation: dict) -> dict:
        """Run one mutation; a refusal is an outcome, not an error."""
        try:
            return self._apply(mutation["name"], mutation["alliance_id"], mutation["args"])
        except (AllianceError, TypeError, ValueError) as error:  # ValueError: e.g. dict() of a string
            if not isinstance(error, AllianceError):
                error = InvalidInput(str(error))
            return {"status": "rejected", "error": problem(error)}

    def _apply(self, name: str, alliance_id: Any, args: Any) -> dict:
        if not isinstance(args, dict):
            raise InvalidInput("The arguments of a mutation are an object.")
        if name == "create_alliance":
            return self._create(alliance_id, args)
        if name in INVENTORY_MUTATIONS:
            getattr(self.inventory(), INVENTORY_MUTATIONS[name])(**args)
            self.touched.add("inventory")
            return {"status": "applied", "error": None}
        if name in PREFERENCE_MUTATIONS:  # reminders (issue 12): the pusher's own preferences
            if "preferences" not in self.loaded:
                self.loaded["preferences"] = saved_or_started(self.app, self.user_id)
            getattr(self.loaded["preferences"], PREFERENCE_MUTATIONS[name])(**args)
            if self.loaded["preferences"].pending_events:
                self.touched.add("preferences")
            return {"status": "applied", "error": None}
        if name not in MUTATIONS:
            raise InvalidInput(f"There is no mutation called {quote(name)}; this client may need an update.")
        command, renames = MUTATIONS[name]
        args = {renames.get(key, key): value for key, value in args.items()}
        alliance = self.alliance(alliance_id)
        before = _conflicts(alliance)
        version = alliance.version
        self.app.run_command(alliance, command, by=self.user_id, device=self.client_id, args=args)
        if alliance.version != version:
            self.touched.add(str(alliance.id))
        if command == "leave":
            self.account().alliance_left(str(alliance.id))
            self.touched.add(self.user_id)
        return {"status": "conflict" if _conflicts(alliance) > before else "applied", "error": None}

    def _create(self, alliance_id: Any, args: dict) -> dict:
        key = str(new_aggregate_id(alliance_id, "alliance id"))
        if key in self.loaded or _exists(self.app, key):
            raise InvalidInput("An alliance with this id exists already: make a new id.")
        args = dict(args)
        args.setdefault("facilitator_name", self.account().display_name)
        alliance = Alliance.design(alliance_id=alliance_id, by=self.user_id, device=self.client_id, **args)
        self.loaded[str(alliance.id)] = alliance
        self.account().alliance_joined(str(alliance.id))
        self.touched.update((str(alliance.id), self.user_id))
        return {"status": "applied", "error": None}


def _canonical(alliance_id: Any) -> str | None:
    """An alliance id as the store writes it (a client may spell a UUID in capitals), or None."""
    try:
        return str(UUID(str(alliance_id)))
    except ValueError:
        return None


def _exists(app, aggregate_id: str) -> bool:
    """Whether anything at all (an alliance, or anything else) is stored under this id."""
    return bool(app.recorder.select_events(UUID(aggregate_id), limit=1))


def _conflicts(alliance: Alliance) -> int:
    """How many values are held in conflict, all things together."""
    return sum(len(a["conflict"]) for a in alliance.answers.values()) + \
        sum(len(values) for c in alliance.commitments.values() for values in c["conflict"].values())


def _ledger_last(event: Any) -> int:
    return event.first + len(event.outcomes) - 1


def _event_for_client(event: Any) -> dict:
    data = {k: v for k, v in vars(event).items()
            if k not in ("originator_id", "originator_version", "timestamp", "by", "device", "chain",
                         "originator_topic")}
    return {"alliance_id": str(event.originator_id), "version": event.originator_version,
            "name": type(event).__name__, "at": event.timestamp.isoformat(), "by": event.by, "data": data}


def _mark(notification: Any) -> str:
    """A short fingerprint of one log entry: which event, as stored, stands there."""
    digest = hashlib.sha256(f"{notification.originator_id}/{notification.originator_version}/".encode())
    digest.update(notification.state)
    return digest.hexdigest()[:16]


def _make_cursor(key: ServerKey, position: int, mark: str, last_mutation_id: int, client_id: str) -> str:
    raw = json.dumps({"p": position, "k": mark, "m": last_mutation_id, "c": client_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=") + "." + key.sign(raw)


def _read_cursor(key: ServerKey, cursor: str | None, client_id: str, end: int) -> tuple[int, int, str] | None:
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
        position, last, owner, mark = int(data["p"]), int(data["m"]), data["c"], str(data["k"])
    except (ValueError, KeyError, TypeError):
        return None
    if owner != client_id or not 0 <= position <= end or last < 0:
        return None
    return position, last, mark
