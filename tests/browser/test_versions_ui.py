"""Versions people can name, trust and restore, on the phone (issue 11): the consent part
says the agreed version in words and my own stance, a name given on one phone shows on the
other, versions are compared without typing numbers, a restore shows what it would change
first and one answer can be brought back alone, an undo right after a change brings back the
value before (offline too), and the proof of consent is checked on the phone itself."""

import re
import uuid

from phones import Q1, Q2, expect

AGREED = re.compile(r"Agreed on (\d{1,2} \w+|\w+ \d{1,2},) \d{4} by Ann and Bob")  # in the phone's own language


def agreed_alliance(account, title="Coaching with Bob"):
    """Ann and Bob, an answer with words beyond ASCII, Bob's commitment, a rhythm, and both consent."""
    ann, bob = account("Ann"), account("Bob")
    alliance_id = ann.create_alliance(title)
    bob.accept(ann.invite(alliance_id, "Bob"))
    ann.push([
        {"alliance_id": alliance_id, "name": "answer_question",
         "args": {"question_id": "purpose.why", "text": "Weekly calls at the café — naïve 😀", "base_revision": 0}},
        {"alliance_id": alliance_id, "name": "schedule_review",
         "args": {"every": 4, "unit": "weeks", "next_date": "2031-06-01"}}])
    bob.push([{"alliance_id": alliance_id, "name": "make_commitment",
               "args": {"commitment_id": str(uuid.uuid4()), "text": "Keep a journal", "owner_id": bob.user_id}}])
    version = ann.alliance(alliance_id)["content_version"]
    for api in (ann, bob):
        [result] = api.push([{"alliance_id": alliance_id, "name": "give_consent",
                              "args": {"version": version, "stance": "support"}}])["results"]
        assert result["status"] == "applied", result
    state = ann.alliance(alliance_id)
    assert state["status"] == "agreed" and state["content_version"] == version
    return ann, bob, alliance_id, version


def on_phone(phone, api, alliance_id, name):
    p = phone(name)
    p.sign_in(api)
    p.open(f"#/a/{alliance_id}")
    p.wait_synced()
    return p


def test_the_consent_part_says_the_agreed_version_in_words_my_stance_and_a_name_from_the_other_phone(phone, account):
    ann_api, bob_api, alliance_id, version = agreed_alliance(account)
    ann, bob = on_phone(phone, ann_api, alliance_id, "ann"), on_phone(phone, bob_api, alliance_id, "bob")
    ann.section("consent")
    part = ann.page.locator("#consent")
    expect(part.locator(".version-now")).to_have_text(f"Version {version}")
    expect(part).to_contain_text(AGREED)
    expect(part).to_contain_text("You support this version")
    expect(part).to_contain_text("Bob supports this version")
    expect(part).not_to_contain_text("Current version")
    expect(part.get_by_role("button", name="I support it")).to_have_attribute("aria-pressed", "true")
    expect(part.get_by_role("button", name="I can live with it")).to_have_attribute("aria-pressed", "false")
    expect(part.locator(".agreements li")).to_have_count(1)
    expect(part.locator(".agreements li")).to_contain_text(AGREED)
    ann.shot("versions-consent")

    part.get_by_text("Name this version", exact=True).click()
    part.get_by_label(f"A name for version {version}").fill("after our first talk")
    part.get_by_role("button", name="Save the name").click()
    expect(part.locator(".version-now")).to_contain_text(f"Version {version}, “after our first talk”")
    expect(part).not_to_contain_text("not yet synced")
    ann.wait_synced()
    assert ann_api.alliance(alliance_id)["version_names"][str(version)]["name"] == "after our first talk"
    assert ann_api.alliance(alliance_id)["content_version"] == version  # naming is no change of content

    bob.section("consent")
    expect(bob.page.locator("#consent .version-now")).to_have_text(f"Version {version}, “after our first talk”")
    expect(bob.page.locator("#consent")).to_contain_text("You support this version")
    bob.go(f"#/a/{alliance_id}/history")  # the history names it too
    expect(bob.page.locator("main ol.cards").get_by_text("“after our first talk”").first).to_be_visible()

    # Bob changes his stance: his button says so, and Ann's phone shows it.
    bob.section("consent")
    bob.page.get_by_role("button", name="I can live with it").click()
    expect(bob.page.get_by_role("button", name="I can live with it")).to_have_attribute("aria-pressed", "true")
    expect(bob.page.get_by_role("button", name="I support it")).to_have_attribute("aria-pressed", "false")
    expect(ann.page.locator("#consent")).to_contain_text("Bob can live with this version")


