"""The application service: alliances by id, commands, and their history.

Settings arrive as an eventsourcing `env` dict (built in server/settings.py);
nothing here reads the environment or knows about HTTP.
"""

import base64
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, Callable, Iterator
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, IntegrityError, Notification, Recording
from eventsourcing.popo import POPOAggregateRecorder
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresFactory
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteFactory
from eventsourcing.utils import get_topic, strtobool
from psycopg.sql import SQL, Identifier

from events import history, log
from events.accounts import Account, WrongPassword
from events.allies import Inventory
from events.alliance import Alliance, AlreadyExists, NotAllowedNow, NotFound, content_hash
from events.commands import ALLIANCE_COMMANDS, INVENTORY_COMMANDS, DesignAlliance, arguments, checked
from events.audit import Anchor, ChainReport, event_hash, verify_chain
from events.devices import Device, device_id
from events.erasure import erase_later, event_texts, text_author
from events.text import erased_text
from events.repository import CopyOnWriteRepository, retry_stale
from events.preferences import Preferences, PreferencesCommands, preferences_id
from events.signin import SignIn
from events.keys import SERVER_KEY_ID, ServerKey
from events.sealing import (KeyStore, MemoryKeyStore, PostgresKeyStore, Sealer, SealingMapper, SecureDeletePool,
                            SQLiteKeyStore)

DESIGNED_TOPIC = "alliance.Designed"
NO_SUCH_ALLIANCE = "There is no such alliance, or you are not one of its participants."


