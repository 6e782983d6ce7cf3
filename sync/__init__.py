"""The sync protocol, on its own floor: push, pull and what each device may see.

It holds the domain's application and uses it (as eventsourcing's cargo-shipping
example's service holds its application); the application knows nothing of it.
A push travels one way: server/sync.py -> SyncService.push -> the application's
commands -> the aggregates -> one save -> back by return values.
"""

from sync.service import DeviceNotYours, OutOfOrder, PushResult, SyncService

__all__ = ["DeviceNotYours", "OutOfOrder", "PushResult", "SyncService"]
