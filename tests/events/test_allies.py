"""Stories about the ally inventory: one person's private map of who is in their corner."""

from datetime import date
from uuid import uuid4

import pytest

from events.allies import Inventory, inventory_id
from events.alliance import InvalidInput, NotFound

TODAY = date(2027, 3, 1)


@pytest.fixture
def inventory() -> Inventory:
    return Inventory.start("sam")


def test_sam_keeps_one_inventory_of_their_own(inventory):
    assert inventory.id == inventory_id("sam") != inventory_id("robin")
    assert inventory.owner == "sam" and inventory.as_dict()["allies"] == {}


def test_an_ally_supports_a_goal_with_a_kind_of_support_for_a_reason(inventory):
    goal, ally = str(uuid4()), str(uuid4())
    inventory.add_goal(goal_id=goal, text="Run a half marathon")
    inventory.add_ally(ally_id=ally, name="Kim", kinds=["pragmatic", "caring"], reason="reciprocity",
                       active=True, supports=[goal], every_days=14)
    kim = inventory.as_dict()["allies"][ally]
    assert (kim["name"], kim["kinds"], kim["reason"], kim["stance"]) == ("Kim", ["caring", "pragmatic"], "reciprocity", "ally")
    before = len(inventory.pending_events)
    inventory.add_ally(ally_id=ally, name="Kim", kinds=["pragmatic", "caring"], reason="reciprocity",
                       active=True, supports=[goal], every_days=14)
    assert len(inventory.pending_events) == before  # a retried creation records nothing


def test_what_an_inventory_refuses_is_said_plainly(inventory):
    with pytest.raises(InvalidInput, match="kind of support is one of"):
        inventory.add_ally(ally_id=uuid4(), name="Kim", kinds=["money"])
    with pytest.raises(InvalidInput, match="reason for being aligned is one of"):
        inventory.add_ally(ally_id=uuid4(), name="Kim", reason="fear")
    with pytest.raises(InvalidInput, match="An ally has no shoe_size"):
        inventory.add_ally(ally_id=uuid4(), name="Kim", shoe_size=42)
    with pytest.raises(NotFound, match="no such ally"):
        inventory.thank(ally_id=uuid4(), on="2027-03-01")
    with pytest.raises(InvalidInput, match="every 1 to 365 days"):
        inventory.add_ally(ally_id=uuid4(), name="Kim", every_days=0)


def test_the_audit_names_missing_support_unthanked_allies_and_anti_allies(inventory):
    goal = str(uuid4())
    kim, lee, pat = str(uuid4()), str(uuid4()), str(uuid4())
    inventory.add_goal(goal_id=goal, text="Start my own studio")
    inventory.add_ally(ally_id=kim, name="Kim", kinds=["pragmatic"], supports=[goal])
    inventory.add_ally(ally_id=lee, name="Lee", kinds=["caring"], supports=[goal], every_days=7)
    inventory.add_ally(ally_id=pat, name="Pat", stance="anti_ally", supports=[goal], plan="talk about the fear")
    inventory.thank(ally_id=kim, on="2027-02-20", note="for the spreadsheet")
    inventory.check_in(ally_id=lee, on="2027-02-01")

    audit = inventory.audit(goal, TODAY)
    assert audit["missing_kinds"] == ["bold", "candid"]
    assert audit["unthanked"] == [lee] and audit["anti_allies"] == [pat] and audit["overdue"] == [lee]
    assert "Nobody gives bold, creative thinking from outside yet: who could?" in audit["words"]
    assert "When did you last thank Lee?" in audit["words"]
    assert "Pat works against this goal; your plan: talk about the fear" in audit["words"]


def test_an_empty_corner_is_said_first(inventory):
    audit = inventory.audit(str(uuid4()), TODAY)
    assert audit["words"][0].startswith("Nobody is in your corner for this yet")
    assert audit["missing_kinds"] == ["pragmatic", "bold", "caring", "candid"]


def test_a_removed_ally_leaves_the_map_but_not_the_history(inventory):
    kim = str(uuid4())
    inventory.add_ally(ally_id=kim, name="Kim")
    inventory.update_ally(ally_id=kim, stance="neutral", note="moved away")
    inventory.remove_ally(ally_id=kim)
    assert kim not in inventory.as_dict()["allies"] and inventory.allies[kim]["note"] == "moved away"
    assert [type(e).__name__ for e in inventory.pending_events][-3:] == ["AllyAdded", "AllyUpdated", "AllyRemoved"]


def test_an_inventory_is_stored_and_read_back(app):
    inventory = Inventory.start("sam")
    kim = str(uuid4())
    inventory.add_ally(ally_id=kim, name="Kim", kinds=["candid"])
    inventory.thank(ally_id=kim, on="2027-02-20")
    app.save(inventory)
    stored = app.repository.get(inventory.id)
    assert stored.as_dict() == inventory.as_dict()
