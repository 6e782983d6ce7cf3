"""Sealed texts (issue 13): each person's words stored under a key of their own, read back through
the application, refused when the key or the place does not fit, and erased with the key."""

import base64
import json
import os
import sqlite3
from uuid import uuid4

import pytest

from events import sealing
from events.allies import Inventory
from events.application import AllianceApplication
from events.sealing import SEALED, MemoryKeyStore, Sealer, SQLiteKeyStore, UnreadableText, has_plain_text
from events.text import erased_text
from server.settings import Settings

ANN, BOB = {"by": "ann", "device": "ann-phone"}, {"by": "bob", "device": "bob-phone"}
AT = "2026-12-04T09:30:00+00:00"
ERASED = erased_text(AT)


def sealer(keys=None) -> Sealer:
    return Sealer(keys or MemoryKeyStore(), owner_of=lambda scope: "ann")


def test_a_text_is_sealed_with_its_authors_key_and_read_back():
    seals, scope = sealer(), uuid4()
    state = {"by": "ann", "device": "d", "question_id": "q", "text": "Ann's own words", "base_revision": 0}
    sealed = seals.seal_state("alliance.QuestionAnswered", scope, 3, state)
    assert set(sealed["text"]) == {"_sealed_", "_by_"} and sealed["text"]["_by_"] == "ann"
    assert "Ann's own words" not in json.dumps(sealed)
    assert sealed["question_id"] == "q" and state["text"] == "Ann's own words"  # the event's own state is untouched
    assert seals.unseal_state("alliance.QuestionAnswered", scope, 3, sealed) == state
    assert not has_plain_text("alliance.QuestionAnswered", sealed) and has_plain_text("alliance.QuestionAnswered", state)
    # Nothing to hide in an empty text, nor in what is no one's words.
    assert seals.seal_state("alliance.QuestionAnswered", scope, 4, dict(state, text=""))["text"] == ""
    renamed = {"by": "ann", "device": "d", "title": "Our alliance"}
    assert seals.seal_state("alliance.AllianceRenamed", scope, 5, renamed) == renamed


def test_a_restored_version_seals_each_text_with_its_writers_key():
    keys, scope = MemoryKeyStore(), uuid4()
    added = str(uuid4())
    content = {"title": "T", "rhythm": None,
               "questions": {"purpose": {"text": "What is it for?"}, added: {"text": "Bob's question"}},
               "answers": {"purpose": {"text": "Bob's answer", "conflict": [{"text": "Ann's rival", "by": "ann"}]}},
               "own_answers": {"purpose": {"ann": "Ann's own", "bob": "Bob's own"}},
               "commitments": {"c1": {"text": "Bob's commitment", "conflict": {"text": ["Bob's other wording"]}}}}
    state = {"by": "ann", "device": "d", "version": 2, "content": content,
             "authors": {"answers": {"purpose": "bob"}, "commitments": {"c1": "bob"}, "questions": {added: "bob"}}}
    sealed = sealer(keys).seal_state("alliance.VersionRestored", scope, 9, state)["content"]
    assert sealed["questions"]["purpose"]["text"] == "What is it for?"  # the template's own stays plain
    assert sealed["questions"][added]["text"]["_by_"] == "bob"
    assert sealed["answers"]["purpose"]["text"]["_by_"] == "bob"
    assert sealed["answers"]["purpose"]["conflict"][0]["text"]["_by_"] == "ann"
    assert {uid: v["_by_"] for uid, v in sealed["own_answers"]["purpose"].items()} == {"ann": "ann", "bob": "bob"}
    assert sealed["commitments"]["c1"]["text"]["_by_"] == "bob"
    assert sealed["commitments"]["c1"]["conflict"]["text"][0]["_by_"] == "bob"
    # Ann erases her words: hers read as erased, Bob's as he wrote them, though Ann restored them.
    keys.destroy("ann", scope, AT)
    read = sealer(keys).unseal_state("alliance.VersionRestored", scope, 9, dict(state, content=sealed))["content"]
    assert read["answers"]["purpose"] == {"text": "Bob's answer", "conflict": [{"text": ERASED, "by": "ann"}]}
    assert read["own_answers"]["purpose"] == {"ann": ERASED, "bob": "Bob's own"}
    assert read["commitments"]["c1"]["text"] == "Bob's commitment"


