"""The store's log read by whom it is about: the entries of a few aggregates after a
position, in notification id (commit) order, through an index on (originator id,
notification id) that the application makes with its tables. One function per store kind,
mirroring how eventsourcing's own recorders run `select_notifications`; a store of another
kind (in memory) is scanned whole."""

from typing import Iterable, Sequence
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, InterfaceError, Notification, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

INDEX = "{table}_by_originator"
SQLITE_ENTRIES = ("SELECT rowid, * FROM {table} WHERE originator_id IN ({marks}) AND rowid>? AND rowid<=? "
                  "ORDER BY rowid LIMIT ?")
SQLITE_NEWEST = ("WITH wanted(i) AS (VALUES {marks}) "
                 "SELECT i, (SELECT MAX(rowid) FROM {table} WHERE originator_id = wanted.i) FROM wanted")
POSTGRES_NEWEST = SQL("SELECT i, (SELECT max(notification_id) FROM {schema}.{table} WHERE originator_id = i) AS newest "
                      "FROM unnest(%s::uuid[]) AS i")
POSTGRES_ENTRIES = SQL("SELECT * FROM {schema}.{table} WHERE originator_id = ANY(%s) "
                       "AND notification_id>%s AND notification_id<=%s ORDER BY notification_id LIMIT %s")


def create_index(recorder: ApplicationRecorder) -> None:
    """Make the index if it is not there yet (safe on every start)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        # A SQLite index holds the rowid (the notification id) after its columns, in order.
        with recorder.datastore.transaction(commit=True) as c:
            c.execute(f"CREATE INDEX IF NOT EXISTS {INDEX.format(table=recorder.events_table_name)} "
                      f"ON {recorder.events_table_name} (originator_id)")
    elif isinstance(recorder, PostgresApplicationRecorder):
        with recorder.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("CREATE INDEX IF NOT EXISTS {index} ON {schema}.{table} (originator_id, notification_id)")
                         .format(index=Identifier(INDEX.format(table=recorder.events_table_name)),
                                 schema=Identifier(recorder.datastore.schema),
                                 table=Identifier(recorder.events_table_name)))


def entries_of(recorder: ApplicationRecorder, originator_ids: Iterable[UUID], *, after: int, upto: int,
               limit: int) -> Sequence[Notification]:
    """The log entries of these aggregates with after < notification id <= upto, in order,
    at most `limit` of them."""
    ids = list(originator_ids)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite_entries(recorder, ids, after, upto, limit)
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres_entries(recorder, ids, after, upto, limit)
    wanted = set(ids)
    return [n for n in recorder.select_notifications(start=after, stop=upto, limit=upto - after,
                                                     inclusive_of_start=False) if n.originator_id in wanted][:limit]


def newest_positions(recorder: ApplicationRecorder, originator_ids: Iterable[UUID]) -> dict[UUID, int]:
    """The notification id of each aggregate's newest entry, in one query (each a look at the
    end of its run in the index); an aggregate with no entry is left out."""
    ids = list(originator_ids)
    if isinstance(recorder, SQLiteApplicationRecorder):
        statement = SQLITE_NEWEST.format(table=recorder.events_table_name, marks=",".join(["(?)"] * len(ids)))
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(statement, [i.hex for i in ids])
            return {UUID(row[0]): row[1] for row in c.fetchall() if row[1] is not None}
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres_newest(recorder, ids)
    newest = {}
    for notification in recorder.select_notifications(start=None, limit=recorder.max_notification_id() or 1):
        if notification.originator_id in ids:
            newest[notification.originator_id] = notification.id
    return newest


def first_of_topics(recorder: ApplicationRecorder, topics: Sequence[str], *, after: int, upto: int) -> int | None:
    """The notification id of the first entry with one of these topics in (after, upto], or None.
    It walks the log from `after` by notification id, so it is cheap when one is near."""
    found = recorder.select_notifications(start=after, stop=upto, limit=1, topics=topics, inclusive_of_start=False)
    return found[0].id if found else None


def _sqlite_entries(recorder: SQLiteApplicationRecorder, ids: list[UUID], after: int, upto: int,
                    limit: int) -> list[Notification]:
    statement = SQLITE_ENTRIES.format(table=recorder.events_table_name, marks=",".join("?" * len(ids)))
    with recorder.datastore.transaction(commit=False) as c:
        c.execute(statement, [i.hex for i in ids] + [after, upto, limit])
        return [Notification(id=row["rowid"], originator_id=recorder.convert_originator_id(row["originator_id"]),
                             originator_version=row["originator_version"], topic=row["topic"], state=row["state"])
                for row in c.fetchall()]


@retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
def _postgres_newest(recorder: PostgresApplicationRecorder, ids: list[UUID]) -> dict[UUID, int]:
    statement = POSTGRES_NEWEST.format(schema=Identifier(recorder.datastore.schema),
                                       table=Identifier(recorder.events_table_name))
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement, [ids], prepare=True)
        return {row["i"]: row["newest"] for row in curs.fetchall() if row["newest"] is not None}


@retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
def _postgres_entries(recorder: PostgresApplicationRecorder, ids: list[UUID], after: int, upto: int,
                      limit: int) -> list[Notification]:
    statement = POSTGRES_ENTRIES.format(schema=Identifier(recorder.datastore.schema),
                                        table=Identifier(recorder.events_table_name))
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement, [ids, after, upto, limit], prepare=True)
        return [Notification(id=row["notification_id"], originator_id=row["originator_id"],
                             originator_version=row["originator_version"], topic=row["topic"],
                             state=bytes(row["state"]))
                for row in curs.fetchall()]
