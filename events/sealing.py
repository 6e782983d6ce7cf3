"""Sealed texts: every text a person writes is stored encrypted with a key of their own (issue 13).

In a stored event, such a text is `{"_sealed_": <base64url of a 12-byte nonce + AES-GCM
ciphertext and tag>, "_by_": <author's user id>}`. The key is the author's for one scope (the
alliance, the ally inventory or the account the event is of): erasing someone's words from
one alliance destroys one key, deleting an account destroys all of the person's keys. The
associated data binds each text to its place (scope, event, version, path, author), so a
ciphertext moved elsewhere, or read with another key, is refused. Empty strings stay plain.

`SEALED` below is the one list of what is sealed and whose it is. What stays plain is the
shape of the agreement, which every participant shares and none of them wrote alone:
alliance titles, the template's question texts (and section names), participants' and
invitees' names, ids, dates, stances, statuses. So does what the server keeps to run:
password hashes, sessions, devices, preferences.

The key store lives apart from the events (a SQLite file beside the store's, a table in
PostgreSQL, a dict for a store in memory); keys are wrapped with the store's cipher key
when one is set. A destroyed key leaves a tombstone with its time, and a text sealed with it
reads as `events.text.erased_text(at)`; a key that is missing and was never destroyed is an
error (the record cannot be read). The events, their audit chain and the ciphertexts stay.
"""

import base64
import os
import sqlite3
import threading
import uuid
from functools import partial
from typing import Any, Callable, Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Mapper, StoredEvent, find_id_convertor
from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool
from eventsourcing.utils import get_topic, resolve_topic

from events.text import erased_text

SEALED_MARK, AUTHOR_MARK = "_sealed_", "_by_"
NONCE = 12
# Events that erase someone's words (issue 13): whoever reads one forgets the keys it kept of
# that scope (another process may have destroyed one), and a cached aggregate is rebuilt.
ERASURES = ("alliance.WordsErased", "inventory.InventoryErased", "account.AccountDeleted")


class UnreadableText(Exception):
    """A sealed text that cannot be read: its key is missing (and was never destroyed), or the
    key or its place does not fit (a wrong key, or a ciphertext moved from elsewhere)."""


# ----- whose each text is: (event state, the path to the text, the dict holding it) -> user id -----

def _by(state: dict, path: tuple, holder: Any) -> str:
    return state["by"]


def _text_by(state: dict, path: tuple, holder: Any) -> str:
    return state.get("text_by") or state["by"]


def _named(kind: str) -> Callable:
    """A restored version's text: its author as the event names them (`authors`), else the restorer."""
    def author(state: dict, path: tuple, holder: Any) -> str:
        return (state.get("authors") or {}).get(kind, {}).get(path[2]) or state["by"]
    return author


def _own_answerer(state: dict, path: tuple, holder: Any) -> str:
    return path[3]  # content.own_answers.<question id>.<user id>


def _conflict_author(state: dict, path: tuple, holder: Any) -> str:
    return holder.get("by") or state["by"]  # a held answer says who gave it


def _added_question_author(state: dict, path: tuple, holder: Any) -> str | None:
    """Questions people added have UUID ids; the template's own (plain) have their keys."""
    try:
        uuid.UUID(path[2])
    except ValueError:
        return None
    return _named("questions")(state, path, holder)


OWNER = "owner"  # an ally inventory's texts are its owner's (the Sealer looks them up)
ACCOUNT = "account"  # an account's texts are the account's own person's