def test_a_wrong_key_or_a_moved_text_is_refused():
    keys, scope = MemoryKeyStore(), uuid4()
    state = {"by": "ann", "device": "d", "commitment_id": "c", "reason": "Ann's reason"}
    sealed = sealer(keys).seal_state("alliance.CommitmentWithdrawn", scope, 5, state)
    with pytest.raises(UnreadableText, match="altered or moved"):  # another event's place
        sealer(keys).unseal_state("alliance.CommitmentWithdrawn", scope, 6, sealed)
    elsewhere = uuid4()
    keys.key("ann", elsewhere, create=True)
    with pytest.raises(UnreadableText, match="altered or moved"):  # another alliance (Ann's key there)
        sealer(keys).unseal_state("alliance.CommitmentWithdrawn", elsewhere, 5, sealed)
    as_bob = dict(sealed, reason=dict(sealed["reason"], _by_="bob"))
    keys.key("bob", scope, create=True)
    with pytest.raises(UnreadableText, match="altered or moved"):  # claimed for someone else
        sealer(keys).unseal_state("alliance.CommitmentWithdrawn", scope, 5, as_bob)
    other = MemoryKeyStore()
    other.key("ann", scope, create=True)
    with pytest.raises(UnreadableText, match="altered or moved"):  # another key
        sealer(other).unseal_state("alliance.CommitmentWithdrawn", scope, 5, sealed)
    with pytest.raises(UnreadableText, match="key is missing"):  # no key, and none was ever erased
        sealer(MemoryKeyStore()).unseal_state("alliance.CommitmentWithdrawn", scope, 5, sealed)


def test_a_destroyed_key_reads_as_erased_and_stays_destroyed():
    keys, scope = MemoryKeyStore(), uuid4()
    sealed = sealer(keys).seal_state("alliance.ParticipantAppreciated", scope, 7,
                                     {"by": "ann", "device": "d", "participant_id": "bob", "note": "Thank you"})
    keys.destroy("ann", scope, AT)
    keys.destroy("ann", scope, "2027-01-01T00:00:00+00:00")  # idempotent: the first erasure's time stays
    assert keys.key("ann", scope, create=True) is None and keys.erased_at("ann", scope) == AT
    assert sealer(keys).unseal_state("alliance.ParticipantAppreciated", scope, 7, sealed)["note"] == ERASED
    # Whatever is written as hers afterwards can only be the erasure's wording.
    again = sealer(keys).seal_state("alliance.ParticipantAppreciated", scope, 8,
                                    {"by": "ann", "device": "d", "participant_id": "bob", "note": "Hello"})
    assert again["note"] == ERASED
    assert keys.scopes_of("ann") == [str(scope)]


def test_every_sealed_topic_names_real_fields():
    """The table of sealed texts names events that exist, with the texts of their commands."""
    import events.accounts  # noqa: F401 - the topics of every aggregate are registered
    from eventsourcing.utils import resolve_topic

    for topic, paths in SEALED.items():
        fields = resolve_topic(topic).__dataclass_fields__
        for path in paths:
            assert path.split(".")[0] in fields, (topic, path)


def test_keys_are_wrapped_with_the_stores_cipher_key(tmp_path):
    wrapping = os.urandom(32)
    path = str(tmp_path / "keys.sqlite")
    keys = SQLiteKeyStore(path, wrapping)
    key = keys.key("ann", "scope-1", create=True)
    keys.key("bob", "scope-1", create=True)
    keys.destroy("bob", "scope-1", AT)
    with sqlite3.connect(path) as db:
        stored = dict(db.execute("SELECT person, key FROM data_keys").fetchall())
    db.close()
    assert stored["bob"] is None and key not in stored["ann"] and len(stored["ann"]) == 12 + 32 + 16
    rows = list(keys.rows())
    assert rows == [{"person": "ann", "scope": "scope-1", "key": base64.b64encode(key).decode(), "erased_at": None},
                    {"person": "bob", "scope": "scope-1", "key": None, "erased_at": AT}]
    keys.close()
    with pytest.raises(UnreadableText, match="cipher key"):  # the key file alone, without the store's key
        SQLiteKeyStore(path, os.urandom(32)).key("ann", "scope-1")
    moved = MemoryKeyStore(os.urandom(32))
    moved.load(rows)  # an import wraps them with its own store's key
    assert moved.key("ann", "scope-1") == key and moved.erased_at("bob", "scope-1") == AT


# ----- through the application -----

def answered(app, *texts_by: tuple[dict, str]):
    alliance = app.design_alliance(alliance_id=uuid4(), **ANN, title="Our team", template="team",
                                   facilitator_name="Ann")
    invitation = uuid4()
    app.act(alliance.id, "invite_participant", **ANN, invitation_id=invitation, name="Bob")
    app.act(alliance.id, "join", **BOB, invitation_id=invitation, name="Bob")
    for who, text in texts_by:
        app.act(alliance.id, "give_own_answer", **who, question_id="prework.matters", text=text)
    return alliance.id


