"""The Alliance aggregate: a living agreement between people, as events.

Public methods are commands: they check the rules and raise an AllianceError
with a message a person can read. Private methods decorated with @event
record what happened and fold it into state; their bodies run again on
every replay, so they never check or refuse anything.
"""

import copy
import hashlib
import json
from datetime import date, datetime, timezone
from types import MappingProxyType
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from events.audit import GENESIS
from events.erasure import author, erase_texts
from events.privacy import own_seen, privately_seen
from events.templates import UnknownTemplate, get_template
from events.text import quote

STANCES = ("support", "live_with", "object")
RHYTHM_UNITS = ("days", "weeks")
COMMITMENT_FIELDS = ("text", "owner_id", "due")
MAX_TEXT = 10_000
MAX_LINK_USES = 50  # a team link admits at most this many people
MAX_TITLE = 200
MAX_VERSION_NAME = 100
# Who and when, kept beside what things say: never part of content() or comparable().
QUESTION_FIELDS = ("section", "text", "removed")
CONSENT_FIELDS = ("version", "stance", "reason")
PARTICIPANT_FIELDS = ("name", "role", "status")


class AllianceError(Exception):
    """A command the domain refuses; `code` is stable, the message is for people."""

    code = "invalid"


class InvalidInput(AllianceError):
    code = "invalid_input"


class NotAParticipant(AllianceError):
    code = "not_a_participant"


class NotAllowedNow(AllianceError):
    code = "not_allowed_now"


class NotFound(AllianceError):
    code = "not_found"


class AlreadyExists(AllianceError):
    code = "already_exists"


class InvitationClosed(NotFound):
    """An invitation that worked and no longer does; `why` says which way (its page words it)."""

    WORDS = {"revoked": "This invitation was withdrawn: ask for a new one.",
             "used up": "This link has let in as many people as it was made for: ask for a new one.",
             "expired": "This invitation has expired: ask for a new one."}

    def __init__(self, why: str) -> None:
        super().__init__(self.WORDS[why])
        self.why = why


def _text(value: Any, what: str, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"The {what} must be text.")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"The {what} cannot be empty.")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"The {what} is longer than {MAX_TEXT} characters.")
    return value


