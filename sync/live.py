"""The live stream's change pages (docs/PROTOCOL.md, "The change event"): for a push that
committed the log entries (after, upto], the page a person's pull would answer a device whose
cursor stands at `after`, built by the pull itself, once in each process for everyone it would
be the same for (ChangePages._view) however many devices listen there, and then made each
device's own by its two cursors."""

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any, Callable

import msgspec

from events import log
from events.alliance import Alliance
from events.application import AllianceApplication
from events.privacy import holds_private_words
from sync.cursors import make_cursor, read_cursor
from sync.pull import _mark_at, pull, read_by

# Shorter than any real client id (8 characters at least): the page reads no device's ledger;
# each device's own last mutation id goes into its copy (for_device).
NO_DEVICE = "live"
LIMIT = 1000  # events: a push bigger than this for one person is poked about instead
KEPT = 256  # pages kept per process, for devices of the same person hearing the same change


@dataclass(frozen=True)
class ChangePage:
    after: int
    after_mark: str
    upto: int
    upto_mark: str
    rest: bytes  # the page's fields but `cursor` and `last_mutation_id`, encoded once: b'{"more":false,...}'
    alliances: frozenset[str]  # the alliances it brings


def change_page(app: AllianceApplication, user_id: str, after: int, upto: int) -> ChangePage | None:
    """The person's pull page for the log entries in (after, upto], in their own view (others'
    private words redacted, by the pull); None when it would not be one plain page (a reset,
    or more than LIMIT events): then their devices are poked and pull."""
    after_mark = _mark_at(app, after)
    cursor = make_cursor(app.server_key, after, after_mark, 0, NO_DEVICE)
    page = pull(app, user_id, NO_DEVICE, cursor, LIMIT, upto=upto)
    if page["reset"] or page["more"]:
        return None
    position, _, upto_mark = read_cursor(app.server_key, page.pop("cursor"), NO_DEVICE, upto)
    del page["last_mutation_id"]
    return ChangePage(after, after_mark, position, upto_mark, msgspec.json.encode(page),
                      frozenset(a["id"] for a in page["alliances"]))


def for_device(app: AllianceApplication, page: ChangePage, client_id: str, last_mutation_id: int,
               start: str | None = None) -> tuple[bytes, str]:
    """The `change` event's data for one device whose ledger is at `last_mutation_id`, and the
    cursor its page hands it: `from` is the cursor a pull would have given it at `after`, and
    the page's cursor moves it to `upto`.
    A device holding exactly `from` has everything up to `after` and no mutation acknowledged
    past `last_mutation_id`, so the page is what its pull would answer. (The pushing device's
    ledger has moved on in (after, upto]: its `from` names no cursor it ever held, so it pulls.)
    `start`, when given, is an earlier cursor of the device's that is just as current (see
    still_current): then `from` is that one."""
    start = start or make_cursor(app.server_key, page.after, page.after_mark, last_mutation_id, client_id)
    end = make_cursor(app.server_key, page.upto, page.upto_mark, last_mutation_id, client_id)
    return (b'{"from":"%s","page":{"cursor":"%s","last_mutation_id":%d,%s}'
            % (start.encode(), end.encode(), last_mutation_id, page.rest[1:])), end


def still_current(app: AllianceApplication, user_id: str, client_id: str, cursor: str | None, after: int,
                  last_mutation_id: int) -> str | None:
    """`cursor` (the last one handed to the device) if a device holding it has everything of the
    person's up to `after`: its ledger is where it was, and nothing of theirs was logged between
    its position and `after` (one indexed query). A pull with nothing new hands back the cursor
    it was given, so a phone that is up to date often holds a cursor from before others' writes."""
    read = read_cursor(app.server_key, cursor, client_id, after)
    if read is None or read[1] != last_mutation_id or read[0] == after:
        return None
    account = app.account(user_id, copy=False)
    return None if log.entries_of(app.recorder, read_by(account, client_id), after=read[0], upto=after,
                                  limit=1) else cursor


