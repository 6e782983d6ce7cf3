"""Benchmark: a no-op pull over HTTP against a bare Litestar GET, with wrk (not a pytest test).

On SQLite, in a fresh temporary directory, `alliance serve` from CODE (default: this checkout)
and a bare Litestar app, each one uvicorn process. Two devices of one person: one that pushed
once, and one whose ledger holds 1,000 outcomes. Each pulls with its current cursor (nothing
new) for SECONDS with `wrk -t2 -c32`; the bare app's GET is measured between them.

Run:  .venv/bin/python -O tests/benchmarks/bench_noop_pull.py [--code DIR] [--seconds 5]
(--code runs another checkout's code, e.g. an older commit from `git archive`, for before/after.)
The client shares the CPUs with the servers: compare ratios within one run.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"no server at {url}")


def wrk(url: str, lua: str, tmp: Path, seconds: int) -> float:
    script = tmp / f"{uuid.uuid4().hex[:8]}.lua"
    script.write_text(lua)
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"errors from {url}:\n{out}")
    return float(next(line for line in out.splitlines() if line.startswith("Requests/sec")).split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose server is measured")
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-noop-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "bare.py").write_text(BARE_APP)
        ours, bare = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
        env = dict(os.environ, ALLIANCE_DATA_DIR=str(tmp / "data"), ALLIANCE_AUTH_PER_MINUTE="100000",
                   ALLIANCE_REMINDERS="no", PYTHONPATH=str(args.code), PYTHONOPTIMIZE=str(sys.flags.optimize or ""))
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        procs = [subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", ours.rsplit(":", 1)[1]],
                                  cwd=args.code, env=env, **quiet),
                 subprocess.Popen([sys.executable, "-m", "uvicorn", "bare:app", "--app-dir", str(tmp), "--port",
                                   bare.rsplit(":", 1)[1], "--no-access-log", "--log-level", "warning"], env=env, **quiet)]
        try:
            wait_for(f"{ours}/healthz")
            wait_for(f"{bare}/status")
            http = httpx.Client(base_url=ours, timeout=30)
            signed = http.post("/api/v1/auth/signup", json={"email": "ann@example.org", "display_name": "Ann",
                                                             "password": "a long enough secret"}).json()
            headers, alliance = {"Authorization": f"Bearer {signed['token']}"}, str(uuid.uuid4())

            def push(client_id: str, mutations: list[dict]) -> None:
                answer = http.post("/api/v1/sync/push", headers=headers, json={"client_id": client_id,
                                                                                "mutations": mutations})
                assert answer.status_code == 200, answer.text

            push("fresh-phone-1", [{"id": 1, "alliance_id": alliance, "name": "create_alliance",
                                    "args": {"title": "Bench", "template": "coaching"}}])
            for first in range(1, 1001, 100):  # 1,000 outcomes in the old phone's ledger
                push("old-phone-1", [{"id": n, "alliance_id": alliance, "name": "make_commitment",
                                      "args": {"commitment_id": str(uuid.uuid4()), "text": f"Commitment {n}",
                                               "owner_id": signed["user_id"]}} for n in range(first, first + 100)])
            rates = {}
            for client_id in ("fresh-phone-1", "bare", "old-phone-1"):
                if client_id == "bare":
                    rates[client_id] = wrk(f"{bare}/status", "", tmp, args.seconds)
                    continue
                cursor = None
                for _ in range(2):  # a reset, then a pull with nothing new: the cursor is current
                    cursor = http.post("/api/v1/sync/pull", headers=headers,
                                       json={"client_id": client_id, "cursor": cursor}).json()["cursor"]
                body = json.dumps({"client_id": client_id, "cursor": cursor})
                lua = (f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                       f'wrk.headers["Content-Type"] = "application/json"\n'
                       f'wrk.headers["Authorization"] = "{headers["Authorization"]}"\n')
                rates[client_id] = wrk(f"{ours}/api/v1/sync/pull", lua, tmp, args.seconds)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait()
    print(f"code: {args.code}   (wrk -t2 -c32, {args.seconds} s each)")
    print(f"  bare Litestar GET of a small Struct      {rates['bare']:8,.0f} req/s")
    for client_id, what in (("fresh-phone-1", "1 outcome"), ("old-phone-1", "1,000 outcomes")):
        print(f"  no-op pull, ledger of {what:<15}    {rates[client_id]:8,.0f} req/s   "
              f"ratio {rates[client_id] / rates['bare']:.2f} (goal >= 0.6)")


if __name__ == "__main__":
    main()
