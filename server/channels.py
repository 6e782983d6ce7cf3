"""Live pokes across processes over PostgreSQL LISTEN/NOTIFY, surviving a database restart.

Litestar's PsycoPgChannelsBackend keeps one LISTEN connection for the life of
the process. When PostgreSQL restarts, that connection dies: its listener
forwards the error into the event stream, which ends the plugin's subscriber
worker, so no poke is delivered again until the process restarts; a failed
NOTIFY ends the publisher worker the same way, and the plugin's shutdown then
waits for its queue forever (SIGTERM seemed ignored until the supervisor's
SIGKILL). This backend instead:

- reconnects its listener connection when it breaks (backing off up to 2 s),
  LISTENs again on every channel it was subscribed to, and then pokes each of
  them with {"alliances": []}: a change may have been missed meanwhile, and a
  client pulls on any poke;
- logs a NOTIFY that failed and goes on (the poke is lost; the change is not:
  clients also pull when they come back to the app);
- bounds its shutdown, so a dead connection cannot hold up a stop.
"""

import asyncio
import json
import logging
from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from litestar.channels.backends.psycopg import PsycoPgChannelsBackend
from psycopg import AsyncConnection
from psycopg.sql import SQL, Identifier

log = logging.getLogger("alliance")
RECONNECTED = b'{"alliances": []}'  # a poke about nothing in particular: "pull, you may have missed something"
CONNECT_TIMEOUT = 2  # seconds, for psycopg's connect_timeout
BACKOFF = (0.1, 2.0)  # first and longest wait between reconnection attempts, seconds
STOP_TIMEOUT = 3.0  # seconds the whole backend shutdown may take


def _say(message: str, **fields: Any) -> None:
    log.warning(json.dumps({"channels": message, **fields}))


class ReconnectingPsycoPgChannelsBackend(PsycoPgChannelsBackend):
    """PsycoPgChannelsBackend whose LISTEN connection comes back after the database does."""

    def __init__(self, pg_dsn: str) -> None:
        super().__init__(pg_dsn)
        self._broken = False  # the listener connection failed: the listener task reconnects it

    async def _connect(self) -> AsyncConnection[Any]:
        return await AsyncConnection[Any].connect(self._pg_dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT)

    async def on_startup(self) -> None:
        self._event_queue = asyncio.Queue()
        self._listener_lock = asyncio.Lock()
        self._shutting_down, self._broken = False, False
        self._listener_conn = await self._connect()
        self._start_listener()

    async def on_shutdown(self) -> None:
        try:
            await asyncio.wait_for(self._shutdown(), STOP_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - stopping anyway: say why it was not clean
            _say("shutdown was not clean", error=repr(error))
            if self._listener_task is not None:
                self._listener_task.cancel()

    async def _shutdown(self) -> None:
        async with self._listener_lock:
            self._shutting_down = True
            await self._stop_listener()
            self._subscribed_channels.clear()
            await self._close(self._listener_conn)

    @staticmethod
    async def _close(connection: AsyncConnection[Any]) -> None:
        with suppress(Exception):
            await asyncio.wait_for(connection.close(), 1)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            async with await self._connect() as conn:
                for channel in channels:
                    await conn.execute(SQL("NOTIFY {channel}, {data}").format(channel=Identifier(channel),
                                                                               data=data.decode("utf-8")))
        except Exception as error:  # noqa: BLE001 - a lost poke must not stop every later one
            _say("a poke was not sent", error=repr(error))

    async def subscribe(self, channels: Iterable[str]) -> None:
        await self._change(set(channels), "LISTEN")

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        await self._change(set(channels), "UNLISTEN")

    async def _change(self, requested: set[str], command: str) -> None:
        async with self._listener_lock:
            changing = requested - self._subscribed_channels if command == "LISTEN" \
                else requested & self._subscribed_channels
            if not changing:
                return
            await self._stop_listener()
            # The set changes first, whatever happens to the commands: a reconnection LISTENs the set.
            if command == "LISTEN":
                self._subscribed_channels |= changing
            else:
                self._subscribed_channels -= changing
            try:
                for channel in changing:
                    if self._broken:
                        break
                    await self._listener_conn.execute(SQL(command + " {channel}").format(channel=Identifier(channel)))
            except Exception as error:  # noqa: BLE001 - the connection is gone: the listener brings it back
                self._broken = True
                _say("the listener connection failed", error=repr(error))
            finally:
                if not self._shutting_down:
                    self._start_listener()

    async def _listen(self) -> None:
        delay = BACKOFF[0]
        while not self._stop_listening:
            if self._broken:
                if not await self._reconnect():
                    await self._pause(delay)
                    delay = min(delay * 2, BACKOFF[1])
                    continue
                delay = BACKOFF[0]
            try:
                async for notify in self._listener_conn.notifies(timeout=0.1):
                    self._event_queue.put_nowait((notify.channel, notify.payload.encode("utf-8")))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - e.g. the database restarted: reconnect
                self._broken = True
                _say("the listener connection failed", error=repr(error))

    async def _pause(self, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds
        while not self._stop_listening and asyncio.get_running_loop().time() < until:
            await asyncio.sleep(0.05)

    async def _reconnect(self) -> bool:
        try:
            connection = await self._connect()
        except Exception as error:  # noqa: BLE001 - the database is not back yet
            _say("cannot reconnect yet", error=repr(error))
            return False
        channels = set(self._subscribed_channels)  # changed only while this task is stopped
        try:
            for channel in channels:
                await connection.execute(SQL("LISTEN {channel}").format(channel=Identifier(channel)))
        except Exception as error:  # noqa: BLE001
            _say("cannot listen again yet", error=repr(error))
            await self._close(connection)
            return False
        old, self._listener_conn, self._broken = self._listener_conn, connection, False
        await self._close(old)
        _say("the listener connection is back", channels=len(channels))
        for channel in channels:
            self._event_queue.put_nowait((channel, RECONNECTED))
        return True
