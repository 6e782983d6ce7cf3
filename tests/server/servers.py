"""Real `alliance serve` processes for tests that TestClient cannot do
(server-sent events, several processes, kill -9), and tiny httpx clients.

    with Server({"ALLIANCE_DATA_DIR": str(tmp_path)}, tmp_path / "server.log") as server:
        user_id, token = signup(server.url, "ann@example.org")
        listener = server.listen(token)          # SSE in a background thread
        push(server.url, token, "ann-phone-1", [...])
        listener.wait_for(lambda e: e[0] == "poke", timeout=1)

A server keeps its port across kill()/start(), so clients keep their URL.
"""

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import httpx

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
PR_SET_PDEATHSIG = 1
# One pooled client for the helpers: a new httpx client per request builds an
# SSL context each time, which costs enough CPU to starve a booting server when
# threads retry in a loop. It is thread-safe; pass your own `client=` for a
# device that should have connections of its own.
HTTP = httpx.Client(timeout=10)
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: servers are still stopped by the fixtures
    _prctl = None


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it if the test runner dies, so no
    server outlives a killed pytest. (Linux ties this to the *thread* that
    started the child: start servers from the main thread.)"""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _command() -> list[str]:
    script = Path(sys.executable).parent / "alliance"
    return [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]


class Server:
    """One `alliance serve` process on 127.0.0.1; output goes to `log`."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None, ready_timeout: float = 15):
        self.env = {**os.environ, "ALLIANCE_AUTH_PER_MINUTE": "1000", **env}
        self.log, self.port, self.ready_timeout = Path(log), port or free_port(), ready_timeout
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.listeners: list[Listener] = []
        self.starts = 0

    def start(self) -> "Server":
        assert self.process is None or self.process.poll() is not None, "already running"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            out.write(f"--- start {self.starts + 1} on port {self.port} ---\n".encode())
            out.flush()
            self.process = subprocess.Popen(_command() + ["serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.starts += 1
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if HTTP.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server was not ready within {self.ready_timeout} s:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9: no shutdown hooks, connections cut."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)
        self._close_listeners()

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM and wait (listeners first: an open stream delays a graceful stop)."""
        self._close_listeners()
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def restart(self, hard: bool = False) -> "Server":
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start()

    def listen(self, token: str, client_id: str | None = None) -> "Listener":
        """With a client id, changes come as `change` pages for that device."""
        listener = Listener(self.url, token, client_id)
        self.listeners.append(listener)
        return listener

    def _close_listeners(self) -> None:
        while self.listeners:
            self.listeners.pop().close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


# ----- clients -----

def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signup(url: str, email: str, name: str | None = None) -> tuple[str, str]:
    response = HTTP.post(f"{url}/api/v1/auth/signup", timeout=10,
                          json={"email": email, "password": PASSWORD, "display_name": name or email.split("@")[0]})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["user_id"], body["token"]


def login(url: str, email: str) -> str:
    """Another signed-in device of the same account: its own token."""
    response = HTTP.post(f"{url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def push(url: str, token: str, client_id: str, mutations: list[dict], timeout: float | httpx.Timeout = 10,
         client: httpx.Client | None = None) -> httpx.Response:
    """The raw answer: 200 {last_mutation_id, results}, or a problem (409 out_of_order ...)."""
    return (client or HTTP).post(f"{url}/api/v1/sync/push", headers=auth(token), timeout=timeout,
                                 json={"client_id": client_id, "mutations": mutations})


def push_ok(url: str, token: str, client_id: str, mutations: list[dict]) -> dict:
    response = push(url, token, client_id, mutations)
    assert response.status_code == 200, response.text
    return response.json()


def pull(url: str, token: str, client_id: str, cursor: str | None = None, limit: int = 500) -> dict:
    response = HTTP.post(f"{url}/api/v1/sync/pull", headers=auth(token), timeout=10,
                          json={"client_id": client_id, "cursor": cursor, "limit": limit})
    assert response.status_code == 200, response.text
    return response.json()


def get(url: str, token: str, path: str) -> dict:
    response = HTTP.get(f"{url}{path}", headers=auth(token), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def create_alliance(url: str, token: str, client_id: str, mutation_id: int = 1, template: str = "blank",
                    title: str = "Our alliance") -> str:
    alliance_id = str(uuid.uuid4())
    body = push_ok(url, token, client_id, [{"id": mutation_id, "alliance_id": alliance_id, "name": "create_alliance",
                                            "args": {"title": title, "template": template}}])
    assert body["results"][0]["status"] == "applied", body
    return alliance_id


def join(url: str, owner_token: str, alliance_id: str, guest_token: str) -> None:
    """The owner makes an invitation link and the guest accepts it."""
    response = HTTP.post(f"{url}/api/v1/alliances/{alliance_id}/invitations", headers=auth(owner_token),
                          json={"name": "Guest"}, timeout=10)
    assert response.status_code == 201, response.text
    accepted = HTTP.post(f"{url}/api/v1/invitations/{response.json()['token']}/accept",
                          headers=auth(guest_token), timeout=10)
    assert accepted.status_code == 200, accepted.text


def add_question(mutation_id: int, alliance_id: str, text: str) -> dict:
    return {"id": mutation_id, "alliance_id": alliance_id, "name": "add_question",
            "args": {"question_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{alliance_id}/{text}")),
                     "section": "ours", "text": text}}


def make_commitment(mutation_id: int, alliance_id: str, owner_id: str, text: str) -> dict:
    """A commitment with a fresh id of its own (checks.OwnWrites looks for it in pulls)."""
    return {"id": mutation_id, "alliance_id": alliance_id, "name": "make_commitment",
            "args": {"commitment_id": str(uuid.uuid4()), "text": text, "owner_id": owner_id}}


def appreciate(mutation_id: int, alliance_id: str, participant_id: str, note: str) -> dict:
    """Not idempotent in the domain (every one appends): a duplicate would show."""
    return {"id": mutation_id, "alliance_id": alliance_id, "name": "appreciate",
            "args": {"participant_id": participant_id, "note": note}}


class Listener:
    """GET /api/v1/sync/live in a daemon thread; `events` holds (event, data, time.monotonic())."""

    def __init__(self, url: str, token: str, client_id: str | None = None):
        self.url, self.token = url, token
        self.path = "/api/v1/sync/live" + (f"?client_id={client_id}" if client_id else "")
        self.events: list[tuple[str, Any, float]] = []
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._closing = False
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="sse-listener")
        self._thread.start()

    def _run(self) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(10, read=None)) as client, \
                    client.stream("GET", f"{self.url}{self.path}", headers=auth(self.token)) as response:
                response.raise_for_status()
                stream = response.extensions.get("network_stream")
                self._socket = stream.get_extra_info("socket") if stream is not None else None
                event, data = "message", []
                for line in response.iter_lines():
                    if self._closing:
                        break
                    if line == "":
                        if data:
                            self._record(event, "\n".join(data))
                        event, data = "message", []
                    elif line.startswith(":"):
                        continue  # a comment: keep-alive
                    else:
                        field, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if field == "event":
                            event = value
                        elif field == "data":
                            data.append(value)
        except BaseException as error:  # noqa: BLE001 - kept for the test to see
            if not self._closing:
                self.error = error
        finally:
            with self._changed:
                self._changed.notify_all()

    def _record(self, event: str, raw: str) -> None:
        try:
            data = json.loads(raw)
        except ValueError:
            data = raw
        with self._changed:
            self.events.append((event, data, time.monotonic()))
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[tuple[str, Any, float]], bool], timeout: float):
        """The first recorded (event, data, time) matching, waiting up to `timeout` s; None if none came."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((e for e in self.events if predicate(e)), None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0 or not self._thread.is_alive():
                    return found
                self._changed.wait(left)

    def wait_ready(self, timeout: float = 5) -> None:
        if self.wait_for(lambda e: e[0] == "ready", timeout) is None:
            raise AssertionError(f"no 'ready' event within {timeout} s (error: {self.error!r})")

    def ends_within(self, timeout: float) -> bool:
        """Whether the server ended the stream within `timeout` seconds."""
        self._thread.join(timeout)
        return not self._thread.is_alive() and self.error is None

    def pokes(self, since: float = 0.0) -> list[tuple[str, Any, float]]:
        with self._changed:
            return [e for e in self.events if e[0] == "poke" and e[2] >= since]

    def close(self) -> None:
        """Cut the stream: shutting the socket down wakes the blocked read."""
        self._closing = True
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)
