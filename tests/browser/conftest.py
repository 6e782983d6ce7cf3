"""Real-browser tests of the PWA: Debian's chromium driven by Python Playwright
(sync API), against one real `alliance serve` process for the whole session.

Each test is a story on one or more phones: a phone is a browser context of
its own (its own storage, service worker and network switch) at 360x740. Every
test signs up fresh accounts with random emails, so tests share the server
but nothing else.

Without /usr/bin/chromium these tests skip, saying why; with
ALLIANCE_REQUIRE_BROWSER=1 (as CI sets) they fail instead.
"""

import os
import sys
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from servers import PASSWORD, Server, free_port  # noqa: E402

from phones import ARGS, CHROMIUM, TIMEOUT_MS, VIEWPORT, Api, Phone  # noqa: E402

def _unavailable() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"Python Playwright is not installed: {error}"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _unavailable()
    if reason is None:
        return
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            if os.environ.get("ALLIANCE_REQUIRE_BROWSER"):
                item.add_marker(pytest.mark.usefixtures("_browser_required"))
            else:
                item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {reason}"))


@pytest.fixture(scope="session")
def _browser_required():
    pytest.fail(f"ALLIANCE_REQUIRE_BROWSER is set but {_unavailable()}")


# ----- the server -----

@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One real server for the session; every test uses accounts of its own."""
    tmp = tmp_path_factory.mktemp("browser-server")
    port = free_port()
    env = {"ALLIANCE_DATA_DIR": str(tmp / "data"), "ALLIANCE_AUTH_PER_MINUTE": "100000",
           "ALLIANCE_PUBLIC_URL": f"http://127.0.0.1:{port}", "ALLIANCE_LOG_LEVEL": "WARNING"}
    with Server(env, tmp / "server.log", port=port) as running:
        yield running


@pytest.fixture
def account(server):
    """account("Ann") -> a new account with a random email, signed up over HTTP."""
    made: list[Api] = []

    def make(name: str = "Ann") -> Api:
        email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.org"
        response = httpx.post(f"{server.url}/api/v1/auth/signup", timeout=15,
                              json={"email": email, "password": PASSWORD, "display_name": name})
        assert response.status_code == 201, response.text
        body = response.json()
        api = Api(server.url, email, name, body["user_id"], body["token"])
        made.append(api)
        return api

    yield make
    for api in made:
        api.http.close()


# ----- the browser and the phones -----

# Per module: while Playwright's sync API runs, an asyncio loop runs in this thread, and
# tests elsewhere that call asyncio.run() would fail; it stops after each browser module.
@pytest.fixture(scope="module")
def playwright_instance():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield browser
    browser.close()


@pytest.fixture
def phone(browser, server):
    """phone("ann") -> a new phone at 360x740, closed when the test ends. Uncaught
    errors in its pages fail the test."""
    phones: list[Phone] = []

    def make(name: str = "phone", **options) -> Phone:
        context = browser.new_context(viewport=VIEWPORT, base_url=server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        made = Phone(context, server.url, name)
        phones.append(made)
        return made

    yield make
    errors = [e for p in phones for e in p.errors]
    for made in phones:
        made.context.close()
    assert not errors, f"uncaught errors in the app: {errors}"
