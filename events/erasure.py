"""Erasure (issue 13): whose words are where in an alliance, and the placeholder that stands
where someone's words were once they had them erased.

Pure functions over an alliance's dicts and its events' data: the WordsErased fold uses them on
the state, the application on older versions read after an erasure, history on the events it
tells, and the export on a person's own words. Who did what and when is never touched: only
the words (names of people and the alliance's title stay, so the record keeps its shape).
"""

import copy
from typing import Any, Callable

from events.text import erased_text

# The fields of an event that hold what its author wrote, at any depth of dicts (a commitment's
# `changes`, a resolution's `fields`). A VersionRestored's content is the words of many authors
# (its `authors` says whose): it is never read this way.
TEXT_FIELDS = frozenset({"text", "reason", "note", "notes", "keep", "start", "stop",
                         "what_happened", "needs_discussing", "celebration"})


def author(thing: dict) -> str | None:
    """Who wrote a thing's text: whoever it was brought back from (`text_by`), or its `by`."""
    return thing.get("text_by") or thing.get("by")


def erase_texts(alliance: Any, person: str, at: str) -> None:
    """Every text in the alliance's state known to be `person`'s reads erased_text(at), in place
    (inside the WordsErased fold, or on a version of its own). Empty texts stay empty."""
    gone = erased_text(at)

    def erase(thing: dict, *keys: str) -> None:
        for key in keys:
            if thing.get(key):
                thing[key] = gone

    for answer in alliance.answers.values():
        if author(answer) == person:
            erase(answer, "text")
        for crossing in answer["conflict"]:
            if crossing["by"] == person:
                erase(crossing, "text")
    for per_person in alliance.own_answers.values():
        if person in per_person:
            erase(per_person, person)
    for question in alliance.questions.values():
        if (question.get("text_by") or question.get("added_by")) == person:
            erase(question, "text")
    for commitment in alliance.commitments.values():
        if author(commitment) == person:
            erase(commitment, "text")
        if commitment.get("withdrawn", {}).get("by") == person:
            erase(commitment["withdrawn"], "reason")
    if person in alliance.consents:
        erase(alliance.consents[person], "reason")
    for review in alliance.reviews.values():
        if review["by"] == person:
            erase(review, "notes", "keep", "start", "stop")
    for broken in alliance.breaks:
        if broken["by"] == person:
            erase(broken, "what_happened", "needs_discussing")
        if (broken.get("renewed") or {}).get("by") == person:
            erase(broken["renewed"], "note")
    if alliance.closing and alliance.closing["by"] == person:
        erase(alliance.closing, "celebration")
    for appreciation in alliance.appreciations:
        if appreciation["by"] == person:
            erase(appreciation, "note")
    # A new dict: the class-level default is read-only.
    alliance.version_names = {version: dict(named, name=gone) if named["by"] == person else named
                              for version, named in alliance.version_names.items()}


def erase_later(old: Any, latest: Any) -> Any:
    """An older version of the alliance (its own copy) as it reads after the erasures `latest`
    knows of: the words of whoever was erased since then read the placeholder there too."""
    for person, erasure in latest.erasures.items():
        if person not in old.erasures:
            erase_texts(old, person, erasure["at"])
    return old


def erased_view(state: Any, latest: Any) -> Any:
    """A copy of `state` as it reads after the erasures `latest` knows of (`state` itself if none)."""
    if state is None or not set(latest.erasures) - set(state.erasures):
        return state
    return erase_later(copy.deepcopy(state), latest)


def text_author(by: str, data: dict) -> str:
    """Whose words an event's texts are: a restored item's writer (`text_by`), else who acted."""
    return data.get("text_by") or by


def erased_event_data(kind: str, data: dict, at: str) -> dict:
    """An event's data with every text its author wrote replaced by erased_text(at)."""
    gone = erased_text(at)
    return _texts(kind, data, lambda path, text: gone)


def event_texts(kind: str, data: dict) -> dict[str, str]:
    """{path: text} of everything the event's author wrote in it ("changes.text" for a nested one)."""
    found: dict[str, str] = {}

    def keep(path: str, text: str) -> str:
        found[path] = text
        return text

    _texts(kind, data, keep)
    return found


def _texts(kind: str, data: dict, change: Callable[[str, str], str], prefix: str = "") -> dict:
    if kind == "VersionRestored":
        return data
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out[key] = _texts(kind, value, change, f"{prefix}{key}.")
        elif isinstance(value, str) and value and (key in TEXT_FIELDS or (kind, key) == ("VersionNamed", "name")):
            out[key] = change(prefix + key, value)
        else:
            out[key] = value
    return out
