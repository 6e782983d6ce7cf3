"""Live pokes survive a PostgreSQL restart, and a SIGTERM afterwards still stops
the service promptly (server/channels.py: the listener connection reconnects
and re-LISTENs; shutdown is bounded). The database is a throwaway cluster of
this test's own, as in test_faults.py; see servers.py."""

import asyncio
import signal
import subprocess
import time

import pytest

from servers import add_question, create_alliance, join, pull, push, signup
from test_faults import pg_cluster, wait_ready  # noqa: F401 - pg_cluster is a fixture used by name

RECONNECTED = {"alliances": []}  # the poke every listener gets when the server's listener connection is back


def poked_about(alliance_id):
    return lambda e: e[0] == "poke" and alliance_id in e[1]["alliances"]


def push_when_back(url, token, client_id, mutations, seconds=15):
    """The first push after a restart may meet a connection that died with it: retry as a phone does."""
    deadline, last = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        last = push(url, token, client_id, mutations)
        if last.status_code == 200:
            return last.json()
        time.sleep(0.1)
    raise AssertionError(f"no push went through after the restart: {last.status_code} {last.text[:300]}")


@pytest.mark.postgres
def test_pokes_work_after_a_postgres_restart_and_sigterm_stops_promptly(pg_cluster, servers):  # noqa: F811
    server = servers({"ALLIANCE_DATABASE_URL": pg_cluster.url}, "pg-pokes")
    url = server.url
    _, ann = signup(url, "ann@example.org")
    _, bob = signup(url, "bob@example.org")
    alliance_id = create_alliance(url, ann, "ann-phone-1")
    join(url, ann, alliance_id, bob)
    cursor = pull(url, bob, "bob-phone-1")["cursor"]
    through = server.listen(bob)  # a stream open across the restart
    through.wait_ready()

    pg_cluster.pg_ctl("restart", "-m", "fast")
    wait_ready(url, 15)
    # The server notices its listener connection died, reconnects, and pokes everyone it lost touch with
    # (a change may have been missed meanwhile).
    assert through.wait_for(lambda e: e[0] == "poke" and e[1] == RECONNECTED, timeout=10) is not None, \
        f"no reconnection poke: {through.events} {through.error!r}\n{server.log_tail()}"
    after = server.listen(bob)  # and a stream opened after the restart
    after.wait_ready()

    started = time.monotonic()
    push_when_back(url, ann, "ann-phone-1", [add_question(2, alliance_id, "Still there?")])
    for name, listener in (("the stream open across the restart", through), ("a new stream", after)):
        poke = listener.wait_for(poked_about(alliance_id), timeout=max(0.0, started + 1 - time.monotonic()))
        assert poke is not None, f"{name} was not poked within 1 s: {listener.events} {listener.error!r}\n" \
                                 f"{server.log_tail()}"
    pulled = pull(url, bob, "bob-phone-1", cursor)
    assert [(e["name"], e["data"]["text"]) for e in pulled["events"]] == [("QuestionAdded", "Still there?")]

    server._close_listeners()  # as a proxy's streams end; then SIGTERM
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(3)
    except subprocess.TimeoutExpired:
        pytest.fail(f"SIGTERM did not stop the server within 3 s:\n{server.log_tail()}")
    print(f"stopped {time.monotonic() - started:.2f} s after SIGTERM, exit code {server.process.returncode}")
    # Litestar's own backend re-raised the dead connection's error here: "Application shutdown failed".
    assert "shutdown failed" not in server.log.read_text(errors="replace"), server.log_tail()


@pytest.mark.postgres
def test_a_poke_that_cannot_be_sent_stops_neither_later_pokes_nor_shutdown(postgres_url):
    """Litestar's publisher worker died with a failed NOTIFY (say the database was down for that
    moment), and the plugin's shutdown then waited for its queue forever: SIGTERM seemed ignored."""
    from litestar.channels import ChannelsPlugin

    from server.channels import ReconnectingPsycoPgChannelsBackend

    async def scenario():
        backend = ReconnectingPsycoPgChannelsBackend(postgres_url)
        plugin = ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)
        await plugin._on_startup()
        try:
            async with plugin.start_subscription(["user_test"]) as subscriber:
                events = subscriber.iter_events()
                backend._pg_dsn = "postgresql://postgres@127.0.0.1:1/nowhere"  # this NOTIFY fails ...
                plugin.publish(b'{"alliances": ["lost"]}', ["user_test"])
                await asyncio.sleep(0.5)
                backend._pg_dsn = postgres_url  # ... and the next one arrives
                plugin.publish(b'{"alliances": ["a"]}', ["user_test"])
                assert await asyncio.wait_for(events.__anext__(), 3) == b'{"alliances": ["a"]}'
        finally:
            await asyncio.wait_for(plugin._on_shutdown(), 4)

    asyncio.run(scenario())
