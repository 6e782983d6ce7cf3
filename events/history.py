"""History in words a person reads, and the difference between two versions."""

import difflib
import re
from datetime import date
from typing import Any, Iterable

from events.alliance import Alliance
from events.erasure import erased_event_data, erased_view, text_author
from events.privacy import hidden_from
from events.templates import TEMPLATES
from events.words import STANCE_WORDS



def day(iso: str | None, *, year: int | None = None) -> str:
    """'3 March' (with the year when it is not `year`)."""
    if not iso:
        return "no date"
    d = date.fromisoformat(iso)
    return f"{d.day} {d:%B}" + ("" if d.year == year else f" {d.year}")


def quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"'{text if len(text) <= limit else text[:limit - 1] + '…'}'"


# ----- history in words -----

def describe_events(state: Alliance | None, events: Iterable[Any], now: Alliance,
                    viewer: str | None = None) -> list[dict]:
    """Describe each event against the state just before it, oldest first.
    `state` is the alliance before the first event (None before creation);
    `now` supplies names of people who joined later, and who had their words erased since
    (those read erased in every entry); `viewer` is whom the words are for: someone else's
    answer to a private question is told without its words."""
    entries = []
    private, shared = now.private_questions(), now.shared_answers
    for ev in events:
        before_status = state.status if state else None
        kind, data = type(ev).__name__, vars(ev)
        erasure = now.erasures.get(text_author(ev.by, data))
        if erasure:
            data = erased_event_data(kind, data, erasure["at"])
        if hidden_from(viewer, kind, ev.by, data, private, shared):
            text = f"answered {quote(now.questions[ev.question_id]['text'])} privately, for themselves"
        else:
            text = describe(ev, erased_view(state, now), now, data)
        state = ev.mutate(state)
        if state.status == "agreed" and before_status != "agreed":
            text += f"; the alliance is now agreed (version {state.content_version})"
        entries.append({
            "version": ev.originator_version, "at": ev.timestamp.isoformat(), "by": ev.by,
            "who": now.name_of(ev.by), "device": ev.device, "kind": type(ev).__name__, "text": text,
        })
    return entries


