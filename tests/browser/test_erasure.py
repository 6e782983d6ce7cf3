"""Erasure on real phones (issue 13): two browser contexts are two people's phones, at 360x740.

Ann erases her words from an alliance: after Bob's phone's next pull, her words are nowhere on it —
not on any screen, not in any IndexedDB store, not in Cache Storage — and the placeholder stands
where they were; her own phone no longer lists the alliance. Ann deletes her account: her other
phone is signed out and wiped, saying so; Bob sees her as erased. "Download everything about me"
holds Ann's words and none of Bob's."""

import json
import uuid

from phones import Q1, expect, wait_until
from servers import PASSWORD
from test_quality import check_screen

ANN = ["ann-answer-marker-4f2a", "ann-commitment-marker-8c1d", "ann-thanks-marker-3e9b"]
BOB = ["bob-answer-marker-7d5e"]
Q2_ID = "purpose.outcomes"

# Every record of every store of every IndexedDB database (keys and values), and every response
# kept in Cache Storage, as one string.
DUMP = """async () => {
  const opened = (name) => new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const all = (store, what) => new Promise((resolve, reject) => {
    const request = store[what]();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const dump = { databases: {}, caches: {} };
  for (const { name } of await indexedDB.databases()) {
    const db = await opened(name);
    for (const store of db.objectStoreNames) {
      const os = () => db.transaction(store).objectStore(store);
      dump.databases[`${name}/${store}`] = { keys: await all(os(), "getAllKeys"), values: await all(os(), "getAll") };
    }
    db.close();
  }
  for (const key of await caches.keys()) {
    const cache = await caches.open(key);
    for (const request of await cache.keys()) {
      dump.caches[`${key} ${request.url}`] = await (await cache.match(request)).text();
    }
  }
  return JSON.stringify(dump);
}"""


def dump(phone) -> str:
    return phone.page.evaluate(DUMP)


def found(words: list[str], text: str) -> list[str]:
    return [w for w in words if w in text]


def wait_gone(phone, words: list[str]) -> str:
    """The phone's dump once none of `words` is in it (a pull and what follows it take a moment)."""
    for _ in range(50):
        held = dump(phone)
        if not found(words, held):
            return held
        phone.page.wait_for_timeout(100)
    dumped = json.loads(held)
    where = {f"{place} {key}": found(words, json.dumps(value)) for place, store in dumped["databases"].items()
             for key, value in zip(store["keys"], store["values"]) if found(words, json.dumps(value))}
    where |= {place: found(words, text) for place, text in dumped["caches"].items() if found(words, text)}
    raise AssertionError(f"still on {phone.name}'s phone: {where}")


def coaching(phone, account, title: str):
    """Ann's coaching alliance with Bob in it: Ann's words (an answer, a commitment, thanks to
    Bob) and Bob's (an answer), written over HTTP; both phones signed in, on the alliance."""
    ann_api, bob_api = account("Ann"), account("Bob")
    alliance_id = ann_api.create_alliance(title)
    bob_api.accept(ann_api.invite(alliance_id, "Bob"))
    answer = ann_api.push([
        {"alliance_id": alliance_id, "name": "answer_question",
         "args": {"question_id": "purpose.why", "text": ANN[0], "base_revision": 0}},
        {"alliance_id": alliance_id, "name": "make_commitment",
         "args": {"commitment_id": str(uuid.uuid4()), "text": ANN[1], "owner_id": ann_api.user_id}},
        {"alliance_id": alliance_id, "name": "appreciate",
         "args": {"participant_id": bob_api.user_id, "note": ANN[2]}}])
    answer["results"] += bob_api.push([{"alliance_id": alliance_id, "name": "answer_question",
                                        "args": {"question_id": Q2_ID, "text": BOB[0], "base_revision": 0}}])["results"]
    assert [r["status"] for r in answer["results"]] == ["applied"] * 4, answer
    ann, bob = phone("ann"), phone("bob")
    for p, api in ((ann, ann_api), (bob, bob_api)):
        p.sign_in(api)
        p.open(f"#/a/{alliance_id}")
        expect(p.page.get_by_role("heading", name=title, level=1, exact=True)).to_be_visible()
        p.wait_synced()
    return ann_api, bob_api, ann, bob, alliance_id


def bob_keeps_copies(bob, alliance_id: str) -> None:
    """Bob reads Ann's words on his phone, its history (kept for offline), and starts an appreciation
    that quotes her answer (a draft): every kind of copy a phone keeps of an alliance."""
    page = bob.page
    bob.section("purpose")
    expect(bob.question(Q1).locator(".answer")).to_have_text(ANN[0])
    bob.go(f"#/a/{alliance_id}/history")
    expect(page.locator("main")).to_contain_text(ANN[0])
    bob.section("more")
    page.get_by_text("Appreciate someone", exact=True).click()
    page.get_by_label("What you appreciate").fill(f"You said “{ANN[0]}” and it stayed with me.")
    wait_until(page, "document.querySelector('.draft-mark') !== null")
    bob.section("purpose")  # he leaves it there, unsent: a draft
    held = dump(bob)
    assert found(ANN, held) == ANN, "the phone should hold Ann's words before she erases them"
    assert "history:" in held


