"""The status line tells the truth: the network as it is, signed in or not, and sync facts only
for someone signed in (issue 9, defect 12: signed out and offline, it said "Online")."""

from phones import expect

NOBODY = "nobody is signed in on this phone"

# One round of the sync loop, started as when the app comes back into view; resolves once the
# round has ended and the status line is redrawn (its end is broadcast to the app's other tabs).
SYNC_ROUND = """() => new Promise((resolve) => {
  const channel = new BroadcastChannel("alliance");
  channel.onmessage = () => { channel.close(); resolve(); };
  document.dispatchEvent(new Event("visibilitychange"));
})"""


def expect_status(p, network: str, *words: str) -> None:
    """After a round of the sync loop: the network (words and dot) and the words that follow it."""
    p.page.evaluate(SYNC_ROUND)
    status = p.status()
    expect(status).to_contain_text(network)
    expect(status.locator(".dot")).to_have_class(f"dot {network.lower()}")
    for text in words:
        expect(status).to_contain_text(text)


def shots(p, name: str) -> None:
    for scheme in ("light", "dark"):
        p.page.emulate_media(color_scheme=scheme)
        p.shot(f"status-{name}-{scheme}")
    p.page.emulate_media(color_scheme="light")


def test_signed_out_the_status_line_shows_the_network_and_nothing_about_syncing(phone):
    p = phone("nobody")
    p.open("#/signin")
    p.wait_controlled()
    expect_status(p, "Online", NOBODY)

    p.offline()
    p.page.reload()  # opened with no network: the shell comes from the service worker's cache
    expect(p.page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect_status(p, "Offline", NOBODY)
    expect(p.status()).not_to_contain_text("waiting")
    expect(p.status()).not_to_contain_text("synced")
    shots(p, "signed-out-offline")

    p.online()
    expect_status(p, "Online", NOBODY)
    shots(p, "signed-out-online")


def test_signed_in_the_status_line_says_offline_and_after_signing_out_nobody(phone, account):
    ann = account("Ann")
    p = phone("ann")
    p.sign_in(ann)
    p.wait_controlled()
    p.wait_synced()

    p.offline()
    p.page.reload()
    expect(p.page.get_by_role("heading", name="My alliances")).to_be_visible()
    expect_status(p, "Offline", "0 changes waiting", "synced")
    expect(p.status()).not_to_contain_text(NOBODY)
    shots(p, "signed-in-offline")

    p.online()
    p.wait_synced()
    p.go("#/devices")
    p.page.get_by_role("button", name="Sign out of this device").click()
    expect(p.page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect_status(p, "Online", NOBODY)
    expect(p.status()).not_to_contain_text("synced")
