"""The live stream carries the change (issue 14): Bob's phone, listening and up to date, shows
Ann's answer from the `change` event's page, with no pull request made after her push; and a
phone whose cursor is not the change's `from` (something it was not told of came in between)
pulls as before."""

import time
import uuid

import httpx

from phones import Q1, expect
from servers import PASSWORD
from test_two_phones import alliance_of_two


def requests_of(page) -> list[tuple[float, str, str]]:
    """Every request the page makes from now on: (time.monotonic(), method, path)."""
    made: list[tuple[float, str, str]] = []
    page.on("request", lambda request: made.append(
        (time.monotonic(), request.method, request.url.split("://", 1)[1].split("/", 1)[1].split("?")[0])))
    return made


def listening(phone, made) -> None:
    """Wait until the phone's live stream is open (its 'ready' event makes it pull) and it is synced."""
    for _ in range(100):
        live = [at for at, _, path in made if path == "api/v1/sync/live"]
        if live and any(path == "api/v1/sync/pull" and at > live[0] for at, _, path in made):
            break
        phone.page.wait_for_timeout(100)
    else:
        raise AssertionError(f"the phone's live stream did not start: {made}")
    phone.wait_synced()
    phone.page.wait_for_timeout(300)  # its sync after 'ready' has ended


def test_a_listening_phone_shows_the_other_phones_change_with_no_pull(phone, account):
    ann_api, bob_api, ann, bob, _ = alliance_of_two(phone, account, "Live coaching")
    bob_made, ann_made = requests_of(bob.page), requests_of(ann.page)
    bob.page.reload()  # Bob opens the app again: from here every request of his phone is seen
    listening(bob, bob_made)
    bob.page.evaluate("window.__notReloaded = true")

    ann.answer(Q1, "Changing teams, and curious.")
    expect(bob.question(Q1).locator(".answer")).to_have_text("Changing teams, and curious.", timeout=5_000)
    pushed = [at for at, method, path in ann_made if path == "api/v1/sync/push"]
    assert pushed, f"Ann's phone sent no push: {ann_made}"
    pulls_after = [(method, path) for at, method, path in bob_made if path == "api/v1/sync/pull" and at >= pushed[0]]
    assert pulls_after == [], f"Bob's phone pulled after Ann's push: {bob_made}"
    assert bob.page.evaluate("window.__notReloaded") is True, "Bob's page was reloaded"
    bob.shot("live-change-bob", at=bob.question(Q1))

    # Ann's private ally inventory changes: nothing of Bob's, so his cursor from before it is
    # still as current as the change's `from`, and his phone applies her next answer as it comes.
    ann_api.push([{"alliance_id": "", "name": "add_goal", "args": {"goal_id": str(uuid.uuid4()), "text": "Sleep"}}])
    since = time.monotonic()
    ann.answer(Q1, "Changing teams, and a little curious.")
    expect(bob.question(Q1).locator(".answer")).to_have_text("Changing teams, and a little curious.", timeout=5_000)
    assert not [at for at, _, path in bob_made if path == "api/v1/sync/pull" and at >= since], bob_made

    # Bob signs in on his laptop: his account changes, which his pull reads and no change event
    # tells. Ann's next answer then starts after something his phone never heard of: it pulls.
    httpx.post(f"{bob.url}/api/v1/auth/login", json={"email": bob_api.email, "password": PASSWORD},
               timeout=15).raise_for_status()
    since = time.monotonic()
    ann.answer(Q1, "Changing teams, curious and a bit nervous.")
    expect(bob.question(Q1).locator(".answer")).to_have_text("Changing teams, curious and a bit nervous.",
                                                             timeout=5_000)
    assert any(path == "api/v1/sync/pull" and at >= since for at, _, path in bob_made), \
        f"Bob's phone showed a change it had no page for without pulling: {bob_made}"
