"""Never lose a word (issue 11): what a person types is kept as a draft and put back after a reload,
back, another screen, the page killed offline; limits show as a counter before they bite; a refused
change shows on its item with the text kept; people's own words keep their direction; server pages
fit a phone. Each state is checked with axe, in light and dark."""

import uuid

from phones import Q1, expect, wait_until
from test_quality import check_screen

MINE = "I want more calm in my week, and fewer late evenings."


def two_people(account, title="Ann and Bob"):
    ann, bob = account("Ann"), account("Bob")
    alliance_id = ann.create_alliance(title)
    bob.accept(ann.invite(alliance_id, "Bob"))
    return ann, bob, alliance_id


def open_on(p, api, alliance_id, key):
    p.sign_in(api)
    p.go(f"#/a/{alliance_id}")
    p.wait_synced()
    p.section(key)


def ann_on_her_commitment(phone, ann_api, alliance_id):
    """Ann's phone on the commitments screen, with her commitment "Send the agenda" on it."""
    cid = str(uuid.uuid4())
    ann_api.push([{"alliance_id": alliance_id, "name": "make_commitment",
                   "args": {"commitment_id": cid, "text": "Send the agenda", "owner_id": ann_api.user_id}}])
    ann = phone("ann")
    open_on(ann, ann_api, alliance_id, "commitments")
    return ann, cid, ann.page.locator(f'[data-commitment="{cid}"]')


def test_a_typed_answer_survives_reload_back_history_and_the_page_killed_offline(phone, account):
    ann_api, _, alliance_id = two_people(account)
    ann = phone("ann")
    open_on(ann, ann_api, alliance_id, "purpose")
    page = ann.page
    block = ann.question(Q1)
    block.get_by_role("button", name=f"Answer: {Q1}").click()
    field = block.get_by_label("Your agreed answer")
    field.fill(MINE)
    expect(block.get_by_text("Draft, not saved")).to_be_visible()
    check_screen(ann, "draft-answer", problems := [])
    assert problems == [], problems

    page.reload()  # the editor opens by itself, with the text, marked as a draft
    block = ann.question(Q1)
    expect(block.get_by_label("Your agreed answer")).to_have_value(MINE)
    expect(block.get_by_text("Draft, not saved")).to_be_visible()

    ann.top()  # another screen, then the browser's back button
    page.go_back()
    expect(ann.question(Q1).get_by_label("Your agreed answer")).to_have_value(MINE)

    ann.go(f"#/a/{alliance_id}/history")
    expect(page.get_by_role("heading", name="History", exact=False).first).to_be_visible()
    page.go_back()
    expect(ann.question(Q1).get_by_label("Your agreed answer")).to_have_value(MINE)

    # Offline, the page killed, a new one opened: the draft is still there.
    ann.wait_controlled()
    ann.offline()
    page.close()
    page = ann.new_tab()
    ann.page = page
    ann.open(f"#/a/{alliance_id}/s/purpose", page)
    block = ann.question(Q1, page)
    expect(block.get_by_label("Your agreed answer")).to_have_value(MINE)
    expect(block.get_by_text("Draft, not saved")).to_be_visible()
    ann.online()

    # Saved: the draft is gone, for good.
    block.get_by_role("button", name="Save", exact=True).click()
    ann.wait_synced()
    expect(block.locator(".answer")).to_have_text(MINE)
    expect(page.get_by_text("Draft, not saved")).to_have_count(0)
    assert ann_api.alliance(alliance_id)["answers"]["purpose.why"]["text"] == MINE
    page.reload()
    expect(ann.question(Q1).locator(".answer")).to_have_text(MINE)
    expect(page.get_by_text("Draft, not saved")).to_have_count(0)