def test_compare_now_with_the_last_agreed_version_without_typing_a_number(phone, account):
    ann_api, _, alliance_id, version = agreed_alliance(account)
    ann = on_phone(phone, ann_api, alliance_id, "ann")
    ann.section("purpose")
    ann.answer(Q1, "Calls every other week at the café")
    ann.wait_synced()

    ann.section("consent")
    expect(ann.page.locator("#consent")).to_contain_text("Changed since it was last agreed")
    ann.page.get_by_role("link", name="Compare versions").click()
    ann.page.get_by_role("link", name="Now vs last agreed").click()
    expect(ann.page.locator("main")).to_contain_text(re.compile(r"From agreed on .* by Ann and Bob"))
    expect(ann.page.locator("main li.card del").first).to_have_text("Weekly calls")
    expect(ann.page.locator("main li.card ins").first).to_contain_text("Calls every other week")
    assert ann.page.locator("input[type=number]").count() == 0
    ann.shot("versions-compare-last-agreed")

    # From the timeline: any change, compared with now.
    ann.go(f"#/a/{alliance_id}/history")
    entry = ann.page.locator("main ol.cards > li").filter(has_text="Weekly calls")
    entry.get_by_role("link", name="Compare with now").click()
    expect(ann.page.get_by_role("heading", name="Compare two versions")).to_be_visible()
    expect(ann.page.locator("main")).to_contain_text("to now (version")
    # And two versions picked by name from the picker.
    ann.go(f"#/a/{alliance_id}/compare")
    choices = ann.page.get_by_label("From").locator("option").evaluate_all("(os) => os.map((o) => o.textContent)")
    assert choices[0].startswith("Now (version") and AGREED.match(choices[1]), choices
    ann.page.get_by_label("From").select_option(index=1)
    ann.page.get_by_role("button", name="Compare these").click()
    expect(ann.page.locator("main li.card ins").first).to_contain_text("Calls every other week")
    assert ann.page.locator("input[type=number]").count() == 0


def test_a_restore_shows_what_it_changes_first_and_one_answer_comes_back_alone(phone, account):
    ann_api, bob_api = account("Ann"), account("Bob")
    alliance_id = ann_api.create_alliance("Restoring one thing")
    bob_api.accept(ann_api.invite(alliance_id, "Bob"))
    ann_api.push([{"alliance_id": alliance_id, "name": "answer_question",
                   "args": {"question_id": "purpose.why", "text": "Weekly calls.", "base_revision": 0}}])
    ann_api.push([{"alliance_id": alliance_id, "name": "answer_question",
                   "args": {"question_id": "purpose.why", "text": "Monthly calls.", "base_revision": 1}},
                  {"alliance_id": alliance_id, "name": "answer_question",
                   "args": {"question_id": "purpose.outcomes", "text": "I lead calmly.", "base_revision": 0}}])
    bob_api.push([{"alliance_id": alliance_id, "name": "make_commitment",
                   "args": {"commitment_id": str(uuid.uuid4()), "text": "Keep a journal", "owner_id": bob_api.user_id}}])
    before = ann_api.alliance(alliance_id)
    ann = on_phone(phone, ann_api, alliance_id, "ann")

    ann.go(f"#/a/{alliance_id}/history")
    entry = ann.page.locator("main ol.cards > li").filter(has_text="Weekly calls.")
    entry.get_by_role("link", name="Restore this version").click()
    # The preview: what restoring the whole version would change against now, before anything happens.
    expect(ann.page.get_by_role("heading", name="Restore a version")).to_be_visible()
    main = ann.page.locator("main")
    expect(main).to_contain_text("would make these changes to what the alliance says now")
    expect(main).to_contain_text("Keep a journal")  # Bob's commitment: the whole restore touches it
    expect(main).to_contain_text(Q2)
    expect(ann.page.get_by_role("button", name="Restore all of this")).to_be_visible()
    ann.shot("versions-restore-preview")
    assert ann_api.alliance(alliance_id)["version"] == before["version"]  # nothing changed yet

    dialogs = []
    ann.page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    card = main.locator("li.card").filter(has=ann.page.get_by_role("heading", name=Q1))
    card.get_by_role("button", name="Bring back this answer").click()
    expect(card.get_by_role("status")).to_contain_text("Brought back")
    ann.wait_synced()
    assert dialogs and "Only this answer changes" in dialogs[0], dialogs

    after = ann_api.alliance(alliance_id)
    assert after["answers"]["purpose.why"]["text"] == "Weekly calls."
    assert after["answers"]["purpose.outcomes"]["text"] == "I lead calmly."
    [(cid, bobs)] = after["commitments"].items()
    assert {k: bobs[k] for k in ("text", "owner_id", "status")} == {
        "text": "Keep a journal", "owner_id": bob_api.user_id, "status": "open"}
    assert bobs["revision"] == before["commitments"][cid]["revision"]  # untouched
    ann.go(f"#/a/{alliance_id}/history")
    expect(ann.page.locator("main ol.cards > li").first).to_contain_text("brought back the answer to")


