"""The deployment topology without Docker: two `alliance serve` processes on one
PostgreSQL database behind ONE address (a round-robin TCP forwarder written
here), and live pokes that cross from one process to the other (SYNC.md
guarantee 6 "live"). See servers.py."""

import asyncio
import threading
import time
import uuid

import httpx
import pytest

from servers import (
    Listener,
    Server,
    add_question,
    auth,
    create_alliance,
    free_port,
    join,
    signup,
)


class RoundRobinProxy:
    """A tiny reverse proxy on 127.0.0.1: each accepted connection goes to the
    next backend in turn, bytes piped both ways until either side closes (so a
    keep-alive connection sticks to one backend, and SSE streams pass through).
    `connections` records (backend index, request line, Authorization header)
    of each connection's first request."""

    def __init__(self, backend_ports: list[int]):
        self.backend_ports, self.port = backend_ports, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections: list[tuple[int, str, str | None]] = []
        self._turn = 0
        self._loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="round-robin-proxy")

    def __enter__(self) -> "RoundRobinProxy":
        self._thread.start()
        assert self._ready.wait(5), "the proxy did not start"
        return self

    def __exit__(self, *_) -> None:
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._accepted, "127.0.0.1", self.port)
        self._ready.set()
        async with server:
            await self._stopping.wait()
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.add(asyncio.current_task())
        upstream = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")  # the first request's head: who is asking, for the record
            index = self._turn % len(self.backend_ports)
            self._turn += 1
            lines = head.decode("latin-1").split("\r\n")
            authorization = next((line.split(":", 1)[1].strip() for line in lines[1:]
                                  if line.lower().startswith("authorization:")), None)
            self.connections.append((index, lines[0], authorization))
            up_reader, upstream = await asyncio.open_connection("127.0.0.1", self.backend_ports[index])
            upstream.write(head)
            pipes = [asyncio.ensure_future(self._pipe(reader, upstream)),
                     asyncio.ensure_future(self._pipe(up_reader, writer))]
            try:
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:  # the proxy is stopping: end quietly (asyncio logs a cancelled handler)
            pass
        finally:
            for stream in (writer, upstream):
                if stream is not None:
                    stream.close()
            self._tasks.discard(asyncio.current_task())

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        except (ConnectionError, OSError):
            pass

    def backend_of(self, token: str, request_line_starts: str) -> list[int]:
        """The backends of the connections whose first request was `request_line_starts` with this token."""
        return [index for index, line, authorization in self.connections
                if authorization == f"Bearer {token}" and line.startswith(request_line_starts)]


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def pull_with(client: httpx.Client, url: str, token: str, client_id: str, cursor: str | None = None) -> dict:
    response = client.post(f"{url}/api/v1/sync/pull", headers=auth(token),
                           json={"client_id": client_id, "cursor": cursor})
    assert response.status_code == 200, response.text
    return response.json()


def push_with(client: httpx.Client, url: str, token: str, client_id: str, mutations: list[dict]) -> dict:
    response = client.post(f"{url}/api/v1/sync/push", headers=auth(token),
                           json={"client_id": client_id, "mutations": mutations})
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * len(mutations), response.text
    return response.json()


def listen_through(url: str, token: str, owner: Server) -> Listener:
    """An SSE listener on `url` (the proxy), closed with `owner`'s listeners when the test ends."""
    listener = Listener(url, token)
    owner.listeners.append(listener)
    return listener


def poked_about(alliance_id):
    return lambda e: e[0] == "poke" and alliance_id in e[1]["alliances"]


def texts(pulled: dict) -> list[str]:
    return [e["data"]["text"] for e in pulled["events"] if e["name"] == "QuestionAdded"]


@pytest.mark.postgres
def test_two_processes_behind_one_address_poke_each_other(postgres_servers):
    a, b = postgres_servers  # A created the tables, B runs with ALLIANCE_CREATE_TABLES=no
    with RoundRobinProxy([a.port, b.port]) as proxy, \
            httpx.Client(timeout=10) as ann_client, httpx.Client(timeout=10) as bob_client:
        url = proxy.url
        _, ann = signup(url, f"{unique('ann')}@example.org")
        _, bob = signup(url, f"{unique('bob')}@example.org")
        ann_phone, bob_phone = unique("ann-phone"), unique("bob-phone")
        alliance_id = create_alliance(url, ann, ann_phone)
        join(url, ann, alliance_id, bob)  # Bob joins by invitation

        # Ann's phone connects (a connection of its own), then Bob's listener: the next turn, the other backend.
        ann_cursor = pull_with(ann_client, url, ann, ann_phone)["cursor"]
        listener = listen_through(url, bob, a)
        listener.wait_ready()
        [ann_backend] = proxy.backend_of(ann, "POST /api/v1/sync/pull")
        [bob_live_backend] = proxy.backend_of(bob, "GET /api/v1/sync/live")
        assert ann_backend != bob_live_backend, proxy.connections

        bob_cursor = pull_with(bob_client, url, bob, bob_phone)["cursor"]
        started = time.monotonic()
        push_with(ann_client, url, ann, ann_phone, [add_question(2, alliance_id, "How do we decide?")])
        poke = listener.wait_for(poked_about(alliance_id), timeout=1)
        assert poke is not None, f"Bob was not poked within 1 s: {listener.events} {listener.error!r}"
        assert poke[2] - started < 1
        assert "How do we decide?" in texts(pull_with(bob_client, url, bob, bob_phone, bob_cursor))

        # The reverse: Bob's laptop connects, then Ann's listener: the other way round across the two processes.
        with httpx.Client(timeout=10) as bob_laptop:
            bob_laptop_id = unique("bob-laptop")
            pull_with(bob_laptop, url, bob, bob_laptop_id)
            bob_laptop_backend = proxy.connections[-1][0]
            assert proxy.connections[-1][1:] == ("POST /api/v1/sync/pull HTTP/1.1", f"Bearer {bob}"), proxy.connections
            ann_listener = listen_through(url, ann, a)
            ann_listener.wait_ready()
            [ann_live_backend] = proxy.backend_of(ann, "GET /api/v1/sync/live")
            assert ann_live_backend != bob_laptop_backend, proxy.connections
            assert ann_live_backend != bob_live_backend, f"both listeners on one process: {proxy.connections}"
            started = time.monotonic()
            push_with(bob_laptop, url, bob, bob_laptop_id, [add_question(1, alliance_id, "What do we keep?")])
        poke = ann_listener.wait_for(poked_about(alliance_id), timeout=1)
        assert poke is not None, f"Ann was not poked within 1 s: {ann_listener.events} {ann_listener.error!r}"
        assert poke[2] - started < 1
        assert texts(pull_with(ann_client, url, ann, ann_phone, ann_cursor)) == \
            ["How do we decide?", "What do we keep?"]

        a._close_listeners()  # the streams end (and get logged) before the proxy and the servers stop

    # Both processes served a live stream and a push through the one address (a line is logged as a request ends).
    deadline = time.monotonic() + 3
    for server in (a, b):
        while True:
            log = server.log.read_text(errors="replace")
            if '"path": "/api/v1/sync/live"' in log and '"path": "/api/v1/sync/push"' in log:
                break
            assert time.monotonic() < deadline, server.log_tail()
            time.sleep(0.05)
