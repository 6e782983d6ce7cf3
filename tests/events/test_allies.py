"""Stories about the ally inventory: one person's private map of who is in their corner."""

from datetime import date
from uuid import UUID, uuid4

import pytest

from events.allies import KINDS, REASONS, STANCES, Inventory
from events.alliance import InvalidInput, NotFound
from sync import SyncService

TODAY = date(2027, 3, 1)


@pytest.fixture
def inventory() -> Inventory:
    return Inventory.start("sam")


def test_sam_keeps_an_inventory_of_their_own_under_an_id_nobody_can_work_out(inventory):
    assert inventory.owner == "sam" and inventory.as_dict()["allies"] == {}
    assert inventory.id != Inventory.start("sam").id


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
    goal, alliance = str(uuid4()), str(uuid4())
    kim, lee, pat = str(uuid4()), str(uuid4()), str(uuid4())
    inventory.add_goal(goal_id=goal, text="Start my own studio")
    inventory.add_ally(ally_id=kim, name="Kim", kinds=["pragmatic"], supports=[goal])
    inventory.add_ally(ally_id=lee, name="Lee", kinds=["caring"], supports=[goal], every_days=7)
    inventory.add_ally(ally_id=pat, name="Pat", stance="anti_ally", supports=[goal, alliance], plan="talk about the fear")
    inventory.thank(ally_id=kim, on="2027-02-20", note="for the spreadsheet")
    inventory.check_in(ally_id=lee, on="2027-02-01")

    audit = inventory.audit(goal, TODAY)
    assert audit["missing_kinds"] == ["bold", "candid"]
    assert audit["unthanked"] == [lee] and audit["anti_allies"] == [pat] and audit["overdue"] == [lee]
    assert "Nobody gives bold, creative thinking from outside yet: who could?" in audit["words"]
    assert "When did you last thank Lee?" in audit["words"]
    assert "Pat works against this goal; your plan: talk about the fear" in audit["words"]
    assert "Time to check in with Lee (every 7 days)." in audit["words"]
    assert "Pat works against this alliance; your plan: talk about the fear" in inventory.audit(alliance, TODAY)["words"]


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


# ----- synced like alliances, seen by nobody else -----

def test_the_inventory_syncs_to_its_owner_only(app):
    """Sam builds an inventory from a phone; Sam's laptop pulls it; Mallory never sees a trace."""
    sam, _ = app.sign_up(email=f"sam-{uuid4().hex[:6]}@example.org", password="correct horse", display_name="Sam")
    mallory, _ = app.sign_up(email=f"mal-{uuid4().hex[:6]}@example.org", password="correct horse",
                             display_name="Mallory")
    mallory_device = f"mal-{uuid4().hex[:8]}"
    mallory_cursor = SyncService(app).pull(mallory, mallory_device, None)["cursor"]
    goal, kim = str(uuid4()), str(uuid4())
    phone = f"sam-phone-{uuid4().hex[:8]}"
    result = SyncService(app).push(sam, phone, [
        {"id": 1, "alliance_id": "", "name": "add_goal", "args": {"goal_id": goal, "text": "Open a studio"}},
        {"id": 2, "alliance_id": "", "name": "add_ally",
         "args": {"ally_id": kim, "name": "Kim Secret", "kinds": ["candid"], "supports": [goal]}},
        {"id": 3, "alliance_id": "", "name": "thank_ally", "args": {"ally_id": kim, "on": "2027-02-20"}},
        {"id": 4, "alliance_id": "", "name": "add_ally", "args": {"ally_id": "nope", "name": "X"}}])
    assert [r["status"] for r in result.results] == ["applied", "applied", "applied", "rejected"]
    sams_inventory = app.account(sam).inventory
    assert result.changed == {sams_inventory: [sam]}  # only Sam's devices are poked

    laptop = SyncService(app).pull(sam, f"sam-laptop-{uuid4().hex[:8]}", None)
    assert laptop["inventory"]["allies"][kim]["name"] == "Kim Secret"
    # The audit comes written, for today, with the words the screen shows the inventory with.
    assert "Nobody gives bold, creative thinking from outside yet: who could?" in laptop["inventory"]["audit"][goal]
    assert laptop["inventory"]["words"] == {"kinds": KINDS, "reasons": REASONS, "stances": STANCES}
    assert SyncService(app).pull(sam, phone, SyncService(app).pull(sam, phone, None)["cursor"])["inventory"] is None  # nothing new

    # Mallory: her pulls, her own inventory mutations, and Sam's inventory id as an alliance.
    # A reset gives Mallory her own empty view (the words for her first ally), nothing of Sam's.
    fresh = SyncService(app).pull(mallory, f"mal-other-{uuid4().hex[:8]}", None)["inventory"]
    assert (fresh["id"], fresh["allies"], fresh["goals"], fresh["audit"]) == (None, {}, {}, {})
    assert fresh["words"]["reasons"]["cares_about_you"] == "They care about you"
    for pulled in (fresh, SyncService(app).pull(mallory, mallory_device, mallory_cursor)):
        assert "Kim Secret" not in str(pulled) and goal not in str(pulled) and kim not in str(pulled)
    assert SyncService(app).pull(mallory, mallory_device, mallory_cursor)["inventory"] is None
    mine = SyncService(app).push(mallory, f"mal-phone-{uuid4().hex[:8]}", [
        {"id": 1, "alliance_id": sams_inventory, "name": "remove_ally", "args": {"ally_id": kim}},
        {"id": 2, "alliance_id": sams_inventory, "name": "answer_question",
         "args": {"question_id": "x", "text": "y", "base_revision": 0}}])
    assert mine.results[0]["error"]["detail"] == "There is no such ally in your inventory."
    assert mine.results[1]["error"]["detail"] == "There is no such alliance, or you are not one of its participants."
    assert kim in app.repository.get(UUID(sams_inventory)).as_dict()["allies"]
    with pytest.raises(NotFound):
        app.alliance(sams_inventory)
    # Creating an alliance under the inventory's id would tell that it exists: nobody can know the id.
    assert sams_inventory not in str(SyncService(app).pull(mallory, mallory_device, mallory_cursor))