def test_undo_right_after_saving_an_answer_brings_back_the_text_before_also_offline(phone, account):
    ann_api = account("Ann")
    alliance_id = ann_api.create_alliance("Undoing")
    ann = on_phone(phone, ann_api, alliance_id, "ann")
    ann.section("purpose")
    ann.answer(Q1, "First words.")
    ann.wait_synced()

    ann.answer(Q1, "Second words.")
    bar = ann.page.locator(".undo-bar")
    expect(bar).to_have_attribute("role", "status")
    expect(bar).to_contain_text("Answer saved.")
    ann.shot("versions-undo")
    bar.get_by_role("button", name="Undo").click()
    expect(bar).to_contain_text("The answer is as it was again.")
    expect(ann.question(Q1).locator(".answer")).to_contain_text("First words.")
    ann.wait_synced()
    assert ann_api.alliance(alliance_id)["answers"]["purpose.why"]["text"] == "First words."
    assert ann_api.alliance(alliance_id)["answers"]["purpose.why"]["conflict"] == []

    ann.offline()
    expect(ann.status()).to_contain_text("Offline")
    ann.answer(Q1, "Offline words.")
    expect(bar).to_contain_text("Answer saved.")
    bar.get_by_role("button", name="Undo").click()
    expect(ann.question(Q1).locator(".answer")).to_contain_text("First words.")
    expect(ann.status()).to_contain_text("2 changes waiting")
    ann.online()
    ann.wait_synced()
    state = ann_api.alliance(alliance_id)
    assert state["answers"]["purpose.why"]["text"] == "First words." and state["answers"]["purpose.why"]["conflict"] == []
    texts = [e["text"] for e in ann_api.history(alliance_id)[:2]]
    assert "Offline words." in texts[1] and "First words." in texts[0], texts


def test_undo_brings_a_completed_or_withdrawn_commitment_back_open(phone, account):
    ann_api = account("Ann")
    alliance_id = ann_api.create_alliance("Undoing done")
    ann = on_phone(phone, ann_api, alliance_id, "ann")
    ann.commit("Write the plan")
    ann.wait_synced()
    card = ann.page.locator("#commitments .card").filter(has_text="Write the plan")
    card.get_by_role("button", name="Done").click()
    bar = ann.page.locator(".undo-bar")
    expect(bar).to_contain_text("Marked done.")
    bar.get_by_role("button", name="Undo").click()
    expect(bar).to_contain_text("The commitment is open again.")
    expect(card).not_to_contain_text("not yet synced")
    ann.wait_synced()
    [commitment] = ann_api.alliance(alliance_id)["commitments"].values()
    assert commitment["status"] == "open"
    assert [e["kind"] for e in ann_api.history(alliance_id)[:2]] == ["CommitmentReopened", "CommitmentCompleted"]

    # Withdrawing my own asks first, saying what happens, and can be undone too.
    dialogs = []
    ann.page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    card.get_by_role("button", name="Withdraw").click()
    expect(bar).to_contain_text("Commitment withdrawn.")
    assert dialogs and "everyone consents again" in dialogs[0] and "Undo" in dialogs[0], dialogs
    bar.get_by_role("button", name="Undo").click()
    expect(bar).to_contain_text("The commitment is open again.")
    expect(card).not_to_contain_text("not yet synced")
    ann.wait_synced()
    assert [e["kind"] for e in ann_api.history(alliance_id)[:2]] == ["CommitmentReopened", "CommitmentWithdrawn"]


def test_the_proof_of_consent_is_checked_on_this_phone_and_matches(phone, account):
    ann_api, _, alliance_id, version = agreed_alliance(account)
    proof = ann_api.get(f"/api/v1/alliances/{alliance_id}/evidence?version={version}")
    ann = on_phone(phone, ann_api, alliance_id, "ann")
    ann.section("consent")
    ann.page.get_by_role("link", name=re.compile("^Proof of consent")).click()
    expect(ann.page.get_by_role("heading", name="Proof of consent")).to_be_visible()
    main = ann.page.locator("main")
    expect(main).to_contain_text(AGREED)
    expect(main).to_contain_text(proof["content_hash"])
    expect(main.locator("li.card")).to_have_count(2)
    expect(main.locator("li.card").first).to_contain_text("Ann supported it")
    main.get_by_role("button", name="Check it on this phone").click()
    result = main.locator(".check-result")
    expect(result).to_contain_text("It matches")
    expect(result).to_contain_text("Ann and Bob: consented to exactly this text.")
    # The phone's own hash, by PROTOCOL.md's recipe, is the server's.
    here = ann.page.evaluate("""async (v) => {
        const { consentedContent, contentHash } = await import("/app/js/versions.js");
        const s = await (await fetch(`/api/v1/alliances/${v.id}?version=${v.version}`,
          { headers: { Authorization: `Bearer ${v.token}` } })).json();
        return contentHash(consentedContent(s));
    }""", {"id": alliance_id, "version": version, "token": ann_api.token})
    assert here == proof["content_hash"]
    ann.shot("versions-evidence", full_page=True)
