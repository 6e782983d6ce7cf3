"""A pull with nothing new is answered from memory (sync/heads.py, issue 14), and what is new
is never hidden: on SQLite and on PostgreSQL (the `app` fixture).

One process's memory: a SyncService with Heads, kept current by the application's own
commits (`follow`), as the server wires it. "Another process" is a second application on the
same store, whose commits this one hears only when they are announced (`heard`), as the
channel would bring them."""

from contextlib import contextmanager
from uuid import uuid4

import pytest

from events.application import AllianceApplication
from sync import DeviceNotYours, SyncService
from sync.heads import Heads, announcements, follow, hear, positions_of

from test_sync_stories import WHY, joins, person


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def heads(app, clock):
    heads = Heads(trust_seconds=2.0, clock=clock)
    follow(app, heads.heard)
    return heads


@contextmanager
def store_visits(app):
    """Counts every connection to the store taken meanwhile (every query goes through one)."""
    datastore, visits = app.recorder.datastore, []
    real = datastore.get_connection

    def counted(*args, **kwargs):
        visits.append(1)
        return real(*args, **kwargs)

    datastore.get_connection = counted
    try:
        yield visits
    finally:
        del datastore.get_connection


def pull(app, heads, phone, cursor=None):
    return SyncService(app, heads).pull(phone.user_id, phone.client_id, cursor)


NOTHING = {"more": False, "reset": False, "alliances": [], "events": [], "removed": [], "inventory": None}


def test_a_pull_with_nothing_new_never_touches_the_store(app, heads):
    """Ann's phone pulled; nothing happened since. The store confirms it once; then, for as long as
    that is trusted, her pulls are answered from memory with what the store would answer, the same
    cursor, and her device's stored outcomes are not read."""
    ann = person(app, "ann")
    aid = ann.design()
    for n in range(30):
        ann.do(aid, "give_own_answer", question_id=WHY, text=f"Thought {n}")
    cursor = pull(app, heads, ann)["cursor"]
    from_the_store = SyncService(app).pull(ann.user_id, ann.client_id, cursor)
    assert from_the_store == {**NOTHING, "cursor": cursor, "last_mutation_id": 31}
    with store_visits(app) as visits:
        assert pull(app, heads, ann, cursor) == from_the_store
    assert len(visits) == 1  # one query: the newest position of each thing her pull reads
    with store_visits(app) as visits:
        for _ in range(5):
            assert pull(app, heads, ann, cursor) == from_the_store
    assert visits == []


def test_what_this_process_commits_is_seen_by_the_very_next_pull(app, heads):
    """Bob's laptop answers, Ann invites Carol: each next pull brings it at once, trusted memory or not."""
    ann, bob, carol = person(app, "ann"), person(app, "bob"), person(app, "carol")
    aid = ann.design()
    joins(ann, bob, aid)
    laptop = bob.another_device("bob-laptop")
    bob_cursor = pull(app, heads, bob)["cursor"]
    carol_cursor = pull(app, heads, carol)["cursor"]
    bob_cursor = pull(app, heads, bob, bob_cursor)["cursor"]  # now trusted in memory
    laptop.do(aid, "give_own_answer", question_id=WHY, text="From the laptop")
    pulled = pull(app, heads, bob, bob_cursor)
    assert [e["name"] for e in pulled["events"]] == ["OwnAnswerGiven"]
    assert pull(app, heads, bob, pulled["cursor"])["events"] == []
    # Carol joins: her account changed, so her pull reads the store and finds the alliance.
    assert pull(app, heads, carol, carol_cursor)["alliances"] == []
    joins(ann, carol, aid)
    assert [a["id"] for a in pull(app, heads, carol, carol_cursor)["alliances"]] == [aid]
    # Her phone's own push is acknowledged by its next pull.
    carol.do(aid, "give_own_answer", question_id=WHY, text="Mine")
    assert pull(app, heads, carol, carol_cursor)["last_mutation_id"] == 1


def test_another_process_commit_is_seen_once_announced_and_an_unannounced_one_within_the_trust(
        app, heads, clock, settings):
    ann, bob = person(app, "ann"), person(app, "bob")
    aid = ann.design()
    joins(ann, bob, aid)
    cursor = pull(app, heads, bob)["cursor"]
    cursor = pull(app, heads, bob, cursor)["cursor"]  # trusted now
    other = AllianceApplication(env=settings.event_store_env("alliances"))  # another process
    try:
        # Announced: heard on the channel, seen by the next pull.
        other.on_commit = lambda recordings: [heads.heard(hear(m)) for m in announcements(positions_of(recordings))]
        ann.app = other
        assert ann.do(aid, "give_own_answer", question_id=WHY, text="Announced")["status"] == "applied"
        pulled = pull(app, heads, bob, cursor)
        assert [e["name"] for e in pulled["events"]] == ["OwnAnswerGiven"]
        cursor = pull(app, heads, bob, pulled["cursor"])["cursor"]
        # Not announced (a tool writing to the store, a lost message): missed only while trusted.
        other.on_commit = None
        assert ann.do(aid, "give_own_answer", question_id=WHY, text="Not announced")["status"] == "applied"
        assert pull(app, heads, bob, cursor)["events"] == []
        clock.now += 2.0
        assert [e["name"] for e in pull(app, heads, bob, cursor)["events"]] == ["OwnAnswerGiven"]
    finally:
        other.close()


def test_nothing_is_claimed_at_start_or_after_a_listener_reconnected(app, heads):
    ann = person(app, "ann")
    ann.design()
    cursor = pull(app, heads, ann)["cursor"]
    with store_visits(app) as visits:  # a process that just started knows nothing yet
        assert pull(app, Heads(), ann, cursor)["events"] == []
    assert len(visits) > 1
    pull(app, heads, ann, cursor)
    heads.forget()  # the channel said {"alliances": []}: something may have been missed
    with store_visits(app) as visits:
        assert pull(app, heads, ann, cursor)["events"] == []
    assert len(visits) > 1


def test_an_announcement_tells_positions_and_anything_else_on_the_channel_tells_nothing():
    positions = {uuid4(): n for n in range(250)}
    messages = announcements(positions)
    assert len(messages) == 3 and all(len(m) < 8000 for m in messages)  # a NOTIFY payload's limit
    assert {k: v for m in messages for k, v in hear(m).items()} == positions
    assert hear(b'{"alliances": []}') is None and hear(b"not json") is None


def test_a_client_id_of_another_account_is_refused_from_memory_too(app, heads):
    ann, mallory = person(app, "ann"), person(app, "mallory")
    ann.design()
    cursor = pull(app, heads, ann)["cursor"]
    pull(app, heads, ann, cursor)
    with pytest.raises(DeviceNotYours):
        SyncService(app, heads).pull(mallory.user_id, ann.client_id, cursor)
    with pytest.raises(DeviceNotYours):
        SyncService(app, heads).pull_from_memory(mallory.user_id, ann.client_id, cursor)
