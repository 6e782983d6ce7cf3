"""The raw-bytes promise of issue 13: once a person's keys are destroyed (`app.forget`), nothing they
wrote is anywhere in the store, not in any file of a SQLite data dir (its WAL included), not in any
row of any table of a PostgreSQL schema (snapshots included), while what the other person wrote
still reads, and every alliance's audit chain still verifies."""

import uuid

import pytest

from events.allies import Inventory
from events.application import AllianceApplication
from events.text import erased_text
from server.settings import Settings

AT = "2026-12-04T09:30:00+00:00"
RUN = uuid.uuid4().hex[:10]
ROUNDS = 50  # own answers each: with the rest, more than 100 events, so a snapshot is taken


def marker(person: str, what: str) -> str:
    return f"{person}-{what}-{RUN}"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    """(settings, a function returning every stored byte of the store)."""
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path / "data")
        yield settings, lambda: b"".join(p.read_bytes() for p in sorted(settings.data_dir.iterdir()) if p.is_file())
        return
    import psycopg
    from psycopg.sql import SQL, Identifier

    url, schema = request.getfixturevalue("postgres_url"), f"erasure_{RUN}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(SQL("CREATE SCHEMA {}").format(Identifier(schema)))

    def every_row() -> bytes:
        found = []
        with psycopg.connect(url, autocommit=True) as db:
            tables = [t for (t,) in db.execute("SELECT table_name FROM information_schema.tables "
                                               "WHERE table_schema = %s", (schema,))]
            assert {"alliances_events", "alliances_snapshots", "alliances_data_keys"} <= set(tables)
            for table in tables:
                for row in db.execute(SQL("SELECT * FROM {}.{}").format(Identifier(schema), Identifier(table))):
                    found += [bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row]
        return b"\n".join(found)

    try:
        yield Settings(database_url=f"{url}?schema={schema}"), every_row
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(SQL("DROP SCHEMA {} CASCADE").format(Identifier(schema)))


def write_words(app, aid, person: str, question: str) -> Inventory:
    """Everything a person writes in an alliance, and in their ally inventory: a marker each."""
    me = {"by": person, "device": f"{person}-phone"}
    app.act(aid, "answer_question", **me, question_id=question, text=marker(person, "answer"), base_revision=0)
    app.act(aid, "make_commitment", **me, commitment_id=uuid.uuid4(), text=marker(person, "commitment"),
            owner_id=person)
    app.act(aid, "hold_review", **me, review_id=uuid.uuid4(), held_on="2026-11-30", attendees=[person], kept={},
            notes=marker(person, "review"))
    other = "bob" if person == "ann" else "ann"
    app.act(aid, "appreciate", **me, participant_id=other, note=marker(person, "appreciation"))
    inventory = Inventory.start(person)
    inventory.add_ally(ally_id=uuid.uuid4(), name=marker(person, "ally"), note=marker(person, "ally-note"))
    app.save(inventory)
    return inventory


