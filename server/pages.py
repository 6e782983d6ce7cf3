"""What a browser opens: the PWA's files, its service worker, and the pages
rendered here (landing, invitation). Every page links the manifest, so the
app can be installed from any of them."""

import hashlib
from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from litestar.static_files import create_static_files_router

from events.application import AllianceApplication
from events.alliance import InvitationClosed, NotFound
from server.auth import OPEN

PWA = Path(__file__).resolve().parent.parent / "pwa"


def shell_version() -> str:
    """A hash of the app's files: a deployment that changes any of them makes a new service worker."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PWA.rglob("*") if p.is_file()):
        digest.update(path.relative_to(PWA).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


SERVICE_WORKER = (PWA / "sw.js").read_text().replace('"shell-1"', f'"shell-{shell_version()}"')


@get("/sw.js", sync_to_thread=False, include_in_schema=False, opt=OPEN)
def service_worker() -> Response[str]:
    return Response(SERVICE_WORKER, media_type="text/javascript",
                    headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/app/"})


@get("/", sync_to_thread=False, include_in_schema=False, opt=OPEN)
def landing() -> Template:
    return Template("landing.html")


@get("/invite/{token:str}", sync_to_thread=True, include_in_schema=False, opt=OPEN)
def invitation(token: FromPath[str], alliances: NamedDependency[AllianceApplication]) -> Template:
    try:
        alliance = alliances.invitation_preview(token)
    except InvitationClosed as closed:  # withdrawn, expired, or a team link used up: the page says which
        return Template("invitation.html", context={"alliance": None, "why": closed.why}, status_code=404)
    except NotFound:
        return Template("invitation.html", context={"alliance": None, "why": None}, status_code=404)
    return Template("invitation.html", context={"alliance": alliance, "token": token})


app_files = create_static_files_router(path="/app", directories=[PWA], html_mode=True, opt=OPEN,
                                       include_in_schema=False, cache_control=None)

PAGES: list[Any] = [service_worker, landing, invitation, app_files]
