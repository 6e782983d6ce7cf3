"""The alliance as a place to find one's way on a 360x740 phone (issue 10, items 2, 3, 4, 6):
its first screen says what it is, what needs me and invites; a link is made in one tap and
shown right there with Share and Copy; each part has a screen of its own and none is wider
than the phone; commitments are followed up; break, renew and close are moments."""

import re
import uuid

import httpx

from phones import expect, wait_until

COACH_TITLE = "Coaching with Bob"
BREAK_Q = "hard.break"
LONG_WORD = "Unbroken" * 37 + "word"  # 300 characters, no place to break
LONG_LINK = "https://example.org/notes/" + "a-very-long-path-segment-" * 12 + "?with=query&and=" + "x" * 80

# Phones share: the platform's share sheet, which headless Chromium on Linux does not have.
SHARE_SHEET = """navigator.share = async (data) => { window.__shared = data; };"""


def coach_and_client(phone, account, title=COACH_TITLE):
    """Ann (the coach) designs the alliance over HTTP and Bob (the client) joins by her link; both
    phones end on the top of its screen, synced."""
    ann_api, bob_api = account("Ann"), account("Bob")
    alliance_id = ann_api.create_alliance(title)
    bob_api.accept(ann_api.invite(alliance_id, "Bob"))
    phones = []
    for api, name in ((ann_api, "ann"), (bob_api, "bob")):
        p = phone(name)
        p.context.add_init_script(SHARE_SHEET)
        p.sign_in(api)
        p.go(f"#/a/{alliance_id}")
        expect(p.page.get_by_role("heading", name=title, level=1)).to_be_visible()
        p.wait_synced()
        phones.append(p)
    return ann_api, bob_api, *phones, alliance_id


def push(api, alliance_id, *mutations):
    answer = api.push([{"alliance_id": alliance_id, "name": name, "args": args} for name, args in mutations])
    assert all(r["status"] == "applied" for r in answer["results"]), answer


def width(p) -> int:
    return p.page.evaluate("document.documentElement.scrollWidth")


def test_the_first_viewport_shows_status_needs_and_invite_and_one_tap_makes_a_link_there(phone, account):
    _, _, ann, bob, _ = coach_and_client(phone, account)
    for p in (ann, bob):
        page = p.page
        for thing in (page.locator("main .badge"), page.get_by_role("heading", name="What needs you"),
                      page.get_by_text("Your consent to version 1 is awaited."),
                      page.get_by_role("heading", name="Who is in it"), page.get_by_text("Invite someone")):
            expect(thing).to_be_in_viewport(ratio=1)  # the first viewport, with no scrolling
        expect(page.locator("#people")).to_contain_text("Ann")
        expect(page.locator("#people")).to_contain_text("Bob (you)" if p is bob else "Ann (you)")
        expect(p.page).to_have_title(COACH_TITLE)
    ann.shot("alliance-top-ann")

    page = ann.page
    page.get_by_text("Invite someone").click()
    page.get_by_label("Their name").fill("Cleo")
    page.get_by_role("button", name="Make the link").click()
    link = page.locator("#new-link .link a")
    expect(link).to_have_text(re.compile(r"/invite/"))
    for thing in (link, page.get_by_role("button", name="Share"), page.get_by_role("button", name="Copy")):
        expect(thing).to_be_in_viewport(ratio=1)  # right under the button, where it was asked for
    assert width(ann) <= 360
    expect(page.locator("#new-link")).to_contain_text("A link for Cleo")
    ann.shot("alliance-invite-link")

    ann.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#new-link .copied")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link.text_content()
    page.get_by_role("button", name="Share").click()
    assert wait_until(page, "window.__shared && window.__shared.url") == link.text_content()

    # The open invitation is listed, and Bob's phone hears of Cleo without a reload.
    expect(page.locator("#invite li.card").filter(has_text="Cleo")).to_contain_text("one-person link")
    expect(bob.page.locator("#people")).to_contain_text("Cleo (invited)")
    expect(link).to_be_visible()  # still shown after the sync's redraw

    ann.offline()
    ann.page.reload()
    page.get_by_text("Invite someone").click()
    expect(page.get_by_text("Inviting needs a connection")).to_be_visible()
    ann.online()


def outline_keys(p) -> list[str]:
    hrefs = p.page.locator("main .outline a").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    return [href.rsplit("/s/", 1)[1] for href in hrefs]


