"""What the browser tests share: one account over HTTP (Api) and one phone (Phone)."""

import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from servers import PASSWORD, auth

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips (or, with ALLIANCE_REQUIRE_BROWSER=1, fails) every browser test then
    expect = None

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-gpu"]
TIMEOUT_MS = 15_000


def wait_until(page, expression: str, timeout_ms: int = TIMEOUT_MS) -> Any:
    """Poll a page expression from here. Playwright's wait_for_function polls with eval inside
    the page, which the app's Content-Security-Policy (rightly) forbids; evaluate() does not."""
    for _ in range(timeout_ms // 100):
        value = page.evaluate(expression)
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {timeout_ms} ms: {expression}")
SHOTS = Path("/tmp/browser-shots")
VIEWPORT = {"width": 360, "height": 740}
# The first questions of the coaching template.
Q1 = "What brings you to coaching right now?"
Q2 = "If this goes really well, what will be different for you?"


class Api:
    """One account over HTTP: what a test checks on the server, with the account's own token."""

    def __init__(self, url: str, email: str, name: str, user_id: str, token: str):
        self.url, self.email, self.name, self.user_id, self.token = url, email, name, user_id, token
        self.http = httpx.Client(base_url=url, timeout=15, headers=auth(token))

    def get(self, path: str) -> Any:
        response = self.http.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def post(self, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.http.post(path, json=body)
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def push(self, mutations: list[dict], client_id: str | None = None) -> dict:
        """From a device of its own (an HTTP client id per Api object)."""
        self._client = getattr(self, "_client", None) or f"http-{uuid.uuid4().hex[:12]}"
        self._next = getattr(self, "_next", 1)
        numbered = [{"id": self._next + i, **m} for i, m in enumerate(mutations)]
        answer = self.post("/api/v1/sync/push", {"client_id": client_id or self._client, "mutations": numbered})
        self._next += len(mutations)
        return answer

    def alliance(self, alliance_id: str) -> dict:
        return self.get(f"/api/v1/alliances/{alliance_id}")

    def history(self, alliance_id: str) -> list[dict]:
        return self.get(f"/api/v1/alliances/{alliance_id}/history?limit=200")["entries"]

    def create_alliance(self, title: str, template: str = "coaching") -> str:
        alliance_id = str(uuid.uuid4())
        answer = self.push([{"alliance_id": alliance_id, "name": "create_alliance",
                             "args": {"title": title, "template": template}}])
        assert answer["results"][0]["status"] == "applied", answer
        return alliance_id

    def invite(self, alliance_id: str, name: str = "") -> str:
        return self.post(f"/api/v1/alliances/{alliance_id}/invitations", {"name": name}, status=201)["token"]

    def accept(self, token: str) -> dict:
        return self.post(f"/api/v1/invitations/{token}/accept")


READ_META = """async (key) => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("alliance");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  try {
    return await new Promise((resolve, reject) => {
      const request = db.transaction("meta").objectStore("meta").get(key);
      request.onsuccess = () => resolve(request.result ?? null);
      request.onerror = () => reject(request.error);
    });
  } finally { db.close(); }
}"""


class Phone:
    """One phone: a browser context with its own storage, service worker and network."""

    def __init__(self, context, base_url: str, name: str):
        self.context, self.url, self.name = context, base_url, name
        self.errors: list[str] = []
        self.page = self.new_tab()

    def new_tab(self):
        page = self.context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{self.name}: {error}"))
        return page

    # network
    def offline(self) -> None:
        self.context.set_offline(True)

    def online(self) -> None:
        self.context.set_offline(False)

    # navigation
    def open(self, hash_: str = "#/", page=None) -> None:
        (page or self.page).goto(f"{self.url}/app/{hash_}")

    def go(self, hash_: str, page=None) -> None:
        """Within the app, without a reload."""
        (page or self.page).evaluate("(h) => { location.hash = h; }", hash_)

    def wait_controlled(self, page=None) -> None:
        """The service worker controls the page: from now on the shell opens offline."""
        wait_until(page or self.page, "navigator.serviceWorker.controller !== null")

    def sign_in(self, api: Api, page=None) -> None:
        page = page or self.page
        self.open("#/signin", page)
        page.get_by_label("Email").fill(api.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("heading", name="My alliances")).to_be_visible()

    def meta(self, key: str, page=None) -> Any:
        return (page or self.page).evaluate(READ_META, key)

    def wait_meta(self, key: str, page=None) -> Any:
        """Wait until the phone's store holds `key` (e.g. the templates, fetched in the background)."""
        page = page or self.page
        wait_until(page, f"({READ_META})({key!r}).then((v) => v !== null && v !== undefined)")
        return self.meta(key, page)

    def token(self) -> str:
        return self.meta("session")["token"]

    def status(self, page=None):
        return (page or self.page).locator("#status")

    def wait_synced(self, page=None) -> None:
        """Online, nothing waiting, and pulled at least once."""
        status = self.status(page)
        expect(status).to_contain_text("Online")
        expect(status).to_contain_text("0 changes waiting")
        expect(status).not_to_contain_text("not synced yet")

    # the alliance's screens
    def alliance_id(self, page=None) -> str:
        """The alliance the page shows (#/a/<id>...)."""
        return (page or self.page).evaluate("location.hash").split("?")[0].split("/")[2]

    def section(self, key: str, page=None) -> None:
        """Open one part of the alliance on screen (#/a/<id>/s/<key>): a template section
        ("purpose"), "commitments", "rhythm", "consent", "life", "more" or "conflicts"."""
        page = page or self.page
        self.go(f"#/a/{self.alliance_id(page)}/s/{key}", page)
        expect(page.locator("main h1")).not_to_have_text("Loading…")
        self.drawn(page)

    def drawn(self, page=None) -> None:
        """The screen the address names is drawn and named (the app sets main's data-route last)."""
        wait_until(page or self.page, "document.getElementById('main').dataset.route === location.hash")

    def top(self, page=None) -> None:
        """Back to the top of the alliance."""
        page = page or self.page
        self.go(f"#/a/{self.alliance_id(page)}", page)
        expect(page.get_by_role("heading", name="Parts of this alliance")).to_be_visible()

    def question(self, text: str, page=None):
        page = page or self.page
        return page.locator(".question").filter(has=page.get_by_role("heading", name=text, exact=True))

    def answer(self, question: str, text: str, page=None) -> None:
        """Answer (or edit the answer to) a question on the alliance screen."""
        block = self.question(question, page)
        block.get_by_role("button", name=re.compile(r"^(Answer|Edit answer): ")).click()
        block.get_by_label("Your agreed answer").fill(text)
        block.get_by_role("button", name="Save", exact=True).click()

    def commit(self, text: str, page=None) -> None:
        """Make a commitment (owned by this phone's person) on the alliance's commitments screen."""
        if not (page or self.page).evaluate("location.hash").endswith("/s/commitments"):
            self.section("commitments", page)
        part = (page or self.page).locator("#commitments")
        if part.locator("details").get_attribute("open") is None:
            part.get_by_text("Make a commitment", exact=True).click()
        part.get_by_label("What").fill(text)
        part.get_by_role("button", name="Add commitment").click()

    def shot(self, name: str, page=None, full_page: bool = False, at=None) -> Path:
        """A screenshot into /tmp/browser-shots/<name>.png: the 360x740 viewport (scrolled to
        the locator `at`, if given) or the whole page."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        page = page or self.page
        if at is not None:
            at.evaluate("(el) => el.scrollIntoView({ block: 'start' })")
        page.screenshot(path=str(path), full_page=full_page)
        return path