SEALED: dict[str, dict[str, Any]] = {
    "alliance.QuestionAdded": {"text": _by},
    "alliance.QuestionReworded": {"text": _by},
    "alliance.QuestionAnswered": {"text": _by},
    "alliance.OwnAnswerGiven": {"text": _by},
    "alliance.CommitmentMade": {"text": _by},
    "alliance.CommitmentAmended": {"changes.text": _by},
    "alliance.CommitmentWithdrawn": {"reason": _by},
    "alliance.ConflictResolved": {"resolution.text": _by, "resolution.fields.text": _by},
    "alliance.ReviewHeld": {"notes": _by, "keep": _by, "start": _by, "stop": _by},
    "alliance.ConsentGiven": {"reason": _by},
    "alliance.AllianceBroken": {"what_happened": _by, "needs_discussing": _by},
    "alliance.AllianceRenewed": {"note": _by},
    "alliance.AllianceClosed": {"celebration": _by},
    "alliance.ParticipantAppreciated": {"note": _by},
    "alliance.VersionNamed": {"name": _by},
    "alliance.VersionRestored": {
        "content.questions.*.text": _added_question_author,
        "content.answers.*.text": _named("answers"),
        "content.answers.*.conflict.*.text": _conflict_author,
        "content.own_answers.*.*": _own_answerer,
        "content.commitments.*.text": _named("commitments"),
        "content.commitments.*.conflict.text.*": _named("commitments"),
    },
    "alliance.AnswerRestored": {"text": _text_by},
    "alliance.CommitmentRestored": {"fields.text": _text_by},
    "inventory.GoalNamed": {"text": OWNER},
    "inventory.AllyAdded": {"ally.name": OWNER, "ally.plan": OWNER, "ally.note": OWNER},
    "inventory.AllyUpdated": {"changes.name": OWNER, "changes.plan": OWNER, "changes.note": OWNER},
    "inventory.AllyTouched": {"note": OWNER},
    "account.SignedUp": {"email": ACCOUNT, "display_name": ACCOUNT},
}
_STEPS = {topic: [(tuple(path.split(".")), author) for path, author in paths.items()]
          for topic, paths in SEALED.items()}


def _replace(value: Any, steps: tuple, path: tuple, holder: Any, leaf: Callable) -> Any:
    """`value` with whatever lies at `steps` ("*": every key or item) replaced by
    leaf(it, its path, the dict or list holding it); untouched parts are shared, not copied."""
    if not steps:
        return leaf(value, path, holder)
    step, rest = steps[0], steps[1:]
    if isinstance(value, dict):
        names = list(value) if step == "*" else [step] if step in value else []
        if not names:
            return value
        new = dict(value)
        for name in names:
            new[name] = _replace(value[name], rest, (*path, str(name)), value, leaf)
        return new
    if isinstance(value, list) and step == "*":
        return [_replace(item, rest, (*path, str(i)), value, leaf) for i, item in enumerate(value)]
    return value


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and SEALED_MARK in value


def has_plain_text(topic: str, state: dict) -> bool:
    """Whether a stored event's state still holds a text in the clear that should be sealed
    (an event stored before issue 13): the upgrade step seals those."""
    found = False

    def look(value: Any, path: tuple, holder: Any) -> Any:
        nonlocal found
        found = found or (isinstance(value, str) and value != "")
        return value

    for steps, _ in _STEPS.get(topic, ()):
        _replace(state, steps, (), None, look)
    return found


INVENTORY_STARTED = "inventory.InventoryStarted"


class Sealer:
    """Seals and unseals the texts of one event's state with the authors' keys."""

    def __init__(self, keys: "KeyStore", owner_of: Callable[[str], str]) -> None:
        self.keys, self._owner_of = keys, owner_of  # owner_of(inventory id) reads its owner from the store
        self._owners: dict[str, str] = {}

    def seal_state(self, topic: str, originator_id: Any, version: int, state: dict) -> dict:
        """The state with each text in SEALED sealed with its author's key (made when first needed).
        A text whose author's key was destroyed can only be the erasure's wording: stored as that."""
        scope = str(originator_id)
        if topic == INVENTORY_STARTED:  # its later events, saved with it, are not stored yet to look in
            self._owners[scope] = state["owner"]

        def seal(rule: Any, value: Any, path: tuple, holder: Any) -> Any:
            if not isinstance(value, str) or not value:
                return value
            author = self._author(rule, state, scope, path, holder)
            if author is None:
                return value
            cipher = self.keys.opened(author, scope, create=True)
            if isinstance(cipher, str):
                return erased_text(cipher)
            nonce = os.urandom(NONCE)
            sealed = cipher.encrypt(nonce, value.encode(), _place(scope, originator_id, version, path, author))
            return {SEALED_MARK: base64.urlsafe_b64encode(nonce + sealed).decode(), AUTHOR_MARK: author}

        sealed = state
        for steps, rule in _STEPS.get(topic, ()):
            sealed = _replace(sealed, steps, (), None, partial(seal, rule))
        return sealed

    def unseal_state(self, topic: str, originator_id: Any, version: int, state: dict) -> dict:
        """The state with each sealed text read; a destroyed key's texts read as the erasure's wording."""
        scope = str(originator_id)

        def unseal(value: Any, path: tuple, holder: Any) -> Any:
            if not is_sealed(value):
                return value
            author = value[AUTHOR_MARK]
            cipher = self.keys.opened(author, scope)
            if cipher is None:
                raise UnreadableText(f"A text of {author} in event {version} of {scope} cannot be read: "
                                     "its key is missing (it was never erased).")
            if isinstance(cipher, str):
                return erased_text(cipher)
            raw = base64.urlsafe_b64decode(value[SEALED_MARK])
            try:
                return cipher.decrypt(raw[:NONCE], raw[NONCE:],
                                      _place(scope, originator_id, version, path, author)).decode()
            except InvalidTag:
                raise UnreadableText(f"A text of {author} in event {version} of {scope} does not fit its key "
                                     "or its place: it was altered or moved.") from None

        for steps, _ in _STEPS.get(topic, ()):
            state = _replace(state, steps, (), None, unseal)
        return state

    def _author(self, rule: Any, state: dict, scope: str, path: tuple, holder: Any) -> str | None:
        if rule == OWNER:
            if scope not in self._owners:
                self._owners[scope] = self._owner_of(scope)
            return self._owners[scope]
        if rule == ACCOUNT:
            return scope
        return rule(state, path, holder)