def _day(value: Any, what: str) -> str | None:
    """Business dates are explicit ISO days (YYYY-MM-DD), or None."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise InvalidInput(f"The {what} must be a date like 2026-03-10, not {quote(value)}.") from None


def _id(value: Any, what: str) -> str:
    """Ids of new things are made by the client: UUIDs, kept as text."""
    try:
        return str(UUID(str(value)))
    except ValueError:
        raise InvalidInput(f"The {what} must be a UUID, not {quote(value)}.") from None


def new_aggregate_id(value: Any, what: str) -> UUID:
    """The id a client made for a new alliance. The server derives its own ids (accounts,
    devices, links, inventories) as version-5 UUIDs, so a client's id may be any UUID but
    those: the two can never meet."""
    made = UUID(_id(value, what))
    if made.version == 5:
        raise InvalidInput(f"The {what} must be a random UUID (version 4 or 7), not a version-5 one.")
    return made


class Alliance(Aggregate):
    TOPIC = "alliance"
    # Whose own answers to private questions are shared: {question id: [user id]}. A class-level
    # empty default, because snapshots from before it existed restore without it; folds replace it.
    shared_answers = MappingProxyType({})  # not annotated: the library makes annotated names fields
    # Likewise: when each own answer was last given, {question id: {user id: iso time}}.
    own_answered_at = MappingProxyType({})
    # Who archived the alliance out of their own list (not content: no version, no consent).
    archived_by = ()
    # Names people gave content versions, {"<version>": {name, by, at}} (not content either),
    # and each time everyone agreed: [{version, at, consents}]. Likewise class-level defaults.
    version_names = MappingProxyType({})
    agreements = ()
    # Whose words were erased at their request, and when: {user id: {at, account_deleted}} (issue 13).
    erasures = MappingProxyType({})

    class Event(Aggregate.Event):
        by: str  # the user who acted
        device: str  # the client id of the device they acted from
        chain: str  # hash over this event and the one before (events.audit)

        def mutate(self, aggregate):
            if aggregate is not None:  # None for Designed, which makes it (its fold reads created_on)
                aggregate._acting_at = self.timestamp.isoformat()
            aggregate = super().mutate(aggregate)
            aggregate.chain = self.chain  # the head the next event links to
            return aggregate

    class Designed(Event, Aggregate.Created):
        TOPIC = "alliance.Designed"
        class_version = 2
        title: str
        template: str
        template_version: int
        facilitator_name: str
        questions: list

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            # Version 1 did not record which template version was used;
            # every template was at version 1 then.
            state["template_version"] = 1

    Created = Designed  # the library's name for it; stored as "alliance.Designed"

    # ----- the chain: every new event is hashed onto the one before -----
    # A new event carries the head before it; the application replaces that with the hash
    # over the event as stored, its texts sealed (AllianceApplication._record).

    @classmethod
    def _create(cls, event_class, *, id=None, **kwargs):  # noqa: A002
        return super()._create(event_class, id=id, chain=GENESIS, **kwargs)

    def trigger_event(self, event_class, **kwargs) -> None:
        super().trigger_event(event_class, chain=self.chain, **kwargs)

    # ----- design -----

    @classmethod
    def design(cls, *, alliance_id: Any, by: str, device: str, title: str,
               template: str, facilitator_name: str) -> "Alliance":
        try:
            chosen = get_template(template)
        except UnknownTemplate as error:
            raise InvalidInput(str(error)) from None
        questions = [{"id": q.key, "section": s.key, "text": q.text} for s, q in chosen.questions()]
        return cls(
            id=new_aggregate_id(alliance_id, "alliance id"), by=by, device=device,
            title=_text(title, "title"), template=chosen.name,
            template_version=chosen.version,
            facilitator_name=_text(facilitator_name, "facilitator's name"),
            questions=questions,
        )

    @event(Designed)
    def __init__(self, id: UUID, by: str, device: str, title: str, template: str,
                 template_version: int, facilitator_name: str, questions: list) -> None:
        self.title = title
        self.template = template
        self.template_version = template_version
        self.facilitator = by
        self.participants = {by: {"name": facilitator_name, "role": "facilitator", "status": "joined",
                                  "joined_at": self.created_on.isoformat()}}
        self.invitations: dict[str, dict] = {}
        self.questions = {q["id"]: {"section": q["section"], "text": q["text"], "removed": False}
                          for q in questions}
        self.answers: dict[str, dict] = {}
        self.own_answers: dict[str, dict] = {}
        self.commitments: dict[str, dict] = {}
        self.rhythm: dict | None = None
        self.reviews: dict[str, dict] = {}
        self.consents: dict[str, dict] = {}
        self.status = "draft"
        self.content_version = 1
        self.agreed_versions: list[int] = []
        self.breaks: list[dict] = []
        self.appreciations: list[dict] = []
        self.closing: dict | None = None

    # ----- who may act -----

    def members(self) -> list[str]:
        return [uid for uid, p in self.participants.items() if p["status"] == "joined"]

    def name_of(self, user_id: str | None) -> str:
        """A participant's name; for a pending owner (an invitation id) the invitee's."""
        person = self.participants.get(user_id or "") or self.invitations.get(user_id or "")
        return person["name"] if person else "Someone"

    def _check_can_act(self, by: str) -> None:
        if self.participants.get(by, {}).get("status") != "joined":
            raise NotAParticipant("Only participants of this alliance can change it.")
        if self.status == "closed":
            raise NotAllowedNow("This alliance is closed: it can be read but no longer changed.")

    # ----- participants -----

    def invite_participant(self, *, by: str, device: str, invitation_id: Any, name: str) -> None:
        """A named invitation for one person (a link made by the server records its own)."""
        self.invite_by_link(by=by, device=device, invitation_id=invitation_id, name=name)

    def invite_by_link(self, *, by: str, device: str, invitation_id: Any, name: str,
                       uses: int = 1, expires_at: str | None = None) -> None:
        """An invitation for up to `uses` people (more than one: a team link), until `expires_at`."""
        self._check_can_act(by)
        invitation_id = _id(invitation_id, "invitation id")
        name = _text(name, "invitee's name")
        if not isinstance(uses, int) or isinstance(uses, bool) or not 1 <= uses <= MAX_LINK_USES:
            raise InvalidInput(f"An invitation link lets in 1 to {MAX_LINK_USES} people.")
        known = self.invitations.get(invitation_id)
        if known:
            if known["name"] == name:
                return  # a retried invitation: already recorded
            raise AlreadyExists("An invitation with this id already exists.")
        self._invited(by=by, device=device, invitation_id=invitation_id, name=name, uses=uses,
                      expires_at=expires_at)

    @event("ParticipantInvited", topic="alliance.ParticipantInvited")
    def _invited(self, by: str, device: str, invitation_id: str, name: str,
                 uses: int = 1, expires_at: str | None = None) -> None:
        # Events from before team links have no uses and no expiry: one person, no end.
        self.invitations[invitation_id] = {"name": name, "by": by, "at": self._acting_at, "status": "open",
                                           "uses": uses, "joined": [], "expires_at": expires_at}

    def open_invitation(self, invitation_id: Any) -> dict:
        """The invitation, if someone can still join by it; else refused in words."""
        invitation = self.invitations.get(_id(invitation_id, "invitation id"))
        if invitation is None or invitation["status"] == "accepted":
            raise NotFound("This invitation is not open: ask for a new one.")
        if invitation["status"] != "open":
            raise InvitationClosed(invitation["status"])  # revoked, or used up
        expires_at = invitation.get("expires_at")
        if expires_at and datetime.now(timezone.utc) >= datetime.fromisoformat(expires_at):
            raise InvitationClosed("expired")
        return invitation

    def join(self, *, by: str, device: str, invitation_id: Any, name: str) -> None:
        invitation_id = _id(invitation_id, "invitation id")
        self.open_invitation(invitation_id)
        if by in self.members():
            raise AlreadyExists("You are already a participant of this alliance.")
        if by in self.erasures:
            raise NotAllowedNow("Your words in this alliance were erased at your request, for good: "
                                "it cannot take you back in.")
        if self.status == "closed":
            raise NotAllowedNow("This alliance is closed: nobody can join it any more.")
        self._joined(by=by, device=device, invitation_id=invitation_id, name=_text(name, "name"))

    @event("ParticipantJoined", topic="alliance.ParticipantJoined")
    def _joined(self, by: str, device: str, invitation_id: str, name: str) -> None:
        invitation = self.invitations[invitation_id]
        joined = invitation.setdefault("joined", [])  # a snapshot from before team links has none
        joined.append(by)
        uses = invitation.get("uses", 1)
        if len(joined) >= uses:
            invitation["status"] = "accepted" if uses == 1 else "used up"
        self.participants[by] = {"name": name, "role": "participant", "status": "joined",
                                 "joined_at": self._acting_at}
        self._hand_over(invitation_id, lambda commitment: by)  # given to them before they joined
        self._settle()

    def revoke_invitation(self, *, by: str, device: str, invitation_id: Any) -> None:
        """Withdraw an open invitation: its link stops working."""
        self._check_can_act(by)
        invitation_id = _id(invitation_id, "invitation id")
        invitation = self.invitations.get(invitation_id)
        if invitation is None:
            raise NotFound("There is no such invitation in this alliance.")
        if invitation["status"] == "revoked":
            return  # withdrawn already
        if invitation["status"] != "open":
            raise NotAllowedNow("Everyone this invitation was for has joined: there is nothing left to withdraw.")
        self._invitation_revoked(by=by, device=device, invitation_id=invitation_id)

    @event("InvitationRevoked", topic="alliance.InvitationRevoked")
    def _invitation_revoked(self, by: str, device: str, invitation_id: str) -> None:
        invitation = self.invitations[invitation_id]
        invitation["status"] = "revoked"
        # Commitments waiting for this person go back to whoever made them.
        if self._hand_over(invitation_id, lambda commitment: commitment.get("by") or invitation["by"]):
            self._content_changed()

    def _hand_over(self, invitation_id: str, new_owner) -> bool:
        """Inside a fold: each open commitment waiting for the invitee (its owner, or an owner
        held in conflict) gets `new_owner(commitment)`, as an amendment would. Whether any moved."""
        moved = False
        for commitment in self.commitments.values():
            crossing = commitment["conflict"].get("owner_id", [])
            if commitment["status"] != "open" or invitation_id not in (commitment["owner_id"], *crossing):
                continue
            owner, moved = new_owner(commitment), True
            commitment["revision"] += 1
            if commitment["owner_id"] == invitation_id:
                commitment["owner_id"] = owner
                commitment["changed"]["owner_id"] = commitment["revision"]
            crossing = [owner if value == invitation_id else value for value in crossing]
            crossing = [v for v in dict.fromkeys(crossing) if v != commitment["owner_id"]]
            if crossing:
                commitment["conflict"]["owner_id"] = crossing
            else:
                commitment["conflict"].pop("owner_id", None)
            commitment["at"] = self._acting_at
        return moved

    def leave(self, *, by: str, device: str) -> None:
        self._check_can_act(by)
        if self.members() == [by]:
            raise NotAllowedNow("You are the only participant: close the alliance instead of leaving it.")
        self._left(by=by, device=device)

    @event("ParticipantLeft", topic="alliance.ParticipantLeft")
    def _left(self, by: str, device: str) -> None:
        self.participants[by]["status"] = "left"
        self.consents.pop(by, None)
        self._settle()

    def erase_words(self, *, by: str, device: str, account_deleted: bool = False) -> None:
        """Take back, for good, everything `by` wrote here (at their request; with their account
        deleted, or from this alliance alone): from then on each of their texts reads as erased.
        Anyone who is or was in the alliance may, closed or not; who did what and when stays."""
        if by not in self.participants:
            raise NotAParticipant("Only someone who is or was in this alliance can have their words erased from it.")
        if by not in self.erasures:  # erased already: nothing of theirs is left to erase
            self._words_erased(by=by, device=device, account_deleted=account_deleted)

    @event("WordsErased", topic="alliance.WordsErased")
    def _words_erased(self, by: str, device: str, account_deleted: bool) -> None:
        at = self._acting_at
        # Out of the alliance for good, like one who left (their open commitments stay theirs, for
        # the others to hand over or withdraw); what they still had open for others to join ends.
        self.participants[by]["status"] = "erased"
        self.consents.pop(by, None)
        self.erasures = {**self.erasures, by: {"at": at, "account_deleted": account_deleted}}
        moved = False
        for invitation_id, invitation in self.invitations.items():
            if invitation["by"] == by and invitation["status"] == "open":
                invitation["status"] = "revoked"
                moved |= self._hand_over(invitation_id, lambda commitment: commitment.get("by") or by)
        erase_texts(self, by, at)
        if moved:  # a commitment waiting for someone they invited went back to its maker
            self._content_changed()
        else:
            self._settle()

    # ----- questions and answers -----

    def _question(self, question_id: Any) -> dict:
        question = self.questions.get(str(question_id))
        if question is None or question["removed"]:
            raise NotFound("There is no such question in this alliance.")
        return question

    def add_question(self, *, by: str, device: str, question_id: Any, section: str, text: str) -> None:
        self._check_can_act(by)
        question_id, section = _id(question_id, "question id"), _text(section, "section")
        text = _text(text, "question")
        known = self.questions.get(question_id)
        if known:
            if (known["section"], known["text"]) == (section, text):
                return  # a retried creation: already recorded
            raise AlreadyExists("A question with this id already exists.")
        self._question_added(by=by, device=device, question_id=question_id, section=section, text=text)

    @event("QuestionAdded", topic="alliance.QuestionAdded")
    def _question_added(self, by: str, device: str, question_id: str, section: str, text: str) -> None:
        self.questions[question_id] = {"section": section, "text": text, "removed": False,
                                       "added_by": by, "at": self._acting_at}
        self._content_changed()

    def reword_question(self, *, by: str, device: str, question_id: str, text: str) -> None:
        question_id = str(question_id)
        self._check_can_act(by)
        question, text = self._question(question_id), _text(text, "question")
        if question["text"] != text:
            self._question_reworded(by=by, device=device, question_id=question_id, text=text)

    @event("QuestionReworded", topic="alliance.QuestionReworded")
    def _question_reworded(self, by: str, device: str, question_id: str, text: str) -> None:
        self.questions[question_id].update(text=text, text_by=by)
        self._content_changed()

    def remove_question(self, *, by: str, device: str, question_id: str) -> None:
        question_id = str(question_id)
        self._check_can_act(by)
        self._question(question_id)
        self._question_removed(by=by, device=device, question_id=question_id)

    @event("QuestionRemoved", topic="alliance.QuestionRemoved")
    def _question_removed(self, by: str, device: str, question_id: str) -> None:
        self.questions[question_id]["removed"] = True
        self._content_changed()

    def answer_question(self, *, by: str, device: str, question_id: str, text: str,
                        base_revision: int) -> None:
        """Record the agreed answer. `base_revision` is the answer's revision the
        editor started from (0 for a question never answered)."""
        question_id = str(question_id)
        self._check_can_act(by)
        self._question(question_id)
        text = _text(text, "answer", required=False)
        if question_id in self.private_questions():
            raise NotAllowedNow("This question is for each person's own answer, private until they share it: "
                                "give yours from your side.")
        answer = self.answers.get(question_id, {"text": "", "revision": 0, "conflict": []})
        _check_base(base_revision, answer["revision"])
        if text == answer["text"] or any(c["text"] == text for c in answer["conflict"]):
            return  # nothing new: the same words are already there
        self._answered(by=by, device=device, question_id=question_id, text=text,
                       base_revision=base_revision)

    @event("QuestionAnswered", topic="alliance.QuestionAnswered")
    def _answered(self, by: str, device: str, question_id: str, text: str, base_revision: int) -> None:
        answer = self.answers.setdefault(question_id, {"text": "", "by": by, "revision": 0, "conflict": []})
        if self.answer_is_stale(question_id, base_revision, device):
            # Someone else changed it since this editor looked: keep both until someone resolves it.
            answer["conflict"].append({"text": text, "by": by})
            answer["run"] = None
        else:
            answer.update(text=text, by=by, at=self._acting_at,
                          run=_next_run(answer.get("run"), base_revision, device))
            answer.pop("text_by", None)  # their own words now
        answer["revision"] += 1
        self._content_changed()

    def answer_is_stale(self, question_id: str, base_revision: int, device: str) -> bool:
        answer = self.answers.get(question_id, {"revision": 0})
        return _stale(answer["revision"], answer.get("run"), base_revision, device)

    def give_own_answer(self, *, by: str, device: str, question_id: str, text: str) -> None:
        """A participant's own answer, beside the agreed one (e.g. team pre-work)."""
        question_id = str(question_id)
        self._check_can_act(by)
        self._question(question_id)
        text = _text(text, "answer", required=False)
        if self.own_answers.get(question_id, {}).get(by) != text:
            self._own_answer_given(by=by, device=device, question_id=question_id, text=text)

    @event("OwnAnswerGiven", topic="alliance.OwnAnswerGiven")
    def _own_answer_given(self, by: str, device: str, question_id: str, text: str) -> None:
        self.own_answers.setdefault(question_id, {})[by] = text
        self._own_answered(question_id, by)
        self._content_changed()

    def _own_answered(self, question_id: str, by: str) -> None:
        # A new dict each time: the class-level default is shared and read-only.
        times = self.own_answered_at
        self.own_answered_at = {**times, question_id: {**times.get(question_id, {}), by: self._acting_at}}

    def share_own_answer(self, *, by: str, device: str, question_id: str) -> None:
        """Show my own answer to a private question to everyone in the alliance (for good)."""
        question_id = str(question_id)
        self._check_can_act(by)
        self._question(question_id)
        if question_id not in self.private_questions():
            raise NotAllowedNow("Answers to this question are seen by everyone already.")
        if not self.own_answers.get(question_id, {}).get(by):
            raise NotAllowedNow("Give your own answer first; then you can share it.")
        if by not in self.shared_answers.get(question_id, []):
            self._own_answer_shared(by=by, device=device, question_id=question_id)

    @event("OwnAnswerShared", topic="alliance.OwnAnswerShared")
    def _own_answer_shared(self, by: str, device: str, question_id: str) -> None:
        self.shared_answers = {**self.shared_answers, question_id: [*self.shared_answers.get(question_id, []), by]}

    def private_questions(self) -> set[str]:
        """Questions in a section the template marks private (the team's pre-work)."""
        try:
            sections = {s.key for s in get_template(self.template).sections if s.private}
        except UnknownTemplate:
            sections = set()
        return {qid for qid, q in self.questions.items() if q["section"] in sections}

    def seen_by(self, viewer: str | None) -> "Alliance":
        """The alliance as `viewer` may see it: others' answers to private questions appear
        only once their author shared them. Every response made for a person (pulls, reads,
        history, diffs, exports, pages) is made from this view; None is the operator's view."""
        private = self.private_questions()
        if viewer is None or not private:
            return self
        seen = copy.copy(self)
        seen.answers, seen.own_answers = privately_seen(self.answers, self.own_answers, private,
                                                        self.shared_answers, viewer)
        seen.own_answered_at = own_seen(self.own_answered_at, private, self.shared_answers, viewer)
        return seen

    # ----- commitments -----

    def _commitment(self, commitment_id: Any, *, open_only: bool = False) -> dict:
        commitment = self.commitments.get(str(commitment_id))
        if commitment is None:
            raise NotFound("There is no such commitment in this alliance.")
        if open_only and commitment["status"] != "open":
            raise NotAllowedNow(f"This commitment is {commitment['status']}, no longer open.")
        return commitment

    def _owner(self, owner_id: Any) -> str:
        """A participant, or someone invited by a one-person invitation who has not joined yet
        (the invitation's id: a pending owner). One who has joined since is themselves."""
        if owner_id in self.members():
            return owner_id
        try:
            invitation_id = _id(owner_id, "owner")
        except InvalidInput:
            invitation_id = None
        invitation = self.invitations.get(invitation_id or "")
        if invitation is None or invitation.get("uses", 1) != 1:
            raise InvalidInput("A commitment's owner must be a participant of the alliance, "
                               "or someone invited alone who has not joined yet.")
        joined = invitation.get("joined") or [None]
        if invitation["status"] == "accepted" and joined[0] in self.members():
            return joined[0]  # given offline before they joined: theirs now
        try:
            self.open_invitation(invitation_id)
        except NotFound:
            raise InvalidInput(f"The invitation for {invitation['name']} is no longer open: "
                               "give the commitment to someone in the alliance.") from None
        return invitation_id

    def make_commitment(self, *, by: str, device: str, commitment_id: Any, text: str,
                        owner_id: str, due: str | None = None) -> None:
        self._check_can_act(by)
        commitment_id = _id(commitment_id, "commitment id")
        fields = {"text": _text(text, "commitment"), "owner_id": self._owner(owner_id),
                  "due": _day(due, "due date")}
        known = self.commitments.get(commitment_id)
        if known:
            if all(known[k] == v for k, v in fields.items()):
                return  # a retried creation: already recorded
            raise AlreadyExists("A commitment with this id already exists.")
        self._commitment_made(by=by, device=device, commitment_id=commitment_id, **fields)

    @event("CommitmentMade", topic="alliance.CommitmentMade")
    def _commitment_made(self, by: str, device: str, commitment_id: str, text: str,
                         owner_id: str, due: str | None) -> None:
        self.commitments[commitment_id] = {
            "text": text, "owner_id": owner_id, "due": due, "status": "open",
            "revision": 1, "changed": dict.fromkeys(COMMITMENT_FIELDS, 1), "conflict": {},
            "by": by, "at": self._acting_at,
        }
        self._content_changed()

    def amend_commitment(self, *, by: str, device: str, commitment_id: str, base_revision: int,
                         **changes: Any) -> None:
        """Change any of text, owner_id and due. Fields changed by someone else
        since `base_revision` are kept side by side as a conflict; the rest apply."""
        commitment_id = str(commitment_id)
        self._check_can_act(by)
        commitment = self._commitment(commitment_id, open_only=True)
        unknown = set(changes) - set(COMMITMENT_FIELDS)
        if unknown:
            raise InvalidInput(f"A commitment has no {', '.join(sorted(unknown))}; "
                               f"it can change {', '.join(COMMITMENT_FIELDS)}.")
        if "text" in changes:
            changes["text"] = _text(changes["text"], "commitment")
        if "owner_id" in changes:
            changes["owner_id"] = self._owner(changes["owner_id"])
        if "due" in changes:
            changes["due"] = _day(changes["due"], "due date")
        _check_base(base_revision, commitment["revision"])
        changes = {k: v for k, v in changes.items()
                   if v != commitment[k] and v not in commitment["conflict"].get(k, [])}
        if not changes:
            return  # nothing new
        self._commitment_amended(by=by, device=device, commitment_id=commitment_id,
                                 base_revision=base_revision, changes=changes)

    @event("CommitmentAmended", topic="alliance.CommitmentAmended")
    def _commitment_amended(self, by: str, device: str, commitment_id: str, base_revision: int,
                            changes: dict) -> None:
        commitment = self.commitments[commitment_id]
        runs = commitment.setdefault("runs", {})
        for field, value in changes.items():
            if self.field_is_stale(commitment_id, field, base_revision, device):
                commitment["conflict"].setdefault(field, []).append(value)
                runs[field] = None
            else:
                commitment[field] = value
                commitment["changed"][field] = commitment["revision"] + 1
                runs[field] = _next_run(runs.get(field), base_revision, device)
                if field == "text":
                    commitment["text_by"] = by
        commitment["revision"] += 1
        commitment["at"] = self._acting_at
        self._content_changed()

    def field_is_stale(self, commitment_id: str, field: str, base_revision: int, device: str) -> bool:
        commitment = self.commitments[commitment_id]
        return _stale(commitment["changed"][field], commitment.get("runs", {}).get(field), base_revision, device)

    def complete_commitment(self, *, by: str, device: str, commitment_id: str) -> None:
        commitment_id = str(commitment_id)
        self._check_can_act(by)
        self._commitment(commitment_id, open_only=True)
        self._commitment_completed(by=by, device=device, commitment_id=commitment_id)

    @event("CommitmentCompleted", topic="alliance.CommitmentCompleted")
    def _commitment_completed(self, by: str, device: str, commitment_id: str) -> None:
        commitment = self.commitments[commitment_id]
        commitment.update(status="done", revision=commitment["revision"] + 1, at=self._acting_at)

    def withdraw_commitment(self, *, by: str, device: str, commitment_id: str, reason: str = "") -> None:
        commitment_id = str(commitment_id)
        self._check_can_act(by)
        commitment = self._commitment(commitment_id, open_only=True)
        reason = _text(reason, "reason", required=False)
        if not reason and commitment["owner_id"] != by:
            raise InvalidInput(f"This commitment is {self.name_of(commitment['owner_id'])}'s: "
                               "say why you withdraw it, so they know.")
        self._commitment_withdrawn(by=by, device=device, commitment_id=commitment_id, reason=reason)

    @event("CommitmentWithdrawn", topic="alliance.CommitmentWithdrawn")
    def _commitment_withdrawn(self, by: str, device: str, commitment_id: str, reason: str) -> None:
        commitment = self.commitments[commitment_id]
        commitment.update(status="withdrawn", revision=commitment["revision"] + 1, at=self._acting_at,
                          withdrawn={"by": by, "reason": reason, "at": self._acting_at})
        self._content_changed()

    def reopen_commitment(self, *, by: str, device: str, commitment_id: str) -> None:
        """Undo a completion or a withdrawal: the commitment is open again."""
        commitment_id = str(commitment_id)
        self._check_can_act(by)
        commitment = self._commitment(commitment_id)
        if commitment["status"] == "open":
            raise NotAllowedNow("This commitment is open already.")
        self._commitment_reopened(by=by, device=device, commitment_id=commitment_id,
                                  owner_id=self._owner(commitment["owner_id"]))

    @event("CommitmentReopened", topic="alliance.CommitmentReopened")
    def _commitment_reopened(self, by: str, device: str, commitment_id: str, owner_id: str) -> None:
        commitment = self.commitments[commitment_id]
        was = commitment["status"]
        commitment.update(status="open", revision=commitment["revision"] + 1, at=self._acting_at)
        commitment.pop("withdrawn", None)
        if owner_id != commitment["owner_id"]:  # given to an invitation whose person has joined since
            commitment["owner_id"] = owner_id
            commitment["changed"]["owner_id"] = commitment["revision"]
        if was == "withdrawn":  # back in the agreement; completing one never took it out
            self._content_changed()

    # ----- conflicts -----

    def resolve_conflict(self, *, by: str, device: str, question_id: str | None = None,
                         commitment_id: str | None = None, text: str | None = None,
                         fields: dict | None = None) -> None:
        """Settle a conflict: an answer's `text`, or a commitment's conflicting `fields`
        (one of the values shown, or a merged one)."""
        self._check_can_act(by)
        if (question_id is None) == (commitment_id is None):
            raise InvalidInput("Name either the question or the commitment whose conflict to resolve.")
        question_id, commitment_id = _key(question_id), _key(commitment_id)
        if question_id is not None:
            self._question(question_id)
            if not self.answers.get(question_id, {}).get("conflict"):
                raise NotAllowedNow("This answer is not in conflict (any more).")
            resolution = {"text": _text(text, "answer", required=False)}
        else:
            if fields is not None and not isinstance(fields, dict):
                raise InvalidInput("Give the resolved fields as an object, e.g. {\"due\": \"2027-03-10\"}.")
            commitment = self._commitment(commitment_id)
            if not commitment["conflict"]:
                raise NotAllowedNow("This commitment is not in conflict (any more).")
            fields = dict(fields or {})
            missing = set(commitment["conflict"]) - set(fields)
            if missing or set(fields) - set(commitment["conflict"]):
                raise InvalidInput(f"Give a value for each field in conflict: "
                                   f"{', '.join(sorted(commitment['conflict']))}.")
            if "text" in fields:
                fields["text"] = _text(fields["text"], "commitment")
            if "owner_id" in fields:
                fields["owner_id"] = self._owner(fields["owner_id"])
            if "due" in fields:
                fields["due"] = _day(fields["due"], "due date")
            resolution = {"fields": fields}
        self._conflict_resolved(by=by, device=device, question_id=question_id,
                                commitment_id=commitment_id, resolution=resolution)

    @event("ConflictResolved", topic="alliance.ConflictResolved")
    def _conflict_resolved(self, by: str, device: str, question_id: str | None,
                           commitment_id: str | None, resolution: dict) -> None:
        if question_id is not None:
            answer = self.answers[question_id]
            answer.update(text=resolution["text"], by=by, at=self._acting_at, conflict=[], run=None)
            answer.pop("text_by", None)
            answer["revision"] += 1
        else:
            commitment = self.commitments[commitment_id]
            commitment["revision"] += 1
            commitment["at"] = self._acting_at
            for field, value in resolution["fields"].items():
                commitment[field] = value
                commitment["changed"][field] = commitment["revision"]
            if "text" in resolution["fields"]:
                commitment["text_by"] = by
            commitment["conflict"], commitment["runs"] = {}, {}
        self._content_changed()

    # ----- reviews -----

    def schedule_review(self, *, by: str, device: str, every: int, unit: str, next_date: str) -> None:
        self._check_can_act(by)
        if not isinstance(every, int) or isinstance(every, bool) or not 1 <= every <= 365:
            raise InvalidInput("Reviews repeat every 1 to 365 days or weeks.")
        if unit not in RHYTHM_UNITS:
            raise InvalidInput("The review rhythm is counted in days or weeks.")
        rhythm = {"every": every, "unit": unit, "next": _day(next_date, "next review date")}
        if rhythm["next"] is None:
            raise InvalidInput("Give the date of the next review.")
        if rhythm != self.rhythm:
            self._review_scheduled(by=by, device=device, **rhythm)

    @event("ReviewScheduled", topic="alliance.ReviewScheduled")
    def _review_scheduled(self, by: str, device: str, every: int, unit: str, next: str) -> None:
        self.rhythm = {"every": every, "unit": unit, "next": next}
        self._content_changed()

    def hold_review(self, *, by: str, device: str, review_id: Any, held_on: str,
                    attendees: list, kept: dict, notes: str = "", keep: str = "",
                    start: str = "", stop: str = "", next_date: str | None = None) -> None:
        """Record a review: who came, for each open commitment whether it is being
        kept (True/False), what to keep, start and stop, and when to meet next."""
        self._check_can_act(by)
        review_id = _id(review_id, "review id")
        if review_id in self.reviews:
            if self.reviews[review_id]["by"] == by and self.reviews[review_id]["held_on"] == _day(held_on, "review date"):
                return  # a retried review: already recorded (its commitments may have moved on since)
            raise AlreadyExists("A review with this id already exists.")
        if not isinstance(attendees, list) or not attendees or set(attendees) - set(self.members()):
            raise InvalidInput("Attendees must be participants of the alliance, at least one.")
        open_ids = {cid for cid, c in self.commitments.items() if c["status"] == "open"}
        if not isinstance(kept, dict) or set(kept) - open_ids \
                or not all(isinstance(v, bool) for v in kept.values()):
            raise InvalidInput("Say for open commitments only whether each is being kept (yes or no).")
        review = {
            "held_on": _day(held_on, "review date"), "attendees": sorted(set(attendees)),
            "kept": kept, "notes": _text(notes, "notes", required=False),
            "keep": _text(keep, "keep", required=False), "start": _text(start, "start", required=False),
            "stop": _text(stop, "stop", required=False), "next_date": _day(next_date, "next review date"),
        }
        if review["held_on"] is None:
            raise InvalidInput("Give the date the review was held.")
        self._review_held(by=by, device=device, review_id=review_id, **review)

    @event("ReviewHeld", topic="alliance.ReviewHeld")
    def _review_held(self, by: str, device: str, review_id: str, held_on: str, attendees: list,
                     kept: dict, notes: str, keep: str, start: str, stop: str,
                     next_date: str | None) -> None:
        self.reviews[review_id] = {"held_on": held_on, "attendees": attendees, "kept": kept,
                                   "notes": notes, "keep": keep, "start": start, "stop": stop,
                                   "next_date": next_date, "by": by}
        if self.rhythm and next_date:
            self.rhythm = dict(self.rhythm, next=next_date)

    # ----- consent and the lifecycle -----

    def give_consent(self, *, by: str, device: str, version: int, stance: str, reason: str = "") -> None:
        """Consent to the alliance as it was at `version` (what the person read)."""
        self._check_can_act(by)
        if self.status == "broken":
            raise NotAllowedNow("The alliance is broken: renew it before consenting again.")
        if stance not in STANCES:
            raise InvalidInput("Consent is one of: support, live_with (can live with it), object.")
        reason = _text(reason, "reason", required=stance == "object")
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= self.version:
            raise InvalidInput(f"There is no version {version} of this alliance.")
        if version < self.content_version:
            raise NotAllowedNow(f"The alliance has changed since version {version} "
                                f"(now version {self.content_version}): look at the changes "
                                "and give your consent again.")
        given = self.consents.get(by, {})
        if {k: given.get(k) for k in CONSENT_FIELDS} == {"version": self.content_version, "stance": stance,
                                                          "reason": reason} and not given.get("before_break"):
            return
        self._consent_given(by=by, device=device, version=self.content_version, stance=stance, reason=reason,
                            content_hash=content_hash(self.consented_content()))

    @event("ConsentGiven", topic="alliance.ConsentGiven")
    def _consent_given(self, by: str, device: str, version: int, stance: str, reason: str,
                       content_hash: str | None = None) -> None:
        # Consents from before issue 11 recorded no hash of what they were given to: None.
        self.consents[by] = {"version": version, "stance": stance, "reason": reason, "at": self._acting_at,
                             "content_hash": content_hash}
        self._settle()

    def awaiting_consent(self) -> list[str]:
        """Participants whose support for the current version is still missing (a consent
        given before a break counts once they give it again)."""
        return [uid for uid in self.members()
                if self.consents.get(uid, {}).get("version") != self.content_version
                or self.consents[uid]["stance"] == "object" or self.consents[uid].get("before_break")]

    def _content_changed(self) -> None:
        # Called inside event bodies, before the library bumps self.version.
        self.content_version = self.version + 1
        self._settle()

    def _settle(self) -> None:
        """The lifecycle, folded: agreed when every participant supports or can
        live with the current version; 'changed' once an agreed alliance moved on."""
        if self.status in ("broken", "closed") or not self.members():  # (nobody left: all erased)
            return
        if not self.awaiting_consent():
            if not self.agreed_versions or self.agreed_versions[-1] != self.content_version:
                self.agreed_versions.append(self.content_version)
            if self.status != "agreed":
                self._agreement_reached()
            self.status = "agreed"
        else:
            self.status = "changed" if self.agreed_versions else "draft"

    def _agreement_reached(self) -> None:
        """Inside a fold: everyone agreed (again), by the consents they gave; kept for good,
        so a version can be told as "agreed on 3 December by Ann and Sam"."""
        consents = {uid: {"stance": c["stance"], "at": c.get("at"), "content_hash": c.get("content_hash")}
                    for uid, c in ((uid, self.consents[uid]) for uid in self.members())}
        self.agreements = [*self.agreements, {"version": self.content_version, "at": self._acting_at,
                                              "consents": consents}]

    def break_alliance(self, *, by: str, device: str, what_happened: str, needs_discussing: str = "") -> None:
        self._check_can_act(by)
        if self.status == "broken":
            raise NotAllowedNow("The alliance is already broken; renew it to start again.")
        self._broken(by=by, device=device, what_happened=_text(what_happened, "what happened"),
                     needs_discussing=_text(needs_discussing, "what needs discussing", required=False))

    @event("AllianceBroken", topic="alliance.AllianceBroken")
    def _broken(self, by: str, device: str, what_happened: str, needs_discussing: str) -> None:
        self.status = "broken"
        self.breaks.append({"by": by, "what_happened": what_happened,
                            "needs_discussing": needs_discussing, "renewed": None, "at": self._acting_at})

    def renew_alliance(self, *, by: str, device: str, note: str = "") -> None:
        self._check_can_act(by)
        if self.status != "broken":
            raise NotAllowedNow("Only a broken alliance can be renewed.")
        note = _text(note, "note", required=False)
        if not note:
            raise InvalidInput("Say what you agreed, so the renewal means something.")
        self._renewed(by=by, device=device, note=note, content_hash=content_hash(self.consented_content()))

    @event("AllianceRenewed", topic="alliance.AllianceRenewed")
    def _renewed(self, by: str, device: str, note: str, content_hash: str | None = None) -> None:
        self.breaks[-1]["renewed"] = {"by": by, "note": note, "at": self._acting_at}
        if content_hash is None:  # a renewal from before issue 11: everyone consented afresh
            self.consents = {}
        else:
            # Renewing is the renewer's support of the content as it stands. What the others said
            # stays visible, as said before the break, until they consent again.
            self.consents = {uid: dict(c, before_break=True) for uid, c in self.consents.items()}
            self.consents[by] = {"version": self.content_version, "stance": "support", "reason": "",
                                 "at": self._acting_at, "content_hash": content_hash}
        self.status = "draft"
        self._settle()

    def close_alliance(self, *, by: str, device: str, celebration: str) -> None:
        self._check_can_act(by)
        self._closed(by=by, device=device, celebration=_text(celebration, "celebration"))

    @event("AllianceClosed", topic="alliance.AllianceClosed")
    def _closed(self, by: str, device: str, celebration: str) -> None:
        self.status = "closed"
        self.closing = {"by": by, "celebration": celebration, "at": self._acting_at}
        # Nothing is left hanging: what was still open ended with the alliance, and no review comes.
        # Not a change to consent to: content_version stays what everyone agreed to.
        for commitment in self.commitments.values():
            if commitment["status"] == "open":
                commitment.update(status="ended", revision=commitment["revision"] + 1, at=self._acting_at)
        if self.rhythm:
            self.rhythm = dict(self.rhythm, next=None)

    # ----- tidying: the title, and each person's own list -----

    def rename_alliance(self, *, by: str, device: str, title: str) -> None:
        self._check_can_act(by)
        title = _text(title, "title")
        if len(title) > MAX_TITLE:
            raise InvalidInput(f"The title is longer than {MAX_TITLE} characters: say it shorter.")
        if title != self.title:
            self._renamed(by=by, device=device, title=title)

    @event("AllianceRenamed", topic="alliance.AllianceRenamed")
    def _renamed(self, by: str, device: str, title: str) -> None:
        self.title = title
        self._content_changed()

    def _check_member(self, by: str) -> None:
        if by not in self.members():
            raise NotAParticipant("Only participants of this alliance can archive it, "
                                  "or bring it back, in their own list.")

    def archive_alliance(self, *, by: str, device: str) -> None:
        """Out of my own list (still readable, and back with unarchive); closed ones too."""
        self._check_member(by)
        if by not in self.archived_by:
            self._archived(by=by, device=device)

    @event("AllianceArchived", topic="alliance.AllianceArchived")
    def _archived(self, by: str, device: str) -> None:
        self.archived_by = [*self.archived_by, by]

    def unarchive_alliance(self, *, by: str, device: str) -> None:
        self._check_member(by)
        if by in self.archived_by:
            self._unarchived(by=by, device=device)

    @event("AllianceUnarchived", topic="alliance.AllianceUnarchived")
    def _unarchived(self, by: str, device: str) -> None:
        self.archived_by = [uid for uid in self.archived_by if uid != by]

    def appreciate(self, *, by: str, device: str, participant_id: str, note: str) -> None:
        self._check_can_act(by)
        participant_id = str(participant_id)
        if participant_id not in self.members():
            raise InvalidInput("Appreciate a participant of this alliance.")
        if participant_id == by:
            raise InvalidInput("Appreciation goes to someone else.")
        self._appreciated(by=by, device=device, participant_id=participant_id,
                          note=_text(note, "appreciation"))

    @event("ParticipantAppreciated", topic="alliance.ParticipantAppreciated")
    def _appreciated(self, by: str, device: str, participant_id: str, note: str) -> None:
        self.appreciations.append({"by": by, "to": participant_id, "note": note, "at": self._acting_at})

    # ----- versions -----

    def content(self) -> dict:
        """What the agreement says, without bookkeeping (revisions): what restore
        brings back and what two versions are compared on (with participants
        and consents, see comparable())."""
        return {
            "title": self.title,
            "questions": {qid: {k: copy.deepcopy(q[k]) for k in QUESTION_FIELDS} for qid, q in self.questions.items()},
            "answers": {qid: {"text": a["text"], "conflict": copy.deepcopy(a["conflict"])}
                        for qid, a in self.answers.items()},
            "own_answers": copy.deepcopy(self.own_answers),
            "commitments": {cid: {k: copy.deepcopy(c[k]) for k in (*COMMITMENT_FIELDS, "status", "conflict")}
                            for cid, c in self.commitments.items()},
            "rhythm": copy.deepcopy(self.rhythm),
        }

    def consented_content(self) -> dict:
        """What a consent is given to, and hashed (content_hash): content() as every participant
        sees it alike, so with nothing of private questions (each person's own answers, or an
        agreed answer given before the question was private): they are no part of the agreement."""
        content, private = self.content(), self.private_questions()
        content["answers"] = {qid: a for qid, a in content["answers"].items() if qid not in private}
        content["own_answers"] = {qid: per for qid, per in content["own_answers"].items() if qid not in private}
        return content

    def conflicts(self) -> int:
        """How many values are held in conflict, all things together."""
        return sum(len(a["conflict"]) for a in self.answers.values()) + \
            sum(len(values) for c in self.commitments.values() for values in c["conflict"].values())

    def comparable(self) -> dict:
        return dict(self.content(),
                    participants={uid: {k: p[k] for k in PARTICIPANT_FIELDS} for uid, p in self.participants.items()},
                    consents={uid: {k: c[k] for k in CONSENT_FIELDS} for uid, c in self.consents.items()})

    def restore_version(self, *, by: str, device: str, version: int, content: dict,
                        base_version: int | None = None, base_content: dict | None = None,
                        authors: dict | None = None) -> None:
        """Bring back the content of an earlier version (read by the caller from
        history) as one new event; nothing in between is erased. `base_version` is
        the version the person was looking at (its content read by the caller too):
        whatever someone changed since then stays, with the restored value beside it
        as a conflict, exactly as a stale edit would. `authors` is whose words each text
        of that version was (its text_authors(), read by the caller too)."""
        self._check_can_act(by)
        if not isinstance(version, int) or not 1 <= version < self.version:
            raise InvalidInput(f"Restore a version between 1 and {self.version - 1}.")
        if not isinstance(base_version, int) or isinstance(base_version, bool) \
                or not 1 <= base_version <= self.version:
            raise InvalidInput(f"Say which version you were looking at (base_version, 1 to {self.version}), "
                               "so that changes made since then are kept.")
        now = self.content()
        if not isinstance(content, dict) or set(content) != set(now) or set(base_content or {}) != set(now):
            raise InvalidInput("Give the content of the version to restore (as content() returns it).")
        merged = _keep_changed_since(content, base_content, now, by)
        if merged == now:
            raise NotAllowedNow(f"The alliance already says what version {version} said.")
        self._restored(by=by, device=device, version=version, content=merged,
                       authors=self._writers(merged, content, authors or {}))

    def text_authors(self) -> dict:
        """Whose words each answer, commitment and question says, {"answers": {qid: user id},
        "commitments": {...}, "questions": {...}} (a template's questions are nobody's): restores
        name them, so a text brought back stays its writer's (issue 13)."""
        questions = {qid: q.get("text_by") or q.get("added_by") for qid, q in self.questions.items()}
        return {"answers": {qid: author(a) for qid, a in self.answers.items()},
                "commitments": {cid: author(c) for cid, c in self.commitments.items()},
                "questions": {qid: who for qid, who in questions.items() if who}}

    def _writers(self, content: dict, restored: dict, authors: dict) -> dict:
        """Whose words each text of a restore's `content` is: its writer in the version brought back
        (`restored`, `authors`), or its writer now where it stays as it is now. A placeholder of
        someone erased is nobody's words: the restorer's."""
        now, writers = self.text_authors(), {}
        for section in ("answers", "commitments", "questions"):
            writers[section] = {}
            for key, thing in content[section].items():
                was = restored[section].get(key)
                source = authors if was is not None and was["text"] == thing["text"] else now
                writer = source.get(section, {}).get(key)
                if writer and writer not in self.erasures:
                    writers[section][key] = writer
        return writers

    @event("VersionRestored", topic="alliance.VersionRestored")
    def _restored(self, by: str, device: str, version: int, content: dict, authors: dict | None = None) -> None:
        # Restores from before issue 13 named no authors: their texts are the restorer's.
        content, at, authors = copy.deepcopy(content), self._acting_at, authors or {}

        def written(section: str, key: str) -> dict:
            writer = authors.get(section, {}).get(key)
            return {"text_by": writer} if writer else {}

        self.title = content["title"]
        # Who added a question stays known (content leaves it out).
        self.questions = {qid: dict(q, **_who_when(self.questions.get(qid, {}), ("added_by", "at")),
                                    **written("questions", qid))
                          for qid, q in content["questions"].items()}
        answered_at: dict[str, dict] = {}  # an own answer the restore changed was given now
        for qid, per in content["own_answers"].items():
            for uid, text in per.items():
                same = self.own_answers.get(qid, {}).get(uid) == text
                when = self.own_answered_at.get(qid, {}).get(uid) if same else at
                if when:
                    answered_at.setdefault(qid, {})[uid] = when
        self.own_answers, self.own_answered_at = content["own_answers"], answered_at
        self.rhythm = content["rhythm"]
        # Every thing restored moves on a revision, so an editor who started
        # from the state before the restore meets a conflict, not a silent overwrite.
        answers = {}
        for qid, restored in content["answers"].items():
            revision = self.answers.get(qid, {}).get("revision", 0) + 1
            answers[qid] = dict(restored, by=by, at=at, revision=revision, **written("answers", qid))
        self.answers = answers
        commitments = {}
        for cid, restored in content["commitments"].items():
            before = self.commitments.get(cid, {})
            revision = before.get("revision", 0) + 1
            kept = _who_when(before, ("by", "withdrawn") if restored["status"] == "withdrawn" else ("by",))
            commitments[cid] = dict(restored, revision=revision, changed=dict.fromkeys(COMMITMENT_FIELDS, revision),
                                    **{"by": by, **kept, "at": at}, **written("commitments", cid))
        self.commitments = commitments
        self._content_changed()

    def restore_item(self, *, by: str, device: str, version: int, content: dict,
                     question_id: str | None = None, commitment_id: str | None = None,
                     authors: dict | None = None) -> None:
        """Bring back one agreed answer, or one commitment (its text, owner, due date and
        status), as it was at `version` (its content and text_authors() read by the caller
        from history); nothing else changes."""
        self._check_can_act(by)
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version < self.version:
            raise InvalidInput(f"Bring something back from a version between 1 and {self.version - 1}.")
        if (question_id is None) == (commitment_id is None):
            raise InvalidInput("Name either the question whose answer to bring back, or the commitment.")
        if not isinstance(content, dict) or not {"questions", "answers", "commitments"} <= set(content):
            raise InvalidInput("Give the content of the version to bring it back from (as content() returns it).")
        authors = authors or {}
        if question_id is not None:
            self._restore_answer(by, device, version, content, _key(question_id), authors)
        else:
            self._restore_commitment(by, device, version, content, _key(commitment_id), authors)

    def _restore_answer(self, by: str, device: str, version: int, content: dict, question_id: str,
                        authors: dict) -> None:
        self._question(question_id)
        if question_id in self.private_questions():
            raise NotAllowedNow("This question is for each person's own answer, private until they share it: "
                                "it has no agreed answer to bring back.")
        if question_id not in content["questions"]:
            raise NotFound(f"This question was not in the alliance yet in version {version}: "
                           "there is no answer to bring back.")
        old = content["answers"].get(question_id)
        if old is None:
            raise NotFound(f"This question had no answer yet in version {version}: there is nothing to bring back.")
        writer = authors.get("answers", {}).get(question_id)
        if writer in self.erasures:
            raise NotAllowedNow(f"The answer of version {version} was {self.name_of(writer)}'s, erased at their "
                                "request: there is nothing to bring back.")
        if self.answers.get(question_id, {"text": ""})["text"] == old["text"]:
            raise NotAllowedNow(f"The answer already says what it said in version {version}.")
        self._answer_restored(by=by, device=device, version=version, question_id=question_id, text=old["text"],
                              text_by=writer)

    @event("AnswerRestored", topic="alliance.AnswerRestored")
    def _answer_restored(self, by: str, device: str, version: int, question_id: str, text: str,
                         text_by: str | None = None) -> None:
        answer = self.answers.setdefault(question_id, {"text": "", "by": by, "revision": 0, "conflict": []})
        # Answers held in conflict stay: they are someone's words, still to be resolved.
        answer.update(text=text, by=by, at=self._acting_at, run=None)
        _written_by(answer, text_by)
        answer["revision"] += 1
        self._content_changed()

    def _restore_commitment(self, by: str, device: str, version: int, content: dict, commitment_id: str,
                            authors: dict) -> None:
        old = content["commitments"].get(commitment_id)
        if old is None:
            raise NotFound(f"This commitment did not exist yet in version {version}: there is nothing to bring back.")
        fields = {k: old[k] for k in (*COMMITMENT_FIELDS, "status")}
        now = self.commitments.get(commitment_id)  # gone only if a whole version was restored
        if fields["status"] == "open" and (now is None or fields["owner_id"] != now["owner_id"]):
            fields["owner_id"] = self._owner(fields["owner_id"])  # someone who left cannot own it again
        if now is not None and all(now[k] == v for k, v in fields.items()):
            raise NotAllowedNow(f"This commitment already is as it was in version {version}.")
        writer = authors.get("commitments", {}).get(commitment_id)
        self._commitment_restored(by=by, device=device, version=version, commitment_id=commitment_id,
                                  fields=fields, text_by=None if writer in self.erasures else writer)

    @event("CommitmentRestored", topic="alliance.CommitmentRestored")
    def _commitment_restored(self, by: str, device: str, version: int, commitment_id: str, fields: dict,
                             text_by: str | None = None) -> None:
        commitment = self.commitments.setdefault(commitment_id, {
            "revision": 0, "changed": dict.fromkeys(COMMITMENT_FIELDS, 0), "conflict": {}, "by": by})
        revision = commitment["revision"] + 1
        for field in COMMITMENT_FIELDS:
            if field not in commitment or commitment[field] != fields[field]:
                commitment["changed"][field] = revision  # an editor who started before meets a conflict
        commitment.update(fields, revision=revision, at=self._acting_at)
        commitment.pop("runs", None)
        _written_by(commitment, text_by)
        if fields["status"] == "withdrawn":
            commitment.setdefault("withdrawn", {"by": by, "reason": "", "at": self._acting_at})
        else:
            commitment.pop("withdrawn", None)
        self._content_changed()

    # ----- names of versions -----

    def name_version(self, *, by: str, device: str, version: int, name: str,
                     content_version_then: int | None = None) -> None:
        """Give a content version a name ("after our first review"); an empty name takes it
        away. `content_version_then` is the content version the alliance had at `version`
        (read by the caller from history): only a content version can be named."""
        self._check_can_act(by)
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= self.version:
            raise InvalidInput(f"Name a version between 1 and {self.version}.")
        if content_version_then != version:
            raise InvalidInput(f"Version {version} is not a version of the content: the content there was "
                               f"version {content_version_then}; name that one.")
        name = _text(name, "name", required=False)
        if len(name) > MAX_VERSION_NAME:
            raise InvalidInput(f"The name is longer than {MAX_VERSION_NAME} characters: say it shorter.")
        if name != self.version_names.get(str(version), {}).get("name", ""):
            self._version_named(by=by, device=device, version=version, name=name)

    @event("VersionNamed", topic="alliance.VersionNamed")
    def _version_named(self, by: str, device: str, version: int, name: str) -> None:
        names = dict(self.version_names)  # a new dict: the class-level default is read-only
        if name:
            names[str(version)] = {"name": name, "by": by, "at": self._acting_at}
        else:
            names.pop(str(version), None)
        self.version_names = names

    # ----- the whole state, as clients see it -----

    def as_dict(self) -> dict:
        private = self.private_questions()
        return {
            "id": str(self.id), "version": self.version, "title": self.title,
            "template": self.template, "template_version": self.template_version,
            "status": self.status, "content_version": self.content_version,
            "agreed_versions": list(self.agreed_versions), "agreements": self.all_agreements(),
            "version_names": copy.deepcopy(dict(self.version_names)), "facilitator": self.facilitator,
            "participants": copy.deepcopy(self.participants),
            "invitations": {iid: {"at": None, "uses": 1, "joined": [], "expires_at": None, **invitation}
                            for iid, invitation in copy.deepcopy(self.invitations).items()},  # old snapshots lack some
            "questions": {qid: dict(q, private=qid in private) for qid, q in copy.deepcopy(self.questions).items()},
            "answers": copy.deepcopy(self.answers), "shared_answers": copy.deepcopy(dict(self.shared_answers)),
            "own_answers": copy.deepcopy(self.own_answers),
            "own_answered_at": copy.deepcopy(dict(self.own_answered_at)),
            "commitments": copy.deepcopy(self.commitments), "rhythm": copy.deepcopy(self.rhythm),
            "reviews": copy.deepcopy(self.reviews), "consents": copy.deepcopy(self.consents),
            "awaiting_consent": self.awaiting_consent(), "breaks": copy.deepcopy(self.breaks),
            "appreciations": copy.deepcopy(self.appreciations), "closing": copy.deepcopy(self.closing),
            "archived_by": list(self.archived_by), "erasures": copy.deepcopy(dict(self.erasures)),
            "created_on": self.created_on.isoformat(), "modified_on": self.modified_on.isoformat(),
            "chain_head": self.chain,  # devices keep it as an anchor for verify (SYNC.md 15)
        }

    def all_agreements(self) -> list[dict]:
        """Every agreement; a version agreed before the snapshot this state grew from (taken
        before agreements were kept) is told without who and when."""
        told = copy.deepcopy(list(self.agreements))
        known = {a["version"] for a in told}
        unknown = [{"version": v, "at": None, "consents": {}} for v in self.agreed_versions if v not in known]
        return sorted(unknown + told, key=lambda a: a["version"])


