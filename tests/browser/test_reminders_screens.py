"""Reminders on a phone: the "needs me" list on the home screen (offline too), the Reminders
screen (preferences saved through the outbox, the calendar address), notifications turned on
from a tap, a push shown by the service worker, and tapping it opening the alliance. Both
screens at 360x740 in light and dark, axe clean; screenshots in /tmp/shots-reminders/.

About the push subscription: Chromium's own push service (Google's FCM) cannot be reached from
this machine, and Playwright's browser contexts refuse push registration anyway, so
PushManager.subscribe() is answered here by a stand-in, as a push service would answer it: with
a subscription whose endpoint is the test's push service on 127.0.0.1 and whose keys the test
holds. Everything after that is real: the app posts it, the server encrypts and sends the push
there, the test decrypts it and delivers it to the service worker as a push message (DevTools
protocol), and the worker's own handlers show the notification and open the app on a tap."""

import json
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from phones import expect, wait_until
from servers import Server, free_port
from test_quality import axe_problems, small_targets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from pushservice import PushService  # noqa: E402

from server.push import new_key  # noqa: E402

SHOTS = Path("/tmp/shots-reminders")

STAND_IN = """(subscription) => {
  const made = { endpoint: subscription.endpoint, expirationTime: null, options: { userVisibleOnly: true },
    toJSON: () => subscription, unsubscribe: async () => true };
  let subscribed = null;
  PushManager.prototype.subscribe = async function () { subscribed = made; return made; };
  PushManager.prototype.getSubscription = async function () { return subscribed; };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of this module's own: with a VAPID key, and a follower that looks often."""
    tmp = tmp_path_factory.mktemp("reminders-server")
    port = free_port()
    private, _ = new_key()
    env = {"ALLIANCE_DATA_DIR": str(tmp / "data"), "ALLIANCE_AUTH_PER_MINUTE": "100000",
           "ALLIANCE_PUBLIC_URL": f"http://127.0.0.1:{port}", "ALLIANCE_LOG_LEVEL": "WARNING",
           "ALLIANCE_REMINDERS_POLL_SECONDS": "0.2", "ALLIANCE_VAPID_PRIVATE_KEY": private,
           "ALLIANCE_VAPID_SUBJECT": "mailto:ops@example.org"}
    with Server(env, tmp / "server.log", port=port) as running:
        yield running


def together(ann, bob, title: str) -> str:
    alliance_id = ann.create_alliance(title)
    bob.accept(ann.invite(alliance_id, "Bob"))
    return alliance_id


def quiet_off(api) -> None:
    api.push([{"alliance_id": "", "name": "set_reminder_preferences", "args": {"quiet_hours": False}}])


