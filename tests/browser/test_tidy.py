"""Tidying up on a phone (issue 10, item 5): an alliance renamed, archived (and back) or left from
the list; an ally in the inventory changed or taken off the map."""

import uuid

from phones import expect, wait_until
from test_answers_who_when import shots


def card(p, title: str):
    """The list's card of one alliance (not a card of what needs me)."""
    return p.page.locator("li.card:not(.need)").filter(
        has=p.page.get_by_role("heading", name=title, level=2, exact=True))


def manage(p, title: str):
    """Open the card's Manage part (once) and give the card."""
    found = card(p, title)
    details = found.locator("details.manage")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return found


def no_sideways_scroll(p) -> None:
    assert p.page.evaluate("document.documentElement.scrollWidth") <= 360


def signed_in_pair(phone, account, title):
    ann_api, bob_api = account("Ann"), account("Bob")
    alliance_id = ann_api.create_alliance(title, "coaching")
    bob_api.accept(ann_api.invite(alliance_id, "Bob"))
    phones = []
    for api, name in ((ann_api, "ann"), (bob_api, "bob")):
        p = phone(name)
        p.sign_in(api)
        p.wait_synced()
        phones.append(p)
    return ann_api, bob_api, *phones, alliance_id


def test_an_alliance_renamed_from_the_list_reads_the_new_title_on_the_other_phone(phone, account):
    _, bob_api, ann, bob, alliance_id = signed_in_pair(phone, account, "Coaching")
    expect(card(bob, "Coaching")).to_be_visible()
    found = manage(ann, "Coaching")
    found.get_by_label("Name").fill("Coachingwithbobthroughthewholeofspringandsummer2027")  # one long word first
    found.get_by_role("button", name="Rename").click()
    ann.wait_synced()
    expect(card(ann, "Coachingwithbobthroughthewholeofspringandsummer2027")).to_be_visible()
    no_sideways_scroll(ann)
    found = manage(ann, "Coachingwithbobthroughthewholeofspringandsummer2027")
    found.get_by_label("Name").fill("Coaching with Bob, spring 2027")
    found.get_by_role("button", name="Rename").click()
    ann.wait_synced()
    expect(card(ann, "Coaching with Bob, spring 2027")).to_be_visible()
    expect(card(bob, "Coaching with Bob, spring 2027")).to_be_visible()
    expect(card(bob, "Coaching")).to_have_count(0)
    assert bob_api.alliance(alliance_id)["title"] == "Coaching with Bob, spring 2027"
    no_sideways_scroll(ann)


def test_archiving_moves_a_card_into_archived_for_me_only_and_unarchiving_brings_it_back(phone, account):
    ann_api, _, ann, bob, alliance_id = signed_in_pair(phone, account, "Half marathon")
    ann_api.create_alliance("Still going", "coaching")
    ann.wait_synced()
    manage(ann, "Half marathon").get_by_role("button", name="Archive", exact=True).click()
    ann.wait_synced()
    archived = ann.page.locator("#archived")
    expect(archived.get_by_role("heading", name="Archived", level=2)).to_be_visible()
    expect(archived.locator("li.card")).to_have_count(1)
    expect(archived).to_contain_text("Half marathon")
    expect(ann.page.locator("main > ul.cards")).not_to_contain_text("Half marathon")  # my list, not what needs me
    assert ann_api.user_id in ann_api.alliance(alliance_id)["archived_by"]
    expect(card(bob, "Half marathon")).to_be_visible()  # the others keep it in their list
    expect(bob.page.locator("#archived")).to_have_count(0)

    # Still readable: its screen opens from the Archived part.
    archived.get_by_role("link", name="Half marathon").click()
    expect(ann.page.get_by_role("heading", name="Half marathon", level=1)).to_be_visible()
    ann.go("#/")
    expect(ann.page.locator("#archived")).to_be_visible()
    manage(ann, "Half marathon")
    no_sideways_scroll(ann)
    shots(ann, "list-archived", ann.page.locator("#archived"))

    card(ann, "Half marathon").get_by_role("button", name="Unarchive").click()
    ann.wait_synced()
    expect(ann.page.locator("#archived")).to_have_count(0)
    expect(card(ann, "Half marathon")).to_be_visible()
    assert ann_api.user_id not in ann_api.alliance(alliance_id)["archived_by"]