def describe(ev: Any, before: Alliance | None, now: Alliance, data: dict | None = None) -> str:
    """The event in words; `data` is its fields as they are to be told (default: as stored)."""
    kind, data = type(ev).__name__, vars(ev) if data is None else data
    year = ev.timestamp.year
    if kind == "Designed":
        template = TEMPLATES.get(data["template"])
        title = template.title if template else data["template"]
        return (f"designed the alliance {quote(data['title'])} from the {title} template "
                f"(version {data['template_version']})")
    assert before is not None
    question = before.questions.get(data.get("question_id") or "", {}).get("text", "a question")
    commitment = before.commitments.get(data.get("commitment_id") or "", {})
    what = quote(commitment.get("text", "a commitment"))
    if kind == "ParticipantInvited":
        return f"invited {data['name']}"
    if kind == "ParticipantJoined":
        return "joined the alliance"
    if kind == "ParticipantLeft":
        return "left the alliance"
    if kind == "WordsErased":
        if data["account_deleted"]:
            return "deleted their account: their words here are erased, at their request"
        return "had their words erased, at their request"
    if kind == "InvitationRevoked":
        return f"withdrew the invitation for {before.invitations[data['invitation_id']]['name']}"
    if kind == "QuestionAdded":
        return f"added the question {quote(data['text'])}"
    if kind == "QuestionReworded":
        return f"reworded the question {quote(question)} to {quote(data['text'])}"
    if kind == "QuestionRemoved":
        return f"removed the question {quote(question)}"
    if kind == "QuestionAnswered":
        previous = before.answers.get(data["question_id"])
        if previous and before.answer_is_stale(data["question_id"], data["base_revision"], ev.device):
            return (f"answered {quote(question)} with {quote(data['text'])} while someone else changed it: "
                    "both answers are kept until someone resolves the conflict")
        verb = "changed the answer to" if previous and previous["text"] else "answered"
        return f"{verb} {quote(question)}: {quote(data['text'], 120)}"
    if kind == "OwnAnswerGiven":
        return f"gave their own answer to {quote(question)}"
    if kind == "CommitmentMade":
        due = f", due {day(data['due'], year=year)}" if data["due"] else ""
        return f"made the commitment {quote(data['text'])} (owner: {now.name_of(data['owner_id'])}{due})"
    if kind == "CommitmentAmended":
        parts = [_amendment(field, commitment.get(field), value, what, now, year)
                 for field, value in data["changes"].items()]
        stale = [f for f in data["changes"]
                 if before.field_is_stale(data["commitment_id"], f, data["base_revision"], ev.device)]
        conflict = "; this crossed another change, so both are kept until someone resolves it" if stale else ""
        return "; ".join(parts) + conflict
    if kind == "CommitmentCompleted":
        return f"completed the commitment {what}"
    if kind == "CommitmentWithdrawn":
        owner = commitment.get("owner_id")
        whose = "the commitment" if owner in (None, ev.by) else f"{now.name_of(owner)}'s commitment"
        return f"withdrew {whose} {what}" + (f": {data['reason']}" if data["reason"] else "")
    if kind == "ConflictResolved":
        thing = f"the answer to {quote(question)}" if data["question_id"] else f"the commitment {what}"
        return f"resolved the conflict on {thing}"
    if kind == "ReviewScheduled":
        return f"set reviews every {data['every']} {data['unit']}, next on {day(data['next'], year=year)}"
    if kind == "ReviewHeld":
        names = ", ".join(now.name_of(a) for a in data["attendees"])
        kept = sum(data["kept"].values())
        total = len(data["kept"])
        text = f"held a review with {names}: {kept} of {total} commitment{'' if total == 1 else 's'} kept"
        return text + (f"; next review on {day(data['next_date'], year=year)}" if data["next_date"] else "")
    if kind == "ConsentGiven":
        text = f"{STANCE_WORDS[data['stance']]} version {data['version']}"
        return text + (f": {data['reason']}" if data["reason"] else "")
    if kind == "AllianceBroken":
        return f"broke the alliance: {data['what_happened']}"
    if kind == "AllianceRenewed":
        text = "renewed the alliance" + (f": {data['note']}" if data["note"] else "")
        if data.get("content_hash"):  # since issue 11 a renewal is the renewer's support
            others = "; the others are asked to consent again" if len(before.members()) > 1 else ""
            text += f" (and so supports version {before.content_version}{others})"
        return text
    if kind == "AllianceClosed":
        still_open = sum(c["status"] == "open" for c in before.commitments.values())
        ended = {0: "", 1: "; its one open commitment ended with it"}.get(
            still_open, f"; its {still_open} open commitments ended with it")
        review = "; no more reviews" if before.rhythm and before.rhythm.get("next") else ""
        return f"closed the alliance, celebrating: {data['celebration']}{ended}{review}"
    if kind == "AllianceRenamed":
        return f"renamed the alliance from {quote(before.title)} to {quote(data['title'])}"
    if kind == "AllianceArchived":
        return "archived the alliance for themselves (out of their own list; nothing changed for anyone else)"
    if kind == "AllianceUnarchived":
        return "brought the alliance back into their own list"
    if kind == "ParticipantAppreciated":
        return f"appreciated {now.name_of(data['participant_id'])}: {data['note']}"
    if kind == "VersionRestored":
        return f"restored version {data['version']} (nothing was erased)"
    if kind == "AnswerRestored":
        return (f"brought back the answer to {quote(question)} as it was in version {data['version']}: "
                f"{quote(data['text'], 120)}")
    if kind == "CommitmentRestored":
        return f"brought back the commitment {quote(data['fields']['text'])} as it was in version {data['version']}"
    if kind == "CommitmentReopened":
        if commitment.get("status") == "withdrawn":
            return f"brought back the withdrawn commitment {what}: it is open again"
        return f"reopened the commitment {what}: it is not done after all"
    if kind == "VersionNamed":
        old = before.version_names.get(str(data["version"]), {}).get("name")
        if not data["name"]:
            return f"took away the name {quote(old or '')} of version {data['version']}"
        if old:
            return f"renamed version {data['version']} from {quote(old)} to {quote(data['name'])}"
        return f"named version {data['version']} {quote(data['name'])}"
    return kind  # an event kind newer than this describer


