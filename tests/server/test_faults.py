"""Faults under a running `alliance serve` (SYNC.md guarantee 1, "exactly once"):
PostgreSQL restarted under load (with read-your-writes checked on every pull,
and every snapshot against its events afterwards), a disk that fills up, and a
device that comes back after a long time offline with 10,000 queued mutations.
See servers.py and checks.py.

PostgreSQL here is a throwaway cluster of this test's own (initdb/pg_ctl on a
free port in a temporary directory): the machine's shared cluster is never
restarted. The full disk is a small tmpfs (needs root and mount)."""

import glob
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from checks import OwnWrites, snapshots_against_events
from server.settings import Settings
from servers import (HTTP, Server, add_question, appreciate, create_alliance, free_port, get, join, make_commitment,
                     pull, push, signup)


def texts_in(alliance: dict) -> Counter:
    """Every question and commitment text and appreciation note, counted: a duplicate shows as 2."""
    return Counter([q["text"] for q in alliance["questions"].values()] +
                   [c["text"] for c in alliance["commitments"].values()] +
                   [a["note"] for a in alliance["appreciations"]])


def is_problem(response: httpx.Response) -> bool:
    """A clear error: a problem+json body that says something."""
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and bool(body.get("detail")) and body.get("status") == response.status_code


class Device(threading.Thread):
    """Pushes its numbered mutations in small batches until all are acknowledged,
    and pulls after each acknowledged push, every page checked for read-your-writes.
    Any error (transport or 5xx): wait a little and go on from the last
    acknowledged id, as a careful phone does. Non-200 answers are kept."""

    def __init__(self, url, token, client_id, plan, seed, deadline, stop, batch=(1, 4)):
        super().__init__(daemon=True, name=client_id)
        self.url, self.token, self.client_id, self.plan = url, token, client_id, plan
        self.rng, self.deadline, self.stop, self.batch = random.Random(seed), deadline, stop, batch
        self.acked = 0
        self.outcomes: dict[int, set] = {}
        self.seen = Counter()
        self.errors: list[tuple[int, str, str]] = []  # (status, content type, body) of every non-200
        self.failure: BaseException | None = None
        self.client = httpx.Client(timeout=20)  # answers in an outage take ~11 s (the store retries)
        self.reads = OwnWrites(url, token, client_id, plan, self.client)

    def run(self):
        try:
            while self.acked < len(self.plan) and not self.stop.is_set():
                assert time.monotonic() < self.deadline, f"{self.client_id} stuck at {self.acked}: {self.seen}"
                self.step()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.failure = error
        finally:
            self.client.close()

    def step(self):
        batch = self.plan[self.acked:self.acked + self.rng.randint(*self.batch)]
        try:
            response = push(self.url, self.token, self.client_id, batch, timeout=20, client=self.client)
        except httpx.TransportError as error:
            self.seen[type(error).__name__] += 1
            time.sleep(0.1)
            return
        self.seen[response.status_code] += 1
        if response.status_code == 200:
            body = response.json()
            assert body["last_mutation_id"] >= batch[-1]["id"], body
            for result in body["results"]:
                outcome = result["outcome"] if result["status"] == "duplicate" else result["status"]
                self.outcomes.setdefault(result["id"], set()).add(outcome)
            self.acked = body["last_mutation_id"]
            self.read()
            return
        self.errors.append((response.status_code, response.headers.get("content-type", ""), response.text[:300]))
        if response.status_code == 409 and response.json().get("code") == "out_of_order":
            self.acked = response.json()["expected_id"] - 1
            return
        assert response.status_code >= 500, f"{self.client_id}: {response.status_code} {response.text[:300]}"
        time.sleep(0.1)

    def read(self):
        """Pull what changed; after an error the next acknowledged push pulls again."""
        try:
            self.reads.pull(self.outcomes)
        except httpx.TransportError as error:
            self.seen[f"pull {type(error).__name__}"] += 1
        except httpx.HTTPStatusError as error:  # kept with the pushes' answers: it must be a clear error too
            answer = error.response
            self.errors.append((answer.status_code, answer.headers.get("content-type", ""), answer.text[:300]))


def check_everything_once(url, people, alliances, devices, expected, count):
    for device in devices:
        assert not device.is_alive()
        assert all(seen == {"applied"} for seen in device.outcomes.values()), device.outcomes
        fresh = pull(url, device.token, device.client_id)  # a reset page: every alliance as it is now
        device.reads.check(fresh, device.outcomes)
        assert fresh["last_mutation_id"] == count, device.client_id
    print(f"pull pages checked: {sum(d.reads.pages for d in devices)}, "
          f"acknowledged commitments found in them: {sum(d.reads.found for d in devices)}")
    assert sum(d.reads.found for d in devices) > 0, "no pull page held an acknowledged commitment to check"
    found = Counter()
    for alliance_id in alliances:
        found += texts_in(get(url, people[0][1], f"/api/v1/alliances/{alliance_id}/"))
        check = get(url, people[0][1], f"/api/v1/alliances/{alliance_id}/verify")
        assert check["ok"], check
    assert found == expected, f"missing {expected - found}, extra {found - expected}"