def test_a_draft_can_be_discarded_and_a_commitment_being_typed_is_kept_too(phone, account):
    ann_api, _, alliance_id = two_people(account)
    ann = phone("ann")
    open_on(ann, ann_api, alliance_id, "commitments")
    part = ann.page.locator("#commitments")
    part.get_by_text("Make a commitment", exact=True).click()
    part.get_by_label("What").fill("Walk every morning")
    expect(part.get_by_text("Draft, not saved")).to_be_visible()
    ann.page.reload()
    part = ann.page.locator("#commitments")
    expect(part.get_by_label("What")).to_have_value("Walk every morning")  # its fold opened by itself
    part.get_by_role("button", name="Discard draft: A new commitment").click()
    expect(part.get_by_label("What")).to_have_value("")
    expect(part.get_by_text("Draft, not saved")).to_have_count(0)
    ann.page.reload()
    expect(ann.page.locator("#commitments").get_by_text("Draft, not saved")).to_have_count(0)


def test_an_answer_cannot_grow_past_the_limit_and_the_counter_says_so(phone, account):
    ann_api, _, alliance_id = two_people(account)
    ann = phone("ann")
    open_on(ann, ann_api, alliance_id, "purpose")
    block = ann.question(Q1)
    block.get_by_role("button", name=f"Answer: {Q1}").click()
    field = block.get_by_label("Your agreed answer")
    counter = block.locator("form[data-draft^='answer:'] .counter")
    expect(counter).to_have_text("0 / 10,000")
    field.fill("Calm. ")
    expect(counter).to_have_text("6 / 10,000")
    field.fill("x" * 30_000)  # pasted: the field stops at the limit, before anything leaves the phone
    assert len(field.input_value()) == 10_000
    expect(counter).to_have_text("10,000 / 10,000: the most it can hold")
    ann.shot("draft-answer-at-limit", at=block)
    block.get_by_role("button", name="Save", exact=True).click()
    expect(block.locator(".answer")).to_have_text("x" * 10_000)  # in the outbox, shown at once
    ann.wait_synced()
    assert len(ann_api.alliance(alliance_id)["answers"]["purpose.why"]["text"]) == 10_000
    expect(ann.page.locator(".rejected")).to_have_count(0)


def test_an_offline_change_to_a_commitment_withdrawn_meanwhile_shows_both_and_keeps_my_text(phone, account):
    ann_api, bob_api, alliance_id = two_people(account)
    ann, cid, card = ann_on_her_commitment(phone, ann_api, alliance_id)

    ann.offline()
    card.get_by_role("button", name="Change: Send the agenda").click()
    card.get_by_label("What").fill("Send the agenda two days before")
    card.get_by_role("button", name="Save: Send the agenda").click()
    expect(card.locator(".pending-box")).to_contain_text("not yet synced")
    withdrawn = bob_api.push([{"alliance_id": alliance_id, "name": "withdraw_commitment",
                               "args": {"commitment_id": cid, "reason": "We print it in the room now."}}])
    assert withdrawn["results"][0]["status"] == "applied", withdrawn

    ann.online()
    ann.wait_synced()
    refused = card.locator(".rejected")
    expect(refused).to_contain_text("Your change to the commitment “Send the agenda” could not be saved.")
    expect(refused).to_contain_text("Now: Send the agenda (withdrawn: We print it in the room now.)")
    expect(refused).to_contain_text("Yours: Send the agenda two days before")
    expect(refused).not_to_contain_text("amend")
    check_screen(ann, "rejected-commitment", problems := [])
    assert problems == [], problems

    # The home screen only counts it, with the way there.
    ann.go("#/")
    count = ann.page.locator(".rejected-count")
    expect(count).to_have_text("1 change could not be made: see “Ann and Bob”")
    count.get_by_role("link").click()
    refused = ann.page.locator(f'[data-commitment="{cid}"] .rejected')
    expect(refused).to_be_visible()
    refused.get_by_role("button", name="Make it a new commitment").click()
    part = ann.page.locator("#commitments > details")  # "Make a commitment", opened with my text
    expect(part.get_by_label("What")).to_have_value("Send the agenda two days before")
    expect(part.get_by_text("Draft, not saved")).to_be_visible()
    expect(ann.page.locator(".rejected")).to_have_count(0)
    part.get_by_role("button", name="Add commitment").click()
    expect(ann.page.locator("#commitments li.commitment", has_text="two days before")).to_contain_text("You")
    ann.wait_synced()
    texts = [c["text"] for c in ann_api.alliance(alliance_id)["commitments"].values() if c["status"] == "open"]
    assert texts == ["Send the agenda two days before"]


