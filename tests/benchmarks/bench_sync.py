"""Benchmark of the sync protocol over HTTP, against real server processes (not a pytest test).

In a fresh temporary directory, on SQLite (the default), with `alliance serve` in a subprocess:
1. Push: 8 devices (threads, keep-alive httpx) push batches of 20 mutations (answer_question,
   make_commitment) to their own alliances: mutations/s, p50/p99 ms; against raw eventsourcing
   (plain Application and Aggregate) saving similar events, 20 per save, same total, 8 threads.
2. Pull with nothing new (current cursor; 4 threads, 3 s): requests/s; against a bare Litestar GET
   of a small msgspec Struct in its own uvicorn process (one worker).
3. Live: 100 devices (50 users of one alliance, 2 sign-ins each) listen on /api/v1/sync/live
   (SSE, with their client id); one more device pushes an answer per round (30 rounds); p50/p99, over
   listeners x rounds, of the time from sending the push until that listener has the answer: from the
   `change` event's page when the listener's cursor is its `from`, else from the pull it makes then
   (with --pokes: listening without a client id, so on pokes only, and pulling on each, as before).

Run:  .venv/bin/python -O tests/benchmarks/bench_sync.py [--quick]   (2-3 minutes | a smoke run)
      .venv/bin/python -O tests/benchmarks/bench_sync.py --live-only --listeners 10 [--pokes]   (part 3 only)
Servers inherit -O. The client shares the CPUs with the servers: compare ratios within one run.
"""

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version as package_version
from pathlib import Path

import httpx
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from events.templates import get_template

BIN = Path(sys.executable).parent  # the environment this runs in, wherever it is
BATCH, DEVICES, PULLERS, SECONDS, PER_USER = 20, 8, 4, 3.0, 2
PASSWORD = "bench password, long enough"
QUESTIONS = [q.key for s, q in get_template("team").questions() if not s.private]  # private ones take own answers
BARE_APP = """import msgspec
from litestar import Litestar, get
class Status(msgspec.Struct):
    status: str
    version: int
@get("/status", sync_to_thread=False)
def status() -> Status:
    return Status("ok", 1)
app = Litestar([status])
"""


def text(i: int, who: str) -> str:  # a different ~200-character answer for every i (the domain ignores repeats)
    return (f"Answer {i} from {who}: " + "we meet on Tuesdays and say what is hard. " * 5)[:200]


def in_threads(target, items: list) -> float:
    """Run target(item) for all items at once, a thread each; wall-clock seconds (errors re-raised)."""
    with ThreadPoolExecutor(len(items)) as pool:
        started = time.perf_counter()
        list(pool.map(target, items))
        return time.perf_counter() - started


def start_server(name: str, command: list[str], env: dict, tmp: Path, probe: str, procs: list) -> str:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    log = tmp / f"{name}.log"
    procs.append(proc := subprocess.Popen([*command, "--port", str(port)], env=env, cwd=tmp,
                                          stdout=log.open("wb"), stderr=subprocess.STDOUT))
    base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + probe, timeout=1).status_code == 200:
                return base
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not start:\n{log.read_text()[-2000:]}")


