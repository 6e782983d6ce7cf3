"""The sync service: holds the application and answers a device's push and pull
(docs/PROTOCOL.md). Push applies a device's numbered mutations exactly once:
everything a push causes is saved in one transaction with the device's ledger,
saved last so that it ends the transaction in the log."""

from collections import OrderedDict
from dataclasses import dataclass, field

from events.application import AllianceApplication
from events.devices import Device
from events.repository import retry_stale
from sync.heads import Heads
from sync.live import ChangePages, for_device, still_current
from sync.pull import pull, quiet_pull
from sync.push import Batch


NOT_YOURS = "This client id belongs to another account: make a new one."
HANDED = 10_000  # devices whose last cursor is remembered, per process


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
    changed: dict[str, list[str]] = field(default_factory=dict)  # what changed -> who may see it
    logged: tuple[int, int] | None = None  # the log positions (after, upto] of what it saved


class SyncService:
    def __init__(self, app: AllianceApplication, heads: Heads | None = None):
        """With `heads` (kept current by the process: sync/heads.py), a pull with nothing new
        is answered from memory."""
        self.app, self.heads = app, heads
        self.change_pages = ChangePages(app)  # for the live stream (sync/live.py)
        self.handed: OrderedDict[str, str] = OrderedDict()  # client id -> the cursor it was handed last

    def _handed(self, client_id: str, answer: dict | None) -> dict | None:
        """Remember the cursor a device is handed (a live change may start from it)."""
        if answer is not None:
            self.handed[client_id] = answer["cursor"]
            self.handed.move_to_end(client_id)
            if len(self.handed) > HANDED:
                self.handed.popitem(last=False)
        return answer

    def push(self, user_id: str, client_id: str, mutations: list[dict]) -> PushResult:
        """Apply a device's mutations once each, in order; a stale save runs the whole push again."""
        return retry_stale(self._push_once)(user_id, client_id, mutations)

    def pull(self, user_id: str, client_id: str, cursor: str | None, limit: int = 500) -> dict:
        """The user's alliances that changed since `cursor`, and their events in commit
        order, up to about `limit` events."""
        quiet = self._quiet_pull(user_id, client_id, cursor, ask_store=True)
        if quiet is not None:
            return self._handed(client_id, quiet)
        device = self._device(user_id, client_id, copy=False)
        if device is not None and self.heads is not None:
            self.heads.remember_owner(client_id, user_id)
        return self._handed(client_id, pull(self.app, user_id, client_id, cursor, max(1, min(limit, 1000)), self.heads))

    def pull_from_memory(self, user_id: str, client_id: str, cursor: str | None) -> dict | None:
        """The pull's answer when this process knows, without touching the store, that nothing is
        new (sync/heads.py); else None. Cheap enough for the event loop."""
        return self._handed(client_id, self._quiet_pull(user_id, client_id, cursor, ask_store=False))

    def _quiet_pull(self, user_id: str, client_id: str, cursor: str | None, ask_store: bool) -> dict | None:
        if self.heads is None:
            return None
        owner = self.heads.owner(client_id)
        if owner is not None and owner != user_id:
            raise DeviceNotYours(NOT_YOURS)
        return quiet_pull(self.app, self.heads, user_id, client_id, cursor, ask_store)

    def acknowledged(self, user_id: str, client_id: str) -> int:
        """The device's last applied mutation (0 before its first push); never another account's device."""
        device = self._device(user_id, client_id, copy=False)
        return device.last_mutation_id if device else 0

    def change(self, user_id: str, client_id: str, after: int, upto: int, acknowledged: int) -> bytes | None:
        """The live stream's `change` event for this device, whose last applied mutation is
        `acknowledged`, for the push that saved the log entries (after, upto] (sync/live.py);
        None when the device should be poked instead."""
        page = self.change_pages.get(user_id, after, upto)
        if page is None:
            return None
        start = still_current(self.app, user_id, client_id, self.handed.get(client_id), after, acknowledged)
        data, end = for_device(self.app, page, client_id, acknowledged, start)
        self._handed(client_id, {"cursor": end})
        return data

    def _push_once(self, user_id: str, client_id: str, mutations: list[dict]) -> PushResult:
        device = self._device(user_id, client_id) or Device.register(client_id, user_id)
        batch = Batch(self.app, user_id, client_id)
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
                self._save(batch, device, last_before + 1, outcomes)
                raise OutOfOrder(expected, results)
            else:
                outcome = batch.apply(mutation)
                outcomes.append(outcome)
                results.append({"id": number, **outcome})
        logged = self._save(batch, device, last_before + 1, outcomes)
        return PushResult(device.last_mutation_id, results, batch.changed(), logged)

    def _save(self, batch: Batch, device: Device, first: int, outcomes: list[dict]) -> tuple[int, int] | None:
        """Where the log holds what it saved: (the position before it, its last), or None for nothing."""
        if outcomes:
            device.mutations_applied(first=first, outcomes=outcomes)
            recordings = self.app.save_and_keep(*batch.aggregates(), device)  # the ledger last: it ends the transaction
            positions = [recording.notification.id for recording in recordings]
            return min(positions) - 1, max(positions)
        return None

    def _device(self, user_id: str, client_id: str, copy: bool = True) -> Device | None:
        """The device's ledger, or None before its first push; never another account's."""
        device = self.app.device(client_id, copy=copy)
        if device is not None and (not isinstance(device, Device) or device.user_id != user_id):
            raise DeviceNotYours(NOT_YOURS)
        return device
