"""Live pokes, crashes and lost answers against real `alliance serve` processes
(SYNC.md guarantees 1 "exactly once", 4 "read your writes" and 6 "live"; after
the crashes every snapshot is checked against its events); see servers.py and checks.py."""

import json
import random
import socket
import struct
import threading
import time
import uuid
from collections import Counter

import httpx
import pytest

from checks import OwnWrites, snapshots_against_events
from server.settings import Settings
from servers import (add_question, appreciate, create_alliance, get, join, login, make_commitment, pull, push,
                     push_ok, signup)


def unique(name: str) -> str:
    """PostgreSQL tests share one database per run: emails and client ids of their own."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def poked_about(alliance_id):
    return lambda e: e[0] == "poke" and alliance_id in e[1]["alliances"]


def texts_in(alliance: dict) -> Counter:
    """Every question and commitment text and appreciation note, counted: a duplicate shows as 2."""
    return Counter([q["text"] for q in alliance["questions"].values()] +
                   [c["text"] for c in alliance["commitments"].values()] +
                   [a["note"] for a in alliance["appreciations"]])


# ----- live -----

def test_a_push_pokes_every_participant_within_a_second_and_nobody_else(sqlite_server):
    url = sqlite_server.url
    _, ann = signup(url, "ann@example.org")
    _, bob = signup(url, "bob@example.org")
    _, carol = signup(url, "carol@example.org")
    alliance_id = create_alliance(url, ann, "ann-phone-1")
    join(url, ann, alliance_id, bob)
    ann_laptop = login(url, "ann@example.org")
    cursors = {"ann-laptop-1": pull(url, ann_laptop, "ann-laptop-1")["cursor"],
               "bob-phone-1": pull(url, bob, "bob-phone-1")["cursor"]}
    listening = {"ann-laptop": sqlite_server.listen(ann_laptop), "bob": sqlite_server.listen(bob),
                 "carol": sqlite_server.listen(carol)}
    for listener in listening.values():
        listener.wait_ready()

    started = time.monotonic()
    push_ok(url, ann, "ann-phone-1", [add_question(2, alliance_id, "What do we want to feel?")])
    for who in ("ann-laptop", "bob"):
        poke = listening[who].wait_for(poked_about(alliance_id), timeout=started + 1 - time.monotonic())
        assert poke is not None, f"{who} was not poked within 1 s: {listening[who].events} {listening[who].error!r}"
        assert poke[2] - started < 1

    for token, client_id in ((ann_laptop, "ann-laptop-1"), (bob, "bob-phone-1")):
        pulled = pull(url, token, client_id, cursors[client_id])
        assert [(e["name"], e["data"]["text"]) for e in pulled["events"]] == \
            [("QuestionAdded", "What do we want to feel?")]
        assert "What do we want to feel?" in texts_in(pulled["alliances"][0])
    assert listening["carol"].wait_for(lambda e: e[0] == "poke", timeout=started + 1.5 - time.monotonic()) is None
    assert [e[0] for e in listening["carol"].events] == ["ready"]



def test_who_left_an_alliance_hears_nothing_more_of_it_and_their_other_device_hears_they_left(sqlite_server):
    url = sqlite_server.url
    _, ann = signup(url, unique("ann") + "@example.org")
    bob_email = unique("bob") + "@example.org"
    _, bob = signup(url, bob_email)
    alliance_id = create_alliance(url, ann, "ann-phone-1")
    join(url, ann, alliance_id, bob)
    bob_laptop = login(url, bob_email)
    laptop_hears = sqlite_server.listen(bob_laptop)
    laptop_hears.wait_ready()

    push_ok(url, bob, unique("bob-phone"), [{"id": 1, "alliance_id": alliance_id, "name": "leave_alliance", "args": {}}])
    assert laptop_hears.wait_for(poked_about(alliance_id), timeout=2) is not None, "Bob's laptop did not hear he left"
    bob_hears = sqlite_server.listen(bob)
    bob_hears.wait_ready()
    started = time.monotonic()
    push_ok(url, ann, "ann-phone-1", [add_question(2, alliance_id, "What do we want to feel?")])
    # Not even that it changed: it is no longer his.
    assert bob_hears.wait_for(lambda e: e[0] != "ready" and e[2] >= started, timeout=1.5) is None, bob_hears.events


@pytest.mark.postgres
def test_a_push_to_one_process_pokes_a_listener_on_another(postgres_servers):
    a, b = postgres_servers
    _, ann = signup(a.url, f"{unique('ann')}@example.org")
    _, bob = signup(a.url, f"{unique('bob')}@example.org")
    ann_phone, bob_phone = unique("ann-phone"), unique("bob-phone")
    alliance_id = create_alliance(a.url, ann, ann_phone)
    join(a.url, ann, alliance_id, bob)
    cursor = pull(b.url, bob, bob_phone)["cursor"]
    listener = b.listen(bob)
    listener.wait_ready()

    started = time.monotonic()
    push_ok(a.url, ann, ann_phone, [add_question(2, alliance_id, "How do we decide?")])
    poke = listener.wait_for(poked_about(alliance_id), timeout=1)
    assert poke is not None, f"no poke on B within 1 s: {listener.events} {listener.error!r}\n{b.log_tail()}"
    assert poke[2] - started < 1
    pulled = pull(b.url, bob, bob_phone, cursor)
    assert [(e["name"], e["data"]["text"]) for e in pulled["events"]] == [("QuestionAdded", "How do we decide?")]
    assert "How do we decide?" in texts_in(pulled["alliances"][0])


# ----- kill -9, many times, mid-push -----

USERS, DEVICES_PER_USER, MUTATIONS, KILLS = 2, 4, 50, 3


class Device(threading.Thread):
    """Pushes its numbered mutations in small batches until all are acknowledged,
    and after each acknowledged push pulls (from `pull_url`), every page checked
    for read-your-writes. Connection errors: retry (an optimistic device assumes
    the lost batch landed and goes on; the server's 409 out_of_order sends it back)."""

    def __init__(self, url, pull_url, token, client_id, plan, optimistic, seed, deadline, stop):
        super().__init__(daemon=True, name=client_id)
        self.stop = stop  # set when the test ends early: no thread outlives it
        self.url, self.token, self.client_id, self.plan = url, token, client_id, plan
        self.optimistic, self.rng, self.deadline = optimistic, random.Random(seed), deadline
        self.outcomes: dict[int, set] = {}  # mutation id -> outcomes the server reported
        self.acked = 0
        self.seen = Counter()  # what happened to pushes and pulls: 200, 409, transport errors ...
        self.failure: BaseException | None = None
        self.client = httpx.Client(timeout=5)  # connections of its own, like a phone
        self.reads = OwnWrites(pull_url, token, client_id, plan, self.client)

    def run(self):
        try:
            self._run()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.failure = error
        finally:
            self.client.close()

    def _note(self, results):
        for result in results:
            outcome = result["outcome"] if result["status"] == "duplicate" else result["status"]
            self.outcomes.setdefault(result["id"], set()).add(outcome)

    def _run(self):
        sent = 0  # the batch goes on after this number
        while self.acked < len(self.plan) and not self.stop.is_set():
            assert time.monotonic() < self.deadline, f"{self.client_id} stuck at {self.acked}: {self.seen}"
            if sent >= len(self.plan):
                sent = self.acked
            batch = self.plan[sent:sent + self.rng.randint(1, 4)]
            try:
                response = push(self.url, self.token, self.client_id, batch, client=self.client)
            except httpx.TransportError as error:
                self.seen[type(error).__name__] += 1
                sent = batch[-1]["id"] if self.optimistic else self.acked
                time.sleep(0.1)
                continue
            self.seen[response.status_code] += 1
            body = response.json()
            if response.status_code == 200:
                assert body["last_mutation_id"] >= batch[-1]["id"], body
                self._note(body["results"])
                self.seen["duplicates"] += sum(r["status"] == "duplicate" for r in body["results"])
                self.acked = sent = body["last_mutation_id"]
                self._pull()
                time.sleep(self.rng.uniform(0, 0.02))
            elif response.status_code == 409 and body.get("code") == "out_of_order":
                self._note(body["results"])
                self.acked = sent = body["expected_id"] - 1
            else:
                raise AssertionError(f"{self.client_id}: unexpected {response.status_code} {body}")

    def _pull(self):
        """Until it answers: a device waits for its server to come back, whichever one is down."""
        while not self.stop.is_set():
            assert time.monotonic() < self.deadline, f"{self.client_id} could not pull: {self.seen}"
            try:
                self.reads.pull(self.outcomes)
                return
            except httpx.TransportError as error:
                self.seen[f"pull {type(error).__name__}"] += 1
                time.sleep(0.1)


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_devices_pushing_through_repeated_kill_9_lose_and_duplicate_nothing(store, servers, tmp_path, request):
    """On PostgreSQL two processes, killed in turn; each device pushes to one and pulls from the other."""
    processes = (list(request.getfixturevalue("postgres_servers")) if store == "postgres"
                 else [servers({"ALLIANCE_DATA_DIR": str(tmp_path / "data")}, "crash-sqlite")])
    url, seed = processes[0].url, random.randrange(1 << 30)
    rng = random.Random(seed)
    run = unique("crash")
    people = [signup(url, f"{run}-person{k}@example.org") for k in range(USERS)]
    alliances = [create_alliance(url, token, f"{run}-setup{k}") for k, (_, token) in enumerate(people)]
    for k, alliance_id in enumerate(alliances):
        for other in range(USERS):
            if other != k:
                join(url, people[k][1], alliance_id, people[other][1])
    versions_before = {aid: get(url, people[0][1], f"/api/v1/alliances/{aid}/")["version"] for aid in alliances}

    deadline, stop = time.monotonic() + 60, threading.Event()
    devices, expected, per_alliance = [], Counter(), Counter()
    for user, (user_id, token) in enumerate(people):
        other_id = people[(user + 1) % USERS][0]
        for d in range(DEVICES_PER_USER):
            client_id = f"{run}-u{user}-d{d}"
            plan = []
            for n in range(1, MUTATIONS + 1):
                # Most into one alliance, past 300 versions: snapshots at 100, 200 and 300 to check.
                alliance_id, text = alliances[0] if n % 5 else alliances[1], f"{client_id} #{n}"
                plan.append(make_commitment(n, alliance_id, user_id, text) if n % 3 == 0
                            else appreciate(n, alliance_id, other_id, text))
                expected[text] += 1
                per_alliance[alliance_id] += 1
            pushes_to = len(devices) % len(processes)
            devices.append(Device(processes[pushes_to].url, processes[(pushes_to + 1) % len(processes)].url,
                                  token, client_id, plan, optimistic=d % 2 == 1, seed=rng.random(),
                                  deadline=deadline, stop=stop))
    for device in devices:
        device.start()
    kills_while_busy, total = 0, len(devices) * MUTATIONS
    try:  # kill at random points of progress (however fast this machine is), from this main thread (servers.py)
        for kill, threshold in enumerate(sorted(rng.uniform(0.1, 0.85) * total for _ in range(KILLS))):
            while sum(d.acked for d in devices) < threshold and time.monotonic() < deadline and \
                    any(d.is_alive() for d in devices):  # a device that failed is reported below
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.05))
            kills_while_busy += any(device.is_alive() for device in devices)
            victim = processes[kill % len(processes)]
            victim.kill()
            time.sleep(rng.uniform(0, 0.2))
            victim.start()
        for device in devices:
            device.join(max(0.1, deadline - time.monotonic()))
    finally:
        stop.set()

    context = f"seed {seed}; " + "; ".join(f"{d.client_id}: {dict(d.seen)}" for d in devices)
    print(context)  # shown with -rP: what the devices went through
    for device in devices:
        assert device.failure is None, f"{device.client_id}: {device.failure!r} ({context})"
    assert kills_while_busy == KILLS, f"devices finished before all kills: {context}"
    for device in devices:
        assert not device.is_alive(), context
        assert all(seen == {"applied"} for seen in device.outcomes.values()), (device.outcomes, context)
        fresh = pull(url, device.token, device.client_id)  # a reset page: every alliance as it is now
        device.reads.check(fresh, device.outcomes)
        assert fresh["last_mutation_id"] == MUTATIONS
        replay = push_ok(url, device.token, device.client_id, device.plan)  # everything again: nothing changes
        assert replay["last_mutation_id"] == MUTATIONS
        assert [(r["id"], r["status"], r["outcome"]) for r in replay["results"]] == \
            [(n, "duplicate", "applied") for n in range(1, MUTATIONS + 1)]
    assert sum(d.seen[200] for d in devices) > 0 and \
        sum(v for d in devices for k, v in d.seen.items() if isinstance(k, str) and "Error" in k) >= KILLS, context
    print(f"pull pages checked: {sum(d.reads.pages for d in devices)}, "
          f"acknowledged commitments found in them: {sum(d.reads.found for d in devices)}")
    assert sum(d.reads.found for d in devices) > 0, "no pull page held an acknowledged commitment to check"

    found = Counter()
    for alliance_id in alliances:
        alliance = get(url, people[0][1], f"/api/v1/alliances/{alliance_id}/")
        found += texts_in(alliance)
        assert alliance["version"] - versions_before[alliance_id] == per_alliance[alliance_id], context
        check = get(url, people[0][1], f"/api/v1/alliances/{alliance_id}/verify")
        assert check["ok"], check
    assert found == expected, f"missing {expected - found}, extra {found - expected} ({context})"

    for process in processes:
        process.stop()
    compared, disagreed = snapshots_against_events(Settings.from_env(processes[0].env))
    print(f"snapshots compared with a replay of their events: {compared}")
    assert compared > 0 and not disagreed, f"{compared} snapshots compared; these disagree: {disagreed}"


