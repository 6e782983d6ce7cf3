"""Two people, each on a phone of their own: a change on one shows on the other
without a reload, and two offline edits of the same answer are both kept as a
conflict until someone resolves it (SYNC.md 5, 6)."""

import time

from phones import Q1, expect


def alliance_of_two(phone, account, title):
    """Ann makes an alliance over HTTP and invites Bob; Bob joins through the link
    in the app. Both phones end on the alliance screen, synced."""
    ann_api, bob_api = account("Ann"), account("Bob")
    alliance_id = ann_api.create_alliance(title)
    token = ann_api.invite(alliance_id, "Bob")
    ann, bob = phone("ann"), phone("bob")
    bob.sign_in(bob_api)
    bob.open(f"#/join/{token}")
    expect(bob.page).to_have_url(f"{bob.url}/app/#/a/{alliance_id}")
    ann.sign_in(ann_api)
    ann.open(f"#/a/{alliance_id}")
    for p in (ann, bob):
        expect(p.page.get_by_role("heading", name=title, level=1, exact=True)).to_be_visible()
        expect(p.page.locator("#people")).to_contain_text("Ann")
        expect(p.page.locator("#people")).to_contain_text("Bob")
        p.wait_synced()
        p.section("purpose")
    return ann_api, bob_api, ann, bob, alliance_id


def test_a_change_on_one_phone_shows_on_the_other_within_seconds(phone, account):
    ann_api, _, ann, bob, alliance_id = alliance_of_two(phone, account, "Weekly coaching")
    bob.page.evaluate("window.__notReloaded = true")

    ann.answer(Q1, "A new job, and nerves about it.")
    started = time.monotonic()
    expect(bob.question(Q1).locator(".answer")).to_have_text("A new job, and nerves about it.", timeout=5_000)
    took = time.monotonic() - started
    assert bob.page.evaluate("window.__notReloaded") is True, "Bob's page was reloaded"
    print(f"Ann's answer showed on Bob's phone {took:.2f} s after she saved it")

    bob.commit("Share the job description")
    ann.section("commitments")
    expect(ann.page.locator("#commitments .card").filter(has_text="Share the job description")) \
        .to_contain_text("Bob", timeout=5_000)
    expect(ann.page.locator("#commitments")).not_to_contain_text("not yet synced")
    assert [c["text"] for c in ann_api.alliance(alliance_id)["commitments"].values()] == ["Share the job description"]


def test_offline_edits_of_one_answer_become_a_conflict_that_one_resolves_for_both(phone, account):
    ann_api, bob_api, ann, bob, alliance_id = alliance_of_two(phone, account, "Trip to Lisbon")
    bob.page.evaluate("window.__notReloaded = true")
    ann_text, bob_text = "We talk every Monday.", "We talk when either of us asks."

    for p in (ann, bob):
        p.offline()
        expect(p.status()).to_contain_text("Offline")
    ann.answer(Q1, ann_text)
    ann.commit("Ann books the flights")
    bob.answer(Q1, bob_text)
    bob.commit("Bob finds a flat")
    for p, text in ((ann, ann_text), (bob, bob_text)):
        p.section("purpose")
        expect(p.question(Q1).locator(".pending-box")).to_have_text(f"{text} (not yet synced)")
        expect(p.status()).to_contain_text("2 changes waiting")

    ann.online()
    ann.wait_synced()
    bob.online()
    bob.wait_synced()

    for p in (ann, bob):
        expect(p.question(Q1)).to_contain_text("Two answers were given at once")
        p.section("commitments")
        commitments = p.page.locator("#commitments")
        expect(commitments.locator(".card").filter(has_text="Ann books the flights")).to_be_visible()
        expect(commitments.locator(".card").filter(has_text="Bob finds a flat")).to_be_visible()
        p.top()
        expect(p.page.get_by_role("link", name="1 conflict to resolve.")).to_be_visible()  # what needs me
    bob.shot("04-conflict-bob")
    bob.section("purpose")
    ann.page.get_by_role("link", name="1 conflict to resolve.").click()
    expect(ann.page.get_by_role("heading", name="Conflicts to resolve", level=1)).to_be_visible()
    ann.shot("03-conflict-ann")

    conflicts = ann.page.locator("#conflicts")
    conflicts.get_by_role("radio", name=f"Bob: {bob_text}").check()
    conflicts.get_by_role("button", name="Resolve").click()

    expect(ann.page.locator("#conflicts")).to_contain_text("No conflicts: nothing to resolve.")
    ann.section("purpose")
    for p in (ann, bob):  # Bob's phone hears of it by a poke, with no reload
        expect(p.page.get_by_role("heading", name="Conflicts to resolve")).to_have_count(0)
        expect(p.question(Q1).locator(".answer")).to_have_text(bob_text)
        expect(p.question(Q1)).not_to_contain_text("Two answers were given at once")
    assert bob.page.evaluate("window.__notReloaded") is True, "Bob's page was reloaded"
    bob.shot("04b-resolved-bob", at=bob.question(Q1))
    ann.wait_synced()

    state = bob_api.alliance(alliance_id)
    answer = state["answers"][Q1_ID]
    assert answer["text"] == bob_text and answer["conflict"] == []
    assert sorted(c["text"] for c in state["commitments"].values()) == ["Ann books the flights", "Bob finds a flat"]
    kinds = [e["kind"] for e in ann_api.history(alliance_id)]
    assert kinds.count("QuestionAnswered") == 2 and kinds.count("CommitmentMade") == 2, kinds
    assert kinds[0] == "ConflictResolved", kinds


Q1_ID = "purpose.why"
