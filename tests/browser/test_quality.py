"""Quality of the PWA and the server's pages in a real browser: a small,
same-origin first load under a strict Content-Security-Policy, an installable
manifest, no serious accessibility problem on any screen in light or dark,
and touch targets of at least 44x44 CSS px."""

import os
import struct
import uuid
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

from phones import expect, wait_until

FIRST_LOAD_BUDGET = 100 * 1024
MIN_TARGET = 44


class Scripts(HTMLParser):
    """Every <script> with its src and its inline content, and any inline event handler."""

    def __init__(self):
        super().__init__()
        self.scripts, self.handlers, self._open = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [f"<{tag} {name}>" for name in attrs if name.lower().startswith("on")]
        if tag == "script":
            self._open = {"src": attrs.get("src"), "content": ""}
            self.scripts.append(self._open)

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open["content"] += data


def directives(csp: str) -> dict[str, list[str]]:
    parts = [d.strip().split() for d in csp.split(";") if d.strip()]
    return {d[0].lower(): d[1:] for d in parts}


def assert_strict_csp(headers: dict[str, str], where: str) -> None:
    assert "content-security-policy" in headers, f"{where}: no Content-Security-Policy header"
    csp = directives(headers["content-security-policy"])
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, (where, csp)
    assert all(source == "'self'" for source in script_src), (where, script_src)
    assert csp.get("object-src") == ["'none'"] and csp.get("frame-ancestors") == ["'none'"], (where, csp)


def assert_no_inline_script(html: str, where: str) -> None:
    parser = Scripts()
    parser.feed(html)
    assert all(s["content"].strip() == "" for s in parser.scripts), (where, "inline script", parser.scripts)
    assert all(s["src"] and s["src"].startswith("/") for s in parser.scripts), (where, parser.scripts)
    assert parser.handlers == [], (where, "inline event handlers", parser.handlers)


# ----- the first load -----

def test_the_first_load_is_small_same_origin_and_allows_no_inline_script(phone, server):
    p = phone("first")
    origin = f"{urlsplit(server.url).scheme}://{urlsplit(server.url).netloc}"
    requested, finished, failed = [], [], []
    p.context.on("request", lambda r: requested.append(r.url))
    p.context.on("requestfinished", lambda r: finished.append(r))
    p.context.on("requestfailed", lambda r: failed.append((r.url, r.failure)))

    response = p.page.goto(f"{server.url}/app/")
    expect(p.page.get_by_role("heading", name="Sign in")).to_be_visible()
    p.wait_controlled()  # the service worker has installed, precaching the whole shell
    p.page.wait_for_load_state("networkidle")

    assert response.status == 200
    assert_no_inline_script(response.text(), "/app/")
    others = sorted({u for u in requested if not u.startswith(origin + "/") and not u.startswith("data:")})
    assert others == [], f"requests to other origins: {others}"
    assert failed == [], failed

    by_page, by_worker = 0, 0
    lines = []
    for request in finished:
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        worker = request.service_worker is not None or request.frame is None
        if worker:
            by_worker += size
        else:
            by_page += size
        lines.append(f"{'sw  ' if worker else 'page'} {size:6d} {request.url.removeprefix(origin)}")
    # The Performance API's view of the page's own requests (transfer sizes, headers included).
    performance = p.page.evaluate("""() => [...performance.getEntriesByType("navigation"),
        ...performance.getEntriesByType("resource")].reduce((sum, e) => sum + e.transferSize, 0)""")
    total = by_page + by_worker
    print(f"\nfirst load: page {by_page} B (Performance API: {performance} B), "
          f"service worker precache {by_worker} B, total {total} B")
    print("\n".join(lines))
    assert by_page > 0 and performance > 0
    assert by_page <= FIRST_LOAD_BUDGET and performance <= FIRST_LOAD_BUDGET
    assert total <= FIRST_LOAD_BUDGET, "with the service worker's precache of the whole shell"
    gzipped = [r for r in finished if r.url.endswith(".js") and r.response().headers.get("content-encoding") == "gzip"]
    assert gzipped, "scripts come compressed (Chromium sends Accept-Encoding: gzip)"


