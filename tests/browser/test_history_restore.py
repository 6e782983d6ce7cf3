"""History on the phone: an older version is restored from the timeline, after a preview of
what it changes, and nothing is erased (SYNC.md 12)."""

import re

from phones import Q1, Q2, expect


def test_restoring_an_older_version_brings_its_content_back_and_says_so(phone, account):
    ann_api = account("Ann")
    alliance_id = ann_api.create_alliance("Coaching with Lee")  # version 1
    ann = phone("ann")
    ann.sign_in(ann_api)
    ann.open(f"#/a/{alliance_id}")
    ann.section("purpose")
    for question, text in ((Q1, "Weekly calls."), (Q1, "Calls every other week."), (Q2, "I lead my team calmly.")):
        ann.answer(question, text)  # versions 2, 3, 4
        expect(ann.question(question).locator(".answer")).to_have_text(text)
        ann.wait_synced()
    assert ann_api.alliance(alliance_id)["version"] == 4

    ann.top()
    ann.page.get_by_role("link", name="History", exact=True).click()
    expect(ann.page.get_by_text("The history is intact: 4 events verified.")).to_be_visible()
    entries = ann.page.locator("main ol.cards > li")
    expect(entries).to_have_count(4)
    ann.shot("05-history")
    version_2 = entries.filter(has=ann.page.get_by_text(re.compile(r"· version 2$")))
    expect(version_2).to_contain_text("Weekly calls.")

    version_2.get_by_role("link", name="Restore this version").click()
    # First what it would change against now, and the choice; nothing has changed yet.
    expect(ann.page.get_by_role("heading", name="Restore a version")).to_be_visible()
    expect(ann.page.locator("main")).to_contain_text("Restoring version 2 would make these changes")
    expect(ann.page.locator("main")).to_contain_text("Nothing is erased")
    expect(ann.page.locator("main").get_by_role("heading", name=Q2)).to_be_visible()
    assert ann_api.alliance(alliance_id)["version"] == 4
    ann.page.get_by_role("button", name="Restore all of this").click()

    expect(ann.page.get_by_role("heading", name="Coaching with Lee", level=1, exact=True)).to_be_visible()
    expect(ann.status()).to_contain_text("0 changes waiting")
    ann.wait_synced()
    ann.section("purpose")
    expect(ann.question(Q1).locator(".answer")).to_have_text("Weekly calls.")
    expect(ann.question(Q2).locator(".answer")).to_have_text("Not answered yet.")

    ann.top()
    ann.page.get_by_role("link", name="History", exact=True).click()
    expect(entries).to_have_count(5)
    expect(entries.first).to_contain_text("restored version 2 (nothing was erased)")
    expect(entries.first).to_contain_text("· version 5")
    expect(entries.filter(has_text="Calls every other week.")).to_have_count(1)  # still in the history
    ann.shot("06-history-after-restore")

    state = ann_api.alliance(alliance_id)
    assert state["answers"]["purpose.why"]["text"] == "Weekly calls."
    assert not state["answers"].get("purpose.outcomes", {}).get("text")
    kinds = [e["kind"] for e in ann_api.history(alliance_id)]
    assert kinds == ["VersionRestored", "QuestionAnswered", "QuestionAnswered", "QuestionAnswered", "Designed"], kinds
