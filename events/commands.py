"""The commands people can give, as one typed table: a msgspec Struct of each command's
arguments, named as the aggregate's method. The application runs every command
through it (a push and a test alike), so arguments are checked in one place, before
the domain's own rules, and the sync protocol's schema is read from the same table.
"""

import re
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from events.alliance import InvalidInput
from events.text import quote, shorten

Text = str
Day = str | None  # an ISO day, 2027-03-10; the domain checks the calendar


class Command(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Arguments of one command; the class's `method` is the aggregate's method it runs."""

    def arguments(self) -> dict[str, Any]:
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not UNSET}


# ----- an alliance's commands -----

class InviteParticipant(Command):
    invitation_id: str
    name: Text


class Join(Command):
    invitation_id: str
    name: Text


class Leave(Command):
    pass


class RevokeInvitation(Command):
    invitation_id: str


class AddQuestion(Command):
    question_id: str
    section: Text
    text: Text


class RewordQuestion(Command):
    question_id: str
    text: Text


class RemoveQuestion(Command):
    question_id: str


class AnswerQuestion(Command):
    question_id: str
    text: Text
    base_revision: int


class GiveOwnAnswer(Command):
    question_id: str
    text: Text


class ShareOwnAnswer(Command):
    question_id: str


class MakeCommitment(Command):
    commitment_id: str
    text: Text
    owner_id: str
    due: Day = None


class AmendCommitment(Command):
    commitment_id: str
    base_revision: int
    text: Text | UnsetType = UNSET
    owner_id: str | UnsetType = UNSET
    due: Day | UnsetType = UNSET


class CompleteCommitment(Command):
    commitment_id: str


class WithdrawCommitment(Command):
    commitment_id: str
    reason: Text = ""


class ReopenCommitment(Command):  # the undo of completing or withdrawing it
    commitment_id: str


class ResolveConflict(Command):
    question_id: str | None = None
    commitment_id: str | None = None
    text: Text | None = None
    fields: dict[str, Any] | None = None


class ScheduleReview(Command):
    every: int
    unit: str
    next_date: Day


class HoldReview(Command):
    review_id: str
    held_on: Day
    attendees: list[str]
    kept: dict[str, bool]
    notes: Text = ""
    keep: Text = ""
    start: Text = ""
    stop: Text = ""
    next_date: Day = None


class GiveConsent(Command):
    version: int
    stance: str
    reason: Text = ""


class BreakAlliance(Command):
    what_happened: Text
    needs_discussing: Text = ""


class RenewAlliance(Command):
    note: Text  # what was agreed to go on: the domain refuses an empty one


class RenameAlliance(Command):
    title: Text


class ArchiveAlliance(Command):  # out of my own list, or back into it (unarchive)
    pass


class CloseAlliance(Command):
    celebration: Text


class Appreciate(Command):
    participant_id: str
    note: Text


class RestoreVersion(Command):
    version: int | None  # the domain says which versions can be restored
    base_version: int | None = None  # the version the person was looking at; the domain insists


class RestoreItem(Command):  # one answer or one commitment (the domain insists on exactly one)
    version: int | None
    question_id: str | None = None
    commitment_id: str | None = None


class NameVersion(Command):
    version: int | None  # a content version; the domain says which can be named
    name: Text  # empty: the name goes


class EraseWords(Command):  # everything I wrote here, for good (issue 13); I am out of it too
    pass


ALLIANCE_COMMANDS: dict[str, type[Command]] = {
    "revoke_invitation": RevokeInvitation,
    "invite_participant": InviteParticipant, "join": Join, "leave": Leave, "add_question": AddQuestion,
    "reword_question": RewordQuestion, "remove_question": RemoveQuestion, "answer_question": AnswerQuestion,
    "give_own_answer": GiveOwnAnswer, "share_own_answer": ShareOwnAnswer, "make_commitment": MakeCommitment, "amend_commitment": AmendCommitment,
    "complete_commitment": CompleteCommitment, "withdraw_commitment": WithdrawCommitment,
    "resolve_conflict": ResolveConflict, "schedule_review": ScheduleReview, "hold_review": HoldReview,
    "give_consent": GiveConsent, "break_alliance": BreakAlliance, "renew_alliance": RenewAlliance,
    "close_alliance": CloseAlliance, "appreciate": Appreciate, "restore_version": RestoreVersion,
    "rename_alliance": RenameAlliance, "archive_alliance": ArchiveAlliance, "unarchive_alliance": ArchiveAlliance,
    "reopen_commitment": ReopenCommitment, "restore_item": RestoreItem, "name_version": NameVersion,
    "erase_words": EraseWords,
}


# ----- designing one, and the ally inventory -----

class DesignAlliance(Command):
    title: Text
    template: str
    facilitator_name: Text | UnsetType = UNSET  # the designer's display name when left out


class AddGoal(Command):
    goal_id: str
    text: Text


class AllyFields(Command):
    kinds: list[str] | UnsetType = UNSET
    reason: str | None | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    stance: str | UnsetType = UNSET
    plan: Text | UnsetType = UNSET
    note: Text | UnsetType = UNSET
    supports: list[str] | UnsetType = UNSET
    user_id: str | None | UnsetType = UNSET
    every_days: int | None | UnsetType = UNSET


class AddAlly(AllyFields, kw_only=True):
    ally_id: str
    name: Text


class UpdateAlly(AllyFields, kw_only=True):
    ally_id: str
    name: Text | UnsetType = UNSET


class RemoveAlly(Command):
    ally_id: str


class Touch(Command):  # a check-in or a thanks
    ally_id: str
    on: Day
    note: Text = ""


INVENTORY_COMMANDS: dict[str, type[Command]] = {
    "add_goal": AddGoal, "add_ally": AddAlly, "update_ally": UpdateAlly, "remove_ally": RemoveAlly,
    "check_in": Touch, "thank": Touch,
}


# ----- a person's reminder preferences (issue 12) -----

class QuietHours(Command):
    start: str = msgspec.field(name="from")
    to: str


class SetReminderPreferences(Command):
    time_zone: str | UnsetType = UNSET
    morning: str | UnsetType = UNSET
    quiet_hours: QuietHours | bool | UnsetType = UNSET  # false: none (the domain refuses true)
    delivery: str | UnsetType = UNSET
    digest_at: str | UnsetType = UNSET
    channels: dict[str, list[str]] | UnsetType = UNSET

    def arguments(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)  # quiet hours back to {"from", "to"}, as the domain takes them


PREFERENCE_COMMANDS: dict[str, type[Command]] = {"change": SetReminderPreferences}


def arguments(table: dict[str, type[Command]], command: str, args: Any) -> dict[str, Any]:
    """The checked arguments of a command, or InvalidInput saying in words what is wrong."""
    kind = table.get(command)
    if kind is None:
        raise InvalidInput(f"There is no command called {quote(command)}.")
    return checked(kind, args, command)


def checked(kind: type[Command], args: Any, what: str) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise InvalidInput("The arguments of a mutation are an object.")
    try:
        # Through JSON's types first, so a Python caller (a UUID object) and a phone are checked alike.
        return msgspec.convert(msgspec.to_builtins(args), kind, strict=True).arguments()
    except (msgspec.ValidationError, TypeError) as error:
        raise InvalidInput(f"Wrong arguments for {what}: {_in_words(str(error))}") from None


KINDS = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true or false",
         "array": "a list", "object": "an object", "null": "nothing (null)"}


def _in_words(message: str) -> str:
    """msgspec's message, said as a sentence ("The base revision must be a whole number, not text.")."""
    expected = re.fullmatch(r"Expected `(.+?)`, got `(.+?)`(?: - at `\$\.(.+?)`)?", message)
    if expected:
        kinds = " or ".join(KINDS.get(k.strip(), k.strip()) for k in expected[1].split("|"))
        field = (expected[3] or "value").replace("_", " ")
        return f"the {field} must be {kinds}, not {KINDS.get(expected[2], expected[2])}."
    missing = re.fullmatch(r"Object missing required field `(.+?)`(?: - at `\$\.(.+?)`)?", message)
    if missing and missing[2]:  # inside an object: name both
        return f"the {missing[2].replace('_', ' ')} need {quote(missing[1])} as well."
    if missing:
        return f"give the {missing[1].replace('_', ' ')} ({missing[1]})."
    unknown = re.fullmatch(r"Object contains unknown field `(.+?)`.*", message)
    if unknown:
        return f"there is no argument called {quote(unknown[1])}."
    return shorten(message, 300)