def test_a_refused_change_is_back_in_its_editor_to_edit_and_try_again(phone, account):
    ann_api, _, alliance_id = two_people(account)
    ann, cid, card = ann_on_her_commitment(phone, ann_api, alliance_id)
    card.get_by_role("button", name="Change: Send the agenda").click()
    card.get_by_label("What").fill("   ")  # only spaces: the server refuses an empty commitment
    card.get_by_role("button", name="Save: Send the agenda").click()
    refused = card.locator(".rejected")
    expect(refused).to_contain_text("Your change to the commitment “Send the agenda” could not be saved. "
                                    "The commitment cannot be empty.")
    expect(refused).to_contain_text("What you wrote is back in the form as a draft")
    expect(card.get_by_label("What")).to_have_value("   ")
    expect(card.get_by_text("Draft, not saved")).to_be_visible()
    check_screen(ann, "rejected-change", problems := [])
    assert problems == [], problems

    refused.get_by_role("button", name="Edit and try again").click()
    expect(card.locator(".rejected")).to_have_count(0)
    expect(card.get_by_label("What")).to_be_focused()
    card.get_by_label("What").fill("Send the agenda the day before")
    card.get_by_role("button", name="Save: Send the agenda").click()
    expect(card.locator(".text")).to_have_text("Send the agenda the day before")
    ann.wait_synced()
    assert ann_api.alliance(alliance_id)["commitments"][cid]["text"] == "Send the agenda the day before"
    expect(ann.page.locator(".rejected")).to_have_count(0)
    expect(ann.page.get_by_text("Draft, not saved")).to_have_count(0)


def test_a_stale_consent_shows_the_current_version_and_lets_me_consent_again(phone, account):
    ann_api, bob_api, alliance_id = two_people(account)
    ann = phone("ann")
    open_on(ann, ann_api, alliance_id, "consent")
    before = ann_api.alliance(alliance_id)["content_version"]
    ann.offline()
    ann.page.locator("#consent").get_by_role("button", name="I support it").click()
    bob_api.push([{"alliance_id": alliance_id, "name": "answer_question",
                   "args": {"question_id": "purpose.why", "text": "Bob's words.", "base_revision": 0}}])
    now = bob_api.alliance(alliance_id)["content_version"]
    assert now > before
    ann.online()
    ann.wait_synced()
    consent = ann.page.locator("#consent")
    refused = consent.locator(".rejected")
    expect(refused).to_contain_text(f"Your consent to version {before} (you support it) could not be saved.")
    expect(refused).to_contain_text(f"The agreement is at version {now} now.")
    expect(consent).to_contain_text(f"{now}")
    check_screen(ann, "rejected-consent", problems := [])
    assert problems == [], problems
    consent.get_by_role("button", name="I support it").click()
    # The refusal leaves when the new consent enters the outbox: from then on the status line counts it.
    expect(ann.page.locator("#consent .rejected")).to_have_count(0)
    ann.wait_synced()
    mine = ann_api.alliance(alliance_id)["consents"][ann_api.user_id]
    assert (mine["version"], mine["stance"]) == (now, "support")


def test_arabic_text_reads_right_to_left(phone, account):
    arabic = "أريد أن أتعلم كيف أقود الاجتماعات بهدوء."
    ann_api, _, alliance_id = two_people(account, title="تحالفنا")
    ann_api.push([{"alliance_id": alliance_id, "name": "answer_question",
                   "args": {"question_id": "purpose.why", "text": arabic, "base_revision": 0}}])
    ann = phone("ann")
    ann.sign_in(ann_api)
    title = ann.page.locator("main li.card h2", has_text="تحالفنا")
    expect(title).to_be_visible()
    expect(title).to_have_css("direction", "rtl")
    title.click()
    ann.wait_synced()
    ann.section("purpose")
    answer = ann.question(Q1).locator(".answer")
    expect(answer).to_have_text(arabic)
    expect(answer).to_have_css("direction", "rtl")
    ann.question(Q1).get_by_role("button", name=f"Edit answer: {Q1}").click()
    field = ann.question(Q1).get_by_label("Your agreed answer")
    expect(field).to_have_css("direction", "rtl")
    ann.shot("arabic-answer", at=ann.question(Q1))