def test_the_chain_verifies_over_the_sealed_form_before_and_after_a_key_is_destroyed(app):
    aid = answered(app, (ANN, "Ann's reasons"), (BOB, "Bob's reasons"))
    app.act(aid, "make_commitment", **ANN, commitment_id=uuid4(), text="Ann will call", owner_id="ann")
    app.act(aid, "make_commitment", **BOB, commitment_id=uuid4(), text="Bob will write", owner_id="bob")
    before = app.verify(aid)
    assert before.ok and before.head == app.alliance(aid).chain == app.alliance(aid).as_dict()["chain_head"]
    app.forget("ann", aid, AT)
    after = app.verify(aid)
    assert after.ok and after.head == before.head
    alliance = app.alliance(aid)
    assert alliance.own_answers["prework.matters"] == {"ann": ERASED, "bob": "Bob's reasons"}
    assert sorted(c["text"] for c in alliance.commitments.values()) == [ERASED, "Bob will write"]
    # The chain goes on from the same head, and still verifies.
    app.act(aid, "give_own_answer", **BOB, question_id="prework.matters", text="Bob, again")
    assert app.verify(aid).ok


def test_several_events_of_one_alliance_in_one_save_chain_onto_each_other(app):
    aid = answered(app)
    alliance = app.alliance(aid)
    for text in ("first", "second", "third"):
        alliance.give_own_answer(**ANN, question_id="prework.matters", text=text)
    app.save(alliance)
    assert app.verify(aid).ok and app.verify(aid).events == alliance.version
    assert app.alliance(aid).chain == alliance.chain == app.verify(aid).head


def test_an_inventory_is_sealed_with_its_owners_key(app, settings):
    inventory = Inventory.start("ann")
    ally = uuid4()
    inventory.add_ally(ally_id=ally, name="Dora the mentor", note="knows everyone")
    app.save(inventory)
    stored = [app.mapper.decoded_state(s) for s in app.recorder.select_events(inventory.id)]
    assert stored[1]["ally"]["name"]["_by_"] == "ann" and "Dora" not in json.dumps(stored, default=str)
    again = AllianceApplication(env=settings.event_store_env("alliances"))  # another process
    try:
        assert again.repository.get(inventory.id).allies[str(ally)]["name"] == "Dora the mentor"
        app.forget("ann", inventory.id, AT)
        assert again.repository.get(inventory.id).allies[str(ally)]["note"] == "knows everyone"  # cached
        again.keys.evict(inventory.id)
        again.repository.cache.get(inventory.id, evict=True)
        assert again.repository.get(inventory.id).allies[str(ally)]["note"] == ERASED
    finally:
        again.close()


def test_another_process_meeting_an_erasure_rebuilds_and_reads_the_words_erased(tmp_path, monkeypatch):
    """Its cached alliance and keys hold the words: an erasure event among the newer events makes
    it rebuild from the events with its keys read afresh. (Until the erasure event exists, a
    commitment stands for it here.)"""
    monkeypatch.setattr(sealing, "ERASURES", ("alliance.CommitmentMade",))
    env = Settings(data_dir=tmp_path).event_store_env("alliances")
    one, other = AllianceApplication(env=env), AllianceApplication(env=env)
    try:
        aid = answered(one, (ANN, "Ann's reasons"), (BOB, "Bob's reasons"))
        assert other.alliance(aid).own_answers["prework.matters"]["ann"] == "Ann's reasons"  # cached there
        one.forget("ann", aid, AT)
        one.act(aid, "make_commitment", **BOB, commitment_id=uuid4(), text="Bob will write", owner_id="bob")
        assert other.alliance(aid).own_answers["prework.matters"] == {"ann": ERASED, "bob": "Bob's reasons"}
    finally:
        one.close()
        other.close()


def test_with_the_stores_cipher_key_the_key_file_holds_no_key_in_the_clear(tmp_path):
    cipher_key = base64.b64encode(os.urandom(32)).decode()
    app = AllianceApplication(env=Settings(data_dir=tmp_path, cipher_key=cipher_key).event_store_env("alliances"))
    try:
        aid = answered(app, (ANN, "Ann's reasons"))
        key = app.keys.key("ann", aid)
        assert len(key) == 32
        kept = b"".join(p.read_bytes() for p in tmp_path.glob("alliances-keys.sqlite*"))
        assert kept and key not in kept
        assert AllianceApplication(env=Settings(data_dir=tmp_path, cipher_key=cipher_key).event_store_env(
            "alliances")).alliance(aid).own_answers["prework.matters"]["ann"] == "Ann's reasons"
    finally:
        app.close()
