"""The operator's commands respect erasure (issue 13): export and import carry the key rows,
backup and restore the key store, `alliance seal` upgrades a store from before issue 13, and
`alliance export-person` gives one person everything about them and nothing of anyone else's.

Each person's texts carry a marker of their own, so a look at the raw bytes of every file of a
store (WAL included) shows whose words are there."""

import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import Mapper
from eventsourcing.utils import get_topic

from events.alliance import Alliance
from events.application import AllianceApplication
from events.audit import event_hash
from events.sealing import SealingMapper
from server.cli import main
from server.settings import Settings
from server.operations import my_data_page
from test_operations import open_app, push, read_store, store_env

PASSWORD = "a long enough secret"
ANN, BOB = "MARKER-ANN-7f3a", "MARKER-BOB-c9e1"  # in every text each of them writes


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr("events.accounts.PASSWORDS", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def people_and_words(app) -> dict:
    """Ann and Bob in one alliance, each with an answer and a commitment of their own
    words; Ann has a second alliance alone."""
    ann, _ = app.sign_up(email="ann@example.org", password=PASSWORD, display_name="Ann")
    bob, _ = app.sign_up(email="bob@example.org", password=PASSWORD, display_name="Bob")
    shared, alone = uuid.uuid4(), uuid.uuid4()
    pushed = {ann: 0, bob: 0}

    def act(who, aid, name, **args):
        pushed[who] += 1
        push(app, who, f"{who}-phone", pushed[who], aid, name, **args)

    act(ann, shared, "create_alliance", title="Coaching", template="coaching")
    act(ann, alone, "create_alliance", title="Alone", template="coaching")
    app.accept_invitation(bob, app.create_invitation(ann, str(shared), name="Bob")["token"])
    first, second = list(app.alliance(shared).questions)[:2]
    act(ann, shared, "answer_question", question_id=first, text=f"{ANN} answer", base_revision=0)
    act(bob, shared, "answer_question", question_id=second, text=f"{BOB} answer", base_revision=0)
    for who, marker in ((ann, ANN), (bob, BOB)):
        act(who, shared, "make_commitment", commitment_id=str(uuid.uuid4()), text=f"{marker} commitment",
            owner_id=who, due="2027-03-03")
    act(ann, alone, "make_commitment", commitment_id=str(uuid.uuid4()), text=f"{ANN} alone", owner_id=ann,
        due="2027-03-03")
    return {"ann": ann, "bob": bob, "shared": shared, "alone": alone}


def store_bytes(data_dir: Path) -> bytes:
    """Every file of a SQLite data dir, raw: the events, the key store, their WAL files."""
    return b"".join(path.read_bytes() for path in sorted(data_dir.iterdir()) if path.is_file())


def texts(app, aid) -> list[str]:
    alliance = app.alliance(aid)
    return sorted([a["text"] for a in alliance.answers.values() if a["text"]]
                  + [c["text"] for c in alliance.commitments.values()])


def all_chains_intact(app) -> dict:
    reports = {aid: app.verify(aid) for aid in app.alliance_ids()}
    assert reports and all(report.ok for report in reports.values()), reports
    return {aid: report.head for aid, report in reports.items()}


@pytest.fixture
def erased(tmp_path, monkeypatch) -> dict:
    """A SQLite store where Bob erased his words from the shared alliance."""
    app = open_app(monkeypatch, tmp_path / "source")
    world = people_and_words(app)
    assert any(BOB in text for text in texts(app, world["shared"]))
    app.erase_words(world["bob"], world["shared"], device=f"{world['bob']}-phone")
    world["texts"] = texts(app, world["shared"])
    world["heads"] = all_chains_intact(app)
    app.close()
    return world


def test_an_export_after_an_erasure_imports_with_no_way_to_read_the_erased(erased, tmp_path, monkeypatch, capsys):
    store_env(monkeypatch, tmp_path / "source")
    assert main(["export", str(tmp_path / "log.jsonl")]) == 0
    exported = (tmp_path / "log.jsonl").read_text()
    assert BOB not in exported and ANN not in exported  # every text is sealed
    keys = [line["key"] for line in map(json.loads, exported.splitlines()) if "key" in line]
    bobs = [row for row in keys if row["person"] == erased["bob"] and row["scope"] == str(erased["shared"])]
    assert len(bobs) == 1 and bobs[0]["key"] is None and bobs[0]["erased_at"]  # only the tombstone

    store_env(monkeypatch, tmp_path / "fresh")
    assert main(["import", str(tmp_path / "log.jsonl")]) == 0
    assert BOB.encode() not in store_bytes(tmp_path / "fresh")
    app = open_app(monkeypatch, tmp_path / "fresh")
    try:
        assert all_chains_intact(app) == erased["heads"]  # the same chains, unchanged
        now = texts(app, erased["shared"])
        assert now == erased["texts"]
        assert f"{ANN} answer" in now and f"{ANN} commitment" in now  # the others' words are read
        assert not any(BOB in text for text in now) and any(text.startswith("(erased") for text in now)
        assert app.alliance(erased["shared"]).erasures[erased["bob"]]
    finally:
        app.close()


def test_after_an_account_is_deleted_an_export_holds_none_of_its_keys(tmp_path, monkeypatch, capsys):
    app = open_app(monkeypatch, tmp_path / "source")
    world = people_and_words(app)
    app.delete_account(world["bob"], password=PASSWORD, device=f"{world['bob']}-phone")
    app.close()
    store_env(monkeypatch, tmp_path / "source")
    assert main(["export", str(tmp_path / "log.jsonl")]) == 0
    exported = (tmp_path / "log.jsonl").read_text()
    rows = [line["key"] for line in map(json.loads, exported.splitlines()) if "key" in line]
    bobs = [row for row in rows if row["person"] == world["bob"]]
    assert len(bobs) >= 2 and all(row["key"] is None and row["erased_at"] for row in bobs)  # account, alliance
    assert "bob@example.org" not in exported and BOB not in exported

    store_env(monkeypatch, tmp_path / "fresh")
    assert main(["import", str(tmp_path / "log.jsonl")]) == 0
    assert b"bob@example.org" not in store_bytes(tmp_path / "fresh")
    app = open_app(monkeypatch, tmp_path / "fresh")
    try:
        all_chains_intact(app)
        now = texts(app, world["shared"])
        assert f"{ANN} answer" in now and not any(BOB in text for text in now)
        assert app.alliance(world["shared"]).erasures[world["bob"]]["account_deleted"]
    finally:
        app.close()


def test_an_export_whose_sealed_texts_lost_their_keys_is_refused(erased, tmp_path, monkeypatch, capsys):
    store_env(monkeypatch, tmp_path / "source")
    assert main(["export", str(tmp_path / "log.jsonl")]) == 0
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    without_anns = [line for line in lines
                    if not (line.startswith('{"key":') and json.loads(line)["key"]["person"] == erased["ann"])]
    (tmp_path / "cut.jsonl").write_text("\n".join(without_anns) + "\n")
    capsys.readouterr()
    store_env(monkeypatch, tmp_path / "fresh")
    assert main(["import", str(tmp_path / "cut.jsonl")]) == 2
    error = capsys.readouterr().err
    assert f"has no key line, nor the tombstone of an erasure" in error and erased["ann"] in error
    assert "nothing was imported" in error and "Traceback" not in error
    assert read_store(monkeypatch, tmp_path / "fresh") == {}


def test_backup_and_restore_carry_the_key_store(erased, tmp_path, monkeypatch, capsys):
    store_env(monkeypatch, tmp_path / "source")
    assert main(["backup", str(tmp_path / "backup")]) == 0
    store_env(monkeypatch, tmp_path / "restored")
    assert main(["restore", str(tmp_path / "backup")]) == 0
    assert (tmp_path / "restored" / "alliances-keys.sqlite").exists()
    assert BOB.encode() not in store_bytes(tmp_path / "restored")
    app = open_app(monkeypatch, tmp_path / "restored")
    try:
        assert all_chains_intact(app) == erased["heads"]
        assert texts(app, erased["shared"]) == erased["texts"]  # Ann's words read: her keys came along
        assert texts(app, erased["alone"]) == [f"{ANN} alone"]
    finally:
        app.close()

    (tmp_path / "backup" / "alliances-keys.sqlite").unlink()  # a backup that lost its key store
    store_env(monkeypatch, tmp_path / "lost")
    capsys.readouterr()
    assert main(["restore", str(tmp_path / "backup")]) == 2
    error = capsys.readouterr().err
    assert "that its key store does not have" in error and "Nothing was restored" in error
    assert not (tmp_path / "lost" / "alliances.sqlite").exists()


# ----- the upgrade step: a store from before issue 13 -----

class PlainMapper(Mapper):
    """The library's own Mapper, which wrote the stores before issue 13; `decoded` reads the
    bytes back for `verify`, as the application's mapper does."""

    decoded = SealingMapper.decoded


class OldFormatStore(AllianceApplication):
    """The store as it was before issue 13: events written by the plain eventsourcing Mapper,
    every text in the clear, each alliance event hashed over that plain stored form."""

    name = "alliances"  # the same tables (a subclass would be named after itself)

    def construct_mapper(self) -> Mapper:
        super().construct_mapper()  # for the key store the rest of the application expects
        return PlainMapper(transcoder=self.construct_transcoder(), compressor=self.factory.compressor(),
                      cipher=self.factory.cipher())

    def _record(self, processing_event):
        heads = {}
        for event in processing_event.events:
            if isinstance(event, Alliance.Event):
                state = self.mapper.decoded(self.mapper.to_stored_event(event).state)
                previous = heads.get(event.originator_id, state.pop("chain"))
                head = event_hash(previous, get_topic(type(event)), event.originator_id, event.originator_version,
                                  state)
                object.__setattr__(event, "chain", head)
                heads[event.originator_id] = head
        for aggregate_id, head in heads.items():
            if aggregate_id in processing_event.aggregates:
                processing_event.aggregates[aggregate_id].chain = head
        return Application._record(self, processing_event)


def old_store(monkeypatch, data_dir: Path) -> dict:
    store_env(monkeypatch, data_dir)
    app = OldFormatStore(env=Settings.from_env().event_store_env("alliances"))
    try:
        world = people_and_words(app)
        world["texts"] = {aid: texts(app, aid) for aid in (world["shared"], world["alone"])}
        all_chains_intact(app)
    finally:
        app.close()
    return world


def test_seal_upgrades_a_store_from_before_issue_13(tmp_path, monkeypatch, capsys):
    world = old_store(monkeypatch, tmp_path / "old")
    before = store_bytes(tmp_path / "old")
    assert ANN.encode() in before and BOB.encode() in before  # plain, as stores were

    store_env(monkeypatch, tmp_path / "old")
    assert main(["seal"]) == 0
    said = capsys.readouterr().out
    assert "The chain heads devices hold from before no longer match" in said
    after = store_bytes(tmp_path / "old")
    assert ANN.encode() not in after and BOB.encode() not in after
    assert not (tmp_path / "old" / "alliances.sqlite-wal").exists() or \
        (tmp_path / "old" / "alliances.sqlite-wal").stat().st_size == 0
    app = open_app(monkeypatch, tmp_path / "old")
    try:
        all_chains_intact(app)
        assert {aid: texts(app, aid) for aid in world["texts"]} == world["texts"]  # every word still read
        assert app.account(world["bob"]).display_name == "Bob"
        app.erase_words(world["bob"], world["shared"], device=f"{world['bob']}-phone")  # and now erasable
        assert not any(BOB in text for text in texts(app, world["shared"]))
        all_chains_intact(app)
    finally:
        app.close()
    assert main(["seal"]) == 0
    assert "every text is sealed already, nothing to do" in capsys.readouterr().out


def test_seal_keeps_a_broken_record_broken_where_it_was(tmp_path, monkeypatch, capsys):
    world = old_store(monkeypatch, tmp_path / "old")
    with sqlite3.connect(tmp_path / "old" / "alliances.sqlite") as db:
        db.execute("UPDATE stored_events SET state=replace(state, ?, ?) WHERE originator_id=?",
                   (f"{ANN} alone", f"{ANN} ALONE", world["alone"].hex))
    db.close()
    app = open_app(monkeypatch, tmp_path / "old")
    broken_at = app.verify(world["alone"]).broken_at
    app.close()
    assert broken_at

    store_env(monkeypatch, tmp_path / "old")
    assert main(["seal"]) == 0
    assert f"1 alliance(s) had a broken chain already" in capsys.readouterr().out
    app = open_app(monkeypatch, tmp_path / "old")
    try:
        assert app.verify(world["alone"]).broken_at == broken_at
        assert app.verify(world["shared"]).ok
    finally:
        app.close()


def test_an_old_export_is_sealed_as_it_is_imported(tmp_path, monkeypatch, capsys):
    world = old_store(monkeypatch, tmp_path / "old")
    store_env(monkeypatch, tmp_path / "old")
    assert main(["backup", str(tmp_path / "old-backup")]) == 0
    # a backup from before issue 13 was one SQLite file: it restores, and `seal` upgrades it
    (tmp_path / "old-backup" / "alliances.sqlite").rename(tmp_path / "old-backup.sqlite")
    store_env(monkeypatch, tmp_path / "restored")
    assert main(["restore", str(tmp_path / "old-backup.sqlite")]) == 0
    assert "run `alliance seal` now" in capsys.readouterr().out
    assert main(["seal"]) == 0

    store_env(monkeypatch, tmp_path / "old")  # and an export of the old store (plain, no keys), imported
    exported = tmp_path / "old.jsonl"
    assert main(["export", str(exported)]) == 0
    assert ANN in exported.read_text() and '{"key":' not in exported.read_text()
    store_env(monkeypatch, tmp_path / "imported")
    assert main(["import", str(exported)]) == 0
    assert "Sealed the plain texts of" in capsys.readouterr().out
    for data_dir in ("restored", "imported"):
        assert ANN.encode() not in store_bytes(tmp_path / data_dir)
        app = open_app(monkeypatch, tmp_path / data_dir)
        try:
            all_chains_intact(app)
            assert {aid: texts(app, aid) for aid in world["texts"]} == world["texts"]
        finally:
            app.close()


# ----- take your data with you -----

def test_export_person_gives_their_words_and_no_one_elses(tmp_path, monkeypatch, capsys):
    app = open_app(monkeypatch, tmp_path / "data")
    people_and_words(app)
    app.close()
    store_env(monkeypatch, tmp_path / "data")
    assert main(["export-person", "Ann@Example.org"]) == 0
    shown = capsys.readouterr().out
    data = json.loads(shown)
    for words in (f"{ANN} answer", f"{ANN} commitment", f"{ANN} alone"):
        assert words in shown
    assert BOB not in shown and "bob@example.org" not in shown
    assert "ann@example.org" in json.dumps(data)

    assert main(["export-person", "ann@example.org", "--html", "--output", str(tmp_path / "ann.html")]) == 0
    page = (tmp_path / "ann.html").read_text()
    assert page.startswith("<!doctype html>") and "prefers-color-scheme: dark" in page
    assert f"{ANN} answer" in page and f"{ANN} alone" in page and BOB not in page
    assert main(["export-person", "ann@example.org", "--html", "--output", str(tmp_path / "ann.html")]) == 2

    assert main(["export-person", "nobody@example.org"]) == 2
    assert "there is no account with the email address nobody@example.org" in capsys.readouterr().err


def test_the_page_escapes_what_people_wrote():
    page = my_data_page({"account": {"display_name": "<script>alert(1)</script>"},
                         "alliances": [{"title": "Coaching", "words": [{"text": "a\nb", "at": "2026-12-04"}]}],
                         "devices": []})
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<h2>Alliances</h2>" in page and "<dt>Display name</dt>" in page and "none" in page


@pytest.mark.postgres
def test_seal_upgrades_a_postgresql_store_in_place(tmp_path, monkeypatch, capsys, postgres_url):
    import psycopg

    schema = f"seal_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{postgres_url}?schema={schema}"

    def rows() -> bytes:
        with psycopg.connect(postgres_url) as db:
            return b"".join(bytes(state) for table in ("alliances_events", "alliances_snapshots")
                            for (state,) in db.execute(f'SELECT state FROM "{schema}".{table}'))

    try:
        store_env(monkeypatch, url=url)
        app = OldFormatStore(env=Settings.from_env().event_store_env("alliances"))
        try:
            world = people_and_words(app)
            before = {aid: texts(app, aid) for aid in (world["shared"], world["alone"])}
        finally:
            app.close()
        assert ANN.encode() in rows()
        assert main(["seal"]) == 0
        assert ANN.encode() not in rows() and BOB.encode() not in rows()
        app = open_app(monkeypatch, url=url)
        try:
            all_chains_intact(app)
            assert {aid: texts(app, aid) for aid in before} == before
        finally:
            app.close()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as db:
            db.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_rebuild_after_an_erasure_brings_back_no_erased_word(erased, tmp_path, monkeypatch, capsys):
    store_env(monkeypatch, tmp_path / "source")
    assert main(["rebuild"]) == 0
    said = capsys.readouterr().out
    assert int(said.split(" snapshots written")[0].split()[-1]) > 0  # the snapshots are there, from the events
    assert BOB.encode() not in store_bytes(tmp_path / "source")
    app = open_app(monkeypatch, tmp_path / "source")
    try:
        assert texts(app, erased["shared"]) == erased["texts"]
        assert all_chains_intact(app) == erased["heads"]
    finally:
        app.close()