def test_no_screen_of_the_alliance_is_wider_than_the_phone(phone, account):
    ann_api, bob_api, ann, bob, alliance_id = coach_and_client(phone, account)
    commitment = str(uuid.uuid4())
    push(ann_api, alliance_id,
         ("answer_question", {"question_id": "purpose.why", "text": f"See {LONG_LINK} and {LONG_WORD}", "base_revision": 0}),
         ("answer_question", {"question_id": BREAK_Q, "text": LONG_WORD, "base_revision": 0}),
         ("give_own_answer", {"question_id": "purpose.signs", "text": LONG_WORD}),
         ("make_commitment", {"commitment_id": commitment, "text": LONG_WORD, "owner_id": bob_api.user_id, "due": "2031-01-01"}),
         ("schedule_review", {"every": 2, "unit": "weeks", "next_date": "2031-02-01"}),
         ("appreciate", {"participant_id": bob_api.user_id, "note": LONG_LINK}))
    ann_api.invite(alliance_id, LONG_WORD[:100])
    p = ann
    page = p.page
    expect(page.locator("main .outline")).to_contain_text("answered 1 of 3")
    page.get_by_text("Invite someone").click()
    page.get_by_label("Their name").fill("Cleo")
    page.get_by_role("button", name="Make the link").click()
    expect(page.locator("#new-link")).to_be_visible()
    assert width(p) <= 360, "the top"

    keys = outline_keys(p)
    assert keys[:2] == ["purpose", "roles"] and keys[-5:] == ["commitments", "rhythm", "consent", "life", "more"], keys
    for key in keys:
        p.section(key)
        page.evaluate("""() => {
            for (const d of document.querySelectorAll("main details")) d.open = true;
            for (const f of document.querySelectorAll("main form[hidden]")) f.hidden = false;
        }""")
        assert width(p) <= 360, f"the {key} screen is {width(p)} px wide"
        heading = page.locator("main h1").text_content()
        expect(page).to_have_title(f"{heading} · {COACH_TITLE}")  # set once the screen is drawn
    p.section("purpose")
    expect(page.locator("main")).to_contain_text(LONG_WORD)
    p.shot("alliance-section-purpose")
    expect(page.get_by_role("link", name="Roles and scope")).to_be_visible()  # on to the next part
    p.section("commitments")
    expect(page.locator("#commitments")).to_contain_text(LONG_WORD)

    for path, heading, shown in (("review", "Hold a review", LONG_WORD), ("history", "History", "The history is intact"),
                                 ("compare?from=1&to=4", "Compare two versions", "From version 1 to version 4.")):
        p.go(f"#/a/{alliance_id}/{path}")
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(page.locator("main")).to_contain_text(shown)
        assert width(p) <= 360, f"the {path} screen"
        expect(page).to_have_title(f"{heading} · {COACH_TITLE}")

    # A reminder's link still lands on the commitments; the guided walk is still there.
    p.go(f"#/a/{alliance_id}?part=commitments")
    expect(page.get_by_role("heading", name="Commitments", level=1)).to_be_visible()
    expect(page.locator("#commitments")).to_contain_text(LONG_WORD)
    p.go(f"#/a/{alliance_id}?walk=0")
    expect(page.get_by_text("Step 1 of")).to_be_visible()
    assert width(p) <= 360
    for where, name in (("#/", "My alliances"), ("#/allies", "Allies"), ("#/reminders", "Reminders"), ("#/devices", "Account and devices")):
        p.go(where)
        wait_until(page, f"document.title === '{name} · Alliance'")  # every screen names itself


def test_a_team_link_for_three_admits_three_and_once_revoked_refuses_the_next(phone, account):
    ann_api, _, ann, _, alliance_id = coach_and_client(phone, account, "Our team")
    page = ann.page

    def team_link(how_many: int) -> str:
        before = page.locator("#new-link .link a").all_text_contents()
        page.get_by_text("Invite someone").click()
        page.get_by_label("A link for several people").check()
        page.get_by_label("How many people").fill(str(how_many))
        page.get_by_label("For how many days").fill("14")
        page.get_by_role("button", name="Make the link").click()
        expect(page.locator("#new-link")).to_contain_text(f"A link for up to {how_many} people")
        expect(page.locator("#new-link .link a")).not_to_have_text(before[0] if before else "")
        return page.locator("#new-link .link a").text_content().rsplit("/", 1)[1]

    token = team_link(3)
    cleo, dan, eve, fay = (account(name) for name in ("Cleo", "Dan", "Eve", "Fay"))
    for person in (cleo, dan):
        person.accept(token)
    expect(page.locator("#invite li.card").filter(has_text="team link")).to_contain_text("1 of 3 places left")
    eve.accept(token)
    expect(page.locator("#people")).to_contain_text("Eve")
    members = ann_api.alliance(alliance_id)["participants"]
    assert {cleo.user_id, dan.user_id, eve.user_id} <= set(members)
    refused = httpx.post(f"{ann_api.url}/api/v1/invitations/{token}/accept", headers={"Authorization": f"Bearer {fay.token}"})
    assert refused.status_code >= 400, "a used-up link admits no fourth"

    token = team_link(3)
    card = page.locator("#invite li.card").filter(has_text="team link")
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(card).to_have_count(0)
    ann.wait_synced()
    refused = httpx.post(f"{ann_api.url}/api/v1/invitations/{token}/accept", headers={"Authorization": f"Bearer {fay.token}"})
    assert refused.status_code >= 400 and "withdrawn" in refused.text, refused.text
    assert fay.user_id not in ann_api.alliance(alliance_id)["participants"]