class ChangePages:
    """The pages of the latest changes, each built once: the devices hearing the same change
    that would be given the same page wait for the one build (see `_view`)."""

    def __init__(self, app: AllianceApplication):
        self.app = app
        self._lock = Lock()
        self._pages: OrderedDict[tuple[object, int, int], _Once] = OrderedDict()
        self._logged: OrderedDict[tuple[int, int], _Logged] = OrderedDict()
        self._accounts: OrderedDict[tuple[str, int], Any] = OrderedDict()  # read once per person and change
        self._alliances: OrderedDict[tuple[str, int], Alliance] = OrderedDict()  # (id, version) -> the alliance then

    def get(self, user_id: str, after: int, upto: int) -> ChangePage | None:
        view = self._view(user_id, after, upto)
        key = (view, after, upto)
        with self._lock:
            once = self._pages.get(key)
            if once is None:
                once = self._pages[key] = _Once()
                if len(self._pages) > KEPT:
                    self._pages.popitem(last=False)
        with once.lock:
            if not once.built:
                once.page, once.built = change_page(self.app, user_id, after, upto), True
                # Built for one of those it is shared by: if their alliances changed meanwhile (joined
                # or left since), the page is not the others' page, and they are poked instead.
                if isinstance(view, tuple) and once.page is not None and once.page.alliances != view[1]:
                    once.page = None
        return once.page

    def _view(self, user_id: str, after: int, upto: int) -> object:
        """Whose page this person's is. A person's pull page of (after, upto] depends on them only
        through which of its entries they read, and through privacy (events.privacy): their own
        words on private questions are in their view alone. So the members whose read there holds
        the same alliances and nothing else of theirs (no inventory, no account), who wrote none
        of its events and hold no words on those alliances' private questions, get one page;
        anyone else gets their own."""
        logged = self._logged_in(after, upto)
        if logged is None or user_id in logged.authors or logged.restored:
            return user_id
        account = self._kept(self._accounts, (user_id, upto), lambda: self.app.account(user_id, copy=False))
        theirs = {str(aggregate) for aggregate in read_by(account, NO_DEVICE)} & logged.versions.keys()
        if not theirs <= set(account.alliances):
            return user_id
        for aid in theirs:
            alliance = self._alliance_at(aid, logged.versions[aid])
            private = alliance.private_questions()
            if private and holds_private_words(user_id, private, alliance.answers, alliance.own_answers,
                                               alliance.own_answered_at):
                return user_id
        return ("alliances", frozenset(theirs))

    def _alliance_at(self, alliance_id: str, version: int) -> Alliance:
        return self._kept(self._alliances, (alliance_id, version),
                          lambda: self.app.alliance(alliance_id, version=version, copy=False), most=16)

    def _logged_in(self, after: int, upto: int) -> "_Logged | None":
        """What (after, upto] holds, read once; None for more than a page."""
        if upto - after > 4 * LIMIT:
            return None

        def read() -> _Logged:
            logged = _Logged({}, set(), False)
            for entry in self.app.recorder.select_notifications(start=after, stop=upto, limit=upto - after,
                                                                inclusive_of_start=False):
                logged.versions[str(entry.originator_id)] = entry.originator_version
                if entry.topic.startswith("alliance."):
                    logged.authors.add(getattr(self.app.mapper.to_domain_event(entry), "by", None))
                    logged.restored |= entry.topic == "alliance.VersionRestored"
            return logged
        return self._kept(self._logged, (after, upto), read)

    def _kept(self, cache: OrderedDict, key: object, make: Callable[[], Any], most: int = KEPT) -> Any:
        """What `make` gives for `key`, made once while it is among the latest `most`."""
        with self._lock:
            if key in cache:
                return cache[key]
        value = make()
        with self._lock:
            cache[key] = value
            if len(cache) > most:
                cache.popitem(last=False)
        return value


@dataclass
class _Logged:
    versions: dict[str, int]  # each aggregate logged, and its newest version there
    authors: set[str]  # who made the alliances' events
    restored: bool  # a version restored: its content holds words of earlier versions


class _Once:
    def __init__(self) -> None:
        self.lock, self.built, self.page = Lock(), False, None
