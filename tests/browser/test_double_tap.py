"""A double tap on "Start designing" designs one alliance (issue 10, item 5)."""

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
