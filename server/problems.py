"""Every error as RFC 9457 problem+json, with a message a person understands."""

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from eventsourcing.persistence import PersistenceError

from events.accounts import BadCredentials, EmailTaken
from events.alliance import AllianceError, AlreadyExists, InvalidInput, NotAllowedNow, NotAParticipant, NotFound
from sync import DeviceNotYours, OutOfOrder

STATUS = {NotFound: 404, NotAParticipant: 404, InvalidInput: 422, NotAllowedNow: 409, AlreadyExists: 409,
          EmailTaken: 409, BadCredentials: 401}
TITLES = {400: "Bad request", 401: "Not signed in", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          409: "Conflict", 413: "Too large", 422: "Invalid input", 429: "Too many requests",
          500: "Server error", 503: "Unavailable", 507: "Insufficient storage"}


def problem(status: int, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail, **extra}
    return Response(body, status_code=status, media_type="application/problem+json")


def domain_error(_: Request, error: AllianceError) -> Response:
    status = next((STATUS[kind] for kind in type(error).__mro__ if kind in STATUS), 400)  # a kind of NotFound is one
    return problem(status, str(error), code=error.code)


def out_of_order(_: Request, error: OutOfOrder) -> Response:
    return problem(409, f"Mutations are numbered without gaps: the next one expected is {error.expected}.",
                   code="out_of_order", expected_id=error.expected, last_mutation_id=error.expected - 1,
                   results=error.results)


def device_not_yours(_: Request, error: DeviceNotYours) -> Response:
    return problem(403, str(error), code="device_not_yours")


def validation_error(_: Request, error: ValidationException) -> Response:
    """The request itself is malformed: say which field, in words."""
    extra = error.extra if isinstance(error.extra, list) else []
    fields = [f"{e.get('key') or 'body'}: {e.get('message')}" for e in extra if isinstance(e, dict)]
    detail = "; ".join(fields) or str(error.detail)
    return problem(400, detail, code="invalid_request",
                   field=next((e.get("key") for e in extra if isinstance(e, dict)), None))


def http_error(_: Request, error: HTTPException) -> Response:
    response = problem(error.status_code, str(error.detail), code=TITLES.get(error.status_code, "error").lower().replace(" ", "_"))
    if error.headers:
        response.headers.update(error.headers)
    return response


def store_error(_: Request, error: PersistenceError) -> Response:
    """The event store failed (a full disk, the database gone): a clear answer, no traceback.
    A push may be retried as it is: mutations are applied exactly once."""
    text = str(error).lower()
    logging.getLogger("alliance").warning("event store error: %s: %s", type(error).__name__, error)
    if "full" in text or "no space" in text:
        return problem(507, "The server's disk is full: this change was not saved. Try again later.",
                       code="storage_full")
    return problem(503, f"The event store is not reachable ({type(error).__name__}): try again in a moment.",
                   code="store_unavailable")


def unexpected_error(_: Request, error: Exception) -> Response:
    """Anything else: logged with its traceback, answered as a problem without one."""
    logging.getLogger("alliance").error("unexpected error: %s: %s", type(error).__name__, error, exc_info=error)
    return problem(500, "Something went wrong on the server: try again in a moment.", code="server_error")


HANDLERS = {AllianceError: domain_error, OutOfOrder: out_of_order, DeviceNotYours: device_not_yours,
            ValidationException: validation_error, HTTPException: http_error, PersistenceError: store_error,
            Exception: unexpected_error}
