"""Faults on the asyncio client: lost connections, a crashed server, bad credentials, bad data.

The retry policy (docs/retry.md) is checked where it matters: a command that may have
run on the server is re-sent only if that is harmless (READONLY / IDEMPOTENT), so an
INCR whose reply was lost is applied exactly once and its caller gets ConnectionError.
Tests that kill or restart a server use one of their own, never the session server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _async_helpers import async_test, client, client_ids, count_writes, eventually, mux_of

import resp3
import resp3.asyncio
from resp3.asyncio.connection import NotSentError
from resp3.retry import ConstantBackoff, NoBackoff, Retry
from resp3.testing import RedisServer


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A server this test may SIGKILL and restart on the same port."""
    with RedisServer(unix_socket=False) as srv:
        yield srv


@pytest.fixture(scope="module")
def auth_server() -> Iterator[RedisServer]:
    with RedisServer(unix_socket=False, extra_args=("--requirepass", "s3cret")) as srv:
        yield srv


async def settled(*futures: Any) -> list[Any]:
    return list(await asyncio.gather(*futures, return_exceptions=True))


@pytest.mark.parametrize("retries", [3, 0])
@async_test
async def test_client_kill_fails_in_flight_writes_and_retries_reads(
    r3: resp3.Redis, server: RedisServer, retries: int
) -> None:
    r3.set("x", "X")
    name = "kill-victim"
    async with client(server, client_name=name, retry=Retry(retries, NoBackoff())) as ar:
        victim = await ar.client_id()
        r3.client_pause(5000, all=False)  # writes wait in the server; reads and KILL run
        try:
            incr = asyncio.ensure_future(ar.incr("counter"))
            get = asyncio.ensure_future(ar.get("x"))  # queued behind the INCR: in flight too
            await asyncio.sleep(0.05)
            assert not incr.done() and not get.done()
            assert r3.client_kill_filter(_id=victim) == 1
        finally:
            r3.client_unpause()
        incr_result, get_result = await settled(incr, get)
        assert isinstance(incr_result, resp3.ConnectionError)
        assert not isinstance(incr_result, NotSentError), "the INCR had been written"
        if retries:
            assert get_result == b"X", "a READONLY command is re-sent on a new connection"
        else:
            assert isinstance(get_result, resp3.ConnectionError)
        assert r3.get("counter") is None
        assert await ar.client_id() != victim, "the next command reconnects"
        assert len(client_ids(r3, name)) == 1


@async_test
async def test_lost_reply_of_a_write_is_never_applied_twice(
    r3: resp3.Redis, server: RedisServer
) -> None:
    r3.mset({"x": "X", "y": "Y"})
    async with client(server, retry=Retry(3, NoBackoff())) as ar:
        await ar.ping()
        transport = count_writes(mux_of(ar))
        transport.pause_reading()  # the replies stay in the socket: lost when we abort
        writes = [asyncio.ensure_future(ar.incr("n")), asyncio.ensure_future(ar.lpush("l", 1))]
        writes.append(asyncio.ensure_future(ar.execute_command("INCR", "n")))
        reads = [asyncio.ensure_future(ar.get("x")), asyncio.ensure_future(ar.mget(["x", "y"]))]
        idempotent = asyncio.ensure_future(ar.set("z", "Z"))
        pipe = ar.pipeline(False)
        write_pipe = asyncio.ensure_future(pipe.get("x").incr("n").execute())
        read_pipe = asyncio.ensure_future(ar.pipeline(False).get("x").get("y").execute())
        tx_pipe = asyncio.ensure_future(ar.pipeline(True).get("x").execute())
        await eventually(lambda: r3.get("n") == b"3", "the server to apply every INCR")
        transport.abort()
        for result in await settled(*writes, write_pipe, tx_pipe):
            assert isinstance(result, resp3.ConnectionError), result
        assert await settled(*reads, idempotent, read_pipe) == [
            b"X",
            [b"X", b"Y"],
            True,
            [b"X", b"Y"],
        ]
        assert r3.get("n") == b"3" and r3.llen("l") == 1, "a write was sent twice"


