"""Who may reach an alliance's paths: its participants, declared once as a guard."""

from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from events.alliance import NotFound
from events.application import NO_SUCH_ALLIANCE


def participants_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """The alliance in the path must be one the signed-in person is in. Their account lists
    their alliances (kept in the same transaction as designing, joining and leaving), so this
    needs no replay of the alliance, whose own record may be what is broken. To anyone else
    the alliance does not exist: the same 404 whether it exists or not."""
    if connection.scope["method"] == "OPTIONS":  # answered without signing in, and reads nothing
        return
    try:
        alliance_id = str(UUID(connection.path_params["alliance_id"]))
    except ValueError:
        raise NotFound(NO_SUCH_ALLIANCE) from None
    if alliance_id not in connection.user.alliances:
        raise NotFound(NO_SUCH_ALLIANCE)