def shoot(p, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    p.page.screenshot(path=str(SHOTS / f"{name}.png"))


def check(p, screen: str, problems: list[str]) -> None:
    problems += [f"{screen}: {t['what']} is {t['width']}x{t['height']} px" for t in small_targets(p.page)]
    for scheme in ("light", "dark"):
        p.page.emulate_media(color_scheme=scheme)
        wait_until(p.page, f"matchMedia('(prefers-color-scheme: {scheme})').matches")
        problems += axe_problems(p.page, screen, scheme)
        shoot(p, f"{screen}-{scheme}")
    p.page.emulate_media(color_scheme="light")


def test_needs_me_on_the_home_screen_and_the_reminders_screen_in_light_and_dark(phone, account):
    ann, bob = account("Ann"), account("Bob")
    alliance_id = together(ann, bob, "Coaching with Bob")
    today = date.today()
    ann.push([
        # Whatever the hour the suite runs at: quiet hours (22:00-07:00 by default) would hold them back.
        {"alliance_id": "", "name": "set_reminder_preferences", "args": {"quiet_hours": False}},
        {"alliance_id": alliance_id, "name": "make_commitment",
         "args": {"commitment_id": str(uuid.uuid4()), "text": "Send the agenda the day before", "owner_id": ann.user_id,
                  "due": (today - timedelta(days=2)).isoformat()}},
        {"alliance_id": alliance_id, "name": "make_commitment",
         "args": {"commitment_id": str(uuid.uuid4()), "text": "Write up what we agreed", "owner_id": ann.user_id,
                  "due": (today + timedelta(days=1)).isoformat()}},
        {"alliance_id": alliance_id, "name": "schedule_review",
         "args": {"every": 2, "unit": "weeks", "next_date": (today + timedelta(days=1)).isoformat()}},
    ])
    bob.push([{"alliance_id": alliance_id, "name": "appreciate",
               "args": {"participant_id": ann.user_id, "note": "Thank you for listening so well"}}])
    p = phone("ann")
    page = p.page
    p.sign_in(ann)
    p.wait_controlled()
    needs = page.locator("#needs-me")
    expect(needs.get_by_role("heading", name="Needs me")).to_be_visible()
    expect(needs).to_contain_text(": Send the agenda the day before.")
    expect(needs).to_contain_text("Due tomorrow: Write up what we agreed.")
    expect(needs).to_contain_text("Review of “Coaching with Bob” tomorrow.")
    expect(needs).to_contain_text("“Coaching with Bob” waits for your consent")
    assert needs.locator("li").first.inner_text().startswith("Overdue since")  # the most urgent first
    problems: list[str] = []
    check(p, "needs-me", problems)

    p.offline()
    page.reload()
    expect(needs).to_contain_text("Due tomorrow: Write up what we agreed.")  # from the last pull
    expect(needs).to_contain_text("Offline: as it was when last synced.")
    p.online()
    p.wait_synced()

    needs.get_by_role("link", name="Due tomorrow: Write up what we agreed.").click()
    expect(page.get_by_role("heading", name="Commitments", level=1)).to_be_in_viewport()
    expect(page.locator("#commitments")).to_contain_text("Write up what we agreed")
    p.go("#/")
    page.get_by_role("link", name="Reminders", exact=True).click()
    expect(page.get_by_role("heading", name="Reminders", level=1)).to_be_visible()
    lately = page.locator("#given")
    expect(lately).to_contain_text("Bob appreciates you, in “Coaching with Bob”: open it to read what they wrote.")
    expect(lately).to_contain_text("Shown here at")
    expect(page.get_by_text("Notifications let reminders of reviews, commitments and consent reach this phone")).to_be_visible()
    check(p, "reminders", problems)
    page.evaluate("() => document.querySelector('#preferences').scrollIntoView()")
    shoot(p, "reminders-preferences-light")

    form = page.locator("#preferences")
    form.get_by_label("My time zone").fill("Europe/Berlin")
    form.locator("fieldset.kind").filter(has_text="Someone joined").get_by_label("On my phones").uncheck()
    form.get_by_label("One digest a day").check()
    form.get_by_role("button", name="Save").click()
    p.wait_synced()
    for _ in range(100):  # until the saved preferences have reached the server
        preferences = ann.get("/api/v1/reminders")["preferences"]
        if preferences["time_zone"] == "Europe/Berlin":
            break
        page.wait_for_timeout(100)
    assert preferences["time_zone"] == "Europe/Berlin" and preferences["delivery"] == "digest"
    assert preferences["channels"]["joined"] == ["app"]

    page.get_by_role("button", name="Make my calendar address").click()
    link = page.get_by_role("link", name="Subscribe in my calendar app")
    expect(link).to_be_visible()
    assert link.get_attribute("href").startswith("webcal://127.0.0.1")
    assert problems == [], "\n".join(problems)


def test_notifications_turned_on_from_a_tap_show_a_push_and_tapping_it_opens_the_alliance(phone, account, server):
    ann, bob = account("Ann"), account("Bob")
    quiet_off(ann)
    alliance_id = together(ann, bob, "Lisbon trip")
    with PushService() as service:
        stand_in = service.phone("ann-browser")
        p = phone("ann")
        p.context.grant_permissions(["notifications"], origin=server.url)
        p.context.add_init_script(f"({STAND_IN})({json.dumps(stand_in.subscription())})")
        page = p.page
        p.sign_in(ann)
        p.wait_controlled()
        p.go("#/reminders")
        expect(page.get_by_role("heading", name="On this phone")).to_be_visible()
        assert ann.get("/api/v1/reminders")["preferences"]["phones"] == []  # nothing asked before the tap
        page.get_by_role("button", name="Turn on notifications on this phone").click()
        expect(page.get_by_text("Notifications are on for this phone.")).to_be_visible()
        assert len(ann.get("/api/v1/reminders")["preferences"]["phones"]) == 1

        bob.push([{"alliance_id": alliance_id, "name": "appreciate",
                   "args": {"participant_id": ann.user_id, "note": "for finding the flat"}}])
        pushes = service.wait_for(1)
        payload = stand_in.decrypt(pushes[-1])
        assert payload["body"] == "Bob appreciates you, in “Lisbon trip”: open it to read what they wrote."

        p.go("#/")
        cdp = p.context.new_cdp_session(page)
        registrations = []
        cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
        cdp.send("ServiceWorker.enable")
        for _ in range(100):
            if registrations:
                break
            page.wait_for_timeout(50)
        [registration] = [r for r in registrations if r["scopeURL"].endswith("/app/") and not r["isDeleted"]]
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": server.url, "registrationId": registration["registrationId"],
                                                      "data": json.dumps(payload)})
        shown = wait_until(page, """navigator.serviceWorker.ready.then((r) => r.getNotifications())
            .then((ns) => ns.length && ns.map((n) => ({ title: n.title, body: n.body, url: n.data.url })))""")
        assert shown == [{"title": "Alliance", "body": payload["body"], "url": f"{server.url}/app/#/a/{alliance_id}"}]

        [worker] = p.context.service_workers
        worker.evaluate("""async () => {
            const [notification] = await self.registration.getNotifications();
            self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
        }""")
        expect(page.get_by_role("heading", name="Lisbon trip", level=1)).to_be_visible()
        assert page.url.endswith(f"/app/#/a/{alliance_id}")


def test_a_person_who_never_chose_a_time_zone_is_reminded_on_their_phones_clock(phone, account):
    ann = account("Ann")
    p = phone("ann", timezone_id="America/Sao_Paulo")
    p.sign_in(ann)
    p.wait_synced()
    for _ in range(100):
        if ann.get("/api/v1/reminders")["preferences"]["time_zone"] == "America/Sao_Paulo":
            break
        p.page.wait_for_timeout(100)
    assert ann.get("/api/v1/reminders")["preferences"]["time_zone"] == "America/Sao_Paulo"
    p.go("#/reminders")
    expect(p.page.locator("#preferences").get_by_label("My time zone")).to_have_value("America/Sao_Paulo")
