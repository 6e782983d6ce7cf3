"""The list of alliances stays true: a double tap on "Start designing" designs one alliance
(issue 10, item 5), and a closed alliance shows no next review (item 4)."""

from phones import expect


def test_a_double_tapped_design_makes_one_alliance(phone, account):
    api = account("Ann")
    p = phone("ann")
    p.sign_in(api)
    p.wait_synced()
    p.page.get_by_role("link", name="Design an alliance").click()
    p.page.get_by_label("What is this alliance about?").fill("Coaching with Sam")
    p.page.get_by_role("button", name="Start designing").dblclick()
    expect(p.page.get_by_role("heading", name="Coaching with Sam", level=1, exact=True)).to_be_visible()
    p.wait_synced()
    expect(p.status()).to_contain_text("0 changes waiting")
    on_server = api.post("/api/v1/sync/pull", {"client_id": "a-fresh-phone-1"})["alliances"]
    assert [a["title"] for a in on_server] == ["Coaching with Sam"]
    p.go("#/")
    expect(p.page.locator('a.card-link:not([href*="?"])').filter(has_text="Coaching with Sam")).to_have_count(1)
    assert p.page.locator(".rejected").count() == 0  # nor a refused second design to explain


def test_a_closed_alliance_shows_no_next_review_on_its_card(phone, account):
    """Issue 10, item 4: a closed alliance meets no more."""
    api = account("Ann")
    alliance_id = api.create_alliance("Half marathon", "coaching")
    api.push([{"alliance_id": alliance_id, "name": "schedule_review",
               "args": {"every": 2, "unit": "weeks", "next_date": "2027-12-15"}}])
    still_open = api.create_alliance("Still going", "coaching")
    api.push([{"alliance_id": still_open, "name": "schedule_review",
               "args": {"every": 2, "unit": "weeks", "next_date": "2027-12-15"}},
              {"alliance_id": alliance_id, "name": "close_alliance", "args": {"celebration": "Dinner"}}])
    p = phone("ann")
    p.sign_in(api)
    p.wait_synced()
    cards = p.page.locator("li.card:not(.need)")  # the alliances, not what needs me
    expect(cards.filter(has_text="Still going")).to_contain_text("Next review")
    expect(cards.filter(has_text="Half marathon")).to_contain_text("Closed")
    expect(cards.filter(has_text="Half marathon")).not_to_contain_text("Next review")
