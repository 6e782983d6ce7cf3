"""A no-op pull measured by wrk, a client that is not the bottleneck (not a pytest test).

bench_sync.py's Python client threads cap a bare Litestar app far below what it serves, so
their pull ratio flatters ours. Here wrk (Debian's package, `apt-get install wrk`) drives,
with 2 threads and 32 connections, in one run on this machine:
(a) POST /api/v1/sync/pull with a current cursor, from a device that pushed 20 mutations;
(b) the same from a device whose ledger holds 1,000 stored outcomes;
(c) a bare Litestar GET of a small msgspec Struct, in its own uvicorn process (one worker).
It prints (a)/(c) and (b)/(c) beside issue 14's goal (>= 0.6, whatever the ledger holds).

Run:  .venv/bin/python -O tests/benchmarks/bench_wrk.py [--seconds 5]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sync import BATCH, Device, checked, start_bare, start_ours, stop  # noqa: E402

GOAL = 0.6
LUA = """wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = {auth}
"""


def wrk(url: str, seconds: float, tmp: Path, body: dict | None = None, auth: str = "") -> float:
    """Requests/s wrk reaches (-t2 -c32); refuses a run with any error or non-2xx answer."""
    command = ["wrk", "-t2", "-c32", f"-d{seconds:g}s", "--latency"]
    if body is not None:
        script = tmp / "pull.lua"
        script.write_text(LUA.format(body=json.dumps(json.dumps(body)), auth=json.dumps(auth)))
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk met errors:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def device_with_ledger(http: httpx.Client, email: str, mutations: int) -> Device:
    """A device that pushed `mutations` mutations (each leaves an outcome in its ledger), caught up."""
    device = Device(http, email)
    device.create_alliance(http)
    for _ in range(mutations // BATCH):
        checked(http.post("/api/v1/sync/push", headers=device.headers, json=device.push_body(device.work(BATCH))))
    device.catch_up(http)
    return device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long each wrk run lasts")
    seconds = parser.parse_args().seconds
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    env = dict(os.environ, ALLIANCE_AUTH_PER_MINUTE="100000", ALLIANCE_REMINDERS="no",
               ALLIANCE_LOG_LEVEL="WARNING", PYTHONOPTIMIZE=str(sys.flags.optimize or ""))
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            ours, bare = start_ours(tmp, env, procs), start_bare(tmp, env, procs)
            with httpx.Client(base_url=ours, timeout=60) as http:
                fresh = device_with_ledger(http, "fresh@example.org", BATCH)
                worn = device_with_ledger(http, "worn@example.org", 1000)
            rates = {}
            for label, device in (("(a) no-op pull, ledger of 20", fresh), ("(b) no-op pull, ledger of 1,000", worn)):
                rates[label] = wrk(f"{ours}/api/v1/sync/pull", seconds, tmp, device.pull_body(),
                                   device.headers["Authorization"])
            bare_rate = wrk(f"{bare}/status", seconds, tmp)
        finally:
            stop(procs)
    print(f"wrk -t2 -c32, {seconds:g} s each, client and servers sharing {os.cpu_count()} CPUs\n")
    print(f"{'variant':40} {'req/s':>8} {'÷ (c)':>7} {'goal':>6}")
    for label, rate in rates.items():
        print(f"{label:40} {rate:8,.0f} {rate / bare_rate:7.3f} {'>= ' + str(GOAL):>6}")
    print(f"{'(c) bare Litestar GET':40} {bare_rate:8,.0f}")
    print(f"\nCommand: {' '.join(sys.orig_argv)}")


if __name__ == "__main__":
    main()
