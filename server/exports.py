"""An alliance taken out of the app: a printable page, Markdown, its reviews and
commitments as an iCalendar file (server/calendar_feed.py), and a read-only audit page of its whole history.
Like every other path under an alliance, each answers 404 to anyone who is
not one of its participants."""

import re
from datetime import date, datetime, timezone
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from events.alliance import Alliance
from events.application import AllianceApplication
from events.audit import Anchor
from events.history import day
from events.templates import TEMPLATES
from events.words import COMMITMENT_WORDS, STANCE_WORDS, STATUS_WORDS
from server.alliances import AnchorHead, AnchorVersion, Req, device_anchor
from server.access import participants_only
from server.calendar_feed import one_alliance
from server.openapi import BEARER, problems
from server.settings import Settings

OWN_QUESTIONS = "Our own questions"
PRIVATE = {"Cache-Control": "no-store"}  # what an alliance says stays out of shared caches


# ----- what the agreement says, once, for every format -----

def agreement(alliance: Alliance, today: date) -> dict[str, Any]:
    """The agreement as plain data: the HTML and Markdown exports both render this."""
    name = alliance.name_of
    template = TEMPLATES.get(alliance.template)
    return {
        "id": str(alliance.id), "title": alliance.title,
        "status": STATUS_WORDS.get(alliance.status, alliance.status), "status_key": alliance.status,
        "template": template.title if template else alliance.template,
        "version": _version_words(alliance, alliance.content_version),
        "printed": day(today.isoformat()),
        "participants": [{"name": p["name"], "role": p["role"], "left": p["status"] != "joined"}
                         for p in alliance.participants.values()],
        "sections": _sections(alliance, template),
        "commitments": [{"what": c["text"], "who": name(c["owner_id"]), "due": day(c["due"]) if c["due"] else "",
                         "status": COMMITMENT_WORDS.get(c["status"], c["status"]),
                         "conflict": _commitment_conflict(alliance, c)}
                        for c in alliance.commitments.values()],
        "rhythm": _rhythm(alliance.rhythm),
        "reviews": [_review(alliance, r) for r in sorted(alliance.reviews.values(), key=lambda r: r["held_on"])],
        "agreements": [_agreement_words(alliance, a) for a in alliance.all_agreements()],
        "consents": [{"who": name(uid), "words": _consent(alliance, uid)} for uid in alliance.members()],
        "breaks": [{"who": name(b["by"]), "what_happened": b["what_happened"],
                    "needs_discussing": b["needs_discussing"],
                    "renewed": b["renewed"] and {"who": name(b["renewed"]["by"]), "note": b["renewed"]["note"]}}
                   for b in alliance.breaks],
        "closing": {"who": name(alliance.closing["by"]), "celebration": alliance.closing["celebration"]}
        if alliance.closing else None,
    }


def _version_words(alliance: Alliance, version: int) -> str:
    """'version 4, "after our first review"': the content version (the one a person is shown), with its name."""
    name = alliance.version_names.get(str(version), {}).get("name")
    return f"version {version}, “{name}”" if name else f"version {version}"


def _names(names: list[str]) -> str:
    return " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"


def _agreement_words(alliance: Alliance, agreement: dict) -> str:
    """'Agreed on 3 December 2026 by Ann and Sam (version 4)'; without who and when for an old record."""
    version = _version_words(alliance, agreement["version"])
    if not agreement["at"]:
        return f"Agreed: {version}"
    who = _names([alliance.name_of(uid) for uid in agreement["consents"]])
    return f"Agreed on {day(agreement['at'][:10])}{f' by {who}' if who else ''} ({version})"


def _rhythm(rhythm: dict | None) -> str:
    if not rhythm:
        return ""
    every = f"Every {rhythm['every']} {rhythm['unit']}"
    return f"{every}; next review {day(rhythm['next'])}." if rhythm["next"] else f"{every}; no more reviews."


def _sections(alliance: Alliance, template: Any) -> list[dict]:
    """Answers by section in the template's order; questions in sections the
    template does not have (the app's "ours") come last, as our own questions."""
    titles = {s.key: s.title for s in template.sections if s.kind == "questions"} if template else {}
    grouped: dict[str, list[dict]] = {key: [] for key in [*titles, "ours"]}
    for qid, question in alliance.questions.items():
        if question["removed"]:
            continue
        answer = alliance.answers.get(qid, {})
        grouped["ours" if question["section"] not in titles else question["section"]].append({
            "text": question["text"], "answer": answer.get("text", ""),
            "conflict": [{"who": alliance.name_of(c["by"]), "text": c["text"]} for c in answer.get("conflict", [])],
            "own": [{"who": alliance.name_of(uid), "text": text}
                    for uid, text in alliance.own_answers.get(qid, {}).items() if text],
        })
    return [{"title": titles.get(key, OWN_QUESTIONS), "questions": questions}
            for key, questions in grouped.items() if questions]