def test_commitments_put_mine_and_the_overdue_first_and_mark_them(phone, account):
    ann_api, bob_api, ann, bob, alliance_id = coach_and_client(phone, account)
    push(ann_api, alliance_id,
         ("make_commitment", {"commitment_id": str(uuid.uuid4()), "text": "Book the room", "owner_id": ann_api.user_id, "due": "2019-01-01"}),
         ("make_commitment", {"commitment_id": str(uuid.uuid4()), "text": "Read the book", "owner_id": bob_api.user_id}),
         ("make_commitment", {"commitment_id": str(uuid.uuid4()), "text": "Draft the plan", "owner_id": bob_api.user_id, "due": "2031-03-01"}),
         ("make_commitment", {"commitment_id": str(uuid.uuid4()), "text": "Send my goals", "owner_id": bob_api.user_id, "due": "2020-01-05"}))
    expect(bob.page.get_by_role("link", name="Overdue since January 5, 2020: Send my goals")).to_be_visible()  # on the top
    bob.section("commitments")
    cards = bob.page.locator("#commitments .card")
    expect(cards).to_have_count(4)
    assert [c.split("\n")[0] for c in cards.evaluate_all("(cs) => cs.map((c) => c.querySelector('.text').textContent)")] \
        == ["Send my goals", "Draft the plan", "Read the book", "Book the room"]
    expect(cards.first).to_contain_text("Overdue since January 5, 2020")
    expect(cards.first).to_contain_text("Made by Ann on")
    color = cards.first.locator(".due-mark").evaluate("(el) => getComputedStyle(el).color")
    assert color != cards.first.locator(".text").evaluate("(el) => getComputedStyle(el).color"), "marked in colour too"
    bob.shot("alliance-commitments-overdue")


def test_withdrawing_someone_elses_commitment_asks_why_and_to_confirm(phone, account):
    ann_api, bob_api, ann, bob, alliance_id = coach_and_client(phone, account)
    cid = str(uuid.uuid4())
    push(bob_api, alliance_id, ("make_commitment", {"commitment_id": cid, "text": "Keep a journal", "owner_id": bob_api.user_id}))
    ann.section("commitments")
    card = ann.page.locator("#commitments .card").filter(has_text="Keep a journal")
    card.get_by_role("button", name="Withdraw").click()
    # Ann looks away (the field loses focus), Bob's next commitment arrives and the screen is drawn
    # again: what Ann opened stays open.
    ann.page.locator("main h1").click()
    push(bob_api, alliance_id, ("make_commitment", {"commitment_id": str(uuid.uuid4()), "text": "Walk at lunch",
                                                    "owner_id": bob_api.user_id}))
    expect(ann.page.locator("#commitments .card").filter(has_text="Walk at lunch")).to_be_visible()
    expect(card.get_by_role("button", name="Withdraw it")).to_be_visible()  # still open
    ann.wait_synced()
    ann.page.wait_for_timeout(500)  # what needs me is fetched after each sync and redraws once more
    card.get_by_role("button", name="Withdraw it").click()
    expect(card.get_by_role("alert")).to_have_text("Say why, so that they know.")
    card.get_by_label("Why withdraw Bob's commitment?").fill("We agreed to drop it on Monday.")
    dialogs = []
    ann.page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    card.get_by_role("button", name="Withdraw it").click()
    wait_until(ann.page, "true")
    assert dialogs and dialogs[0].startswith("Withdraw Bob's commitment “Keep a journal”?"), dialogs
    ann.wait_synced()
    assert ann_api.alliance(alliance_id)["commitments"][cid]["status"] == "open", "said no: nothing withdrawn"
    ann.page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Withdraw it").click()
    expect(card).to_contain_text("withdrawn")
    ann.wait_synced()
    commitment = ann_api.alliance(alliance_id)["commitments"][cid]
    assert commitment["status"] == "withdrawn"
    assert commitment["withdrawn"]["reason"] == "We agreed to drop it on Monday."
    expect(bob.page.locator("main")).to_be_visible()
    bob.section("commitments")
    expect(bob.page.locator("#commitments .card").filter(has_text="Keep a journal")).to_contain_text("We agreed to drop it on Monday.")