def test_the_audit_and_print_pages_fit_a_phone(phone, account, server):
    ann_api, bob_api, alliance_id = two_people(account)
    for i in range(3):
        ann_api.push([{"alliance_id": alliance_id, "name": "make_commitment",
                       "args": {"commitment_id": str(uuid.uuid4()), "text": f"A rather long commitment number {i} "
                                "that goes on and on to see how the table wraps", "owner_id": bob_api.user_id}}])
    viewer = phone("viewer", extra_http_headers={"Authorization": f"Bearer {ann_api.token}"})
    problems: list[str] = []
    for name, file in (("audit", "audit.html"), ("print", "export.html")):
        viewer.page.goto(f"{server.url}/api/v1/alliances/{alliance_id}/{file}")
        expect(viewer.page.locator("h1")).to_be_visible()
        width = viewer.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the {name} page is {width} px wide"
        wait_until(viewer.page, "document.readyState === 'complete'")
        check_screen(viewer, f"server-{name}", problems)
    assert problems == [], problems


def test_words_typed_in_any_form_survive_a_redraw_brought_by_someone_elses_change(phone, account):
    """The invitation form keeps no draft: a redraw from Bob's change must still leave Ann's words."""
    ann_api, bob_api, alliance_id = two_people(account)
    ann = phone("ann")
    ann.sign_in(ann_api)
    ann.go(f"#/a/{alliance_id}")
    ann.wait_synced()
    page = ann.page
    page.get_by_text("Invite someone").click()
    page.get_by_label("Their name").fill("Cleo")
    page.get_by_label("A link for several people").check()
    page.get_by_label("How many people").fill("4")
    page.locator("main h1").click()  # she looks away from the form: nothing holds a redraw back now
    bob_api.push([{"alliance_id": alliance_id, "name": "answer_question",
                   "args": {"question_id": "purpose.why", "text": "To finish the thesis", "base_revision": 0}}])
    expect(page.locator("main .outline")).to_contain_text("answered 1 of 3")  # the screen was drawn again
    expect(page.get_by_label("Their name")).to_have_value("Cleo")
    expect(page.get_by_label("A link for several people")).to_be_checked()
    expect(page.get_by_label("How many people")).to_have_value("4")


def test_a_question_of_my_own_being_typed_survives_a_reload_and_leaves_its_draft_once_added(phone, account):
    ann_api, _, alliance_id = two_people(account)
    ann = phone("ann")
    open_on(ann, ann_api, alliance_id, "purpose")
    page = ann.page
    page.get_by_text("Add a question of your own here").click()
    page.get_by_label("Question", exact=True).fill("What would make this year a good one?")
    expect(page.get_by_text("Draft, not saved")).to_be_visible()
    page.reload()
    field = page.get_by_label("Question", exact=True)
    expect(field).to_have_value("What would make this year a good one?")  # its fold opened by itself
    field.evaluate("(el) => el.closest('details').scrollIntoView({ block: 'start' })")
    check_screen(ann, "draft-question", problems := [])
    assert problems == [], problems
    page.get_by_role("button", name="Add question").click()
    expect(page.locator("main h3").filter(has_text="What would make this year a good one?")).to_be_visible()
    expect(page.get_by_text("Draft, not saved")).to_have_count(0)
    ann.wait_synced()
    page.reload()
    expect(page.locator("main h3").filter(has_text="What would make this year a good one?")).to_be_visible()
    expect(page.get_by_text("Draft, not saved")).to_have_count(0)
