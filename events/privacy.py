"""What a person may see of others' words: answers to private questions (the team's
pre-work) stay with their author until the author shares them. Pure functions over
the alliance's dicts, used by Alliance.seen_by and for events sent or described."""

from typing import Iterable


def privately_seen(answers: dict, own_answers: dict, private: Iterable[str], shared: dict,
                   viewer: str) -> tuple[dict, dict]:
    """(answers, own_answers) as `viewer` may see them; the dicts given are not changed."""
    answers, own_answers = dict(answers), own_seen(own_answers, private, shared, viewer)
    for qid in private:
        answer = answers.get(qid)
        if answer is not None:  # an agreed answer given before the question was private: its author's only
            if answer.get("by") != viewer:
                answers.pop(qid)
            else:
                answers[qid] = dict(answer, conflict=[c for c in answer["conflict"] if c["by"] == viewer])
    return answers, own_answers


def own_seen(per_question: dict, private: Iterable[str], shared: dict, viewer: str) -> dict:
    """Anything kept per question and person ({qid: {uid: ...}}: own answers, when each was given)
    as `viewer` may see it: on a private question, only the viewer's own and those shared."""
    seen_here = dict(per_question)
    for qid in private:
        if qid in seen_here:
            seen = set(shared.get(qid, [])) | {viewer}
            seen_here[qid] = {uid: value for uid, value in seen_here[qid].items() if uid in seen}
    return seen_here


def hidden_from(viewer: str | None, kind: str, by: str, data: dict, private: set[str], shared: dict) -> bool:
    """Whether an event's words (someone's answer to a private question) are hidden from `viewer`."""
    if viewer is None or by == viewer or data.get("question_id") not in private:
        return False
    if kind == "OwnAnswerGiven":
        return by not in shared.get(data["question_id"], [])
    return kind in ("QuestionAnswered", "ConflictResolved", "AnswerRestored")  # (restore_item refuses private ones)


def event_data_seen_by(viewer: str, kind: str, by: str, data: dict, private: set[str], shared: dict) -> dict:
    """An event's fields as sent to `viewer`: hidden words become null, and a restore's
    content is seen as the alliance would be."""
    if hidden_from(viewer, kind, by, data, private, shared):
        return {**data, "text": None} if "text" in data else {**data, "resolution": None}
    if kind == "VersionRestored":
        content = data["content"]
        answers, own = privately_seen(content["answers"], content["own_answers"], private, shared, viewer)
        return {**data, "content": {**content, "answers": answers, "own_answers": own}}
    return data


def holds_private_words(viewer: str, private: Iterable[str], answers: dict, own_answers: dict,
                        own_answered_at: dict) -> bool:
    """Whether `viewer` sees more of these private questions than someone who wrote nothing on
    them would (privately_seen, own_seen): an agreed answer or an own answer of theirs there.
    Everyone for whom it is False sees exactly the same."""
    for qid in private:
        if answers.get(qid, {}).get("by") == viewer:
            return True
        if viewer in own_answers.get(qid, {}) or viewer in own_answered_at.get(qid, {}):
            return True
    return False
