"""The ally inventory on a phone: built offline, shown at once as not yet synced,
synced when the network comes back, and read back as a map with the audit's gaps
in words. The server's pull for that person carries it; the screen has no serious
accessibility problem in light or dark."""

import uuid

from phones import expect
from test_quality import check_screen


def ally_card(page, name: str):
    return page.locator("#map li.card").filter(has=page.get_by_role("heading", name=name, exact=True))


def test_an_inventory_built_offline_syncs_and_shows_what_is_missing(phone, account):
    ann = account("Ann")
    p = phone("ann")
    p.sign_in(ann)
    p.wait_controlled()
    p.wait_synced()
    page = p.page

    p.offline()
    page.reload()  # the shell, the Allies screen included, comes from the service worker's cache
    expect(p.status()).to_contain_text("Offline")
    page.get_by_role("link", name="Allies", exact=True).click()
    expect(page.get_by_role("heading", name="Allies", level=1)).to_be_visible()

    page.get_by_text("Name a goal", exact=True).click()
    page.get_by_label("Your goal").fill("Run a half marathon")
    page.get_by_role("button", name="Add goal").click()
    expect(page.get_by_text("Goal: Run a half marathon (not yet synced)")).to_be_visible()

    for name, kind in (("Sam", "Practical help with the how"), ("Rosa", "Candid, wise counsel")):
        add = page.locator("#add details").filter(has=page.get_by_text("Add an ally", exact=True))
        if add.get_attribute("open") is None:
            add.locator("summary").click()
        add.get_by_label("Name", exact=True).fill(name)
        add.get_by_role("checkbox", name=kind).check()
        add.get_by_role("checkbox", name="Run a half marathon").check()
        add.get_by_label("Keep in touch every").fill("14")
        add.get_by_role("button", name="Add ally").click()
        expect(ally_card(page, name)).to_contain_text("Added (not yet synced)")
    expect(page.locator("#map").get_by_role("heading", name="Practical help with the how")).to_be_visible()
    expect(ally_card(page, "Sam")).to_contain_text("For: Run a half marathon")

    ally_card(page, "Sam").get_by_role("button", name="Thanks", exact=True).click()
    expect(ally_card(page, "Sam").get_by_text("(not yet synced)")).to_have_count(2)
    expect(p.status()).to_contain_text("4 changes waiting")
    p.shot("allies-offline-pending")

    p.online()
    p.wait_synced()
    expect(page.get_by_text("not yet synced")).to_have_count(0)
    gaps = page.locator("#gaps .gap").filter(has=page.get_by_role("heading", name="Run a half marathon"))
    expect(gaps).to_contain_text("Nobody gives bold, creative thinking from outside yet: who could?")
    expect(gaps).to_contain_text("Nobody gives care for the people and how they feel yet: who could?")
    expect(gaps).not_to_contain_text("practical help with the how")
    expect(gaps).to_contain_text("When did you last thank Rosa?")
    expect(gaps).not_to_contain_text("thank Sam")
    expect(ally_card(page, "Sam")).to_contain_text("Thanked ")
    expect(ally_card(page, "Rosa")).to_contain_text("Not thanked yet")
    p.shot("allies-synced")
    p.shot("allies-synced-full", full_page=True)

    # The server's pull for this person, from a fresh device, carries the inventory.
    pull = ann.post("/api/v1/sync/pull", {"client_id": f"http-{uuid.uuid4().hex[:12]}", "cursor": None})
    inventory = pull["inventory"]
    assert sorted(a["name"] for a in inventory["allies"].values()) == ["Rosa", "Sam"]
    assert [g["text"] for g in inventory["goals"].values()] == ["Run a half marathon"]
    (goal_id,) = inventory["goals"]
    sam = next(a for a in inventory["allies"].values() if a["name"] == "Sam")
    assert sam["kinds"] == ["pragmatic"] and sam["supports"] == [goal_id] and sam["every_days"] == 14
    assert [t["kind"] for t in sam["touches"]] == ["thanks"]
    assert p.meta("inventory")["id"] == inventory["id"], "the phone keeps the pulled inventory"

    # Checked in today: quick, and shown at once.
    ally_card(page, "Rosa").get_by_role("button", name="Checked in today").click()
    p.wait_synced()
    expect(ally_card(page, "Rosa")).to_contain_text("last check-in")


def test_the_allies_screen_has_no_serious_accessibility_problem_in_light_or_dark(phone, account):
    ann = account("Ann")
    alliance_id = ann.create_alliance("Coaching with Bob")
    goal_id, a, b = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    ann.push([
        {"alliance_id": "", "name": "add_goal", "args": {"goal_id": goal_id, "text": "Change careers"}},
        {"alliance_id": "", "name": "add_ally", "args": {"ally_id": a, "name": "Sam", "kinds": ["pragmatic", "caring"],
                                                          "reason": "cares_about_you", "supports": [goal_id, alliance_id],
                                                          "every_days": 7}},
        {"alliance_id": "", "name": "add_ally", "args": {"ally_id": b, "name": "Vic", "stance": "anti_ally",
                                                          "plan": "Ask what worries them", "supports": [goal_id]}},
        {"alliance_id": "", "name": "add_ally", "args": {"ally_id": str(uuid.uuid4()), "name": "Lee"}},
    ])
    p = phone("ann")
    p.sign_in(ann)
    p.go("#/allies")
    p.wait_synced()
    page = p.page
    expect(page.get_by_text("Vic works against this goal; your plan: Ask what worries them")).to_be_visible()
    expect(page.get_by_text("Time to check in with Sam (every 7 days).").first).to_be_visible()
    expect(page.locator("#map").get_by_role("heading", name="Not sorted yet")).to_be_visible()
    page.evaluate("() => { for (const d of document.querySelectorAll('main details')) d.open = true; }")
    problems: list[str] = []
    check_screen(p, "allies", problems)
    assert problems == [], "\n".join(problems)


def test_an_ally_is_invited_to_design_an_alliance_in_one_step(phone, account):
    """Sam has Kim in the inventory; one tap designs an alliance with Kim, who supports it and is invited."""
    sam = account("Sam")
    kim = str(uuid.uuid4())
    sam.push([{"alliance_id": "", "name": "add_ally", "args": {"ally_id": kim, "name": "Kim", "kinds": ["bold"]}}])
    p = phone("sam")
    p.sign_in(sam)
    p.wait_synced()
    page = p.page
    page.get_by_role("link", name="Allies", exact=True).click()
    ally_card(page, "Kim").get_by_role("link", name="Design an alliance together").click()
    expect(page.get_by_label("What is this alliance about?")).to_have_value("With Kim")
    page.get_by_role("button", name="Start designing").click()
    expect(p.page.locator("#notice")).to_contain_text("/invite/", timeout=15_000)

    alliance_id = page.evaluate("location.hash").split("?")[0].split("/")[2]
    state = sam.alliance(alliance_id)
    assert [i["name"] for i in state["invitations"].values()] == ["Kim"]
    pulled = sam.post("/api/v1/sync/pull", {"client_id": f"check-{uuid.uuid4().hex[:8]}"})
    assert pulled["inventory"]["allies"][kim]["supports"] == [alliance_id]