def wait_ready(url, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = HTTP.get(f"{url}/readyz", timeout=2)
            if last.status_code == 200:
                return
        except httpx.TransportError as error:
            last = error
        time.sleep(0.1)
    raise AssertionError(f"the server did not become ready within {timeout} s: {last!r}")


# ----- PostgreSQL restarted under load -----

def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres() -> list[str] | None:
    if os.geteuid() != 0:
        return None
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"]
    return None


class Cluster:
    def __init__(self, bindir: Path, prefix: list[str]):
        self.bindir, self.prefix, self.port = bindir, prefix, free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="alliance-pg-", dir="/tmp"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data, self.log = self.dir / "data", self.dir / "postgres.log"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args, timeout=30):
        result = subprocess.run([*self.prefix, str(self.bindir / args[0]), *args[1:]], capture_output=True,
                                text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}\n{self.log_tail()}"
        return result

    def pg_ctl(self, *args):
        return self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "20",
                        "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", *args)

    def start(self):
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.pg_ctl("start")

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                            "-w", "stop"], capture_output=True, timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=20):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no postgres log)"


@pytest.fixture
def pg_cluster():
    bindir, prefix = _postgres_bin(), _as_postgres()
    missing = ("initdb/pg_ctl not found under /usr/lib/postgresql/*/bin" if bindir is None else
               "not root (or no runuser): cannot run a cluster as user postgres" if prefix is None else None)
    if missing:
        if os.environ.get("ALLIANCE_REQUIRE_POSTGRES"):
            pytest.fail(f"a throwaway PostgreSQL cluster is required here: {missing}")
        pytest.skip(f"no throwaway PostgreSQL cluster: {missing}")
    cluster = Cluster(bindir, prefix)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


PG_USERS, PG_DEVICES, PG_MUTATIONS, PG_RESTARTS, OUTAGE = 2, 3, 40, 2, 4.0


def probe_while_down(url, token, alliance_id, other_id, seconds):
    """Pushes one mutation at a time while the database is down: each answer must be a clear error.
    Returns (answers, the texts acknowledged) - a 200 may only come once the database is back."""
    answers, acknowledged, n, until = [], [], 0, time.monotonic() + seconds
    while time.monotonic() < until:
        n += 1
        text = f"probe #{n}"
        try:
            response = push(url, token, "probe-device", [appreciate(n, alliance_id, other_id, text)], timeout=20)
        except httpx.TransportError as error:
            answers.append((type(error).__name__, "", ""))
            n -= 1
            continue
        answers.append((response.status_code, response.headers.get("content-type", ""), response.text[:300]))
        if response.status_code == 200:
            acknowledged.append(text)  # checked at the end: present once
            assert time.monotonic() > until, "a 200 while the database was down"
            break
        n -= 1  # not saved: the same number again
        time.sleep(0.1)
    return answers, acknowledged