def test_the_app_shell_comes_with_a_strict_content_security_policy(phone, server):
    p = phone("csp")
    response = p.page.goto(f"{server.url}/app/")
    expect(p.page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_strict_csp(response.headers, "/app/ in the browser")
    for path in ("/app/index.html", "/app/js/app.js", "/app/manifest.webmanifest"):
        assert_strict_csp(httpx.get(f"{server.url}{path}").headers, path)


def test_the_server_pages_allow_no_inline_script(server, account):
    ann = account("Ann")
    alliance_id = ann.create_alliance("Pages")
    token = ann.invite(alliance_id, "Bob")
    for path in ("/", f"/invite/{token}", "/invite/not-a-token"):
        response = httpx.get(f"{server.url}{path}", headers={"Accept-Encoding": "gzip"})
        assert response.status_code in (200, 404), (path, response.status_code)
        assert_strict_csp(response.headers, path)
        assert_no_inline_script(response.text, path)
    for path in ("/app/", "/app/index.html"):
        assert_no_inline_script(httpx.get(f"{server.url}{path}").text, path)
    worker = httpx.get(f"{server.url}/sw.js")
    assert worker.headers["cache-control"] == "no-cache" and "javascript" in worker.headers["content-type"]


# ----- the manifest -----

def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_manifest_makes_the_app_installable(server):
    page = httpx.get(f"{server.url}/app/").text
    assert '<link rel="manifest" href="/app/manifest.webmanifest">' in page
    response = httpx.get(f"{server.url}/app/manifest.webmanifest")
    assert response.status_code == 200
    manifest = response.json()
    assert manifest["start_url"] == "/app/" and manifest["scope"] == "/app/"
    assert manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"] and manifest["theme_color"] and manifest["background_color"]
    icons = manifest["icons"]
    sizes = {icon["sizes"] for icon in icons}
    assert {"192x192", "512x512"} <= sizes, sizes
    assert any("maskable" in icon.get("purpose", "").split() for icon in icons), icons
    assert any("any" in icon.get("purpose", "any").split() and icon["sizes"] == "512x512" for icon in icons)
    for icon in icons:
        image = httpx.get(f"{server.url}{icon['src']}")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png", icon
        width, height = png_size(image.content)
        assert f"{width}x{height}" == icon["sizes"], (icon, width, height)


# ----- every screen: accessibility in light and dark, and a screenshot -----

@pytest.fixture
def full_alliance(account):
    """An alliance with two people, a conflict, commitments and a review rhythm."""
    ann, bob = account("Ann"), account("Bob")
    alliance_id = ann.create_alliance("Coaching with Bob")
    bob.accept(ann.invite(alliance_id, "Bob"))
    ann.push([
        {"alliance_id": alliance_id, "name": "answer_question",
         "args": {"question_id": "purpose.why", "text": "A new role, and wanting to grow into it.",
                  "base_revision": 0}},
        {"alliance_id": alliance_id, "name": "answer_question",
         "args": {"question_id": "purpose.outcomes", "text": "I lead meetings calmly.", "base_revision": 0}},
        {"alliance_id": alliance_id, "name": "make_commitment",
         "args": {"commitment_id": str(uuid.uuid4()), "text": "Send the agenda the day before", "owner_id": ann.user_id,
                  "due": "2031-05-01"}},
        {"alliance_id": alliance_id, "name": "schedule_review",
         "args": {"every": 4, "unit": "weeks", "next_date": "2031-06-01"}},
    ])
    bob.push([  # from the same base as Ann's first answer: a conflict
        {"alliance_id": alliance_id, "name": "answer_question",
         "args": {"question_id": "purpose.why", "text": "Feeling stuck at work.", "base_revision": 0}},
        {"alliance_id": alliance_id, "name": "make_commitment",
         "args": {"commitment_id": str(uuid.uuid4()), "text": "Keep a journal", "owner_id": bob.user_id}},
    ])
    state = ann.alliance(alliance_id)
    assert state["answers"]["purpose.why"]["conflict"], state["answers"]
    return ann, bob, alliance_id, state["version"]


def axe_problems(page, screen: str, scheme: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations", "incomplete"]}).response
    if os.environ.get("AXE_DEBUG"):  # AXE_DEBUG=1 pytest -s: what axe checked on each screen
        print(screen, scheme, "passes", len(results["passes"]), "violations",
              [(v["id"], v["impact"], len(v["nodes"])) for v in results["violations"]],
              "incomplete", [(v["id"], v["impact"], len(v["nodes"])) for v in results["incomplete"]])
    problems = []
    for violation in results["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            problems.append(f"{screen} ({scheme}): {violation['id']} [{violation['impact']}] "
                            f"{violation['help']} -> {targets}")
    return problems


def open_everything(page) -> None:
    """Everything folded away or behind a button, open at once."""
    page.evaluate("""() => {
        for (const d of document.querySelectorAll("main details")) d.open = true;
        for (const f of document.querySelectorAll("main form[hidden]")) f.hidden = false;
    }""")


def outline_keys(page) -> list[str]:
    """The parts of the alliance its top lists, each with a screen of its own (#/a/<id>/s/<key>)."""
    hrefs = page.locator("main .outline a").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    return [href.rsplit("/s/", 1)[1] for href in hrefs]


def check_screen(p, screen: str, problems: list[str], page=None) -> None:
    """axe in light and dark, touch targets, and a screenshot of each."""
    page = page or p.page
    problems += [f"{screen}: {t['what']} is {t['width']}x{t['height']} px" for t in small_targets(page)]
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        wait_until(page, f"matchMedia('(prefers-color-scheme: {scheme})').matches")
        problems += axe_problems(page, screen, scheme)
        p.shot(f"screen-{screen}-{scheme}", page)  # what a 360x740 phone shows first
        if scheme == "light":
            p.shot(f"screen-{screen}-{scheme}-full", page, full_page=True)
    page.emulate_media(color_scheme="light")


def test_every_screen_has_no_serious_accessibility_problem_in_light_or_dark_and_big_targets(
        phone, server, full_alliance):
    ann_api, _, alliance_id, version = full_alliance
    problems: list[str] = []
    ann = phone("ann")
    page = ann.page

    ann.open("#/signin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    check_screen(ann, "sign-in", problems)
    page.get_by_role("link", name="New here? Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    check_screen(ann, "sign-up", problems)

    ann.sign_in(ann_api)
    expect(page.get_by_text("1 conflict to resolve")).to_be_visible()
    check_screen(ann, "my-alliances", problems)

    ann.go("#/new")
    expect(page.get_by_role("radio", name="One-to-one coaching")).to_be_visible()
    check_screen(ann, "design", problems)

    ann.go(f"#/a/{alliance_id}")
    expect(page.get_by_role("link", name="1 conflict to resolve.")).to_be_visible()
    ann.wait_synced()
    check_screen(ann, "alliance", problems)
    open_everything(page)
    check_screen(ann, "alliance-all-open", problems)
    # Each part of the alliance on its own screen, as it opens and with everything in it open.
    for key in outline_keys(page):
        ann.section(key)
        check_screen(ann, f"alliance-{key}", problems)
        open_everything(page)
        check_screen(ann, f"alliance-{key}-all-open", problems)

    ann.go(f"#/a/{alliance_id}/review")
    expect(page.get_by_role("heading", name="Hold a review")).to_be_visible()
    expect(page.get_by_text("Send the agenda the day before")).to_be_visible()
    check_screen(ann, "review", problems)

    ann.go(f"#/a/{alliance_id}/history")
    expect(page.get_by_text(f"The history is intact: {version} events verified.")).to_be_visible()
    check_screen(ann, "history", problems)
    entry = page.locator("main ol.cards > li").first
    entry.get_by_role("button", name="View as it was").click()
    expect(entry.get_by_role("heading", name=f"As it was at version {version}", exact=False)).to_be_visible()
    check_screen(ann, "history-opened", problems)

    ann.go(f"#/a/{alliance_id}/compare?from=1&to={version}")
    expect(page.get_by_text(f"From version 1 to now (version {version}).")).to_be_visible()
    check_screen(ann, "compare", problems)

    ann.go("#/devices")
    expect(page.get_by_role("button", name="Sign out of this device")).to_be_visible()
    check_screen(ann, "devices", problems)

    ann.offline()
    ann.go(f"#/a/{alliance_id}/history")
    expect(page.get_by_text("Offline: shown as it was read on")).to_be_visible()  # kept from the visit above
    check_screen(ann, "history-offline", problems)
    ann.online()

    token = ann_api.invite(alliance_id, "Cleo")
    for name, path, heading in (("landing", "/", "Agree how you'll work together"),
                                ("invitation", f"/invite/{token}", "You are invited to join"),
                                ("invitation-invalid", "/invite/no-such-link", "This invitation link is not valid")):
        page.goto(f"{server.url}{path}")
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        check_screen(ann, name, problems)

    assert problems == [], "serious or critical accessibility problems, or targets under 44x44 px:\n" \
        + "\n".join(problems)


# ----- touch targets -----

TARGETS = """() => [...document.querySelectorAll("a, button, summary, [role=button]")]
  .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
  .map((el) => {
    const box = el.getBoundingClientRect();
    const parent = el.parentElement;
    // Inline links in running text are exempt (WCAG 2.5.8): a link inside a paragraph that says more than the link.
    const inline = el.tagName === "A" && parent.tagName === "P" && parent.textContent.trim() !== el.textContent.trim();
    return { what: `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 40)}"`,
             width: Math.round(box.width * 10) / 10, height: Math.round(box.height * 10) / 10, inline };
  })"""


def small_targets(page) -> list[dict]:
    return [t for t in page.evaluate(TARGETS)
            if not t["inline"] and (t["width"] < MIN_TARGET or t["height"] < MIN_TARGET)]


def test_every_button_and_link_of_the_alliance_screen_is_at_least_44_px(phone, full_alliance):
    ann_api, _, alliance_id, _ = full_alliance
    ann = phone("ann")
    ann.sign_in(ann_api)
    ann.go(f"#/a/{alliance_id}")
    expect(ann.page.get_by_role("link", name="1 conflict to resolve.")).to_be_visible()
    ann.wait_synced()
    small = {}
    for key in ["", *outline_keys(ann.page)]:
        if key:
            ann.section(key)
        closed = small_targets(ann.page)
        open_everything(ann.page)
        if closed or small_targets(ann.page):
            small[key or "top"] = closed or small_targets(ann.page)
    assert small == {}, f"targets under {MIN_TARGET}x{MIN_TARGET} px: {small}"


def test_the_screens_of_versions_restore_proof_and_undo_have_no_serious_problem_and_big_targets(
        phone, full_alliance):
    """Issue 11's new screens and states: an agreed version in words and a stance given, comparing
    by name, the restore preview with "Bring back", the proof of consent checked, and Undo."""
    ann_api, bob_api, alliance_id, _ = full_alliance
    version = ann_api.alliance(alliance_id)["content_version"]
    for api in (ann_api, bob_api):
        [result] = api.push([{"alliance_id": alliance_id, "name": "give_consent",
                              "args": {"version": version, "stance": "support"}}])["results"]
        assert result["status"] == "applied", result
    ann_api.push([{"alliance_id": alliance_id, "name": "name_version", "args": {"version": version, "name": "our start"}},
                  {"alliance_id": alliance_id, "name": "answer_question",
                   "args": {"question_id": "purpose.outcomes", "text": "I lead every meeting calmly.", "base_revision": 1}}])
    problems: list[str] = []
    ann = phone("ann")
    page = ann.page
    ann.sign_in(ann_api)
    ann.go(f"#/a/{alliance_id}/s/consent")
    expect(page.locator("#consent")).to_contain_text("Changed since it was last agreed")
    ann.wait_synced()
    open_everything(page)
    check_screen(ann, "versions-consent", problems)

    ann.go(f"#/a/{alliance_id}/compare")
    expect(page.get_by_role("link", name="Now vs last agreed")).to_be_visible()
    check_screen(ann, "versions-compare-picker", problems)
    page.get_by_role("link", name="Now vs last agreed").click()
    expect(page.get_by_role("button", name="Bring back this answer").first).to_be_visible()
    check_screen(ann, "versions-compare-last-agreed", problems)

    ann.go(f"#/a/{alliance_id}/restore?version={version}")
    expect(page.get_by_role("button", name="Restore all of this")).to_be_visible()
    check_screen(ann, "versions-restore-preview", problems)

    ann.go(f"#/a/{alliance_id}/evidence?version={version}")
    page.get_by_role("button", name="Check it on this phone").click()
    expect(page.locator(".check-result")).to_contain_text("It matches")
    check_screen(ann, "versions-evidence", problems)

    ann.go(f"#/a/{alliance_id}/s/commitments")
    page.locator("#commitments .card").filter(has_text="Send the agenda").get_by_role("button", name="Done").click()
    expect(page.locator(".undo-bar")).to_contain_text("Marked done.")
    check_screen(ann, "versions-undo", problems)

    assert problems == [], "serious or critical accessibility problems, or targets under 44x44 px:\n" \
        + "\n".join(problems)
