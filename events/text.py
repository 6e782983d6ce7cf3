"""Quoting what someone sent, in a message meant for people."""

from typing import Any


def quote(value: Any, limit: int = 40) -> str:
    """Never more than a short prefix: a refusal must not echo (or store) a megabyte back."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def erased_text(at: str) -> str:
    """What stands where someone's words were, once they had them erased (issue 13): the one
    wording, shown by state, history, diffs, exports, print and the app alike. `at` is the
    erasure's ISO time."""
    from datetime import datetime
    when = datetime.fromisoformat(at)
    return f"(erased at their request on {when.day} {when:%B %Y})"