def test_forgetting_a_person_leaves_no_byte_of_their_words_in_the_store(store):
    settings, stored_bytes = store
    app = AllianceApplication(env=settings.event_store_env("alliances"))
    try:
        ann, bob = {"by": "ann", "device": "ann-phone"}, {"by": "bob", "device": "bob-phone"}
        aid = app.design_alliance(alliance_id=uuid.uuid4(), **ann, title="Our team", template="team",
                                  facilitator_name="Ann").id
        invitation = uuid.uuid4()
        app.act(aid, "invite_participant", **ann, invitation_id=invitation, name="Bob")
        app.act(aid, "join", **bob, invitation_id=invitation, name="Bob")
        inventories = {"ann": write_words(app, aid, "ann", "purpose.why"),
                       "bob": write_words(app, aid, "bob", "purpose.matters")}
        for n in range(ROUNDS):
            for who in (ann, bob):
                app.act(aid, "give_own_answer", **who, question_id="prework.matters",
                        text=marker(who["by"], f"own-{n}"))
        app.act(aid, "break_alliance", **ann, what_happened=marker("ann", "break"))
        app.act(aid, "renew_alliance", **bob, note=marker("bob", "renewal"))
        assert app.alliance(aid).version > 100 and list(app.snapshots.recorder.select_events(aid))
        others = uuid.uuid4()  # an alliance Ann is not in: it stays as it is
        app.design_alliance(alliance_id=others, **bob, title="Bob alone", template="team", facilitator_name="Bob")
        app.act(others, "answer_question", **bob, question_id="purpose.why", text=marker("bob", "alone"),
                base_revision=0)

        anns_words = [marker("ann", w) for w in ("answer", "commitment", "review", "appreciation", "break", "ally",
                                                  "ally-note", *(f"own-{n}" for n in range(ROUNDS)))]
        anns_keys = [app.keys.key("ann", aid), app.keys.key("ann", inventories["ann"].id)]
        before = stored_bytes()
        assert [w for w in anns_words if w.encode() in before]  # the snapshot holds her words in the clear
        assert all(key in before for key in anns_keys) or settings.database_url  # (PostgreSQL: shown as hex)

        app.forget("ann", aid, AT)
        app.forget("ann", inventories["ann"].id, AT)

        after = stored_bytes()
        assert [w for w in anns_words if w.encode() in after] == []
        assert [k for k in anns_keys if k in after] == []
        for app_now in (app, AllianceApplication(env=settings.event_store_env("alliances"))):  # and a fresh process
            alliance = app_now.alliance(aid)
            assert alliance.answers["purpose.why"]["text"] == erased_text(AT)
            assert alliance.answers["purpose.matters"]["text"] == marker("bob", "answer")
            assert alliance.own_answers["prework.matters"] == {"ann": erased_text(AT),
                                                               "bob": marker("bob", f"own-{ROUNDS - 1}")}
            assert [r["notes"] for r in alliance.reviews.values()] == [erased_text(AT), marker("bob", "review")]
            assert [a["note"] for a in alliance.appreciations] == [erased_text(AT), marker("bob", "appreciation")]
            assert alliance.breaks[0]["what_happened"] == erased_text(AT)
            assert alliance.breaks[0]["renewed"]["note"] == marker("bob", "renewal")
            assert app_now.alliance(others).answers["purpose.why"]["text"] == marker("bob", "alone")
            bobs = app_now.repository.get(inventories["bob"].id).current()
            assert [a["name"] for a in bobs.values()] == [marker("bob", "ally")]
            anns = app_now.repository.get(inventories["ann"].id).current()
            assert [a["note"] for a in anns.values()] == [erased_text(AT)]
            assert all(app_now.verify(a).ok for a in app_now.alliance_ids())
            if app_now is not app:
                app_now.close()
    finally:
        app.close()


def test_after_ann_deletes_her_account_no_byte_of_her_words_or_email_is_in_the_store(store):
    """The same promise by the way people take it: Ann and Bob sign up and work together from
    their phones (pushes); Ann deletes her account. Her email and words are gone from every file
    or row, Bob's still read, and every chain verifies, before and after."""
    from sync import SyncService

    settings, stored_bytes = store
    app = AllianceApplication(env=settings.event_store_env("alliances"))
    try:
        people = {}
        for name in ("ann", "bob"):
            user_id, _ = app.sign_up(email=f"{marker(name, 'email')}@example.org", password="a long enough secret",
                                     display_name=name.title())
            people[name] = {"user_id": user_id, "sent": 0}

        def push(who: str, mutation: str, **args) -> None:
            phone = people[who]
            phone["sent"] += 1
            (result,) = SyncService(app).push(phone["user_id"], f"{who}-phone", [
                {"id": phone["sent"], "alliance_id": str(aid), "name": mutation, "args": args}]).results
            assert result["status"] == "applied", result

        aid = uuid.uuid4()
        push("ann", "create_alliance", title="Our team", template="team")
        app.accept_invitation(people["bob"]["user_id"],
                              app.create_invitation(people["ann"]["user_id"], aid, name="Bob")["token"])
        for name, question in (("ann", "purpose.why"), ("bob", "purpose.matters")):
            push(name, "answer_question", question_id=question, text=marker(name, "answer"), base_revision=0)
            push(name, "add_ally", ally_id=str(uuid.uuid4()), name=marker(name, "ally"))
        for n in range(ROUNDS):
            for name in ("ann", "bob"):
                push(name, "give_own_answer", question_id="prework.matters", text=marker(name, f"own-{n}"))
        assert list(app.snapshots.recorder.select_events(aid)) and app.verify(aid).ok
        anns = [marker("ann", w) for w in ("email", "answer", "ally", *(f"own-{n}" for n in range(ROUNDS)))]
        assert [w for w in anns if w.encode() in stored_bytes()]

        app.delete_account(people["ann"]["user_id"], password="a long enough secret", device="ann-phone")

        after = stored_bytes()
        assert [w for w in anns if w.encode() in after] == []
        bobs = [marker("bob", w) for w in ("email", "answer", "ally", f"own-{ROUNDS - 1}")]
        fresh = AllianceApplication(env=settings.event_store_env("alliances"))
        try:
            alliance = fresh.alliance(aid)
            assert alliance.answers["purpose.matters"]["text"] == marker("bob", "answer")
            assert alliance.own_answers["prework.matters"][people["bob"]["user_id"]] == bobs[-1]
            assert fresh.account(people["bob"]["user_id"]).email == bobs[0] + "@example.org"
            assert all(fresh.verify(a).ok for a in fresh.alliance_ids())
        finally:
            fresh.close()
    finally:
        app.close()
