"""Each person's own answer "from my side", beside the agreed answer (issue 10, item 1):
two phones each write their own without touching the other's, anyone can take one as
the proposal for the agreed answer, and a private question (the team's pre-work) keeps
each answer to its author until they share it."""

import re
from pathlib import Path

from phones import expect, wait_until
from test_quality import axe_problems, small_targets

SHOTS = Path("/tmp/shots-own")
SIGNS = "How will we each notice that it's working, or that it isn't?"
SIGNS_HINT = "Think of something you could see or feel, not just a target."
MATTERS = "What matters most to you about this work?"
MATTERS_HINT = "Only you see this until you choose to share it."
BENEFITS = "Who benefits when we do it well?"
PRIVATE = "Private: only you see your answer until you share it."


def open_question(p, alliance_id: str, question: str) -> None:
    """Open the alliance where `question` is on screen, however the screen is laid out: all on one
    page, or one part per sub-screen (#/a/<id>/s/<key>): then each part's screen is tried in turn."""
    def shown(where: str) -> bool:
        wait_until(p.page, f"document.getElementById('main').dataset.route === {where!r}")
        return p.question(question).count() > 0

    p.go(f"#/a/{alliance_id}")
    p.wait_synced()
    if shown(f"#/a/{alliance_id}"):
        return
    parts = p.page.evaluate("(start) => [...new Set([...document.querySelectorAll('main a')]"
                            ".map((a) => a.getAttribute('href')).filter((h) => h.startsWith(start)))]",
                            f"#/a/{alliance_id}/s/")
    for part in parts:
        p.go(part)
        if shown(part):
            return
    expect(p.question(question)).to_be_visible()


def two_phones(phone, account, title, template):
    """Ann designs the alliance, Bob joins by her link; both phones end on its screen, synced."""
    ann_api, bob_api = account("Ann"), account("Bob")
    alliance_id = ann_api.create_alliance(title, template)
    bob_api.accept(ann_api.invite(alliance_id, "Bob"))
    phones = []
    for api, name in ((ann_api, "ann"), (bob_api, "bob")):
        p = phone(name)
        p.sign_in(api)
        p.go(f"#/a/{alliance_id}")
        expect(p.page.get_by_role("heading", name=title, level=1)).to_be_visible()
        p.wait_synced()
        p.section("prework" if template == "team" else "purpose")
        phones.append(p)
    phones[0].alliance = phones[1].alliance = alliance_id
    return ann_api, bob_api, *phones, alliance_id


def answer_from_my_side(p, question: str, text: str) -> None:
    p.wait_synced()  # a sync's redraw closes an editor opened just before it (issue 11 keeps drafts)
    if p.question(question).count() == 0:
        open_question(p, p.alliance, question)
    block = p.question(question)
    block.get_by_role("button", name=f"Answer from my side: {question}").click()
    block.get_by_label("Your answer, from your side").fill(text)
    block.get_by_role("button", name="Save my answer").click()


def own_entry(block, name: str):
    """One person's own answer under a question, found by the name it is signed with."""
    return block.locator(".own-answers li").filter(has=block.page.locator(".stamp strong", has_text=name))


def no_sideways_scroll(p) -> None:
    assert p.page.evaluate("document.documentElement.scrollWidth") <= 360


def test_each_answers_from_their_side_without_overwriting_the_other(phone, account):
    ann_api, bob_api, ann, bob, alliance_id = two_phones(phone, account, "Coaching with Bob", "coaching")
    ann_text = "Bob speaks up in the Monday meeting."
    bob_text = "I sleep before midnight again: notebook-and-no-phone-after-ten-every-single-evening."

    answer_from_my_side(ann, SIGNS, ann_text)
    expect(ann.question(SIGNS).locator(".pending-box")).to_contain_text("(not yet synced)")
    answer_from_my_side(bob, SIGNS, bob_text)
    for p in (ann, bob):
        p.wait_synced()
        block = p.question(SIGNS)
        expect(block.get_by_text(SIGNS_HINT, exact=True)).to_be_visible()
        mine, theirs = (ann_text, bob_text) if p is ann else (bob_text, ann_text)
        expect(block.locator(".own-answers li")).to_have_count(2)
        expect(block.locator(".own-answers li").first).to_contain_text(mine)  # one's own comes first
        expect(own_entry(block, "Ann")).to_contain_text(ann_text)
        expect(own_entry(block, "Bob")).to_contain_text(bob_text)
        expect(block.locator(".own-text[dir=auto]").filter(has_text=theirs)).to_be_visible()
        expect(block.locator(".answer")).to_have_text("Not answered yet.")
        no_sideways_scroll(p)
    state = ann_api.alliance(alliance_id)
    assert state["own_answers"]["purpose.signs"] == {ann_api.user_id: ann_text, bob_api.user_id: bob_text}
    assert "purpose.signs" not in state["answers"]

    # Ann proposes Bob's words as the agreed answer: the editor holds them, nothing is saved yet.
    block = ann.question(SIGNS)
    block.get_by_role("button", name=f"Use Bob's answer as our answer: {SIGNS}").click()
    expect(block.get_by_label("Your agreed answer")).to_have_value(bob_text)
    expect(block.get_by_label("Your agreed answer")).to_be_focused()
    expect(ann.status()).to_contain_text("0 changes waiting")
    block.get_by_role("button", name="Save", exact=True).click()
    expect(bob.question(SIGNS).locator(".answer")).to_have_text(bob_text)
    expect(bob.question(SIGNS).locator(".own-answers li")).to_have_count(2)  # own answers stay beside it


