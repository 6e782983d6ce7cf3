"""The protocol's mutations: each names a command of the domain (events/commands.py,
where every command's arguments are typed), with the protocol's own spelling."""

from events.alliance import AllianceError
from events.commands import ALLIANCE_COMMANDS
from events.preferences import PREFERENCE_MUTATIONS
from events.text import shorten

MAX_MUTATIONS = 1000  # per push; clients chunk their outbox
MAX_DETAIL = 500  # characters of a refusal's message: the ledger keeps 1,000 outcomes

# Mutation name -> (alliance command, {protocol argument: command argument}).
MUTATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "leave_alliance": ("leave", {}),
    "break_alliance": ("break_alliance", {"reason": "what_happened"}),
    "erase_my_words": ("erase_words", {}),
    **{name: (name, {}) for name in ALLIANCE_COMMANDS if name not in ("join", "leave", "break_alliance", "erase_words")},
}
# Commands after which the pusher is out of the alliance: their devices drop it on their next pull.
LEAVING = ("leave", "erase_words")
# The ally inventory's mutations change the pusher's own inventory; their alliance_id is not used.
INVENTORY_MUTATIONS: dict[str, str] = {"add_goal": "add_goal", "add_ally": "add_ally",
                                       "update_ally": "update_ally", "remove_ally": "remove_ally",
                                       "check_in_with_ally": "check_in", "thank_ally": "thank"}
MUTATION_NAMES = ("create_alliance", *MUTATIONS, *INVENTORY_MUTATIONS, *PREFERENCE_MUTATIONS)


def problem(error: AllianceError) -> dict:
    """A refusal as a push result carries it (and the device's ledger stores it)."""
    return {"type": f"urn:alliance:problem:{error.code}", "title": error.code.replace("_", " ").capitalize(),
            "detail": shorten(str(error), MAX_DETAIL), "code": error.code}
