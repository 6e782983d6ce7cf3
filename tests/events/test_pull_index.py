"""A pull reads only what is about the person (issue 14): a phone that was away while
other people wrote a great deal elsewhere catches up in one pull, and a page cut by its
limit still ends where a transaction ended. On SQLite and on PostgreSQL (the `app` fixture).

Other people's writing is copied from one real push under new ids and stored raw, in
big transactions, so that 100,000 events take seconds, not minutes."""

from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from events import log

from test_sync_stories import OUTCOMES, WHY, joins, person


def a_push_of(phone) -> list:
    """The log entries of one push of `phone`: a new alliance with a few answers, its ledger last."""
    before = phone.app.recorder.max_notification_id() or 0
    aid = str(uuid4())
    phone.push(phone.next(aid, "create_alliance", title="Elsewhere", template="coaching"),
               *(phone.next(aid, "give_own_answer", question_id=WHY, text=f"Thought {n}") for n in range(8)))
    found = phone.app.recorder.select_notifications(start=before, limit=100, inclusive_of_start=False)
    return [n for n in found if not n.topic.startswith("account.")]  # the alliance's and the ledger's


def others_write(app, push: list, count: int) -> None:
    """About `count` events of other people: copies of `push`, each under new ids, so
    each copy is a whole push of someone else's into an alliance of their own."""
    batch, written = [], 0
    while written < count:
        ids: dict = {}
        batch += [StoredEvent(originator_id=ids.setdefault(n.originator_id, uuid4()),
                              originator_version=n.originator_version, topic=n.topic, state=n.state) for n in push]
        written += len(push)
        if len(batch) >= 2_000 or written >= count:  # bigger pipelines can stall psycopg
            app.recorder.insert_events(batch)
            batch = []


def test_a_phone_behind_100000_events_of_others_catches_up_in_one_pull(app):
    """Ann's phone was up to date; then other people wrote 100,000 events in their own
    alliances, and Ann's laptop one answer in hers: one pull brings exactly that answer."""
    ann, carol = person(app, "ann"), person(app, "carol")
    aid = ann.design()
    laptop = ann.another_device("ann-laptop")
    cursor = ann.pull()["cursor"]
    others_write(app, a_push_of(carol), 100_000)
    laptop.do(aid, "give_own_answer", question_id=WHY, text="From the laptop")
    pulled = ann.pull(cursor)
    assert not pulled["reset"] and not pulled["more"]
    assert [(e["alliance_id"], e["name"], e["data"]["text"]) for e in pulled["events"]] == \
        [(aid, "OwnAnswerGiven", "From the laptop")]
    assert pulled["alliances"] == [app.alliance(aid).as_dict()] and pulled["last_mutation_id"] == 1
    again = ann.pull(pulled["cursor"])
    assert (again["events"], again["more"], again["reset"]) == ([], False, False)


def test_a_page_cut_by_its_limit_ends_with_a_whole_push_and_holds_only_the_persons_events(app):
    """Bob pushes three answers at once, others write 25,000 events, Ann's laptop pushes
    two, others write more. Ann's phone pulls two events a page: the first page holds
    Bob's whole push (three, never half of it), the next the laptop's two, and no page
    holds anything of anyone else's or comes back empty while more is said to come."""
    ann, bob, carol = person(app, "ann"), person(app, "bob"), person(app, "carol")
    aid = ann.design()
    joins(ann, bob, aid)
    laptop = ann.another_device("ann-laptop")
    cursor = ann.pull()["cursor"]
    elsewhere = a_push_of(carol)
    bob.push(*(bob.next(aid, "give_own_answer", question_id=q, text=f"Bob {n}")
               for n, q in enumerate((WHY, OUTCOMES, WHY))))
    others_write(app, elsewhere, 25_000)
    laptop.push(laptop.next(aid, "give_own_answer", question_id=WHY, text="Laptop 0"),
                laptop.next(aid, "give_own_answer", question_id=OUTCOMES, text="Laptop 1"))
    others_write(app, elsewhere, 1_000)
    pages = []
    while not pages or pages[-1]["more"]:
        pages.append(ann.pull(cursor, limit=2))
        cursor = pages[-1]["cursor"]
    assert [[e["data"]["text"] for e in p["events"]] for p in pages] == [["Bob 0", "Bob 1", "Bob 2"],
                                                                          ["Laptop 0", "Laptop 1"], []]
    assert {e["alliance_id"] for p in pages for e in p["events"]} == {aid}
    for page in pages[:2]:  # each page's state is as of its last event
        assert page["alliances"] == [app.alliance(aid, version=page["events"][-1]["version"]).as_dict()]
    assert [p["last_mutation_id"] for p in pages] == [1, 1, 1]  # the phone pushed only the design


def test_the_log_is_read_through_the_index_not_by_scanning_it(app):
    """What makes the catching up cheap: the store answers a pull's read from an index
    led by the originator id, never by walking everyone's events."""
    ann, carol = person(app, "ann"), person(app, "carol")
    aid = ann.design()
    others_write(app, a_push_of(carol), 5_000)
    recorder, ids, end = app.recorder, [UUID(aid), uuid4()], app.recorder.max_notification_id()
    index = log.INDEX.format(table=recorder.events_table_name)
    if isinstance(recorder, SQLiteApplicationRecorder):
        statement = log.SQLITE_ENTRIES.format(table=recorder.events_table_name, marks="?,?")
        with recorder.datastore.transaction(commit=False) as c:
            c.execute("EXPLAIN QUERY PLAN " + statement, [i.hex for i in ids] + [0, end, 500])
            plan = " ".join(row["detail"] for row in c.fetchall())
        assert f"USING INDEX {index} (originator_id=? AND rowid>? AND rowid<?)" in plan and "SCAN" not in plan, plan
    else:
        statement = log.POSTGRES_ENTRIES.format(schema=Identifier(recorder.datastore.schema),
                                                table=Identifier(recorder.events_table_name))
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("ANALYZE {table}").format(table=Identifier(recorder.events_table_name)))
            curs.execute(SQL("EXPLAIN ") + statement, [ids, 0, end, 500])
            plan = " ".join(row["QUERY PLAN"] for row in curs.fetchall())
        # (for a short history the planner may take the primary key, also led by originator_id)
        assert "Index Cond: (originator_id = ANY" in plan.replace("((", "(") and "Seq Scan" not in plan, plan
    assert [n.originator_id for n in log.entries_of(recorder, ids, after=0, upto=end, limit=500)] == [UUID(aid)]