@pytest.mark.postgres
def test_postgres_restarted_twice_under_load_loses_and_duplicates_nothing(pg_cluster, servers):
    server = servers({"ALLIANCE_DATABASE_URL": pg_cluster.url}, "pg-restart")
    url, seed = server.url, random.randrange(1 << 30)
    rng = random.Random(seed)
    people = [signup(url, f"person{k}@example.org") for k in range(PG_USERS)]
    alliances = [create_alliance(url, token, f"setup-{k}-phone") for k, (_, token) in enumerate(people)]
    for k, alliance_id in enumerate(alliances):  # appreciations go to the other person
        join(url, people[k][1], alliance_id, people[(k + 1) % PG_USERS][1])

    deadline, stop = time.monotonic() + 45, threading.Event()
    devices, expected = [], Counter()
    for user, (user_id, token) in enumerate(people):
        other_id = people[(user + 1) % PG_USERS][0]
        for d in range(PG_DEVICES):
            client_id = f"u{user}-device{d}"
            plan = []
            for n in range(1, PG_MUTATIONS + 1):
                text = f"{client_id} #{n}"
                plan.append(make_commitment(n, alliances[user], user_id, text) if n % 3 == 0
                            else appreciate(n, alliances[user], other_id, text))
                expected[text] += 1
            devices.append(Device(url, token, client_id, plan, rng.random(), deadline, stop))
    for device in devices:
        device.start()
    total, restarts_while_busy, outage_answers = len(devices) * PG_MUTATIONS, 0, []
    try:
        for threshold, down in ((0.3 * total, 0), (0.65 * total, OUTAGE)):
            while sum(d.acked for d in devices) < threshold and time.monotonic() < deadline and \
                    any(d.is_alive() for d in devices):  # a device that failed is reported below
                time.sleep(0.005)
            restarts_while_busy += any(d.is_alive() for d in devices)
            started = time.monotonic()
            if not down:
                pg_cluster.pg_ctl("restart", "-m", "fast")
            else:  # a restart with the database away for longer than the store's own retries (~2 s)
                pg_cluster.pg_ctl("stop", "-m", "fast")
                probes = probe_while_down(url, people[0][1], alliances[0], people[1][0], down)
                pg_cluster.pg_ctl("start")
            print(f"postgres restart took {time.monotonic() - started:.2f} s")
            wait_ready(url, 15)  # the service comes back by itself once the database is back
        for device in devices:
            device.join(max(0.1, deadline - time.monotonic()))
    finally:
        stop.set()

    context = f"seed {seed}; " + "; ".join(f"{d.client_id}: {dict(d.seen)}" for d in devices)
    print(context)
    for device in devices:
        assert device.failure is None, f"{device.client_id}: {device.failure!r} ({context})"
        outage_answers += device.errors
    print(f"answers other than 200: {Counter((s, t) for s, t, _ in outage_answers)}")
    probe_answers, probe_acked = probes
    print(f"pushes while the database was down {OUTAGE} s: {Counter(a[:2] for a in probe_answers)}")
    assert probe_answers, "no push was tried while the database was down"
    for status, content_type, body in outage_answers + [a for a in probe_answers if isinstance(a[0], int)]:
        assert status >= 500 and content_type.startswith("application/problem+json"), (status, content_type, body)
    assert restarts_while_busy == PG_RESTARTS, f"devices finished before the restarts: {context}"
    expected.update(probe_acked)  # a probe answered 200 (once the database was back) is there once; others not
    check_everything_once(url, people, alliances, devices, expected, PG_MUTATIONS)
    server.stop()
    compared, disagreed = snapshots_against_events(Settings.from_env(server.env))
    print(f"snapshots compared with a replay of their events: {compared}")
    assert compared > 0 and not disagreed, f"{compared} snapshots compared; these disagree: {disagreed}"


# ----- a disk that fills up -----