def test_after_ann_erases_her_words_bobs_phone_holds_none_of_them(phone, account):
    ann_api, bob_api, ann, bob, alliance_id = coaching(phone, account, "Coaching with Ann")
    bob_keeps_copies(bob, alliance_id)

    # Ann, on her phone: the alliance's last part, where leaving is, asks plainly before erasing.
    ann.section("more")
    page = ann.page
    erase = page.locator("details.erase")
    erase.locator("summary").click()
    box = erase.locator(".confirm-box")
    expect(box).to_contain_text("cannot be undone")
    expect(box).to_contain_text("erased at your request")
    page.evaluate("() => document.querySelector('details.erase').scrollIntoView({ block: 'start' })")
    problems: list[str] = []
    check_screen(ann, "erasure-confirm", problems)
    assert problems == [], "\n".join(problems)
    box.get_by_role("button", name="Erase my words and leave", exact=True).click()

    # Ann's phone: back on her list, and once synced the alliance is not in it.
    expect(page.get_by_role("heading", name="My alliances")).to_be_visible()
    ann.wait_synced()
    expect(page.locator(f'li[data-alliance="{alliance_id}"]')).to_have_count(0)
    wait_gone(ann, ANN)

    # Bob's phone, after its next pull (the live poke brings it): the placeholder where her words were.
    state = bob_api.alliance(alliance_id)
    assert state["participants"][ann_api.user_id]["status"] == "erased"
    bob.section("purpose")
    placeholder = bob.question(Q1).locator(".answer .erased")
    expect(placeholder).to_contain_text("erased at their request")
    assert bob.page.evaluate("getComputedStyle(document.querySelector('.erased')).fontStyle") == "italic"
    bob.shot("erasure-bob-answer", at=bob.question(Q1))
    bob.wait_synced()
    held = wait_gone(bob, ANN)
    assert found(BOB, held) == BOB  # his own words stay
    assert "You said" not in held  # the draft that quoted her went with them
    bob.top()
    expect(bob.page.locator("#people")).to_contain_text("Ann — words erased at their request")
    bob.shot("erasure-bob-people", at=bob.page.locator("#people"))
    for screen in ("purpose", "commitments", "more"):
        bob.section(screen)
        assert found(ANN, bob.page.content()) == [], screen
    bob.go(f"#/a/{alliance_id}/history")
    expect(bob.page.locator("main .erased").first).to_be_visible()
    assert found(ANN, bob.page.content()) == []
    assert found(ANN, dump(bob)) == []  # the history read afresh is kept again: without her words


def test_deleting_her_account_signs_out_and_wipes_her_other_phone(phone, account):
    ann_api, bob_api, ann, bob, alliance_id = coaching(phone, account, "Coaching, then goodbye")
    other = phone("ann-tablet")
    other.sign_in(ann_api)
    other.open(f"#/a/{alliance_id}")
    other.wait_synced()
    assert found(ANN, dump(other)) == ANN

    page = ann.page
    ann.go("#/devices")
    expect(page.get_by_role("heading", name="Account and devices", level=1)).to_be_visible()
    page.locator("#delete-account summary").click()
    page.evaluate("() => document.querySelector('#delete-account').scrollIntoView({ block: 'start' })")
    problems: list[str] = []
    check_screen(ann, "erasure-account", problems)
    assert problems == [], "\n".join(problems)

    password = page.get_by_label("Your password, to confirm")
    password.fill("not my password at all")
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.locator("#delete-account .error")).to_contain_text("not deleted")
    assert ann_api.get("/api/v1/auth/me")["user_id"] == ann_api.user_id

    password.fill(PASSWORD)
    page.get_by_role("button", name="Delete my account for good").click()
    for p in (ann, other):  # this phone, and the other one told by its live stream
        # (erasing her from every alliance takes a while on a loaded machine)
        expect(p.page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=45_000)
        expect(p.page.locator("#notice")).to_contain_text("Your account was deleted.")
        held = wait_gone(p, ANN)
        stores = json.loads(held)["databases"]
        assert ann_api.token not in held and "session" not in stores["alliance/meta"]["keys"], p.name
        assert stores["alliance/alliances"]["values"] == stores["alliance/drafts"]["values"] == [], p.name

    bob.top()
    expect(bob.page.locator("#people")).to_contain_text("Ann — words erased at their request")
    bob.section("purpose")
    expect(bob.question(Q1).locator(".answer .erased")).to_be_visible()
    wait_gone(bob, ANN)


def test_download_everything_about_me_holds_her_words_and_none_of_bobs(phone, account, tmp_path):
    ann_api, _, ann, _, _ = coaching(phone, account, "Coaching to take away")
    page = ann.page
    ann.go("#/devices")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download everything about me").click()
    download = downloading.value
    assert download.suggested_filename == "alliance-my-data.json"
    download.save_as(tmp_path / "mine.json")
    text = (tmp_path / "mine.json").read_text()
    assert json.loads(text)["account"]["email"] == ann_api.email
    assert found(ANN, text) == ANN and found(BOB, text) == [] and "Bob" not in text

    with page.expect_download() as downloading:
        page.get_by_role("button", name="The same, as a page to read").click()
    download = downloading.value
    download.save_as(tmp_path / "mine.html")
    html = (tmp_path / "mine.html").read_text()
    assert download.suggested_filename.endswith(".html") and "<html" in html.lower()
    assert found(ANN, html) == ANN and found(BOB, html) == []