class AllianceApplication(SignIn, PreferencesCommands, Application):
    """Alliances, the people in them and their devices, in one store, so one
    transaction can hold everything a sync push causes."""

    name = "alliances"  # pinned: PostgreSQL table names derive from it
    snapshotting_intervals = {Alliance: 100, Device: 100, Account: 100, Preferences: 100}
    # Recently used alliances stay in memory; each read still fetches any newer
    # events from the store (fast-forward), so several processes stay correct.
    env = {"AGGREGATE_CACHE_MAXSIZE": "1000"}
    # Told of every save, in the saving thread, before it returns (sync/heads.py follows the log with it).
    on_commit: Callable[[list[Recording]], None] | None = None

    def construct_recorder(self) -> ApplicationRecorder:
        recorder = super().construct_recorder()
        if strtobool(self.factory.env.get("CREATE_TABLE") or "yes"):  # with the tables (`alliance migrate` too)
            log.create_index(recorder)  # a pull reads the log by aggregate through it
        return recorder

    def _notify(self, recordings: list[Recording]) -> None:
        if self.on_commit is not None:
            self.on_commit(recordings)

    def construct_repository(self) -> CopyOnWriteRepository:
        return CopyOnWriteRepository(event_store=self.events, snapshot_store=self.snapshots,
                                     cache_maxsize=int(self.env.get(self.AGGREGATE_CACHE_MAXSIZE) or 0) or None)

    # ----- the stored format: sealed texts, their keys, the chain over them (issue 13, events/sealing.py) -----

    def construct_factory(self, env: Any) -> InfrastructureFactory:
        factory = super().construct_factory(env)
        if isinstance(factory, SQLiteFactory):  # what an erasure deletes is overwritten, not left in free pages
            pool = factory.datastore.pool
            factory.datastore.pool = SecureDeletePool(db_name=pool.db_name, lock_timeout=pool.lock_timeout)
        return factory

    def construct_mapper(self) -> SealingMapper:
        self.keys = self._construct_key_store()
        return SealingMapper(transcoder=self.construct_transcoder(), compressor=self.factory.compressor(),
                             cipher=self.factory.cipher(), sealer=Sealer(self.keys, self._owner_of))

    def _construct_key_store(self) -> KeyStore:
        """The keys apart from the events: a SQLite file beside theirs, a table in PostgreSQL, or
        in memory with a store in memory. Wrapped with the store's cipher key when it has one."""
        cipher_key = self.env.get("CIPHER_KEY")
        wrapping = base64.b64decode(cipher_key) if cipher_key else None
        if isinstance(self.factory, SQLiteFactory) and not self.factory.datastore.pool.is_sqlite_memory_mode:
            events = self.factory.datastore.pool.db_name
            path = self.env.get("KEYS_SQLITE_DBNAME") or events.removesuffix(".sqlite") + "-keys.sqlite"
            return SQLiteKeyStore(path, wrapping)
        if isinstance(self.factory, PostgresFactory):
            return PostgresKeyStore(self.factory.datastore, f"{self.name}_data_keys",
                                    self.factory.env_create_table(), wrapping)
        return MemoryKeyStore(wrapping)

    def _owner_of(self, inventory_id: str) -> str:
        """An ally inventory's owner, as its first event names them (its texts are theirs)."""
        (started,) = self.recorder.select_events(UUID(inventory_id), lte=1)
        return self.mapper.decoded_state(started)["owner"]

    def _record(self, processing_event: ProcessingEvent) -> list[Recording]:
        """Store the events with their texts sealed, each text once. An alliance's events are
        chained over their sealed form, in order (several of one alliance chain onto each other);
        each arrives carrying the head before it, and leaves carrying its own hash."""
        stored, heads = [], {}
        for event in processing_event.events:
            state = self.mapper.sealed_state(event)
            if isinstance(event, Alliance.Event):
                carried = state.pop("chain")
                previous = heads.get(event.originator_id, carried)
                head = event_hash(previous, get_topic(type(event)), event.originator_id,
                                  event.originator_version, state)
                state["chain"] = heads[event.originator_id] = head
                object.__setattr__(event, "chain", head)
            stored.append(self.mapper.stored_event(event, state))
        for aggregate_id, head in heads.items():
            if aggregate_id in processing_event.aggregates:
                processing_event.aggregates[aggregate_id].chain = head
        ids = self.recorder.insert_events(stored, tracking=processing_event.tracking,
                                          **processing_event.saved_kwargs) or []
        return [Recording(event, Notification(id=id_, originator_id=row.originator_id,
                                              originator_version=row.originator_version, topic=row.topic,
                                              state=row.state))
                for event, row, id_ in zip(processing_event.events, stored, ids, strict=False)]

    def forget(self, person: str, scope: Any, at: str) -> None:
        """Destroy the person's key for the scope (an alliance, inventory or account id), so their
        words there can never be read again, and drop what holds them in the clear: the scope's
        snapshots and its aggregate in memory. Idempotent: call it before saving the erasure
        event and again after (the save may have taken a snapshot meanwhile)."""
        self.keys.destroy(person, str(scope), at)
        self.drop_snapshots(scope)

    def drop_snapshots(self, scope: Any) -> None:
        """Delete every snapshot of the aggregate (overwritten on SQLite, its WAL emptied) and
        forget it in memory: it is rebuilt from its events when next read."""
        aggregate_id = scope if isinstance(scope, UUID) else UUID(str(scope))
        recorder = self.snapshots.recorder if self.snapshots else None
        if isinstance(recorder, SQLiteAggregateRecorder):
            with recorder.datastore.transaction(commit=True) as cursor:
                cursor.execute(f"DELETE FROM {recorder.events_table_name} WHERE originator_id = ?",
                               (aggregate_id.hex,))
            with recorder.datastore.get_connection(commit=True) as connection:
                connection._sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif isinstance(recorder, PostgresAggregateRecorder):
            with recorder.datastore.transaction(commit=True) as cursor:
                cursor.execute(SQL("DELETE FROM {}.{} WHERE originator_id = %s").format(
                    Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)), (aggregate_id,))
        elif isinstance(recorder, POPOAggregateRecorder):
            with recorder._database_lock:
                for position in recorder._stored_events_index.pop(str(aggregate_id), {}).values():
                    recorder._stored_events[position] = None
        if self.repository.cache is not None:
            try:
                self.repository.cache.get(aggregate_id, evict=True)
            except KeyError:
                pass

    def close(self) -> None:
        super().close()
        if hasattr(self, "keys"):
            self.keys.close()

    # ----- commands: one path, typed by events/commands.py -----

    def design(self, *, alliance_id: Any, by: str, device: str, args: Any, facilitator_name: str) -> Alliance:
        """A new alliance (not saved yet) with an id the client made; the facilitator's
        name is the one given in `args`, or else `facilitator_name`."""
        design = checked(DesignAlliance, args, "design alliance")
        design.setdefault("facilitator_name", facilitator_name)
        return Alliance.design(alliance_id=alliance_id, by=by, device=device, **design)

    def design_alliance(self, *, alliance_id: Any, by: str, device: str, title: str,
                        template: str, facilitator_name: str) -> Alliance:
        """Create an alliance with an id the client made; a retried creation
        (same id, same person, same title and template) returns the one stored."""
        alliance = self.design(alliance_id=alliance_id, by=by, device=device,
                               args={"title": title, "template": template}, facilitator_name=facilitator_name)
        try:
            self.save(alliance)
        except IntegrityError:
            existing = self.alliance(alliance.id)
            if (existing.facilitator, existing.title, existing.template) != (by, alliance.title, alliance.template) \
                    or existing.version < 1:
                raise AlreadyExists("An alliance with this id already exists.") from None
            return existing
        return alliance

    def act(self, alliance_id: Any, command: str, *, by: str, device: str, **args: Any) -> Alliance:
        """Run one command on an alliance and save what it records.
        A concurrent writer makes the save fail; then reload and run it again."""
        @retry_stale
        def attempt() -> Alliance:
            alliance = self.alliance(alliance_id)
            self.run_command(alliance, command, by=by, device=device, args=args)
            self.save(alliance)
            return alliance

        return attempt()

    def run_command(self, alliance: Alliance, command: str, *, by: str, device: str, args: Any) -> None:
        """Apply one command to a loaded alliance (not saved): the caller saves,
        so a batch of commands (a push) can be saved together."""
        args = arguments(ALLIANCE_COMMANDS, command, args)
        if command in ("restore_version", "restore_item"):  # these need content from history, and its writers
            restored = self._state_at(alliance, args["version"], below=alliance.version)
            args["content"] = restored.content() if restored else {}
            args["authors"] = restored.text_authors() if restored else {}
        if command == "restore_version":  # and the content of the version the person looked at
            args["base_content"] = self._content_at(alliance, args["base_version"], below=alliance.version + 1)
        if command == "name_version":  # only a content version has a name
            args["content_version_then"] = self._content_version_at(alliance, args["version"])
        getattr(alliance, command)(by=by, device=device, **args)

    def run_inventory_command(self, inventory: Inventory, command: str, args: Any) -> None:
        getattr(inventory, command)(**arguments(INVENTORY_COMMANDS, command, args))

    def _content_at(self, alliance: Alliance, version: Any, *, below: int) -> dict:
        """An earlier version's content, or {} where there is no such version (the command says why)."""
        state = self._state_at(alliance, version, below=below)
        return state.content() if state else {}

    def _state_at(self, alliance: Alliance, version: Any, *, below: int) -> Alliance | None:
        """An earlier version (as it reads after any erasure since), or None where there is no such version."""
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version < below:
            return None
        return alliance if version == alliance.version else self.alliance(alliance.id, version=version)

    def _content_version_at(self, alliance: Alliance, version: Any) -> int | None:
        """The content version the alliance had at an event version, or None where there is no such version."""
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= alliance.version:
            return None
        return alliance.content_version if version == alliance.version else \
            self.alliance(alliance.id, version=version, copy=False).content_version

    def _take_snapshots(self, processing_event) -> None:
        """Snapshot each saved alliance as it is in memory whenever a save crosses
        a multiple of the interval (the library would replay it from the store)."""
        for aggregate in processing_event.aggregates.values():
            interval = self.snapshotting_intervals.get(type(aggregate))
            versions = [e.originator_version for e in processing_event.events if e.originator_id == aggregate.id]
            if interval and versions and (min(versions) - 1) // interval != max(versions) // interval:
                self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])

    def repair_inventories(self) -> int:
        """Accounts saved by the defect of issue 9.1 point at an ally inventory that was never
        stored: give each an empty one. How many were repaired."""
        repaired, start = 0, None
        while True:
            found = self.recorder.select_notifications(start=start, limit=500, topics=["account.InventoryOpened"],
                                                       inclusive_of_start=False)
            for notification in found:
                account = self.repository.get(notification.originator_id)
                if account.inventory and not self.recorder.select_events(UUID(account.inventory), limit=1):
                    inventory = Inventory.start(account.user_id)
                    account.inventory_opened(str(inventory.id))
                    self.save(account, inventory)
                    repaired += 1
            if len(found) < 500:
                return repaired
            start = found[-1].id

    # ----- erasure and portability (issue 13) -----

    def save(self, *objs: Any, **kwargs: Any) -> list:
        """Whatever path an erasure comes by (a push, a command), its words are forgotten before
        it is saved, and again after (the save may have taken a snapshot)."""
        erasures = _erasures_in(objs)
        for erasure in erasures:
            self.forget(*erasure)
        recordings = super().save(*objs, **kwargs)
        for erasure in erasures:
            self.forget(*erasure)
        return recordings

    def save_and_keep(self, *aggregates: Any) -> list[Recording]:
        """Save, and cache what was saved as it is (for a caller done with it: a push), so the next
        read needs no second copy; never what erased someone's words: that is rebuilt from its events."""
        erasing = bool(_erasures_in(aggregates))
        recordings = self.save(*aggregates)
        if not erasing:
            self.repository.adopt(*aggregates)
        return recordings

    def erase_words(self, user_id: str, alliance_id: Any, *, device: str) -> Alliance:
        """Erase, for good, everything the person wrote in an alliance they are or were in; they
        are out of it too (their devices drop it on their next pull)."""
        return self._erase_from(user_id, alliance_id, device=device, account_deleted=False)

    @retry_stale
    def _erase_from(self, user_id: str, alliance_id: Any, *, device: str, account_deleted: bool) -> Alliance:
        try:
            alliance = self.alliance(alliance_id)
        except NotFound:
            raise NotFound(NO_SUCH_ALLIANCE) from None
        if user_id not in alliance.participants:  # to outsiders it does not exist
            raise NotFound(NO_SUCH_ALLIANCE)
        if account_deleted:  # not a person's command: no client may claim it
            alliance.erase_words(by=user_id, device=device, account_deleted=True)
        else:
            self.run_command(alliance, "erase_words", by=user_id, device=device, args={})
        account = self.account(user_id)
        if str(alliance.id) in account.alliances:
            account.alliance_left(str(alliance.id))
        self.save(alliance, account)
        return alliance

    def delete_account(self, user_id: str, *, password: str, device: str) -> None:
        """Delete the person's account, for good, once they confirmed it with their password: their
        words erased from every alliance they were ever in (their open invitations withdrawn with
        them), their inventory, reminder settings, phones and feed gone, every device signed out."""
        account = self.account(user_id)
        if account.deleted_at:
            raise NotAllowedNow("This account was deleted already.")
        if not account.check_password(password):
            raise WrongPassword("That is not your password: your account was not deleted.")
        for alliance_id in self.alliances_ever(user_id):
            self._erase_from(user_id, alliance_id, device=device, account_deleted=True)
        if self.stored(preferences_id(user_id)):
            self._change_preferences(user_id, lambda preferences: preferences.clear())
        self._delete(user_id)
        deleted_at = self.account(user_id).deleted_at
        for scope in self.keys.scopes_of(user_id):  # any key left (an alliance the account never listed)
            if self.keys.erased_at(user_id, scope) is None:
                self.forget(user_id, scope, deleted_at)

    @retry_stale
    def _delete(self, user_id: str) -> None:
        """The last step of deleting an account (so a failure before it can be run again): the
        inventory erased and the account deleted, together."""
        account, inventory = self.account(user_id), self.inventory_of(user_id)
        if inventory is not None:
            inventory.erase()
        account.delete()
        self.save(inventory, account)

    def alliances_ever(self, user_id: str) -> list[str]:
        """Every alliance the person was ever in (designed or joined), in the order they came in."""
        joined = [e.alliance_id for e in self.events.get(UUID(user_id)) if isinstance(e, Account.AllianceJoined)]
        return list(dict.fromkeys(joined))

    def export_person(self, user_id: str) -> dict:
        """Everything about the person, for them to take away: their account, their words in every
        alliance they were ever in (with when), their ally inventory, their signed-in devices and
        their reminder settings. Nothing of anyone else's: no other person's words or names."""
        account = self.account(user_id)
        preferences = self.preferences(user_id).as_dict()
        inventory = self.inventory_of(user_id)
        return {
            "exported_at": datetime.now(timezone.utc).isoformat(),
            "account": {"user_id": user_id, "email": account.email, "display_name": account.display_name,
                        "deleted_at": account.deleted_at},
            "devices": [{"id": h[:16], "device_name": s["device_name"]} for h, s in account.sessions.items()],
            "alliances": [self._own_words(user_id, aid) for aid in self.alliances_ever(user_id)],
            "inventory": {"goals": inventory.goals, "allies": inventory.current()} if inventory else None,
            "reminders": {k: v for k, v in preferences.items() if k != "version"},
        }

    def _own_words(self, user_id: str, alliance_id: str) -> dict:
        """What the person wrote in one alliance, event by event (what they erased reads erased)."""
        alliance = self.alliance(alliance_id, copy=False)
        me, erased = alliance.participants.get(user_id, {}), alliance.erasures.get(user_id)
        words = []
        for event in self.events.get(alliance.id):
            kind, data = type(event).__name__, vars(event)
            texts = event_texts(kind, data) if text_author(event.by, data) == user_id else {}
            if erased:
                texts = dict.fromkeys(texts, erased_text(erased["at"]))
            if kind in ("Designed", "AllianceRenamed") and event.by == user_id:
                texts["title"] = data["title"]  # the title they gave it (a title is never erased)
            if texts:
                words.append({"version": event.originator_version, "at": event.timestamp.isoformat(),
                              "kind": kind, "texts": texts})
        return {"alliance_id": str(alliance.id), "my_name": me.get("name"), "my_role": me.get("role"),
                "my_status": me.get("status"), "joined_at": me.get("joined_at"),
                "erased_at": erased["at"] if erased else None, "words": words}

    # ----- reading -----

    def stored(self, aggregate_id: UUID) -> bool:
        """Whether anything at all (an alliance, an account, a device...) is stored under this id."""
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def device(self, client_id: str, *, copy: bool = True) -> Device | None:
        """A device's ledger, or None before its first push (or, in a store from before
        issue 9, something else squatting on its id: its sync layer refuses it). With
        copy=False the cached ledger itself, only to be read (it holds 1,000 outcomes)."""
        try:
            return self.repository.get(device_id(client_id), deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            return None

    def inventory_of(self, user_id: str) -> Inventory | None:
        """The person's own ally inventory, or None before their first ally (or when an
        account from before issue 9 points at one that was never stored)."""
        inventory = self.account(user_id).inventory
        if not inventory:
            return None
        try:
            return self.repository.get(UUID(inventory))
        except AggregateNotFoundError:
            return None

    @cached_property
    def server_key(self) -> ServerKey:
        """The server's own secret: made once, by whichever process needs it first."""
        try:
            return self.repository.get(SERVER_KEY_ID)
        except AggregateNotFoundError:
            key = ServerKey.make()
            try:
                self.save(key)
            except IntegrityError:  # another process made it meanwhile
                return self.repository.get(SERVER_KEY_ID)
            return key

    def alliance(self, alliance_id: Any, *, version: int | None = None,
                 at: datetime | None = None, copy: bool = True) -> Alliance:
        """The alliance now, as of a version, or as of a moment. With copy=False it may be
        the cached alliance itself: only to be read, never changed (a read saves a deep copy)."""
        alliance_id = _uuid(alliance_id)
        try:
            latest = self.repository.get(alliance_id, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            latest = None
        if not isinstance(latest, Alliance):  # an account's or a device's id is no alliance either
            raise NotFound("There is no such alliance.")
        if at is not None:
            version = self._version_at(alliance_id, latest.version, at)
            if version == 0:
                raise NotFound(f"The alliance did not exist yet at {at.isoformat()}.")
        if version is None or version == latest.version:
            return latest
        if not isinstance(version, int) or not 1 <= version <= latest.version:
            raise NotFound(f"There is no version {version}: the alliance has versions 1 to {latest.version}.")
        # Words erased since read erased there too (issue 13): an old version never brings them back.
        return erase_later(self.repository.get(alliance_id, version=version), latest)

    def alliance_for(self, user_id: str, alliance_id: Any, *, version: int | None = None,
                     at: datetime | None = None) -> Alliance:
        """The alliance, for one of its participants only: to anyone else it
        does not exist, so its existence never leaks."""
        try:
            latest = self.alliance(alliance_id)
        except NotFound:
            raise NotFound(NO_SUCH_ALLIANCE) from None
        if user_id not in latest.members():
            raise NotFound(NO_SUCH_ALLIANCE)
        return latest if version is None and at is None else self.alliance(alliance_id, version=version, at=at)

    def _version_at(self, alliance_id: UUID, latest: int, at: datetime) -> int:
        """The last version recorded at or before `at` (0 if none): a binary
        search over event timestamps, which come from the server clock."""
        low, high = 0, latest
        while low < high:
            middle = (low + high + 1) // 2
            (found,) = self.events.get(alliance_id, gt=middle - 1, lte=middle)
            if found.timestamp <= at:
                low = middle
            else:
                high = middle - 1
        return low

    def history(self, alliance_id: Any, *, before: int | None = None, limit: int = 20,
                latest: Alliance | None = None, viewer: str | None = None) -> dict:
        """A page of history in words, newest first; pass `next_before` for the next page.
        `latest` is the newest version to read (default: now; the audit page passes the
        checked part of a broken record); `viewer` the person it is for (None: the operator)."""
        latest = latest or self.alliance(alliance_id, copy=False)
        top = latest.version if before is None else min(before - 1, latest.version)
        limit = max(1, min(limit, 200))
        if top < 1:
            return {"entries": [], "next_before": None}
        first = max(1, top - limit + 1)
        state = self.repository.get(latest.id, version=first - 1) if first > 1 else None
        events = self.events.get(latest.id, gt=first - 1, lte=top)
        entries = history.describe_events(state, events, latest, viewer)
        return {"entries": entries[::-1], "next_before": first if first > 1 else None}

    def diff(self, alliance_id: Any, from_version: int, to_version: int, viewer: str | None = None) -> dict:
        old = self.alliance(alliance_id, version=from_version, copy=False)
        new = self.alliance(alliance_id, version=to_version, copy=False)
        return history.diff(old.seen_by(viewer), new.seen_by(viewer))

    def evidence(self, alliance_id: Any, version: int) -> dict:
        """Who consented to content version `version`, to which content hash and when, read from
        the stored events; beside each, the hash of the content rebuilt as it stood just before
        that consent, and whether the two match."""
        latest = self.alliance(alliance_id, copy=False)
        state = self.alliance(alliance_id, version=version)  # a copy of its own: folded on below
        if state.content_version != version:
            raise NotFound(f"Version {version} is not a version of the content: the content there was "
                           f"version {state.content_version}.")
        content = state.consented_content()
        consents = []
        for event in self.events.get(state.id, gt=version):
            kind, recorded = type(event).__name__, getattr(event, "content_hash", None)
            # A consent, or a renewal (its renewer's support); renewals from before issue 11 were none.
            if kind == "ConsentGiven" or (kind == "AllianceRenewed" and recorded):
                rebuilt, at = content_hash(state.consented_content()), event.timestamp.isoformat()
                # Words erased since (at their writer's request) read as a placeholder now: that
                # content cannot be rebuilt as it was, which is no sign of tampering.
                erased_since = recorded != rebuilt and any(e["at"] > at for e in latest.erasures.values())
                consents.append({
                    "user_id": event.by, "name": latest.name_of(event.by),
                    "stance": getattr(event, "stance", "support"), "reason": getattr(event, "reason", ""),
                    "by_renewal": kind == "AllianceRenewed", "at": at,
                    "event_version": event.originator_version, "content_hash": recorded, "recomputed_hash": rebuilt,
                    "matches": None if recorded is None or erased_since else recorded == rebuilt,
                    "erased_since": erased_since})
            state = event.mutate(state)
            if state.content_version != version:
                break  # the content moved on: later consents are to another version
        return {"version": version, "name": latest.version_names.get(str(version)),
                "agreements": [a for a in latest.all_agreements() if a["version"] == version],
                "content": content, "content_hash": content_hash(content), "consents": consents}

    def verify(self, alliance_id: Any, anchor: Anchor | None = None) -> ChainReport:
        """Recompute the audit chain over the stored rows and check a device's anchor
        against it (see events.audit for what that proves). Never replays the alliance,
        so a record too broken to replay is reported, not raised."""
        alliance_id = _uuid(alliance_id)
        return verify_chain(self.recorder.select_events(alliance_id), self.mapper.decoded, anchor)

    def checked_part(self, alliance_id: Any, report: ChainReport) -> Alliance | None:
        """The alliance as of the last event that checks out in `report` (None if none does):
        what can still be read of a broken record, without replaying the broken part."""
        return self.repository.get(_uuid(alliance_id), version=report.events) if report.events else None

    def alliance_ids(self, page: int = 500) -> Iterator[UUID]:
        """Every alliance ever designed, in the order they were created."""
        start = None
        while True:
            found = self.recorder.select_notifications(
                start=start, limit=page, topics=[DESIGNED_TOPIC], inclusive_of_start=False)
            for notification in found:
                yield notification.originator_id
            if len(found) < page:
                return
            start = found[-1].id


def _erasures_in(objs: tuple) -> list[tuple[str, UUID, str]]:
    """(person, scope, at) of each erasure among what is about to be saved: words erased from an
    alliance, an inventory erased, an account deleted."""
    found = []
    for obj in objs:
        for event in getattr(obj, "pending_events", ()):
            if isinstance(event, Alliance.WordsErased):
                found.append((event.by, event.originator_id, event.timestamp.isoformat()))
            elif isinstance(event, Inventory.InventoryErased):
                found.append((obj.owner, event.originator_id, event.at))
            elif isinstance(event, Account.AccountDeleted):
                found.append((str(event.originator_id), event.originator_id, event.at))
    return found


def _uuid(value: Any) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise NotFound("There is no such alliance.") from None