def _place(scope: str, originator_id: Any, version: int, path: tuple, author: str) -> bytes:
    return f"{scope}|{originator_id}|{version}|{'.'.join(path)}|{author}".encode()


# ----- the key store -----

class KeyStore:
    """A data key per (author user id, scope). Keys are kept in memory once read (`evict` forgets
    them, so another process's erasure is seen); a destroyed key is a tombstone with its time."""

    def __init__(self, wrapping_key: bytes | None = None) -> None:
        self._wrap = AESGCM(wrapping_key) if wrapping_key else None
        self._cached: dict[tuple[str, str], AESGCM | str] = {}  # a cipher, or the time it was destroyed
        self._lock = threading.Lock()

    # ----- the API (sheet, section 1) -----

    def key(self, person: str, scope: Any, create: bool = False) -> bytes | None:
        """The person's key for the scope (None if destroyed, or missing and not to be made)."""
        found = self._found(person, str(scope), create)
        return None if found is None else found[0]

    def erased_at(self, person: str, scope: Any) -> str | None:
        found = self._row(person, str(scope))
        return None if found is None else found[1]

    def destroy(self, person: str, scope: Any, at: str) -> None:
        """Replace the key by a tombstone (idempotent: the first erasure's time stays)."""
        self._tombstone(person, str(scope), at)
        self.evict(scope)

    def scopes_of(self, person: str) -> list[str]:
        return self._scopes(person)

    def rows(self) -> Iterator[dict]:
        """Every key, unwrapped, for an export: {person, scope, key (base64) | None, erased_at}."""
        for person, scope, wrapped, erased_at in self._all():
            key = None if wrapped is None else base64.b64encode(self._unwrapped(person, scope, wrapped)).decode()
            yield {"person": person, "scope": scope, "key": key, "erased_at": erased_at}

    def load(self, rows: Iterable[dict]) -> None:
        """Rows as `rows()` gives them, wrapped with this store's cipher key (an import)."""
        for row in rows:
            if row["key"] is None:
                self._tombstone(row["person"], row["scope"], row["erased_at"])
            else:
                key = base64.b64decode(row["key"])
                self._insert(row["person"], row["scope"], self._wrapped(row["person"], row["scope"], key))
        with self._lock:
            self._cached.clear()

    def evict(self, scope: Any) -> None:
        """Forget what is kept in memory of the scope's keys: read them again from the store."""
        with self._lock:
            for place in [p for p in self._cached if p[1] == str(scope)]:
                del self._cached[place]

    def close(self) -> None:
        pass

    # ----- for the Sealer -----

    def opened(self, person: str, scope: str, create: bool = False) -> AESGCM | str | None:
        """The person's key for the scope ready to use, or the time it was destroyed, or None
        if there is none (not kept in memory: it may be made yet)."""
        cached = self._cached.get((person, scope))
        if cached is None:
            found = self._found(person, scope, create)
            if found is None:
                return None
            cached = AESGCM(found[0]) if found[0] is not None else found[1]
            with self._lock:
                self._cached[(person, scope)] = cached
        return cached

    # ----- wrapping with the store's cipher key -----

    def _wrapped(self, person: str, scope: str, key: bytes) -> bytes:
        if self._wrap is None:
            return key
        nonce = os.urandom(NONCE)
        return nonce + self._wrap.encrypt(nonce, key, f"{person}|{scope}".encode())

    def _unwrapped(self, person: str, scope: str, stored: bytes) -> bytes:
        if self._wrap is None:
            return stored
        try:
            return self._wrap.decrypt(stored[:NONCE], stored[NONCE:], f"{person}|{scope}".encode())
        except InvalidTag:
            raise UnreadableText(f"The key of {person} for {scope} does not open with this store's cipher key.") \
                from None

    def _found(self, person: str, scope: str, create: bool) -> tuple[bytes | None, str | None] | None:
        found = self._row(person, scope)
        if found is None and create:
            self._insert(person, scope, self._wrapped(person, scope, AESGCM.generate_key(bit_length=256)))
            found = self._row(person, scope)  # another process may have made it first: theirs counts
        return found

    def _row(self, person: str, scope: str) -> tuple[bytes | None, str | None] | None:
        """(the unwrapped key or None, the time it was destroyed or None), or None if never made."""
        found = self._read(person, scope)
        if found is None:
            return None
        wrapped, erased_at = found
        return (None if wrapped is None else self._unwrapped(person, scope, bytes(wrapped))), erased_at

    # ----- storage: one subclass per kind of store -----

    def _read(self, person: str, scope: str) -> tuple[bytes | None, str | None] | None:
        raise NotImplementedError

    def _insert(self, person: str, scope: str, wrapped: bytes) -> None:
        """Store a new key unless one is there (made meanwhile, or destroyed)."""
        raise NotImplementedError

    def _tombstone(self, person: str, scope: str, at: str) -> None:
        raise NotImplementedError

    def _scopes(self, person: str) -> list[str]:
        raise NotImplementedError

    def _all(self) -> Iterator[tuple[str, str, bytes | None, str | None]]:
        raise NotImplementedError


