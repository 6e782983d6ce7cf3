"""Who wrote an answer and when, and what is new since I last opened the alliance (issue 10,
item 3); questions people added can be reworded and removed from the app (item 5). Two phones,
two people: Ann (the coach) and Bob (her client)."""

import re
import uuid
from datetime import datetime

from phones import Q1, expect, wait_until
from test_own_answers import answer_from_my_side, no_sideways_scroll, open_question, own_entry
from test_quality import axe_problems, small_targets

SIGNS = "How will we each notice that it's working, or that it isn't?"


def two_phones(phone, account, title="Coaching with Bob"):
    ann_api, bob_api = account("Ann"), account("Bob")
    alliance_id = ann_api.create_alliance(title, "coaching")
    bob_api.accept(ann_api.invite(alliance_id, "Bob"))
    phones = []
    for api, name in ((ann_api, "ann"), (bob_api, "bob")):
        p = phone(name, locale="en-GB", timezone_id="UTC")  # so the times read as asserted below
        p.sign_in(api)
        p.wait_synced()
        p.alliance = alliance_id
        phones.append(p)
    return ann_api, bob_api, *phones, alliance_id


def short(at: str) -> str:
    """An ISO time as an en-GB phone in UTC shows it: "1 Dec, 13:40" (the year when not this year)."""
    moment = datetime.fromisoformat(at)
    year = "" if moment.year == datetime.now().year else f" {moment.year}"
    return f"{moment.day} {moment.strftime('%b')}{year}, {moment:%H:%M}"


def test_a_partners_answer_says_who_and_when_and_is_new_on_my_phone_only(phone, account):
    ann_api, bob_api, ann, bob, alliance_id = two_phones(phone, account)
    open_question(ann, alliance_id, SIGNS)  # Ann has looked at it once: what comes after this is new for her
    expect(ann.page.locator(".new-mark")).to_have_count(0)  # nothing is new on a first visit
    ann.go("#/")
    expect(ann.page.get_by_role("heading", name="My alliances")).to_be_visible()

    open_question(bob, alliance_id, SIGNS)
    answer_from_my_side(bob, SIGNS, "I sleep before midnight again.")
    pushed = bob_api.push([{"alliance_id": alliance_id, "name": "answer_question",  # from another device of his
                            "args": {"question_id": "purpose.why", "text": "A new job, and nerves about it.",
                                     "base_revision": 0}}])
    assert pushed["results"][0]["status"] == "applied", pushed
    expect(bob.question(Q1).locator(".answer")).to_have_text("A new job, and nerves about it.")
    bob.wait_synced()
    state = bob_api.alliance(alliance_id)
    own_at = state["own_answered_at"]["purpose.signs"][bob_api.user_id]
    agreed_at = state["answers"]["purpose.why"]["at"]
    assert state["answers"]["purpose.why"]["by"] == bob_api.user_id

    # On Bob's own phone: his name and the time, and nothing new (he wrote it).
    bob_entry = own_entry(bob.question(SIGNS), "Bob")
    expect(bob_entry.locator(".stamp")).to_have_text(f"Bob · {short(own_at)}")
    expect(bob.question(Q1).locator(".stamp")).to_contain_text(f"Bob · {short(agreed_at)}")
    expect(bob.page.locator(".new-mark")).to_have_count(0)

    # Ann opens the alliance again: Bob's answers carry his name, the time, and "New".
    open_question(ann, alliance_id, SIGNS)
    entry = own_entry(ann.question(SIGNS), "Bob")
    expect(entry.locator(".stamp")).to_have_text(f"Bob · {short(own_at)} New")
    expect(entry.locator("time")).to_have_attribute("datetime", own_at)
    expect(entry).to_contain_text("I sleep before midnight again.")
    agreed = ann.question(Q1).locator(".stamp")
    expect(agreed).to_contain_text(f"Bob · {short(agreed_at)}")
    expect(agreed.get_by_text("New", exact=True)).to_be_visible()
    shots(ann, "answers-agreed-who-when", ann.question(Q1))

    # Her own answer beside his: both names, hers first, and hers is never new to her.
    answer_from_my_side(ann, SIGNS, "Bob speaks up in the Monday meeting.")
    ann.wait_synced()
    entries = ann.question(SIGNS).locator(".own-answers li")
    expect(entries).to_have_count(2)
    expect(entries.first.locator(".stamp strong")).to_have_text("Ann")
    expect(entries.first.locator(".new-mark")).to_have_count(0)
    expect(own_entry(ann.question(SIGNS), "Bob").locator(".new-mark")).to_have_count(1)  # a redraw keeps it new
    no_sideways_scroll(ann)
    shots(ann, "answers-who-when", ann.question(SIGNS))

    # Once she has looked and comes back later, it is no longer new.
    ann.go("#/")
    expect(ann.page.get_by_role("heading", name="My alliances")).to_be_visible()
    open_question(ann, alliance_id, SIGNS)
    expect(own_entry(ann.question(SIGNS), "Bob").locator(".stamp")).to_have_text(f"Bob · {short(own_at)}")
    expect(ann.page.locator(".new-mark")).to_have_count(0)