# ----- a client that loses the answer to its push -----

def request_bytes(port, token, payload):
    body = json.dumps(payload).encode()
    head = (f"POST /api/v1/sync/push HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


def lose_the_answer(way, server, token, payload):
    if way == "read timeout":
        try:
            push(server.url, token, payload["client_id"], payload["mutations"], timeout=httpx.Timeout(5, read=0.001))
        except httpx.ReadTimeout:
            pass  # the usual case; an answer quicker than 1 ms is merely not lost
        return
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    connection.sendall(request_bytes(server.port, token, payload))
    if way == "close while the server works":
        time.sleep(random.uniform(0.005, 0.05))  # body read and being applied, or not yet: either way once
    if way == "reset after the first byte":
        assert connection.recv(1) == b"H"  # the server answered: it committed
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
    connection.close()


@pytest.mark.parametrize("way", ["close before the answer", "close while the server works",
                                 "reset after the first byte", "read timeout"])
def test_a_push_whose_answer_is_lost_is_applied_once_when_retried(way, sqlite_server):
    url = sqlite_server.url
    ann_id, ann = signup(url, "ann@example.org")
    bob_id, bob = signup(url, "bob@example.org")
    alliance_id = create_alliance(url, ann, "ann-setup-1")
    join(url, ann, alliance_id, bob)
    client_id, expected, next_id = "bob-flaky-phone", Counter(), 1
    for attempt in range(5):
        batch = [appreciate(next_id, alliance_id, ann_id, f"{way} {attempt}.0"),
                 add_question(next_id + 1, alliance_id, f"{way} {attempt}.1"),
                 appreciate(next_id + 2, alliance_id, ann_id, f"{way} {attempt}.2")]
        expected.update(m["args"].get("note") or m["args"]["text"] for m in batch)
        next_id += len(batch)
        lose_the_answer(way, sqlite_server, bob, {"client_id": client_id, "mutations": batch})
        body = push_ok(url, bob, client_id, batch)  # the retry, at once: it may meet the lost push in flight
        assert body["last_mutation_id"] == batch[-1]["id"]
        statuses = {r["status"] for r in body["results"]}
        print(way, attempt, "retry found", statuses)  # shown with -rP
        assert statuses in ({"applied"}, {"duplicate"}), body  # a push is applied whole or not at all
        assert all(r.get("outcome", "applied") == "applied" for r in body["results"]), body
        if way == "reset after the first byte":
            assert statuses == {"duplicate"}, body
    assert pull(url, bob, client_id)["last_mutation_id"] == next_id - 1
    alliance = get(url, bob, f"/api/v1/alliances/{alliance_id}/")
    assert texts_in(alliance) == expected  # a blank alliance: only what this test added
    assert get(url, bob, f"/api/v1/alliances/{alliance_id}/verify")["ok"]


def test_someone_joining_by_link_pokes_the_participants(sqlite_server):
    """Ann's phone hears at once that Bob accepted her invitation."""
    url = sqlite_server.url
    _, ann = signup(url, unique("ann") + "@example.org")
    _, bob = signup(url, unique("bob") + "@example.org")
    alliance_id = create_alliance(url, ann, unique("ann-phone"))
    invitation = httpx.post(f"{url}/api/v1/alliances/{alliance_id}/invitations", json={},
                            headers={"Authorization": f"Bearer {ann}"}).json()
    listening = sqlite_server.listen(ann)
    listening.wait_ready()
    started = time.monotonic()
    accepted = httpx.post(f"{url}/api/v1/invitations/{invitation['token']}/accept",
                          headers={"Authorization": f"Bearer {bob}"})
    assert accepted.status_code == 200, accepted.text
    poke = listening.wait_for(lambda e: poked_about(alliance_id)(e) and e[2] >= started, timeout=2)
    assert poke is not None, listening.events