@pytest.fixture
def small_disk():
    where = Path(tempfile.mkdtemp(prefix="alliance-tmpfs-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)],
                             capture_output=True, text=True, timeout=10)
    if mounted.returncode != 0:
        where.rmdir()
        reason = f"cannot mount a tmpfs: {mounted.stderr.strip() or mounted.returncode}"
        if os.environ.get("ALLIANCE_REQUIRE_FAULTS"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield where
    finally:
        for _ in range(50):  # the server is stopped by then; its files may take a moment to close
            if subprocess.run(["umount", str(where)], capture_output=True, timeout=10).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10)
        where.rmdir()


def test_a_full_disk_gives_a_clear_error_and_loses_nothing_acknowledged(small_disk, tmp_path):
    filler = small_disk / "filler"
    with open(filler, "wb") as out:  # most of the space, taken first: deleting it frees the disk
        out.write(b"\0" * (2 * 1024 * 1024 + 512 * 1024))
    server = Server({"ALLIANCE_DATA_DIR": str(small_disk / "data")}, tmp_path / "full.log")
    try:
        server.start()
        url = server.url
        _, token = signup(url, "ann@example.org")
        user_id, bob = signup(url, "bob@example.org")
        alliance_id = create_alliance(url, token, "ann-phone-setup")
        join(url, token, alliance_id, bob)
        client_id, note = "ann-phone-1", "x" * 5000
        plan = [appreciate(n, alliance_id, user_id, f"#{n} {note}") for n in range(1, 2001)]
        acked, failed, deadline = 0, None, time.monotonic() + 40
        while failed is None:
            assert time.monotonic() < deadline and acked < len(plan), f"the disk never filled up ({acked} acked)"
            response = push(url, token, client_id, plan[acked:acked + 10])
            if response.status_code == 200:
                acked = response.json()["last_mutation_id"]
            else:
                failed = response
        print(f"acknowledged before the disk filled: {acked}; then {failed.status_code} {failed.text[:300]}")
        assert failed.status_code in (500, 503, 507), failed.text
        assert is_problem(failed), f"not a clear error: {failed.status_code} {failed.headers} {failed.text[:500]}"
        assert "full" in failed.json()["detail"].lower() or "space" in failed.json()["detail"].lower(), failed.text
        again = push(url, token, client_id, plan[acked:acked + 10])  # still full: still a clear error
        assert again.status_code == failed.status_code and is_problem(again), again.text

        filler.unlink()
        target = acked + 20
        while acked < target:
            assert time.monotonic() < deadline, f"retries kept failing after space was freed: {response.text[:300]}"
            response = push(url, token, client_id, plan[acked:acked + 10])
            if response.status_code == 200:
                acked = response.json()["last_mutation_id"]
            else:
                time.sleep(0.1)
        assert pull(url, token, client_id)["last_mutation_id"] == acked
        alliance = get(url, token, f"/api/v1/alliances/{alliance_id}/")
        assert texts_in(alliance) == Counter(m["args"]["note"] for m in plan[:acked])
        assert get(url, token, f"/api/v1/alliances/{alliance_id}/verify")["ok"]
        server.stop()
        server.start()  # and it all survives a restart
        assert pull(url, token, client_id)["last_mutation_id"] == acked
        assert texts_in(get(url, token, f"/api/v1/alliances/{alliance_id}/")) == \
            Counter(m["args"]["note"] for m in plan[:acked])
    finally:
        server.stop()


# ----- a long-offline device -----

OFFLINE, CHUNK = 10_000, 500


def test_a_device_back_after_long_offline_pushes_10000_while_others_get_quick_answers(sqlite_server):
    url = sqlite_server.url
    ann_id, ann = signup(url, "ann@example.org")
    bob_id, bob = signup(url, "bob@example.org")
    ann_alliance = create_alliance(url, ann, "ann-phone-setup")
    bob_alliance = create_alliance(url, bob, "bob-phone-setup")
    join(url, ann, ann_alliance, bob)
    join(url, bob, bob_alliance, ann)
    outbox = [appreciate(n, ann_alliance, bob_id, f"offline #{n}") if n % 10 else
              add_question(n, ann_alliance, f"offline question #{n}") for n in range(1, OFFLINE + 1)]

    stop, latencies, failures, bob_texts = threading.Event(), [], [], Counter()

    def bob_meanwhile():
        client, n, cursor = httpx.Client(timeout=10), 0, None
        try:
            while not stop.is_set():
                n += 1
                started = time.monotonic()
                try:
                    pushed = push(url, bob, "bob-phone-1", [appreciate(n, bob_alliance, ann_id, f"bob #{n}")],
                                  client=client)
                    latencies.append(time.monotonic() - started)
                    if pushed.status_code != 200:
                        failures.append(f"push {pushed.status_code} {pushed.text[:200]}")
                    else:
                        bob_texts[f"bob #{n}"] += 1
                    started = time.monotonic()
                    pulled = client.post(f"{url}/api/v1/sync/pull", headers={"Authorization": f"Bearer {bob}"},
                                         json={"client_id": "bob-laptop-1", "cursor": cursor, "limit": 500})
                    latencies.append(time.monotonic() - started)
                    if pulled.status_code != 200:
                        failures.append(f"pull {pulled.status_code} {pulled.text[:200]}")
                    else:
                        cursor = pulled.json()["cursor"]
                except httpx.TransportError as error:
                    failures.append(repr(error))
                time.sleep(0.02)
        finally:
            client.close()

    bob_thread = threading.Thread(target=bob_meanwhile, daemon=True)
    bob_thread.start()
    started = time.monotonic()
    try:
        acked = 0
        while acked < OFFLINE:
            assert time.monotonic() - started < 45, f"the outbox took too long: {acked} acknowledged"
            response = push(url, ann, "ann-phone-1", outbox[acked:acked + CHUNK], timeout=30)
            assert response.status_code == 200, response.text[:500]
            body = response.json()
            assert [r["status"] for r in body["results"]] == ["applied"] * len(body["results"]), body["results"][:3]
            acked = body["last_mutation_id"]
    finally:
        stop.set()
        bob_thread.join(15)
    took = time.monotonic() - started
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")
    print(f"10,000 mutations in {took:.1f} s; bob's {len(latencies)} requests meanwhile: "
          f"median {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms")

    assert not failures, failures[:5]
    assert len(latencies) >= 4, "bob got no turn at all"
    assert max(latencies) < 5, f"a request of bob's took {max(latencies):.1f} s"
    assert pull(url, ann, "ann-phone-1")["last_mutation_id"] == OFFLINE
    alliance = get(url, ann, f"/api/v1/alliances/{ann_alliance}/")
    expected = Counter(m["args"].get("note") or m["args"].get("text") for m in outbox)
    assert texts_in(alliance) == expected, f"missing {len(expected - texts_in(alliance))}"
    assert get(url, ann, f"/api/v1/alliances/{ann_alliance}/verify")["ok"]
    assert texts_in(get(url, bob, f"/api/v1/alliances/{bob_alliance}/")) == bob_texts