def test_leaving_from_the_list_asks_first_and_then_the_alliance_leaves_my_list(phone, account):
    ann_api, bob_api, ann, bob, alliance_id = signed_in_pair(phone, account, "Trip to Porto")
    found = manage(bob, "Trip to Porto")
    shots(bob, "list-manage", found)

    asked = []
    bob.page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    found.get_by_role("button", name="Leave").click()
    wait_until(bob.page, "true")
    assert asked and "Trip to Porto" in asked[0] and "Ann keeps it" in asked[0] and "invite you again" in asked[0]
    expect(bob.status()).to_contain_text("0 changes waiting")  # said no: nothing happens
    expect(card(bob, "Trip to Porto")).to_be_visible()

    bob.page.once("dialog", lambda dialog: dialog.accept())
    manage(bob, "Trip to Porto").get_by_role("button", name="Leave").click()
    bob.wait_synced()
    expect(card(bob, "Trip to Porto")).to_have_count(0)
    expect(card(ann, "Trip to Porto")).to_be_visible()  # Ann keeps it
    assert ann_api.alliance(alliance_id)["participants"][bob_api.user_id]["status"] == "left"


def test_an_ally_is_changed_and_taken_off_the_map_with_a_confirmation(phone, account):
    ann = account("Ann")
    sam, lee = str(uuid.uuid4()), str(uuid.uuid4())
    ann.push([{"alliance_id": "", "name": "add_ally", "args": {"ally_id": sam, "name": "Sam", "kinds": ["pragmatic"]}},
              {"alliance_id": "", "name": "add_ally", "args": {"ally_id": lee, "name": "Lee"}}])
    p = phone("ann")
    p.sign_in(ann)
    p.go("#/allies")
    p.wait_synced()
    page = p.page
    ally = lambda name: page.locator("#map li.card").filter(has=page.get_by_role("heading", name=name, exact=True))  # noqa: E731

    ally("Sam").get_by_role("button", name="Change or remove Sam").click()
    edit = ally("Sam").locator("form")
    expect(edit.get_by_label("Name", exact=True)).to_have_value("Sam")
    expect(edit.get_by_role("checkbox", name="Practical help with the how")).to_be_checked()
    shots(p, "ally-edit", ally("Sam"))
    edit.get_by_label("Name", exact=True).fill("Sam Okafor")
    edit.get_by_role("checkbox", name="Candid, wise counsel").check()
    edit.get_by_label("Keep in touch every").fill("21")
    edit.get_by_role("button", name="Save changes").click()
    expect(ally("Sam Okafor")).to_contain_text("Changed (not yet synced)")
    p.wait_synced()
    expect(ally("Sam Okafor").first).to_contain_text("Keep in touch every 21 days")
    pulled = ann.post("/api/v1/sync/pull", {"client_id": f"check-{uuid.uuid4().hex[:8]}"})["inventory"]["allies"]
    assert pulled[sam]["name"] == "Sam Okafor" and sorted(pulled[sam]["kinds"]) == ["candid", "pragmatic"]
    assert pulled[sam]["every_days"] == 21
    no_sideways_scroll(p)

    ally("Lee").get_by_role("button", name="Change or remove Lee").click()
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    ally("Lee").get_by_role("button", name="Remove from my map").click()
    wait_until(page, "true")
    assert asked and "Lee" in asked[0]
    expect(ally("Lee")).to_be_visible()  # said no: still there
    page.once("dialog", lambda dialog: dialog.accept())
    ally("Lee").get_by_role("button", name="Remove from my map").click()
    p.wait_synced()
    expect(ally("Lee")).to_have_count(0)
    pulled = ann.post("/api/v1/sync/pull", {"client_id": f"check-{uuid.uuid4().hex[:8]}"})["inventory"]["allies"]
    assert lee not in pulled and sam in pulled
