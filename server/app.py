"""create_app(): all the wiring of the HTTP service in one place."""

import asyncio
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

from anyio import to_thread
from litestar import Litestar, Router, get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from events.application import AllianceApplication
from sync import SyncService
from sync.heads import CHANNEL, Heads, announcements, follow, hear
from server.account import ACCOUNT, ACCOUNT_PROBLEMS  # issue 13
from server.alliances import AlliancesController, InvitationsController
from server.auth import OPEN, AuthController, Echoes, SignedIn, bearer_auth, signed_out_of
from server.exports import EXPORTS
from server.operations import open_store
from server.metrics import metrics, record_request
from server.openapi import StrictStructSchema, openapi_config
from server.problems import HANDLERS, problem
from server.settings import Settings
from server.pages import PAGES
from server.reminders import REMINDERS, start_reminders, stop_reminders  # issue 12
from server.strict import StrictRequest, whole_numbers
from server.sync import SyncController
from server.templates_api import list_templates

log = logging.getLogger("alliance")
# Scripts only from our own files: no inline script anywhere, nothing from other origins.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'; "
       "base-uri 'self'; form-action 'self'; object-src 'none'")
AUTH_PATHS = ("/api/v1/auth/signup", "/api/v1/auth/login")
SECRET_IN_PATH = re.compile(r"(/invitations/|/invite/|/feed/|/unsubscribe/)[^/]+")  # feed, unsubscribe: issue 12


@get("/healthz", sync_to_thread=False, include_in_schema=False, opt=OPEN)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", include_in_schema=False, opt=OPEN)
async def readyz(alliances: NamedDependency[AllianceApplication]) -> Any:
    try:
        await to_thread.run_sync(alliances.recorder.max_notification_id)
    except Exception as error:  # the store is unreachable: say so, don't crash
        return problem(503, f"The event store is not reachable: {type(error).__name__}")
    return {"status": "ready"}


SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer")]


def security_headers(app: ASGIApp) -> ASGIApp:
    """The same headers on every response, the app's static files included."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)
        await app(scope, receive, sending if scope["type"] == "http" else send)
    return middleware


def request_log(app: ASGIApp) -> ASGIApp:
    """One JSON line per request (no headers, bodies or secrets in paths), and its metrics.
    A client that hung up before its answer is 499 (nginx's "client closed the request"), not a fault."""
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started, status = time.perf_counter(), {"code": None, "client_gone": False}

        async def receiving() -> Any:
            message = await receive()
            # Gone before its answer: litestar's 500 for a body cut short then goes nowhere (uvicorn drops it).
            if message["type"] == "http.disconnect" and status["code"] is None:
                status["client_gone"] = True
            return message

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)
        try:
            await app(scope, receiving, sending)
        except HTTPException as error:  # answered by the exception handlers further out
            status["code"] = error.status_code
            raise
        finally:
            seconds, code = time.perf_counter() - started, 499 if status["client_gone"] else status["code"] or 500
            record_request(scope, code, seconds)
            entry = {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "method": scope["method"],
                     "path": SECRET_IN_PATH.sub(r"\1…", scope["path"]), "status": code, "ms": round(seconds * 1000, 1)}
            log.info(json.dumps({**entry, "client_gone": True} if status["client_gone"] else entry))
    return middleware


# Litestar runs a plain function given as a hook in a worker thread, per request: these two
# are quick and never block, so they are coroutines and run where the request is.
async def is_sign_in(request: Any) -> bool:
    return request.url.path in AUTH_PATHS


async def strict_numbers(request: Any) -> None:
    whole_numbers(request)


def the_store(state: State) -> AllianceApplication:
    return state.alliances


def the_sync_service(state: State) -> SyncService:
    return state.sync


async def follow_the_log(app: Litestar) -> None:
    """Keep this process's memory (sync heads, remembered tokens) current: with its own commits
    as they are made and, when several processes share the store, with theirs, announced on a
    channel every process listens to (in commit order with the pokes: one publishing queue)."""
    heads, signed_in, channels = app.state.heads, app.state.signed_in, app.plugins.get(ChannelsPlugin)
    loop = asyncio.get_running_loop()

    def announce(message: bytes) -> None:
        try:
            channels.publish(message, [CHANNEL])
        except RuntimeError:  # stopping: the channels are closed
            pass

    def committed(positions: dict) -> None:  # in the thread that saved
        heads.heard(positions)
        signed_in.changed(positions)
        if app.state.several:
            for message in announcements(positions):
                try:
                    loop.call_soon_threadsafe(announce, message)
                except RuntimeError:  # stopping: the event loop is closed
                    pass

    async def listen() -> None:
        async for message in subscriber.iter_events():
            positions, signed_out = hear(message), signed_out_of(message)
            if positions is not None:
                heads.heard(positions)
                signed_in.changed(positions)
            elif signed_out is not None:
                signed_in.changed([signed_out[0]])
                app.state.echoes.heard(signed_out[1])
            else:  # e.g. the listener reconnected: something may have been missed
                heads.forget()
                signed_in.forget_all()

    follow(app.state.alliances, committed)
    app.state.echoes = Echoes()
    if app.state.several:
        subscriber = await channels.subscribe([CHANNEL])
        app.state.listening = asyncio.create_task(listen())


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    logging.basicConfig(format="%(message)s")  # only where nothing set up logging before us
    log.setLevel(settings.log_level)
    backend = (PsycoPgBackend(settings) if settings.database_url else MemoryChannelsBackend())

    def open(app: Litestar) -> None:
        app.state.alliances = open_store(settings, must_exist=False)
        app.state.heads, app.state.signed_in = Heads(), SignedIn(app.state.alliances)
        app.state.sync = SyncService(app.state.alliances, app.state.heads)
        start_reminders(app, settings)

    def close_store(app: Litestar) -> None:
        stop_reminders(app)
        app.state.alliances.close()

    return Litestar(
        # Sign-ups and sign-ins are rate limited per client address; no other route pays for the check.
        route_handlers=[healthz, readyz, metrics, list_templates,
                        Router("/", route_handlers=[AuthController], middleware=[
                            RateLimitConfig(rate_limit=("minute", settings.auth_per_minute),
                                            check_throttle_handler=is_sign_in).middleware]),
                        SyncController, AlliancesController,
                        InvitationsController, *EXPORTS, *PAGES, *REMINDERS, *ACCOUNT],
        template_config=TemplateConfig(directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine),
        on_startup=[open, follow_the_log],
        on_shutdown=[close_store],
        dependencies={"alliances": Provide(the_store, sync_to_thread=False),
                      "sync": Provide(the_sync_service, sync_to_thread=False),
                      "settings": Provide(lambda: settings, sync_to_thread=False)},
        middleware=[security_headers, request_log, bearer_auth],
        plugins=[ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True), StrictStructSchema()],
        compression_config=CompressionConfig(backend="gzip", minimum_size=1000),
        openapi_config=openapi_config(),
        exception_handlers={**HANDLERS, **ACCOUNT_PROBLEMS},
        request_class=StrictRequest,
        before_request=strict_numbers,
        request_max_body_size=settings.max_body_bytes,
        state=State({"settings": settings, "several": bool(settings.database_url)}),  # processes on one store
        logging_config=None,  # our JSON lines only: Litestar's would log more than we want
    )


def PsycoPgBackend(settings: Settings):  # noqa: N802 - reads as the backend it makes
    from server.channels import ReconnectingPsycoPgChannelsBackend

    return ReconnectingPsycoPgChannelsBackend(pg_dsn=settings.postgres_dsn)
