"""The ally inventory: one person's private map of who is in their corner.

One inventory per person, seen by nobody else (its id is random and known
only to the owner's account). Allies support goals (of the
person's own naming) or alliances; each gives a kind of support, for a reason,
actively or passively, and stands as an ally, neutral or an anti-ally. Check-ins
and thanks are logged; the audit tells, in words, what is missing.
"""

import copy
import secrets
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

from eventsourcing.domain import Aggregate, event

from events.accounts import NAMESPACE
from events.alliance import InvalidInput, NotFound, _day, _id, _text

# The four packs, in our words: the how, bold outside thinking, care for people, candid counsel.
KINDS = {
    "pragmatic": "practical help with the how",
    "bold": "bold, creative thinking from outside",
    "caring": "care for the people and how they feel",
    "candid": "candid, wise counsel",
}
# Why someone is aligned with you, and where they stand: each as the screen says it.
REASONS = {
    "cares_about_you": "They care about you",
    "likes_seeing_you_do_well": "They like seeing you do well",
    "gains_standing": "It gains them standing",
    "reciprocity": "You help each other",
    "paying_forward": "They pay forward help they once had",
    "paid": "They are paid to help",
}
STANCES = {"ally": "Ally", "neutral": "Neutral", "anti_ally": "Anti-ally (works against you)"}
UNTHANKED_DAYS = 60  # an ally not thanked for this long is worth a word of gratitude


def _choice(value: Any, choices, what: str) -> str:
    if value not in choices:
        raise InvalidInput(f"The {what} is one of: {', '.join(choices)}.")
    return value