def _amendment(field: str, old: Any, new: Any, what: str, now: Alliance, year: int) -> str:
    if field == "text":
        return f"reworded the commitment {what} to {quote(new)}"
    if field == "owner_id":
        return f"handed the commitment {what} from {now.name_of(old)} to {now.name_of(new)}"
    if not new:
        return f"removed the due date of the commitment {what}"
    if not old:
        return f"set the commitment {what} due on {day(new, year=year)}"
    return f"moved the commitment {what} from {day(old, year=year)} to {day(new, year=year)}"


# ----- the difference between two versions -----

def word_diff(old: str, new: str) -> list[list[str]]:
    """[[op, text], ...] with op one of 'same', 'removed', 'added', word by word."""
    a, b = re.findall(r"\S+", old or ""), re.findall(r"\S+", new or "")
    parts: list[list[str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(["same", " ".join(a[i1:i2])])
            continue
        if i2 > i1:
            parts.append(["removed", " ".join(a[i1:i2])])
        if j2 > j1:
            parts.append(["added", " ".join(b[j1:j2])])
    return parts


def _change(section: str, key: str, label: str, before: Any, after: Any) -> dict:
    change = "added" if before is None else "removed" if after is None else "changed"
    if section == "questions" and after and after["removed"] and not before["removed"]:
        change = "removed"
    entry = {"section": section, "id": key, "label": label, "change": change,
             "before": before, "after": after}
    text_of = (lambda v: v.get("text", "") if isinstance(v, dict) else v if isinstance(v, str) else "")
    old_text, new_text = text_of(before), text_of(after)
    if old_text != new_text:
        entry["words"] = word_diff(old_text, new_text)
    return entry


def diff(old: Alliance, new: Alliance) -> dict:
    """What changed from `old` to `new`: title, questions, answers (agreed and
    own), commitments, review rhythm, participants and consents."""
    a, b = old.comparable(), new.comparable()
    questions = {**a["questions"], **b["questions"]}

    def label(section: str, key: str) -> str:
        if section in ("answers", "questions"):
            return questions[key]["text"]
        if section == "own_answers":
            qid, uid = key.split("/", 1)
            return f"{new.name_of(uid)}'s own answer to {quote(questions[qid]['text'])}"
        if section == "commitments":
            return (b["commitments"].get(key) or a["commitments"][key])["text"]
        return new.name_of(key)

    def flat(state: dict, section: str) -> dict:
        if section != "own_answers":
            return state[section]
        return {f"{qid}/{uid}": text for qid, per in state[section].items() for uid, text in per.items()}

    changes = []
    if a["title"] != b["title"]:
        changes.append(_change("title", "title", "Title", a["title"], b["title"]))
    for section in ("questions", "answers", "own_answers", "commitments", "participants", "consents"):
        old_items, new_items = flat(a, section), flat(b, section)
        for key in {**old_items, **new_items}:
            if old_items.get(key) != new_items.get(key):
                changes.append(_change(section, key, label(section, key), old_items.get(key), new_items.get(key)))
    if a["rhythm"] != b["rhythm"]:
        changes.append(_change("rhythm", "rhythm", "Review rhythm", a["rhythm"], b["rhythm"]))
    return {"from": old.version, "to": new.version, "empty": not changes, "changes": changes}
