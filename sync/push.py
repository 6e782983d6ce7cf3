"""One push: the aggregates it touches, loaded once, changed by the application's
commands, and saved together with the device's ledger (events/devices.py)."""

from typing import Any
from uuid import UUID

from events.accounts import Account
from events.commands import PREFERENCE_COMMANDS, checked
from events.alliance import Alliance, AllianceError, InvalidInput, NotFound, new_aggregate_id
from events.allies import Inventory
from events.application import NO_SUCH_ALLIANCE, AllianceApplication
from events.preferences import PREFERENCE_MUTATIONS, saved_or_started
from events.text import quote
from sync.mutations import INVENTORY_MUTATIONS, LEAVING, MUTATIONS, problem


class Batch:
    def __init__(self, app: AllianceApplication, user_id: str, client_id: str):
        self.app, self.user_id, self.client_id = app, user_id, client_id
        self.loaded: dict[str, Any] = {}
        self.touched: set[str] = set()

    def aggregates(self) -> list:
        return [self.loaded[key] for key in self.touched]

    def changed(self) -> dict[str, list[str]]:
        """What the push changed, and whom to poke: each alliance's members (and the pusher, who may
        have just left it: their other devices hear it); an inventory's owner. Who left hears no more."""
        changed = {key: sorted({*a.members(), self.user_id}) for key, a in self.loaded.items()
                   if key in self.touched and isinstance(a, Alliance)}
        if "inventory" in self.touched:
            changed[str(self.loaded["inventory"].id)] = [self.user_id]
        if "preferences" in self.touched:  # reminders (issue 12): the person's own devices only
            changed[str(self.loaded["preferences"].id)] = [self.user_id]
        return changed

    def apply(self, mutation: dict) -> dict:
        """Run one mutation; a refusal is an outcome, not an error."""
        try:
            return self._apply(mutation["name"], mutation["alliance_id"], mutation["args"])
        except AllianceError as error:
            return {"status": "rejected", "error": problem(error)}

    def _apply(self, name: str, alliance_id: Any, args: Any) -> dict:
        if not isinstance(args, dict):
            raise InvalidInput("The arguments of a mutation are an object.")
        if name == "create_alliance":
            return self._create(alliance_id, args)
        if name in INVENTORY_MUTATIONS:
            self.app.run_inventory_command(self._inventory(), INVENTORY_MUTATIONS[name], args)
            self.touched.add("inventory")
            return {"status": "applied", "error": None}
        if name in PREFERENCE_MUTATIONS:  # reminders (issue 12): the pusher's own preferences
            if "preferences" not in self.loaded:
                self.loaded["preferences"] = saved_or_started(self.app, self.user_id)
            method = PREFERENCE_MUTATIONS[name]
            getattr(self.loaded["preferences"], method)(**checked(PREFERENCE_COMMANDS[method], args, "reminder preferences"))
            if self.loaded["preferences"].pending_events:
                self.touched.add("preferences")
            return {"status": "applied", "error": None}
        if name not in MUTATIONS:
            raise InvalidInput(f"There is no mutation called {quote(name)}; this client may need an update.")
        command, renames = MUTATIONS[name]
        alliance = self._alliance(alliance_id)
        args = {renames.get(key, key): value for key, value in args.items()}
        before, version = _conflicts_near(alliance, command, args), alliance.version
        self.app.run_command(alliance, command, by=self.user_id, device=self.client_id, args=args)
        if alliance.version != version:
            self.touched.add(str(alliance.id))
        if command in LEAVING:
            self._account().alliance_left(str(alliance.id))
            self.touched.add(self.user_id)
        conflict = _conflicts_near(alliance, command, args) > before
        return {"status": "conflict" if conflict else "applied", "error": None}

    def _create(self, alliance_id: Any, args: dict) -> dict:
        key = str(new_aggregate_id(alliance_id, "alliance id"))
        if key in self.loaded or self.app.stored(UUID(key)):
            raise InvalidInput("An alliance with this id exists already: make a new id.")
        alliance = self.app.design(alliance_id=key, by=self.user_id, device=self.client_id, args=args,
                                   facilitator_name=self._account().display_name)
        self.loaded[key] = alliance
        self._account().alliance_joined(key)
        self.touched.update((key, self.user_id))
        return {"status": "applied", "error": None}

    def _inventory(self) -> Inventory:
        """The pushing person's own ally inventory, started on first use: nobody else's, ever."""
        if "inventory" not in self.loaded:
            inventory = self.app.inventory_of(self.user_id)
            if inventory is None:
                # Saved with the account that points at it, even if this mutation is refused.
                inventory = Inventory.start(self.user_id)
                self._account().inventory_opened(str(inventory.id))
                self.touched.update((self.user_id, "inventory"))
            self.loaded["inventory"] = inventory
        return self.loaded["inventory"]

    def _account(self) -> Account:
        if self.user_id not in self.loaded:
            self.loaded[self.user_id] = self.app.account(self.user_id)
        return self.loaded[self.user_id]

    def _alliance(self, alliance_id: Any) -> Alliance:
        try:
            key = str(UUID(str(alliance_id)))  # as the store writes it (a client may spell it in capitals)
            if key not in self.loaded:
                self.loaded[key] = self.app.alliance(key)
        except (ValueError, NotFound):
            raise NotFound(NO_SUCH_ALLIANCE) from None
        if self.user_id not in self.loaded[key].participants:  # one who left hears not_a_participant
            raise NotFound(NO_SUCH_ALLIANCE)  # never tell outsiders that it exists
        return self.loaded[key]


def _conflicts_near(alliance: Alliance, command: str, args: dict) -> int:
    """The values held in conflict where this command can add one: on its answer or its
    commitment (a restored version can add them anywhere). Counting only there keeps a push's
    cost from growing with the alliance."""
    if command == "restore_version":
        return alliance.conflicts()
    answer = alliance.answers.get(str(args.get("question_id")))
    commitment = alliance.commitments.get(str(args.get("commitment_id")))
    return (len(answer["conflict"]) if answer else 0) + \
        (sum(len(values) for values in commitment["conflict"].values()) if commitment else 0)
