"""Quoting what someone sent, in a message meant for people."""

from typing import Any


def quote(value: Any, limit: int = 40) -> str:
    """Never more than a short prefix: a refusal must not echo (or store) a megabyte back."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