def test_a_question_someone_added_is_reworded_and_removed_on_both_phones(phone, account):
    ann_api, bob_api, ann, bob, alliance_id = two_phones(phone, account)
    asked, reworded = "Where do we meet?", "Where and how often do we meet?"
    question_id = str(uuid.uuid4())
    pushed = bob_api.push([{"alliance_id": alliance_id, "name": "add_question",
                            "args": {"question_id": question_id, "section": "ours", "text": asked}}])
    assert pushed["results"][0]["status"] == "applied", pushed
    open_question(ann, alliance_id, asked)
    block = ann.question(asked)
    expect(block.locator(".stamp").first).to_contain_text("Added by Bob")
    # A template question stays as it is; its hint stays shown.
    open_question(ann, alliance_id, SIGNS)
    expect(ann.question(SIGNS).get_by_role("button", name=re.compile("^Reword or remove"))).to_have_count(0)
    expect(ann.question(SIGNS).get_by_text("Think of something you could see or feel, not just a target.")).to_be_visible()

    open_question(ann, alliance_id, asked)
    block = ann.question(asked)
    block.get_by_role("button", name=f"Reword or remove: {asked}").click()
    block.get_by_label("The question, in new words").fill(reworded)
    block.get_by_role("button", name="Save the new words").click()
    ann.wait_synced()
    open_question(bob, alliance_id, reworded)
    expect(bob.question(asked)).to_have_count(0)
    no_sideways_scroll(bob)

    block = ann.question(reworded)
    block.get_by_role("button", name=f"Reword or remove: {reworded}").click()
    shots(ann, "question-reword", block)
    said = []
    ann.page.once("dialog", lambda dialog: (said.append(dialog.message), dialog.accept()))
    block.get_by_role("button", name="Remove this question").click()
    ann.wait_synced()
    assert reworded in said[0] and "for everyone" in said[0]
    expect(ann.question(reworded)).to_have_count(0)
    bob.go("#/")
    open_question(bob, alliance_id, SIGNS)
    expect(bob.page.get_by_text(reworded)).to_have_count(0)
    assert ann_api.alliance(alliance_id)["questions"][question_id]["removed"] is True


def shots(p, name: str, at) -> None:
    """Light and dark screenshots of what is at `at`, and no serious axe problem or small target."""
    problems = [f"{name}: {t['what']} is {t['width']}x{t['height']} px" for t in small_targets(p.page)]
    for scheme in ("light", "dark"):
        p.page.emulate_media(color_scheme=scheme)
        wait_until(p.page, f"matchMedia('(prefers-color-scheme: {scheme})').matches")
        problems += axe_problems(p.page, name, scheme)
        p.shot(f"{name}-{scheme}", at=at)
    p.page.emulate_media(color_scheme="light")
    assert problems == [], "\n".join(problems)