def _commitment_conflict(alliance: Alliance, commitment: dict) -> str:
    shown = {"text": lambda v: v, "owner_id": alliance.name_of, "due": lambda v: day(v) if v else "no date"}
    words = {"text": "what", "owner_id": "who", "due": "by when"}
    return "; ".join(f"{words[field]} also proposed: {', '.join(shown[field](v) for v in values)}"
                     for field, values in commitment["conflict"].items())


def _review(alliance: Alliance, review: dict) -> dict:
    kept = review["kept"]
    return {
        "held_on": day(review["held_on"]), "attendees": ", ".join(alliance.name_of(a) for a in review["attendees"]),
        "kept": f"{sum(kept.values())} of {len(kept)} commitments kept" if kept else "",
        "commitments": [{"what": alliance.commitments.get(cid, {}).get("text", "a commitment"),
                         "kept": "kept" if value else "not kept"} for cid, value in kept.items()],
        "keep": review["keep"], "start": review["start"], "stop": review["stop"], "notes": review["notes"],
        "next": day(review["next_date"]) if review["next_date"] else "",
    }


def _consent(alliance: Alliance, user_id: str) -> str:
    consent = alliance.consents.get(user_id)
    if not consent:
        return "has not consented yet"
    words = f"{STANCE_WORDS[consent['stance']]} version {consent['version']}"
    if consent["reason"]:
        words += f" ({consent['reason']})"
    if consent.get("before_break"):
        return f"{words} before the break; has not consented again since the renewal"
    if consent["version"] != alliance.content_version:
        words += f"; has not consented to the current version {alliance.content_version} yet"
    return words


# ----- Markdown -----

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")