class MemoryKeyStore(KeyStore):
    """For a store in memory (tests): the keys go when the process ends, as its events do."""

    def __init__(self, wrapping_key: bytes | None = None) -> None:
        super().__init__(wrapping_key)
        self._rows: dict[tuple[str, str], tuple[bytes | None, str | None]] = {}

    def _read(self, person, scope):
        return self._rows.get((person, scope))

    def _insert(self, person, scope, wrapped):
        with self._lock:
            self._rows.setdefault((person, scope), (wrapped, None))

    def _tombstone(self, person, scope, at):
        with self._lock:
            before = self._rows.get((person, scope))
            self._rows[(person, scope)] = (None, before[1] if before and before[1] else at)

    def _scopes(self, person):
        return sorted(scope for who, scope in self._rows if who == person)

    def _all(self):
        for (person, scope), (wrapped, erased_at) in sorted(self._rows.items()):
            yield person, scope, wrapped, erased_at


class SQLiteKeyStore(KeyStore):
    """A SQLite file of its own, beside the events' (so a copy of the events alone holds no key).
    Deleted content is overwritten (secure_delete) and the WAL emptied after each erasure."""

    SCHEMA = ("CREATE TABLE IF NOT EXISTS data_keys (person TEXT NOT NULL, scope TEXT NOT NULL, key BLOB, "
              "erased_at TEXT, PRIMARY KEY (person, scope))")

    def __init__(self, path: str, wrapping_key: bytes | None = None) -> None:
        super().__init__(wrapping_key)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(self.SCHEMA)

    def _run(self, statement: str, values: tuple = ()) -> list:
        with self._lock:
            return self._db.execute(statement, values).fetchall()

    def _read(self, person, scope):
        found = self._run("SELECT key, erased_at FROM data_keys WHERE person=? AND scope=?", (person, scope))
        return tuple(found[0]) if found else None

    def _insert(self, person, scope, wrapped):
        self._run("INSERT OR IGNORE INTO data_keys (person, scope, key) VALUES (?, ?, ?)", (person, scope, wrapped))

    def _tombstone(self, person, scope, at):
        self._run("INSERT INTO data_keys (person, scope, key, erased_at) VALUES (?, ?, NULL, ?) "
                  "ON CONFLICT (person, scope) DO UPDATE SET key=NULL, erased_at=COALESCE(erased_at, excluded.erased_at)",
                  (person, scope, at))
        self.truncate_wal()

    def truncate_wal(self) -> None:
        self._run("PRAGMA wal_checkpoint(TRUNCATE)")

    def _scopes(self, person):
        return [row[0] for row in self._run("SELECT scope FROM data_keys WHERE person=? ORDER BY scope", (person,))]

    def _all(self):
        yield from self._run("SELECT person, scope, key, erased_at FROM data_keys ORDER BY person, scope")

    def close(self) -> None:
        self._db.close()