class Inventory(Aggregate):
    TOPIC = "inventory"
    erased_at = None  # when its owner deleted their account (issue 13); a class-level default for older ones

    class Created(Aggregate.Created):  # the library's default; unused (__init__ records InventoryStarted)
        TOPIC = "inventory.Created"

    @event("InventoryStarted", topic="inventory.InventoryStarted")
    def __init__(self, id: uuid.UUID, owner: str) -> None:
        self.owner = owner
        self.goals: dict[str, dict] = {}
        self.allies: dict[str, dict] = {}

    @classmethod
    def start(cls, owner: str) -> "Inventory":
        # A random id, kept on the owner's account: nobody can work it out from the owner's id.
        # Version 5 like every id the server makes, so no client-made alliance id can take it.
        return cls(id=uuid.uuid5(NAMESPACE, f"inventory:{secrets.token_hex(16)}"), owner=owner)

    # ----- goals -----

    def add_goal(self, *, goal_id: Any, text: str) -> None:
        goal_id, text = _id(goal_id, "goal id"), _text(text, "goal")
        if self.goals.get(goal_id, {}).get("text") != text:
            self._goal_named(goal_id=goal_id, text=text)

    @event("GoalNamed", topic="inventory.GoalNamed")
    def _goal_named(self, goal_id: str, text: str) -> None:
        self.goals[goal_id] = {"text": text}

    # ----- allies -----

    def _ally(self, ally_id: Any) -> dict:
        ally = self.allies.get(str(ally_id))
        if ally is None or ally["removed"]:
            raise NotFound("There is no such ally in your inventory.")
        return ally

    def _fields(self, fields: dict) -> dict:
        checked = {}
        for key, value in fields.items():
            if key == "name":
                checked[key] = _text(value, "ally's name")
            elif key == "kinds":
                if not isinstance(value, list):
                    raise InvalidInput("Kinds of support are a list.")
                checked[key] = sorted({_choice(k, KINDS, "kind of support") for k in value})
            elif key == "reason":
                checked[key] = None if value is None else _choice(value, REASONS, "reason for being aligned")
            elif key == "active":
                if not isinstance(value, bool):
                    raise InvalidInput("Say whether the support is active (true) or passive (false).")
                checked[key] = value
            elif key == "stance":
                checked[key] = _choice(value, STANCES, "stance")
            elif key in ("plan", "note"):
                checked[key] = _text(value, key, required=False)
            elif key == "supports":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise InvalidInput("What an ally supports is a list of goal or alliance ids.")
                checked[key] = sorted(set(value))
            elif key == "user_id":
                checked[key] = None if value is None else _text(value, "linked user")
            elif key == "every_days":
                if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                          or not 1 <= value <= 365):
                    raise InvalidInput("Keep in touch every 1 to 365 days (or not at all).")
                checked[key] = value
            else:
                raise InvalidInput(f"An ally has no {key}.")
        return checked

    def add_ally(self, *, ally_id: Any, name: str, **fields: Any) -> None:
        ally_id = _id(ally_id, "ally id")
        fields = self._fields({"name": name, **fields})
        known = self.allies.get(ally_id)
        if known:
            if all(known.get(k) == v for k, v in fields.items()):
                return  # a retried creation
            raise InvalidInput("An ally with this id exists already.")
        ally = {"name": "", "user_id": None, "kinds": [], "reason": None, "active": True, "stance": "ally",
                "plan": "", "note": "", "supports": [], "every_days": None, **fields}
        self._ally_added(ally_id=ally_id, ally=ally)

    @event("AllyAdded", topic="inventory.AllyAdded")
    def _ally_added(self, ally_id: str, ally: dict) -> None:
        self.allies[ally_id] = {**ally, "removed": False, "touches": []}

    def update_ally(self, *, ally_id: Any, **fields: Any) -> None:
        ally = self._ally(ally_id)
        changes = {k: v for k, v in self._fields(fields).items() if ally.get(k) != v}
        if changes:
            self._ally_updated(ally_id=str(ally_id), changes=changes)

    @event("AllyUpdated", topic="inventory.AllyUpdated")
    def _ally_updated(self, ally_id: str, changes: dict) -> None:
        self.allies[ally_id].update(changes)

    def remove_ally(self, *, ally_id: Any) -> None:
        self._ally(ally_id)
        self._ally_removed(ally_id=str(ally_id))

    @event("AllyRemoved", topic="inventory.AllyRemoved")
    def _ally_removed(self, ally_id: str) -> None:
        self.allies[ally_id]["removed"] = True

    def check_in(self, *, ally_id: Any, on: str, note: str = "") -> None:
        self._touch(ally_id, "check_in", on, note)

    def thank(self, *, ally_id: Any, on: str, note: str = "") -> None:
        self._touch(ally_id, "thanks", on, note)

    def _touch(self, ally_id: Any, kind: str, on: str, note: str) -> None:
        self._ally(ally_id)
        day = _day(on, "date")
        if day is None:
            raise InvalidInput("Give the date of the check-in or thanks.")
        self._touched(ally_id=str(ally_id), kind=kind, on=day, note=_text(note, "note", required=False))

    @event("AllyTouched", topic="inventory.AllyTouched")
    def _touched(self, ally_id: str, kind: str, on: str, note: str) -> None:
        self.allies[ally_id]["touches"].append({"kind": kind, "on": on, "note": note})

    # ----- erasure (issue 13) -----

    def erase(self) -> None:
        """Everything in it gone, at its owner's request (their account deleted)."""
        if self.erased_at is None:
            self._erased(at=datetime.now(timezone.utc).isoformat())

    @event("InventoryErased", topic="inventory.InventoryErased")
    def _erased(self, at: str) -> None:
        self.goals, self.allies, self.erased_at = {}, {}, at

    # ----- reading -----

    def current(self) -> dict[str, dict]:
        return {aid: a for aid, a in self.allies.items() if not a["removed"]}

    def last(self, ally: dict, kind: str | None = None) -> str | None:
        days = [t["on"] for t in ally["touches"] if kind is None or t["kind"] == kind]
        return max(days) if days else None

    def overdue(self, today: date) -> list[str]:
        """Allies whose keep-in-touch rhythm has run out."""
        late = []
        for aid, ally in self.current().items():
            last = self.last(ally)
            if ally["every_days"] and (last is None or date.fromisoformat(last)
                                       + timedelta(days=ally["every_days"]) < today):
                late.append(aid)
        return late

    def audit(self, target: str, today: date) -> dict:
        """For one goal or alliance: which kinds of support are missing, who has not been
        thanked for a while, which anti-allies need dealing with, whom it is time to check in
        with, and questions to ask oneself."""
        around = {aid: a for aid, a in self.current().items() if target in a["supports"]}
        allies = {aid: a for aid, a in around.items() if a["stance"] == "ally"}
        covered = {k for a in allies.values() for k in a["kinds"]}
        missing = [k for k in KINDS if k not in covered]
        since = (today - timedelta(days=UNTHANKED_DAYS)).isoformat()
        unthanked = [aid for aid, a in allies.items() if (self.last(a, "thanks") or "") < since]
        anti = [aid for aid, a in around.items() if a["stance"] == "anti_ally"]
        overdue = [aid for aid in self.overdue(today) if aid in around]
        this = "this goal" if target in self.goals else "this alliance"
        words = [f"Nobody gives {KINDS[k]} yet: who could?" for k in missing]
        words += [f"When did you last thank {allies[aid]['name']}?" for aid in unthanked]
        words += [f"{around[aid]['name']} works against {this}"
                  + (f"; your plan: {around[aid]['plan']}" if around[aid]["plan"] else ": what will you do about it?")
                  for aid in anti]
        words += [f"Time to check in with {around[aid]['name']} (every {around[aid]['every_days']} days)."
                  for aid in overdue]
        if not allies:
            words.insert(0, "Nobody is in your corner for this yet. Who already cares how it goes?")
        return {"target": target, "missing_kinds": missing, "unthanked": unthanked, "anti_allies": anti,
                "overdue": overdue, "words": words}

    def as_dict(self) -> dict:
        return {"id": str(self.id), "version": self.version, "goals": copy.deepcopy(self.goals),
                "allies": copy.deepcopy(self.current())}


def owners_view(inventory: Inventory | None, alliances: list[str], today: date) -> dict:
    """What the owner's own device is sent: the inventory, the audit in words of each of their
    goals and alliances as of today, and the words the screen shows kinds, reasons and stances
    with. Before anything is stored it is the empty view (`id` None): the screen needs the words
    for the first ally too."""
    shown = inventory or Inventory.start(owner="")  # never saved: only its emptiness is read
    view = shown.as_dict() if inventory else {**shown.as_dict(), "id": None, "version": 0}
    view["audit"] = {target: shown.audit(target, today)["words"] for target in [*shown.goals, *alliances]}
    view["words"] = {"kinds": KINDS, "reasons": REASONS, "stances": STANCES}
    return view