@async_test
async def test_server_sigkill_fails_in_flight_commands_and_restart_reconnects(
    own_server: RedisServer,
) -> None:
    async with client(own_server, retry=Retry(2, NoBackoff())) as ar:
        await ar.set("before", "1")
        port = own_server.port
        sleeper = asyncio.ensure_future(ar.execute_command("DEBUG", "SLEEP", "2"))
        incr = asyncio.ensure_future(ar.incr("n"))
        get = asyncio.ensure_future(ar.get("before"))
        await asyncio.sleep(0.05)
        own_server.kill()
        for result in await settled(sleeper, incr, get):
            assert isinstance(result, resp3.ConnectionError), result
        start = time.monotonic()
        with pytest.raises(resp3.ConnectionError, match="connecting to"):
            await ar.get("before")
        assert time.monotonic() - start < 1.0
        own_server.start()
        assert own_server.port == port
        assert await ar.get("before") is None, "a new, empty server on the same port"
        assert await ar.incr("n") == 1


@async_test
async def test_commands_issued_while_the_server_is_down_wait_for_it(
    own_server: RedisServer,
) -> None:
    """Never written, so retried with backoff: writes and pipelines too, exactly once."""
    retry = Retry(retries=60, backoff=ConstantBackoff(0.05))
    async with client(own_server, retry=retry) as ar:
        await ar.ping()
        own_server.kill()
        await eventually(lambda: not mux_of(ar).is_connected, "the client to see the crash")
        loop = asyncio.get_running_loop()
        restart = loop.call_later(0.2, own_server.start)
        try:
            incr = asyncio.ensure_future(ar.incr("n"))
            pipe = ar.pipeline(True)
            tx = asyncio.ensure_future(pipe.incr("n").incr("n").execute())
            blpop = asyncio.ensure_future(ar.blpop(["q"], timeout=0.05))
            assert await incr in (1, 3)
            assert await tx in ([2, 3], [1, 2])
            assert await blpop is None, "a dedicated connection is retried as well"
        finally:
            restart.cancel()
        assert await ar.get("n") == b"3"


@pytest.mark.parametrize("protocol", [3, 2], ids=["resp3", "resp2"])
@pytest.mark.parametrize("password", ["wrong", None])
@async_test
async def test_bad_credentials_raise_authentication_error(
    auth_server: RedisServer, protocol: int, password: str | None
) -> None:
    async with client(auth_server, protocol, password=password) as ar:
        start = time.monotonic()
        with pytest.raises(resp3.AuthenticationError):
            await ar.get("k")
        with pytest.raises(resp3.AuthenticationError):
            await ar.pipeline(False).get("k").execute()
        with pytest.raises(resp3.AuthenticationError):
            await ar.blpop(["k"], timeout=0.01)
        assert time.monotonic() - start < 0.5, "authentication errors are not retried"
    async with client(auth_server, protocol, password="s3cret") as ok:
        assert await ok.ping() is True


@async_test
async def test_data_error_is_raised_before_anything_is_sent(
    r: resp3.Redis, server: RedisServer, protocol: int
) -> None:
    async with client(server, protocol) as ar:
        await ar.ping()
        writes = count_writes(mux_of(ar)).writes
        with pytest.raises(resp3.DataError):
            await ar.set("k", None)  # type: ignore[arg-type]
        with pytest.raises(resp3.DataError):
            await ar.execute_command("SET", "k", {"not": "encodable"})
        pipe = ar.pipeline(False)
        pipe.set("a", "1").execute_command("SET", "k", object())
        with pytest.raises(resp3.DataError):
            await pipe.execute()
        assert len(pipe) == 0
        assert writes == [], "nothing may reach the socket"
        assert await ar.get("a") is None and await ar.get("k") is None


@async_test
async def test_timeouts_retry_only_reads_and_only_when_asked(
    r3: resp3.Redis, server: RedisServer
) -> None:
    r3.set("x", "X")
    patient = Retry(retries=20, backoff=NoBackoff(), retry_on_timeout=True)
    async with (
        client(server) as sleeper,
        client(server, socket_timeout=0.05, retry=patient) as ar,
        client(server, socket_timeout=0.05) as strict,
    ):
        await asyncio.gather(ar.ping(), strict.ping(), sleeper.ping())
        sleep = asyncio.ensure_future(sleeper.execute_command("DEBUG", "SLEEP", "0.3"))
        await asyncio.sleep(0.02)
        results = await settled(ar.get("x"), ar.incr("n"), strict.get("x"))
        assert results[0] == b"X", "READONLY + retry_on_timeout: re-sent until answered"
        assert isinstance(results[1], resp3.TimeoutError), "a write is never re-sent"
        assert isinstance(results[2], resp3.TimeoutError), "no retry_on_timeout: raised"
        await sleep
        assert await ar.get("n") == b"1"