def stop(procs: list[subprocess.Popen]) -> None:
    """Terminate every server started, killing any that will not stop."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    procs.clear()


def start_ours(tmp: Path, env: dict, procs: list) -> str:
    """`alliance serve` on SQLite in tmp/data."""
    return start_server("alliance", [str(BIN / "alliance"), "serve"],
                        dict(env, ALLIANCE_DATA_DIR=str(tmp / "data")), tmp, "/readyz", procs)


def start_bare(tmp: Path, env: dict, procs: list) -> str:
    """The bare Litestar app (one uvicorn worker), our baseline."""
    (tmp / "bare.py").write_text(BARE_APP)
    return start_server("bare", [str(BIN / "uvicorn"), "bare:app", "--app-dir", str(tmp), "--workers", "1",
                                 "--no-access-log", "--log-level", "warning"], env, tmp, "/status", procs)


def checked(response: httpx.Response) -> dict:
    """The JSON body of a successful response whose mutations (if any) were all applied."""
    body = response.json() if response.is_success else {}
    if not response.is_success or any(r["status"] != "applied" for r in body.get("results", ())):
        raise RuntimeError(f"{response.request.url.path}: {response.status_code} {response.text[:500]}")
    return body


class Device:
    """One signed-in device: its token, client id, mutation numbers, cursor and alliance."""
    def __init__(self, http: httpx.Client, email: str, n: int = 0):  # n == 0: sign up, else sign in again
        path, extra = ("signup", {"display_name": email.split("@")[0]}) if n == 0 else ("login", {})
        signed = checked(http.post(f"/api/v1/auth/{path}", json={"email": email, "password": PASSWORD, **extra}))
        self.user_id, self.headers = signed["user_id"], {"Authorization": f"Bearer {signed['token']}"}
        self.client_id = f"bench-{email.split('@')[0]}-{n}-{uuid.uuid4().hex[:8]}"
        self.next_id, self.cursor, self.alliance, self.revisions, self.done = 1, None, "", {}, 0

    def push_body(self, mutations: list[tuple[str, dict]]) -> dict:
        first, self.next_id = self.next_id, self.next_id + len(mutations)
        return {"client_id": self.client_id, "mutations": [{"id": first + i, "alliance_id": self.alliance,
                "name": name, "args": args} for i, (name, args) in enumerate(mutations)]}

    def pull_body(self) -> dict:
        return {"client_id": self.client_id, "cursor": self.cursor}

    def create_alliance(self, http: httpx.Client) -> None:
        self.alliance = str(uuid.uuid4())
        checked(http.post("/api/v1/sync/push", headers=self.headers, json=self.push_body(
            [("create_alliance", {"title": "Bench team", "template": "team"})])))

    def catch_up(self, http: httpx.Client) -> None:
        body = {"more": True}
        while body["more"]:
            body = checked(http.post("/api/v1/sync/pull", headers=self.headers, json=self.pull_body()))
            self.cursor = body["cursor"]

    def work(self, n: int) -> list[tuple[str, dict]]:
        """n mutations: answers to the questions in turn, alternating with new commitments."""
        out = []
        for i in range(self.done, self.done + n):
            if i % 2:
                out.append(("make_commitment", {"commitment_id": str(uuid.uuid4()), "text": f"Commitment {i}",
                                                "owner_id": self.user_id, "due": "2027-03-01"}))
            else:
                key = QUESTIONS[(i // 2) % len(QUESTIONS)]
                self.revisions[key] = base = self.revisions.get(key, -1) + 1  # the answer's revision now
                out.append(("answer_question", {"question_id": key, "text": text(i, self.client_id),
                                                "base_revision": base}))
        self.done += n
        return out


def push_http(base: str, batches: int) -> tuple[float, list[float], list[Device]]:
    with httpx.Client(base_url=base, timeout=60) as http:
        devices = [Device(http, f"pusher{i}@example.org") for i in range(DEVICES)]
        for device in devices:
            device.create_alliance(http)
    latencies: list[float] = []
    def pusher(i: int) -> None:
        with httpx.Client(base_url=base, headers=devices[i].headers, timeout=60) as http:
            for _ in range(batches // DEVICES + (i < batches % DEVICES)):
                body = devices[i].push_body(devices[i].work(BATCH))
                started = time.perf_counter()
                checked(http.post("/api/v1/sync/push", json=body))
                latencies.append((time.perf_counter() - started) * 1000)
    return batches * BATCH / in_threads(pusher, list(range(DEVICES))), latencies, devices


class Note(Aggregate):
    @event("Noted")
    def note(self, by: str, device: str, question_id: str, text: str, chain: str, base_revision: int) -> None:
        self.last = text


def push_raw(path: Path, batches: int) -> float:
    app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})
    notes = [Note() for _ in range(DEVICES)]
    app.save(*notes)
    def saver(i: int) -> None:
        by = str(uuid.uuid4())
        for b in range(batches // DEVICES + (i < batches % DEVICES)):
            for n in range(b * BATCH, (b + 1) * BATCH):
                notes[i].note(by=by, device=f"bench-{i}", question_id=QUESTIONS[n % len(QUESTIONS)],
                              text=text(n, f"device {i}"), chain=f"{n:064x}", base_revision=n)
            app.save(notes[i])
    rate = batches * BATCH / in_threads(saver, list(range(DEVICES)))
    if sum(app.repository.get(note.id).version - 1 for note in notes) != batches * BATCH:
        raise RuntimeError("raw eventsourcing lost events")
    app.close()
    return rate


def hammer(base: str, method: str, path: str, devices: list[Device | None]) -> tuple[float, list[float]]:
    """Requests/s and per-request ms of keep-alive clients (a thread each) for SECONDS (after 0.2 s warm-up)."""
    times: list[float] = []
    def client(device: Device | None) -> None:
        with httpx.Client(base_url=base, headers=device.headers if device else {}, timeout=30) as http:
            if device:
                device.catch_up(http)
            body, deadline = device.pull_body() if device else None, time.perf_counter() + 0.2 + SECONDS
            while (started := time.perf_counter()) < deadline:
                if checked(http.request(method, path, json=body)).get("events"):
                    raise RuntimeError("a pull with a current cursor found new events")
                if started > deadline - SECONDS:
                    times.append((time.perf_counter() - started) * 1000)
    in_threads(client, devices)
    return len(times) / SECONDS, times


async def live(base: str, listeners: int, rounds: int, pokes: bool) -> tuple[list[float], list[float], int]:
    """A writer device and `listeners` devices of one alliance (PER_USER per user), then the rounds."""
    with httpx.Client(base_url=base, timeout=60) as http:
        emails = [f"member{i}@example.org" for i in range(-(-listeners // PER_USER))]
        devices = [Device(http, email) for email in emails]
        writer = Device(http, emails[0], PER_USER)  # the creator's device that is not listening
        writer.create_alliance(http)
        for device in devices[1:]:
            link = checked(http.post(f"/api/v1/alliances/{writer.alliance}/invitations", headers=writer.headers))
            checked(http.post(f"/api/v1/invitations/{link['token']}/accept", headers=device.headers))
        devices = (devices + [Device(http, email, n) for n in range(1, PER_USER) for email in emails])[:listeners]
        for device in devices:
            device.catch_up(http)
    sent, got, latencies, push_ms, ready = {}, [0] * rounds, [], [], asyncio.Barrier(len(devices) + 1)
    pulls = [0]

    def arrived(device: Device, body: dict) -> None:
        now, device.cursor = time.perf_counter(), body["cursor"]
        for k in [int(e["data"]["text"].split()[1]) for e in body["events"]
                  if e["data"].get("text", "").startswith("round ")]:
            latencies.append((now - sent[k]) * 1000)
            got[k] += 1

    async def listen(http: httpx.AsyncClient, device: Device) -> None:
        path = "/api/v1/sync/live" + ("" if pokes else f"?client_id={device.client_id}")
        async with http.stream("GET", path, headers=device.headers, timeout=None) as stream:
            event = ""
            async for line in stream.aiter_lines():
                if line == "event: ready":
                    await ready.wait()
                if line.startswith("event: "):
                    event = line[7:]
                more = event == "poke" and line.startswith("data: ")
                if event == "change" and line.startswith("data: "):
                    change = json.loads(line[6:])
                    if change["from"] == device.cursor:  # the page is what a pull would answer now
                        arrived(device, change["page"])
                        more = change["page"]["more"]
                    else:
                        more = True
                while more:  # pull on every poke (and a change not from our cursor), until nothing more
                    body = checked(await http.post("/api/v1/sync/pull", headers=device.headers,
                                                   json=device.pull_body()))
                    pulls[0] += 1
                    arrived(device, body)
                    more = body["more"]

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=None)) as http:
        tasks = [asyncio.create_task(listen(http, device)) for device in devices]
        try:
            await asyncio.wait_for(ready.wait(), 60)  # every listener has its 'ready' event
            for k in range(rounds):
                await asyncio.sleep(0.2)  # let the previous round settle
                body = writer.push_body([("answer_question", {"question_id": "purpose.why", "base_revision": k,
                                                              "text": f"round {k} of {rounds}"})])
                sent[k] = time.perf_counter()
                checked(await http.post("/api/v1/sync/push", headers=writer.headers, json=body))
                push_ms.append((time.perf_counter() - sent[k]) * 1000)
                while got[k] < len(devices):
                    if time.perf_counter() - sent[k] > 30 or any(task.done() for task in tasks):
                        raise RuntimeError(f"round {k}: {got[k]} of {len(devices)} listeners pulled it; errors: "
                                           f"{[task.exception() for task in tasks if task.done()][:1]}")
                    await asyncio.sleep(0.005)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return latencies, push_ms, pulls[0]


def table(first: str, second: str, *rows: tuple[str, float, list[float]]) -> None:
    """Rows of: a label, a figure (a rate or a count), and p50 and p99 of the milliseconds given."""
    print(f"{first:50} {second:>10} {'p50 ms':>8} {'p99 ms':>8}")
    for label, rate, times in rows:
        q = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else []
        print(f"{label:50} {rate:10,.0f}" + (f" {q[49]:8.1f} {q[98]:8.1f}" if q else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 30 pushes, 10 listeners, 5 rounds")
    parser.add_argument("--live-only", action="store_true", help="part 3 only")
    parser.add_argument("--listeners", type=int, help="how many devices listen in part 3")
    parser.add_argument("--rounds", type=int, help="how many pushes part 3 makes")
    parser.add_argument("--pokes", action="store_true", help="part 3 listens without a client id: pokes only")
    args = parser.parse_args()
    batches, listeners, rounds = (30, 10, 5) if args.quick else (500, 100, 30)
    listeners, rounds = args.listeners or listeners, args.rounds or rounds
    env = dict(os.environ, ALLIANCE_AUTH_PER_MINUTE="100000", PYTHONOPTIMIZE=str(sys.flags.optimize or ""))
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            ours = start_ours(tmp, env, procs)
            if not args.live_only:
                push_and_pull(ours, batches, tmp, procs, env)
            way = "pokes, then a pull each" if args.pokes else "change pages (a pull where from is not the cursor)"
            print(f"\n3. Live: {listeners} devices ({PER_USER} per user) of one alliance, {rounds} rounds, {way}\n")
            latencies, push_rtt, pulls = asyncio.run(live(ours, listeners, rounds, args.pokes))
            table("measure", "samples", ("push sent -> a listener has the answer", len(latencies), latencies),
                  ("  the push itself (round trip)", len(push_rtt), push_rtt))
            print(f"  pulls made by the listeners (on pokes, e.g. of reminders, and on changes not from their cursor): "
                  f"{pulls}, for {listeners * rounds} arrivals")
        finally:
            stop(procs)

    asserts = "-O, asserts off" if sys.flags.optimize else "asserts ON: use -O"
    versions = ", ".join(f"{n} {package_version(n)}" for n in ("litestar", "uvicorn", "httpx", "eventsourcing"))
    print(f"\nPython {platform.python_version()} ({asserts}), {versions}")
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, shared by the client and both servers")
    print(f"Command: {' '.join(sys.orig_argv)}")


def push_and_pull(ours: str, batches: int, tmp: Path, procs: list, env: dict) -> None:
    """Parts 1 and 2."""
    bare = start_bare(tmp, env, procs)
    print(f"1. Push: {batches:,} x {BATCH} mutations, {DEVICES} devices (threads), one alliance each\n")
    http_rate, push_ms, devices = push_http(ours, batches)
    raw_rate = push_raw(tmp / "raw.sqlite", batches)
    table("variant", "per s", ("(a) ours: mutations by POST /api/v1/sync/push", http_rate, push_ms),
          (f"(b) raw eventsourcing: events, {BATCH} per save", raw_rate, []))
    print(f"  (a)/(b) = {http_rate / raw_rate:.3f}")
    print(f"\n2. Requests/s: {PULLERS} client threads, keep-alive, {SECONDS:.0f} s each\n")
    pulls = hammer(ours, "POST", "/api/v1/sync/pull", devices[:PULLERS])
    gets = hammer(bare, "GET", "/status", [None] * PULLERS)
    table("variant", "req/s", ("(c) ours: POST /api/v1/sync/pull, nothing new", *pulls),
          ("(d) bare Litestar GET of a small Struct", *gets))
    print(f"  (c)/(d) = {pulls[0] / gets[0]:.3f}")


if __name__ == "__main__":
    main()