def content_hash(content: dict) -> str:
    """SHA-256 (hex) of content as canonical JSON: keys sorted, no whitespace, UTF-8, non-ASCII
    as it is. docs/PROTOCOL.md says the same, so a phone can hash what it shows and compare."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _who_when(before: dict, keys: tuple) -> dict:
    """The who-and-when fields of a thing as it was (absent ones stay absent: old snapshots)."""
    return {k: copy.deepcopy(before[k]) for k in keys if k in before}


def _written_by(thing: dict, text_by: str | None) -> None:
    """Inside a restore's fold: whose words the thing's text is now (a restore from before issue
    13 named nobody: then whoever the thing says did it)."""
    if text_by:
        thing["text_by"] = text_by
    else:
        thing.pop("text_by", None)


def _key(value: Any) -> str | None:
    return None if value is None else str(value)


def _stale(changed_at: int, run: dict | None, base_revision: int, device: str) -> bool:
    """Whether someone else changed a value since the revision an editor started
    from. A device's own earlier edits, still on their way when it made this
    one (an offline phone's outbox), do not count."""
    if changed_at <= base_revision:
        return False
    return not (run and run["device"] == device and base_revision >= run["since"])


def _next_run(run: dict | None, base_revision: int, device: str) -> dict:
    """After an edit is applied: the device's run of edits goes on, or a new one starts."""
    if run and run["device"] == device and base_revision >= run["since"]:
        return run
    return {"device": device, "since": base_revision}


def _check_base(base_revision: Any, current: int) -> None:
    if not isinstance(base_revision, int) or isinstance(base_revision, bool) \
            or not 0 <= base_revision <= current:
        raise InvalidInput(f"The base revision must be a whole number from 0 to {current}.")


def _keep_changed_since(restored: dict, base: dict, now: dict, by: str) -> dict:
    """The content a restore records: the restored one, except for what changed between
    `base` and `now` (someone else's edit the restorer never saw). That stays as it is now;
    for answers and commitment fields the restored value is kept beside it as a conflict."""
    merged = copy.deepcopy(restored)
    for key in ("title", "rhythm"):
        if base[key] != now[key]:
            merged[key] = copy.deepcopy(now[key])
    for key in ("questions", "own_answers"):
        for thing in set(base[key]) | set(now[key]):
            if base[key].get(thing) != now[key].get(thing) and thing in now[key]:
                merged[key][thing] = copy.deepcopy(now[key][thing])
    for qid in set(base["answers"]) | set(now["answers"]):
        current, old = now["answers"].get(qid), restored["answers"].get(qid)
        if base["answers"].get(qid) == current or current is None:
            continue
        kept = merged["answers"][qid] = copy.deepcopy(current)
        if old and old["text"] != current["text"] and all(c["text"] != old["text"] for c in kept["conflict"]):
            kept["conflict"].append({"text": old["text"], "by": by})
    for cid in set(base["commitments"]) | set(now["commitments"]):
        current, old = now["commitments"].get(cid), restored["commitments"].get(cid)
        if base["commitments"].get(cid) == current or current is None:
            continue
        kept = merged["commitments"][cid] = copy.deepcopy(current)
        for field in COMMITMENT_FIELDS if old else ():
            if old[field] != current[field] and old[field] not in kept["conflict"].get(field, []):
                kept["conflict"].setdefault(field, []).append(old[field])
    return merged

