"""A device's ledger: the last mutation applied from it and recent outcomes.

It is saved in the same transaction as the changes a push causes, so the
device's numbering and the alliances can never disagree (exactly once).
"""

import uuid

from eventsourcing.domain import Aggregate, event

from events.accounts import NAMESPACE

KEEP_OUTCOMES = 1000  # older duplicates are still recognised, without their details


def device_id(client_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"device:{client_id}")


class Device(Aggregate):
    TOPIC = "device"

    class Created(Aggregate.Created):  # the library's default; unused (__init__ records DeviceRegistered)
        TOPIC = "device.Created"

    @event("DeviceRegistered", topic="device.DeviceRegistered")
    def __init__(self, id: uuid.UUID, client_id: str, user_id: str) -> None:
        self.client_id = client_id
        self.user_id = user_id
        self.last_mutation_id = 0
        self.outcomes: dict[str, dict] = {}  # str(mutation id) -> {status, error}

    @classmethod
    def register(cls, client_id: str, user_id: str) -> "Device":
        return cls(id=device_id(client_id), client_id=client_id, user_id=user_id)

    def copy_to_change(self) -> "Device":
        """A copy for a push to change (events/repository.py): a fold replaces outcomes and never
        changes one in place, so the copy shares them instead of copying up to 1,000 of them."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__, outcomes=dict(self.outcomes),
                             _pending_events=list(self._pending_events))
        return copy

    def outcome(self, mutation_id: int) -> dict:
        return self.outcomes.get(str(mutation_id), {"status": "applied", "error": None})

    @event("MutationsApplied", topic="device.MutationsApplied")
    def mutations_applied(self, first: int, outcomes: list) -> None:
        """Outcomes of mutations first, first + 1, ... (each {status, error})."""
        for offset, outcome in enumerate(outcomes):
            self.outcomes[str(first + offset)] = outcome
        self.last_mutation_id = first + len(outcomes) - 1
        for old in [k for k in self.outcomes if int(k) <= self.last_mutation_id - KEEP_OUTCOMES]:
            del self.outcomes[old]
