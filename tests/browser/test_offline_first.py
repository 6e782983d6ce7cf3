"""Offline from the start: a phone that lost its network right after signing in
designs an alliance, answers and commits, and everything reaches the server
once when the network comes back (SYNC.md 1, 2, 9)."""

from collections import Counter


from phones import Q1, Q2, expect


def test_an_alliance_made_offline_reaches_the_server_once(phone, account):
    ann = account("Ann")
    p = phone("ann")
    p.sign_in(ann)
    p.wait_controlled()
    p.wait_synced()
    assert p.wait_meta("templates"), "the templates are kept on the phone, for designing offline"

    p.offline()
    p.page.reload()  # the shell comes from the service worker's cache
    expect(p.status()).to_contain_text("Offline")
    expect(p.page.get_by_role("heading", name="My alliances")).to_be_visible()

    p.page.get_by_role("link", name="Design an alliance").click()
    p.page.get_by_label("What is this alliance about?").fill("Coaching with Sam")
    p.page.get_by_role("radio", name="One-to-one coaching").check()
    p.page.get_by_role("button", name="Start designing").click()
    expect(p.page.get_by_role("heading", name="Coaching with Sam", level=1, exact=True)).to_be_visible()
    expect(p.page.get_by_text("Not yet synced", exact=True)).to_be_visible()
    expect(p.page.get_by_text("Step 1 of")).to_be_visible()  # the guided walk, section by section
    alliance_id = p.page.evaluate("location.hash").split("?")[0].split("/")[2]
    p.page.get_by_role("link", name="← The whole alliance").click()
    expect(p.page.get_by_role("heading", name="Parts of this alliance")).to_be_visible()
    p.section("purpose")

    answers = {Q1: "To grow as a leader.", Q2: "A promotion by spring."}
    for question, text in answers.items():
        p.answer(question, text)
        expect(p.question(question).locator(".pending-box")).to_have_text(f"{text} (not yet synced)")

    p.commit("Send Sam my goals")
    commitments = p.page.locator("#commitments")
    expect(commitments.locator(".pending-box")).to_contain_text("Send Sam my goals")
    expect(commitments.locator(".pending-box")).to_contain_text("(not yet synced)")
    expect(p.page.get_by_text("4 change(s) not yet synced")).to_be_visible()
    expect(p.status()).to_contain_text("4 changes waiting")
    p.shot("01-offline-alliance-pending", at=p.page.locator("body"))
    p.shot("01b-offline-commitment-pending", at=commitments)

    p.online()
    p.wait_synced()
    expect(p.page.get_by_text("Draft", exact=True)).to_be_visible()
    expect(p.page.get_by_text("not yet synced")).to_have_count(0)
    p.shot("02-offline-alliance-synced", at=p.page.locator("body"))

    state = ann.alliance(alliance_id)
    assert state["title"] == "Coaching with Sam"
    assert {state["questions"][qid]["text"]: a["text"] for qid, a in state["answers"].items()} == answers
    assert [c["text"] for c in state["commitments"].values()] == ["Send Sam my goals"]
    kinds = Counter(e["kind"] for e in ann.history(alliance_id))
    assert kinds == {"Designed": 1, "QuestionAnswered": 2, "CommitmentMade": 1}, kinds


def test_two_edits_of_one_answer_on_one_offline_phone_do_not_conflict(phone, account):
    ann_api = account("Ann")
    alliance_id = ann_api.create_alliance("Second thoughts")
    p = phone("ann")
    p.sign_in(ann_api)
    p.open(f"#/a/{alliance_id}")
    p.wait_synced()
    p.section("purpose")

    p.offline()
    p.answer(Q1, "First thought.")
    expect(p.question(Q1).locator(".pending-box")).to_contain_text("First thought.")
    p.answer(Q1, "Second thought.")
    expect(p.question(Q1).locator(".pending-box")).to_contain_text("Second thought.")
    p.online()
    p.wait_synced()

    answer = ann_api.alliance(alliance_id)["answers"]["purpose.why"]
    assert (answer["text"], answer["conflict"]) == ("Second thought.", [])
    expect(p.page.get_by_role("heading", name="Conflicts to resolve")).to_have_count(0)