class PostgresKeyStore(KeyStore):
    """A table `<app name>_data_keys` in the store's schema, through the store's own pool."""

    def __init__(self, datastore: Any, table: str, create_table: bool, wrapping_key: bytes | None = None) -> None:
        from psycopg.sql import SQL, Identifier

        super().__init__(wrapping_key)
        self._datastore, self._sql = datastore, SQL
        self._table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(table))
        if create_table:
            self._run("CREATE TABLE IF NOT EXISTS {table} (person text NOT NULL, scope text NOT NULL, key bytea, "
                      "erased_at text, PRIMARY KEY (person, scope))")

    def _run(self, statement: str, values: tuple = ()) -> list:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(self._sql(statement).format(table=self._table), values)
            return curs.fetchall() if curs.description else []

    def _read(self, person, scope):
        found = self._run("SELECT key, erased_at FROM {table} WHERE person=%s AND scope=%s", (person, scope))
        return (found[0]["key"], found[0]["erased_at"]) if found else None

    def _insert(self, person, scope, wrapped):
        self._run("INSERT INTO {table} (person, scope, key) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                  (person, scope, wrapped))

    def _tombstone(self, person, scope, at):
        self._run("INSERT INTO {table} (person, scope, key, erased_at) VALUES (%s, %s, NULL, %s) "
                  "ON CONFLICT (person, scope) DO UPDATE SET key=NULL, "
                  "erased_at=COALESCE({table}.erased_at, excluded.erased_at)", (person, scope, at))

    def _scopes(self, person):
        return [row["scope"] for row in self._run("SELECT scope FROM {table} WHERE person=%s ORDER BY scope",
                                                  (person,))]

    def _all(self):
        for row in self._run("SELECT person, scope, key, erased_at FROM {table} ORDER BY person, scope"):
            yield row["person"], row["scope"], None if row["key"] is None else bytes(row["key"]), row["erased_at"]


# ----- where the store meets it -----

class SealingMapper(Mapper):
    """Seals each event's texts on the way to the store and unseals them on the way back
    (snapshots and events of other kinds pass as they are)."""

    def __init__(self, transcoder: Any, compressor: Any = None, cipher: Any = None, *, sealer: Sealer) -> None:
        super().__init__(transcoder, compressor, cipher)
        self.sealer = sealer

    def sealed_state(self, domain_event: Any) -> dict:
        """The event's state as it is stored (without its id and version), its texts sealed."""
        state = dict(vars(domain_event))
        originator_id, version = state.pop("originator_id"), state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return self.sealer.seal_state(get_topic(type(domain_event)), originator_id, version, state)

    def stored_event(self, domain_event: Any, state: dict) -> StoredEvent:
        data = self.transcoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(originator_id=domain_event.originator_id, originator_version=domain_event.originator_version,
                           topic=get_topic(type(domain_event)), state=data)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        return self.stored_event(domain_event, self.sealed_state(domain_event))

    def decoded_state(self, stored: Any) -> dict:
        """A stored row's state as stored (texts still sealed)."""
        return self.decoded(stored.state)

    def decoded(self, data: bytes) -> dict:
        """Stored state bytes, decrypted with the store's key and decompressed (texts still sealed)."""
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        return self.transcoder.decode(data)

    def to_domain_event(self, stored: Any) -> Any:
        cls = resolve_topic(stored.topic)
        if stored.topic in ERASURES:
            self.sealer.keys.evict(stored.originator_id)
        state = self.sealer.unseal_state(stored.topic, stored.originator_id, stored.originator_version,
                                         self.decoded_state(stored))
        state["originator_id"] = find_id_convertor(cls, type(stored.originator_id))(stored.originator_id)
        state["originator_version"] = stored.originator_version
        class_version, from_version = getattr(cls, "class_version", 1), state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event


class SecureDeletePool(SQLiteConnectionPool):
    """The events' SQLite connections overwrite what they delete (an erasure's snapshots)."""

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        connection._sqlite_conn.execute("PRAGMA secure_delete=ON")
        return connection