def test_a_private_question_offers_my_answer_and_sharing_but_no_agreed_answer(phone, account):
    _, _, ann, _, _ = two_phones(phone, account, "Our team", "team")
    answer_from_my_side(ann, MATTERS, "That what we build is used by people who need it, "
                        "and that we stay kind to each other when deadlines press.")
    ann.wait_synced()
    block = ann.question(MATTERS)
    expect(block.get_by_text(MATTERS_HINT, exact=True)).to_be_visible()
    expect(block.get_by_text(PRIVATE, exact=True)).to_be_visible()
    expect(block.locator(".own-answers li")).to_contain_text("not shared yet")
    expect(block.get_by_role("button", name=f"Share with everyone: my answer to {MATTERS}")).to_be_visible()
    expect(block.get_by_role("button", name=re.compile(r"^Answer: "))).to_have_count(0)
    expect(block.get_by_label("Your agreed answer")).to_have_count(0)
    expect(block.get_by_role("button", name="Use as our answer")).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []

    def check(name, scroll_to):
        problems.extend(f"{t['what']} is {t['width']}x{t['height']} px" for t in small_targets(ann.page))
        for scheme in ("light", "dark"):
            ann.page.emulate_media(color_scheme=scheme)
            wait_until(ann.page, f"matchMedia('(prefers-color-scheme: {scheme})').matches")
            problems.extend(axe_problems(ann.page, f"own-answers {name}", scheme))
            scroll_to().evaluate("(el) => el.scrollIntoView({ block: 'start' })")
            ann.page.screenshot(path=str(SHOTS / f"{name}-{scheme}.png"))
        ann.page.emulate_media(color_scheme="light")

    check("private", lambda: ann.question(MATTERS))
    ann.section("purpose")  # the team's purpose, a part of its own
    answer_from_my_side(ann, BENEFITS, "The people who call our help line.")
    ann.wait_synced()
    no_sideways_scroll(ann)
    check("own", lambda: ann.question(BENEFITS))
    ann.page.screenshot(path=str(SHOTS / "full-light.png"), full_page=True)
    assert problems == [], "\n".join(problems)


def test_an_answer_to_a_private_question_reaches_the_others_only_once_shared(phone, account):
    _, _, ann, bob, _ = two_phones(phone, account, "Our team", "team")
    secret = "Honestly: I fear this project will eat my evenings."
    answer_from_my_side(ann, MATTERS, secret)
    answer_from_my_side(bob, MATTERS, "Learning from the others.")
    for p in (ann, bob):
        p.wait_synced()
    bob.page.reload()
    bob.wait_synced()
    expect(bob.question(MATTERS).locator(".own-answers li")).to_have_count(1)
    expect(bob.question(MATTERS)).not_to_contain_text(secret)

    asked = []
    ann.page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    ann.question(MATTERS).get_by_role("button", name=f"Share with everyone: my answer to {MATTERS}").click()
    ann.wait_synced()
    assert "cannot be taken back" in asked[0]
    expect(ann.question(MATTERS)).to_contain_text("shared with everyone")
    expect(ann.question(MATTERS).get_by_role("button", name=f"Share with everyone: my answer to {MATTERS}")) \
        .to_have_count(0)
    expect(own_entry(bob.question(MATTERS), "Ann")).to_contain_text(secret)
