"""A change the server refuses is shown with the server's reason, can be
dismissed, and does not block the changes after it (SYNC.md 2)."""

from phones import Q1, expect


def test_a_refused_change_is_shown_dismissed_and_the_queue_goes_on(phone, account):
    ann_api, bob_api = account("Ann"), account("Bob")
    shared = ann_api.create_alliance("Ann and Bob")
    bob_api.accept(ann_api.invite(shared, "Bob"))
    own = bob_api.create_alliance("Bob's own plan")
    bob = phone("bob")
    bob.sign_in(bob_api)

    def card(title):  # the alliance's card in the list (not a "needs me" reminder about it)
        return bob.page.locator('a.card-link:not([href*="?"])').filter(has_text=title)

    expect(card("Ann and Bob")).to_be_visible()
    expect(card("Bob's own plan")).to_be_visible()
    card("Ann and Bob").click()
    bob.wait_synced()
    bob.section("purpose")

    bob.offline()
    bob.answer(Q1, "I want to learn.")
    expect(bob.question(Q1).locator(".pending-box")).to_contain_text("(not yet synced)")
    # Meanwhile, on another device, Bob leaves that alliance.
    left = bob_api.push([{"alliance_id": shared, "name": "leave_alliance", "args": {}}])
    assert left["results"][0]["status"] == "applied", left

    bob.online()
    bob.wait_synced()
    expect(bob.page.get_by_role("heading", name="Not found")).to_be_visible()  # it left this device
    bob.page.get_by_role("link", name="Back to my alliances").click()
    # The alliance is gone from this phone, so the list is where the refusal shows: in words, with
    # the text Bob typed kept (never a mutation's name).
    alert = bob.page.locator(".rejected")
    expect(alert).to_have_count(1)
    expect(alert).to_have_attribute("role", "alert")
    expect(alert.get_by_role("paragraph").first).to_have_text(
        "Your answer could not be saved. Only participants of this alliance can change it.")
    expect(alert.get_by_text("I want to learn.", exact=True)).to_be_visible()
    expect(alert).not_to_contain_text("answer question")
    expect(alert).not_to_contain_text("answer_question")
    expect(card("Ann and Bob")).to_have_count(0)
    bob.shot("07-rejected-change")

    alert.get_by_role("button", name="Discard").click()
    expect(alert).to_have_count(0)
    bob.page.reload()  # dismissed for good, not just hidden
    expect(bob.page.get_by_role("heading", name="My alliances")).to_be_visible()
    expect(bob.page.locator(".rejected")).to_have_count(0)

    card("Bob's own plan").click()
    expect(bob.page.get_by_role("heading", name="Bob's own plan", level=1)).to_be_visible()
    bob.section("purpose")
    bob.answer(Q1, "Structure for my week.")
    bob.wait_synced()
    expect(bob.question(Q1).locator(".answer")).to_have_text("Structure for my week.")
    assert bob_api.alliance(own)["answers"]["purpose.why"]["text"] == "Structure for my week."
    assert "purpose.why" not in ann_api.alliance(shared)["answers"]
    assert [e["kind"] for e in ann_api.history(shared)][0] == "ParticipantLeft"
