"""Two tabs of one phone share one outbox: each edit reaches the server once,
and each tab shows the other's edit without a reload (SYNC.md 1, 10)."""

from collections import Counter

from phones import Q1, Q2, expect


def test_edits_in_two_tabs_reach_the_server_once_each_and_show_in_both(phone, account):
    ann_api = account("Ann")
    alliance_id = ann_api.create_alliance("Two tabs")
    ann = phone("ann")
    ann.sign_in(ann_api)
    first = ann.page
    second = ann.new_tab()
    for tab in (first, second):
        tab.bring_to_front()
        ann.open(f"#/a/{alliance_id}", tab)
        expect(tab.get_by_role("heading", name="Two tabs", level=1, exact=True)).to_be_visible()
        ann.section("purpose", tab)
        tab.evaluate("window.__notReloaded = true")

    first.bring_to_front()  # the person switches tabs: the other one is in the background
    ann.answer(Q1, "Said in the first tab.", first)
    expect(ann.question(Q1, second).locator(".answer")).to_have_text("Said in the first tab.")
    second.bring_to_front()
    ann.answer(Q2, "Said in the second tab.", second)
    expect(ann.question(Q2, first).locator(".answer")).to_have_text("Said in the second tab.")
    first.bring_to_front()
    ann.commit("Made in the first tab", first)
    ann.section("commitments", second)
    expect(second.locator("#commitments .card").filter(has_text="Made in the first tab")).to_be_visible()
    for tab in (first, second):
        ann.wait_synced(tab)
        expect(tab.get_by_text("not yet synced")).to_have_count(0)
        assert tab.evaluate("window.__notReloaded") is True

    entries = ann_api.history(alliance_id)
    assert Counter(e["kind"] for e in entries) == {"Designed": 1, "QuestionAnswered": 2, "CommitmentMade": 1}
    assert len({e["device"] for e in entries if e["kind"] != "Designed"}) == 1, "one device, whichever tab"
    state = ann_api.alliance(alliance_id)
    assert state["answers"]["purpose.why"]["text"] == "Said in the first tab."
    assert state["answers"]["purpose.outcomes"]["text"] == "Said in the second tab."
    assert ann.meta("last_mutation_id") == 3 and ann.meta("next_mutation_id") == 4
