"""The question templates, so a phone can design an alliance offline."""

from dataclasses import asdict
from typing import Any

from litestar import get

from events.templates import TEMPLATES
from server.auth import OPEN


@get("/api/v1/templates", sync_to_thread=False, opt=OPEN, tags=["alliances"], cache=3600,
     summary="Every template with its sections and questions")
def list_templates() -> list[dict[str, Any]]:
    return [asdict(template) for template in TEMPLATES.values()]
