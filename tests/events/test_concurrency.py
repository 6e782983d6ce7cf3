"""Pushes and pulls from many threads at once never see a half-changed alliance.

Issue 9.4 and 9.15: the library's aggregate cache was folded in place by one thread
while another deep-copied it ("dictionary changed size during iteration", a 500
for the person), and a copy taken mid-fold was saved and snapshotted wrong.
"""

import threading
import uuid

from events.devices import device_id
from sync import SyncService

PUSHERS, PUSHES, READERS, EARLIER = 4, 25, 2, 400


def test_concurrent_pushes_and_pulls_into_one_alliance(app):
    user_id, _ = app.sign_up(email=f"ann-{uuid.uuid4().hex[:6]}@example.org", password="a long enough secret",
                             display_name="Ann")
    alliance_id = str(uuid.uuid4())
    # A well-used alliance: copying it takes long enough for another thread to meet it half-changed.
    SyncService(app).push(user_id, "phone-000", [{"id": 1, "name": "create_alliance", "alliance_id": alliance_id,
                                     "args": {"title": "Our trip", "template": "personal"}}] + [
        {"id": n, "name": "make_commitment", "alliance_id": alliance_id,
         "args": {"commitment_id": str(uuid.uuid4()), "text": f"earlier {n}", "owner_id": user_id}}
        for n in range(2, EARLIER + 2)])
    errors: list[str] = []
    made: dict[str, set[str]] = {}

    def push(n: int) -> None:
        client_id = f"phone-{n:03d}-x"
        made[client_id] = set()
        for number in range(1, PUSHES + 1):
            commitment_id = str(uuid.uuid4())
            try:
                result = SyncService(app).push(user_id, client_id, [{
                    "id": number, "name": "make_commitment", "alliance_id": alliance_id,
                    "args": {"commitment_id": commitment_id, "text": f"{n}/{number}", "owner_id": user_id}}])
                assert result.results[0]["status"] == "applied"
                made[client_id].add(commitment_id)
            except Exception as error:  # noqa: BLE001 - each one is a 500 a person would have seen
                errors.append(repr(error))

    start = SyncService(app).pull(user_id, "phone-000", None)["cursor"]

    pushing = threading.Event()

    def pull() -> None:
        cursor = start
        while pushing.is_set():
            try:
                page = SyncService(app).pull(user_id, "phone-000", cursor)
                cursor = page["cursor"]
                assert all(a["version"] >= 1 for a in page["alliances"])
            except Exception as error:  # noqa: BLE001
                errors.append(repr(error))

    def read() -> None:
        while pushing.is_set():
            try:  # as GET /alliances/{id} reads it
                assert app.alliance_for(user_id, alliance_id).as_dict()["version"] >= 1
            except Exception as error:  # noqa: BLE001
                errors.append(repr(error))

    pushing.set()
    pushers = [threading.Thread(target=push, args=(n,)) for n in range(PUSHERS)]
    others = [threading.Thread(target=pull), *(threading.Thread(target=read) for _ in range(READERS))]
    for thread in pushers + others:
        thread.start()
    for thread in pushers:
        thread.join()
    pushing.clear()
    for thread in others:
        thread.join()
    assert errors == []

    # Every acknowledged commitment is there, also when the alliance is read from its snapshots.
    alliance = app.alliance(alliance_id)
    assert set().union(*made.values()) <= set(alliance.commitments)
    assert len(alliance.commitments) == EARLIER + PUSHERS * PUSHES
    assert all(app.repository.get(device_id(c)).last_mutation_id == PUSHES for c in made)
    replayed = app.repository.get(uuid.UUID(alliance_id), version=alliance.version)
    assert replayed.as_dict() == alliance.as_dict()