def test_breaking_is_confirmed_shown_at_the_top_with_who_and_renewing_needs_words(phone, account):
    ann_api, _, ann, bob, alliance_id = coach_and_client(phone, account)
    push(ann_api, alliance_id, ("answer_question", {"question_id": BREAK_Q, "text": "We talk within a week, face to face.",
                                                    "base_revision": 0}))
    ann.section("life")
    ann.page.get_by_text("One of us broke our agreement").click()
    ann.page.get_by_label("What happened").fill("Two sessions missed without a word.")
    ann.page.get_by_label("What needs discussing").fill("Whether Tuesdays still work.")
    ann.page.once("dialog", lambda dialog: dialog.dismiss())
    ann.page.get_by_role("button", name="Say our agreement is broken").click()
    ann.wait_synced()
    assert ann_api.alliance(alliance_id)["status"] != "broken", "said no: not broken"
    ann.page.once("dialog", lambda dialog: dialog.accept())
    ann.page.get_by_role("button", name="Say our agreement is broken").click()
    expect(ann.page.get_by_role("heading", name="Renew the alliance")).to_be_visible()
    ann.wait_synced()
    assert ann_api.alliance(alliance_id)["status"] == "broken"

    bob.top()
    top = bob.page.locator(".top-moment")
    expect(top).to_contain_text("Ann said")
    expect(top).to_contain_text("that one of us broke our agreement")
    expect(top).to_contain_text("Two sessions missed without a word.")
    expect(top).to_contain_text("Whether Tuesdays still work.")
    expect(top).to_contain_text("We talk within a week, face to face.")  # our own answer, beside it
    expect(top.get_by_text("that one of us broke our agreement", exact=False)).to_be_in_viewport(ratio=1)
    bob.shot("alliance-broken-top")

    bob.page.get_by_role("link", name="Talk it through, then renew").click()
    bob.page.get_by_role("button", name="Renew the alliance").click()
    expect(bob.page.get_by_role("alert")).to_have_text("Say what you agreed, so the renewal means something.")
    bob.wait_synced()
    assert ann_api.alliance(alliance_id)["status"] == "broken", "no words: not renewed"
    bob.page.get_by_label("What we agreed, to go on").fill("Thursdays from now on, and a text if late.")
    bob.page.get_by_role("button", name="Renew the alliance").click()
    expect(bob.page.locator("#life")).to_contain_text("You renewed it on")
    bob.wait_synced()
    assert ann_api.alliance(alliance_id)["status"] != "broken"
    expect(bob.page.locator("#life")).to_contain_text("Past breaks and renewals")
    expect(bob.page.locator("#life")).to_contain_text("Thursdays from now on")

    ann.top()
    expect(ann.page.locator(".top-moment")).to_contain_text("Bob renewed it")
    expect(ann.page.locator(".top-moment")).to_contain_text("Thursdays from now on, and a text if late.")


def test_a_closed_alliance_shows_the_celebration_at_the_top_and_no_next_review(phone, account):
    ann_api, _, ann, _, alliance_id = coach_and_client(phone, account)
    cid = str(uuid.uuid4())
    push(ann_api, alliance_id,
         ("schedule_review", {"every": 4, "unit": "weeks", "next_date": "2031-06-01"}),
         ("make_commitment", {"commitment_id": cid, "text": "Write the summary", "owner_id": ann_api.user_id}))
    expect(ann.page.get_by_text("Next review: June 1, 2031.")).to_be_visible()
    ann.section("life")
    ann.page.get_by_text("Close the alliance, with a celebration").click()
    expect(ann.page.locator("#life")).to_contain_text("The 1 open commitment will be marked as left open when the alliance closed.")
    ann.page.get_by_label("How did you celebrate?").fill("Lunch by the river.")
    ann.page.get_by_role("button", name="Close the alliance").click()
    expect(ann.page.locator("#life")).to_contain_text("You closed this alliance")
    ann.wait_synced()
    assert ann_api.alliance(alliance_id)["status"] == "closed"

    ann.top()
    top = ann.page.locator(".top-moment")
    expect(top).to_contain_text("You closed this alliance on")
    expect(top).to_contain_text("Lunch by the river.")
    expect(top).to_be_in_viewport(ratio=1)
    expect(ann.page.locator("main")).not_to_contain_text("Next review")
    expect(ann.page.get_by_text("Invite someone")).to_have_count(0)
    ann.shot("alliance-closed-top")
    ann.section("rhythm")
    expect(ann.page.locator("#rhythm")).to_contain_text("no next review")
    ann.section("commitments")
    assert ann_api.alliance(alliance_id)["commitments"][cid]["status"] == "ended"
    expect(ann.page.locator("#commitments")).to_contain_text("left open when the alliance closed")