def md(text: str) -> str:
    """User text as literal Markdown: nothing in it becomes markup or HTML;
    its line breaks stay line breaks."""
    text = _MD_INLINE.sub(r"\\\1", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = re.sub(r"^(\s*)(\d+)([.)])", r"\1\2\\\3", text, flags=re.MULTILINE)  # no numbered list
    text = re.sub(r"^(\s*)([#>+=-])", r"\1\\\2", text, flags=re.MULTILINE)  # no heading, quote or list
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(line + "  " if line and following else line  # two spaces: a hard line break
                     for line, following in zip(lines, lines[1:] + [""]))


def md_line(text: str) -> str:
    """User text on one line (a heading, a list item, a table cell)."""
    return md(" ".join(text.split()))


def markdown(doc: dict) -> str:
    out = [f"# {md_line(doc['title'])}", "",
           f"Status: {doc['status']} · Template: {md_line(doc['template'])}", "", "## Participants", ""]
    out += [f"- {md_line(p['name'])} ({p['role']}{', left' if p['left'] else ''})" for p in doc["participants"]]
    for section in doc["sections"]:
        out += ["", f"## {md_line(section['title'])}"]
        for q in section["questions"]:
            out += ["", f"### {md_line(q['text'])}", "", md(q["answer"]) if q["answer"] else "_Not answered yet._"]
            if q["conflict"]:
                out += ["", "Also proposed, not yet resolved:", ""]
                out += [f"- {md_line(c['who'])}: {md_line(c['text'])}" for c in q["conflict"]]
            if q["own"]:
                out += ["", "Own answers:", ""]
                out += [f"- {md_line(o['who'])}: {md_line(o['text'])}" for o in q["own"]]
    out += ["", "## Who does what, by when", ""]
    if doc["commitments"]:
        out += ["| What | Who | By when | Status |", "| --- | --- | --- | --- |"]
        out += [f"| {md_line(c['what'])} | {md_line(c['who'])} | {c['due'] or '–'} | {c['status']}"
                f"{' (' + md_line(c['conflict']) + ')' if c['conflict'] else ''} |" for c in doc["commitments"]]
    else:
        out.append("No commitments yet.")
    out += ["", "## Review rhythm", "", doc["rhythm"] or "No review rhythm yet."]
    if doc["reviews"]:
        out += ["", "### Past reviews"]
        for r in doc["reviews"]:
            out += ["", f"#### {r['held_on']}", "", f"With {md_line(r['attendees'])}."
                    + (f" {r['kept']}." if r["kept"] else "")]
            if r["commitments"]:
                out += [""] + [f"- {md_line(c['what'])}: {c['kept']}" for c in r["commitments"]]
            for label in ("keep", "start", "stop", "notes"):
                if r[label]:
                    out += ["", f"{label.capitalize()}: {md(r[label])}"]
            if r["next"]:
                out += ["", f"Next review: {r['next']}."]
    out += ["", "## Consent", "", *([f"- {md_line(a)}" for a in doc["agreements"]] or ["Not agreed yet."]),
            "", f"This is {md_line(doc['version'])}.", ""]
    out += [f"- {md_line(c['who'])}: {md_line(c['words'])}" for c in doc["consents"]]
    if doc["breaks"]:
        out += ["", "## Breaks and renewals"]
        for b in doc["breaks"]:
            out += ["", f"- {md_line(b['who'])} said it was broken: {md_line(b['what_happened'])}"]
            if b["needs_discussing"]:
                out.append(f"  - To discuss: {md_line(b['needs_discussing'])}")
            if b["renewed"]:
                note = f": {md_line(b['renewed']['note'])}" if b["renewed"]["note"] else ""
                out.append(f"  - Renewed by {md_line(b['renewed']['who'])}{note}")
    if doc["closing"]:
        out += ["", "## Closing celebration", "", f"Closed by {md_line(doc['closing']['who'])}, celebrating:", "",
                md(doc["closing"]["celebration"])]
    out += ["", "---", "", f"V{md_line(doc['version'])[1:]}, printed {doc['printed']}.", ""]
    return "\n".join(out)


# ----- the audit page -----

def audit(alliances: AllianceApplication, alliance_id: str, anchor: Anchor | None, viewer: str) -> dict[str, Any]:
    """The chain check, and every history entry of the part of the record that
    checks out, newest first (paged through 200 at a time). Only that part is
    read, so a broken record shows what it can instead of failing."""
    chain = alliances.verify(alliance_id, anchor)
    alliance = alliances.checked_part(alliance_id, chain)
    entries, before = [], None
    while alliance:
        page = alliances.history(alliance.id, before=before, limit=200, latest=alliance, viewer=viewer)
        entries += page["entries"]
        before = page["next_before"]
        if before is None:
            break
    for entry in entries:
        entry["when"] = datetime.fromisoformat(entry["at"]).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return {"title": alliance.title if alliance else "an alliance that cannot be read", "id": str(UUID(alliance_id)),
            "version": alliance.version if alliance else 0, "entries": entries, "chain": chain.as_dict(),
            "anchor": anchor, "checked": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")}


def filename(title: str, suffix: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")
    return f'attachment; filename="{slug or "alliance"}.{suffix}"'


def asset_base(request: Req) -> str:
    """The app opens these pages from blob: URLs, against which "/app/styles.css"
    does not resolve: name the stylesheet at the address the app used."""
    return str(request.base_url).rstrip("/")


class ExportsController(Controller):
    path = "/api/v1/alliances/{alliance_id:str}"
    tags = ["alliances"]
    security = BEARER
    guards = [participants_only]

    @get("/export.html", sync_to_thread=True, summary="The agreement as a printable page",
         responses=problems(400, 401, 404))
    def export_html(self, request: Req, alliance_id: FromPath[str],
                    alliances: NamedDependency[AllianceApplication]) -> Template:
        alliance = alliances.alliance(alliance_id, copy=False).seen_by(request.user.user_id)
        doc = agreement(alliance, datetime.now(timezone.utc).date())
        return Template("print.html", context={"doc": doc, "asset_base": asset_base(request)}, headers=PRIVATE)

    @get("/export.md", sync_to_thread=True, summary="The agreement as Markdown", media_type="text/markdown",
         responses=problems(400, 401, 404))
    def export_md(self, request: Req, alliance_id: FromPath[str],
                  alliances: NamedDependency[AllianceApplication]) -> Response[str]:
        alliance = alliances.alliance(alliance_id, copy=False).seen_by(request.user.user_id)
        text = markdown(agreement(alliance, datetime.now(timezone.utc).date()))
        return Response(text, media_type="text/markdown",  # Litestar adds "; charset=utf-8" to text/*
                        headers={**PRIVATE, "Content-Disposition": filename(alliance.title, "md")})

    @get("/export.ics", sync_to_thread=True, summary="Its reviews and dated commitments as an iCalendar file",
         media_type="text/calendar", responses=problems(400, 401, 404, 409))
    def export_ics(self, request: Req, alliance_id: FromPath[str], alliances: NamedDependency[AllianceApplication],
                   settings: NamedDependency[Settings]) -> Response[str]:
        alliance = alliances.alliance(alliance_id, copy=False).seen_by(request.user.user_id)
        text = one_alliance(alliance, alliances.preferences(request.user.user_id),  # with alarms (issue 12)
                            now=datetime.now(timezone.utc), public_url=settings.public_url)
        return Response(text, media_type="text/calendar",
                        headers={**PRIVATE, "Content-Disposition": filename(alliance.title, "ics")})

    @get("/audit.html", sync_to_thread=True, summary="Every change and the audit-chain check, for auditors",
         responses=problems(400, 401, 404))
    def audit_html(self, request: Req, alliance_id: FromPath[str], alliances: NamedDependency[AllianceApplication],
                   version: AnchorVersion = None, head: AnchorHead = None) -> Template:
        doc = audit(alliances, alliance_id, device_anchor(version, head), request.user.user_id)
        return Template("audit.html", context={"audit": doc, "asset_base": asset_base(request)}, headers=PRIVATE)


EXPORTS = [ExportsController]
