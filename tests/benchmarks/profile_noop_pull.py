"""A no-op pull in-process (SyncService.pull, SQLite), for a device whose ledger holds 1,000
outcomes: time per pull, and with --profile a cProfile of 500 more (not a pytest test).

Run:  .venv/bin/python -O tests/benchmarks/profile_noop_pull.py [--heads [--always-check]] [--profile]
--heads: with the process's memory (sync/heads.py) as the server wires it; --always-check: it
trusts nothing, so every pull asks the store its one indexed query (what a time-to-live of 0 costs)."""
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from events.application import AllianceApplication
from server.settings import Settings
from sync import SyncService

def main():
    tmp = Path(tempfile.mkdtemp())
    app = AllianceApplication(env=Settings(data_dir=tmp).event_store_env("alliances"))
    kwargs = {}
    if "--heads" in sys.argv:
        from sync.heads import Heads, follow
        kwargs["heads"] = heads = Heads(trust_seconds=0 if "--always-check" in sys.argv else 2.0)
        follow(app, heads.heard)
    sync = SyncService(app, **kwargs)
    user, _ = app.sign_up(email="ann@example.org", password="a long enough secret", display_name="Ann")
    aid, client = str(uuid4()), "ann-phone-1"
    sync.push(user, client, [{"id": 1, "alliance_id": aid, "name": "create_alliance", "args": {"title": "T", "template": "coaching"}}])
    n = 1
    while n < 1001:
        batch = [{"id": n + 1 + k, "alliance_id": aid, "name": "make_commitment",
                  "args": {"commitment_id": str(uuid4()), "text": f"c{n+k}", "owner_id": user}} for k in range(100)]
        sync.push(user, client, batch)
        n += 100
    cursor = sync.pull(user, client, None)["cursor"]
    first = sync.pull(user, client, cursor)
    assert first["events"] == [] and not first["reset"], first
    cursor = first["cursor"]
    for _ in range(50):
        sync.pull(user, client, cursor)
    count = 2000
    started = time.perf_counter()
    for _ in range(count):
        sync.pull(user, client, cursor)
    took = (time.perf_counter() - started) / count * 1e6
    print(f"no-op pull, ledger of {len(app.device(client).outcomes)} outcomes: {took:.1f} us each ({count} pulls)")
    if "--profile" in sys.argv:
        prof = cProfile.Profile(); prof.enable()
        for _ in range(500):
            sync.pull(user, client, cursor)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
main()
