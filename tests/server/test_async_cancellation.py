"""Cancellation safety of the multiplexed connection: a reply always reaches its own caller.

The shared connection matches replies to callers by position in a FIFO. The danger is a
caller that goes away (cancelled, ``wait_for`` timeout, ``socket_timeout``) after its
bytes were queued: if its entry vanished, every later caller would get its neighbour's
reply. These tests cancel at every point they can reach (before the flush, after it, in
the middle of a multi-read reply) and check that every call that completes returns the
value of its own key, and that the same connection stays usable and in step.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import pytest
from _async_helpers import async_test, client, client_ids, eventually, mux_of

import resp3
import resp3.asyncio
from resp3.asyncio.connection import AsyncConnection
from resp3.testing import RedisServer

KEYS = 3000


def storm_values() -> dict[str, str]:
    """Distinct values, some a few KB, so replies straddle the reads of ``data_received``."""
    return {f"key:{i}": f"value:{i}:" + "x" * ((i % 7) * 400) for i in range(KEYS)}


async def get_or_wait_for(ar: resp3.asyncio.Redis, key: str, timeout: float | None) -> Any:
    if timeout is None:
        return await ar.get(key)
    return await asyncio.wait_for(ar.get(key), timeout)


@async_test
async def test_random_cancellations_and_timeouts_never_shift_replies(
    r3: resp3.Redis, server: RedisServer
) -> None:
    values = storm_values()
    r3.mset(values)
    rng = random.Random(1234)
    loop = asyncio.get_running_loop()
    totals = {"ok": 0, "cancelled": 0, "timeout": 0}
    async with client(server) as ar:
        await ar.ping()
        mux = mux_of(ar)
        for _ in range(3):
            tasks: list[tuple[str, asyncio.Task[Any]]] = []
            for key in rng.sample(list(values), len(values)):
                timeout = rng.choice([None, None, 0, 0.0005, 0.002, 0.01])
                task = asyncio.ensure_future(get_or_wait_for(ar, key, timeout))
                tasks.append((key, task))
                roll = rng.random()
                if roll < 0.05:
                    task.cancel()  # before its first step: nothing is queued
                elif roll < 0.15:
                    loop.call_soon(task.cancel)  # queued, maybe not yet flushed
                elif roll < 0.3:
                    loop.call_later(rng.uniform(0, 0.02), task.cancel)  # anywhere after
            results = await asyncio.gather(*(task for _, task in tasks), return_exceptions=True)
            for (key, _), result in zip(tasks, results, strict=True):
                if isinstance(result, asyncio.CancelledError):
                    totals["cancelled"] += 1
                elif isinstance(result, asyncio.TimeoutError):
                    totals["timeout"] += 1
                else:
                    assert result == values[key].encode(), f"{key} got another caller's reply"
                    totals["ok"] += 1
        assert all(totals.values()), f"every outcome must occur at least once: {totals}"
        await eventually(lambda: mux.in_flight == 0, "the dropped replies to drain")
        assert mux_of(ar) is mux and mux.is_connected, "cancellation must not cost the connection"
        sample = rng.sample(list(values), 200)
        assert await asyncio.gather(*(ar.get(k) for k in sample)) == [
            values[k].encode() for k in sample
        ]


def cancel_after_first_read(mux: AsyncConnection, task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` right after the connection's next ``data_received``: mid-reply."""
    original = mux.data_received

    def data_received(data: bytes) -> None:
        original(data)
        del mux.data_received  # back to the class method
        task.cancel()

    mux.data_received = data_received  # type: ignore[method-assign]


async def cancel_at(when: str, mux: AsyncConnection, make: Callable[[], Any]) -> None:
    """Start ``make()`` in a task, cancel it at the point ``when``, check it was cancelled."""
    task: asyncio.Task[Any] = asyncio.ensure_future(make())
    if when == "before_flush":
        await asyncio.sleep(0)  # the task queues its bytes; the flush is still scheduled
        task.cancel()
    elif when == "after_flush":
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.cancel()
    else:
        cancel_after_first_read(mux, task)
    with pytest.raises(asyncio.CancelledError):
        await task


WHEN = ["before_flush", "after_flush", "mid_reply"]


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
@async_test
async def test_cancelled_pipeline_leaves_the_connection_in_step(
    r: resp3.Redis, server: RedisServer, protocol: int, when: str, transaction: bool
) -> None:
    big = {f"big:{i}": f"{i}:" + "y" * 2000 for i in range(300)}  # a 600 KB reply: many reads
    r.mset(big)
    r.set("marker", "mine")
    async with client(server, protocol) as ar:
        await ar.ping()
        mux = mux_of(ar)

        def make() -> Any:
            pipe = ar.pipeline(transaction)
            for key in big:
                pipe.get(key)
            pipe.incr("applied")
            return pipe.execute()

        await cancel_at(when, mux, make)
        assert await ar.get("marker") == b"mine"
        pipe = ar.pipeline(transaction)
        pipe.get("marker").get("big:7").incr("after")
        assert await pipe.execute() == [b"mine", big["big:7"].encode(), 1]
        assert await ar.get("applied") == b"1", "queued bytes are sent once, even if cancelled"
        assert mux_of(ar) is mux and mux.in_flight == 0


@pytest.mark.parametrize("when", WHEN)
@async_test
async def test_cancelled_watch_transaction_returns_a_clean_connection(
    r3: resp3.Redis, server: RedisServer, when: str
) -> None:
    r3.mset({f"w:{i}": "z" * 2000 for i in range(300)})
    async with client(server) as ar:
        await ar.ping()
        pipe = ar.pipeline()
        await pipe.watch("w:0")
        conn = pipe._conn
        assert conn is not None
        pipe.multi()
        for i in range(300):
            pipe.get(f"w:{i}")
        await cancel_at(when, conn, pipe.execute)
        assert pipe._conn is None and not pipe.watching
        await ar.rpush("jobs", "j1")
        assert await ar.blpop(["jobs"], timeout=1) == [b"jobs", b"j1"]
        results = await ar.transaction(_noop, "w:0")
        assert results == []


async def _noop(pipe: resp3.asyncio.Pipeline) -> None:
    pipe.multi()


@async_test
async def test_socket_timeout_during_debug_sleep_keeps_replies_in_step(
    r3: resp3.Redis, server: RedisServer
) -> None:
    r3.mset({"a": "A", "b": "B"})
    async with client(server, socket_timeout=0.1, client_name="sleepy") as ar:
        await ar.ping()
        mux = mux_of(ar)
        sleeper = asyncio.ensure_future(ar.execute_command("DEBUG", "SLEEP", "0.5"))
        gets = [asyncio.ensure_future(ar.get("a")) for _ in range(20)]
        with pytest.raises(resp3.TimeoutError, match=r"DEBUG timed out after 0\.1s"):
            await sleeper
        for get in gets:
            with pytest.raises(TimeoutError):  # the builtin class too
                await get
        late_timeouts = 0
        while True:
            try:
                assert await ar.get("b") == b"B", "first reply after the sleep must be ours"
                break
            except resp3.TimeoutError:
                late_timeouts += 1
                assert late_timeouts < 20, "the server never woke up"
        pairs = await asyncio.gather(*(ar.get(k) for k in "ab" * 50))
        assert pairs == [b"A", b"B"] * 50
        assert mux_of(ar) is mux and len(client_ids(r3, "sleepy")) == 1


@async_test
async def test_socket_timeout_bounds_pipelines_and_the_handshake(
    r3: resp3.Redis, server: RedisServer
) -> None:
    r3.set("a", "A")
    async with client(server) as sleeper, client(server, socket_timeout=0.1) as ar:
        await asyncio.gather(sleeper.ping(), ar.ping())
        mux = mux_of(ar)
        sleep = asyncio.ensure_future(sleeper.execute_command("DEBUG", "SLEEP", "0.4"))
        await asyncio.sleep(0.02)
        for transaction in (False, True):
            with pytest.raises(resp3.TimeoutError, match=r"pipeline timed out after 0\.1s"):
                await ar.pipeline(transaction).get("a").incr("n").execute()
        await sleep
        pipe = ar.pipeline(False).get("a").incr("n")
        assert await pipe.execute() == [b"A", 3], "both timed-out blocks ran, once each"
        assert mux_of(ar) is mux
    r3.client_pause(300)  # every command waits, HELLO included
    async with client(server, socket_timeout=0.1) as fresh:
        with pytest.raises(resp3.TimeoutError, match="no handshake reply"):
            await fresh.get("a")  # without the bound it would wait out the pause
        for _ in range(20):
            try:
                assert await fresh.get("a") == b"A"
                break
            except resp3.TimeoutError:
                continue
        else:
            raise AssertionError("no reply after the pause ended")


@async_test
async def test_out_of_band_pushes_never_take_a_callers_reply(
    r3: resp3.Redis, server: RedisServer
) -> None:
    """RESP3 client-tracking invalidations arrive between replies on the shared connection."""
    r3.mset({f"t{i}": i for i in range(100)})
    async with client(server) as ar:
        assert await ar.execute_command("CLIENT", "TRACKING", "ON") in (b"OK", "OK")
        mux = mux_of(ar)
        received: list[bytes] = []
        original = mux.data_received

        def recording(data: bytes) -> None:
            received.append(bytes(data))
            original(data)

        mux.data_received = recording  # type: ignore[method-assign]
        keys = [f"t{i}" for i in range(100)]
        assert await asyncio.gather(*(ar.get(k) for k in keys)) == [b"%d" % i for i in range(100)]
        for round_ in range(1, 4):
            r3.mset({k: i + 1000 * round_ for i, k in enumerate(keys)})  # 100 invalidations
            got = await asyncio.gather(*(ar.get(k) for k in keys))
            assert got == [b"%d" % (i + 1000 * round_) for i in range(100)]
        assert b"invalidate" in b"".join(received), "the pushes did arrive in between"


@async_test
async def test_cancelled_blpop_does_not_swallow_a_later_push(
    r3: resp3.Redis, server: RedisServer
) -> None:
    name = "blpop-cancel"
    async with client(server, client_name=name) as ar:
        await ar.ping()
        task = asyncio.ensure_future(ar.blpop(["jobs"], timeout=5))
        await eventually(lambda: len(client_ids(r3, name)) == 2, "BLPOP to block")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ar.blpop(["jobs"], timeout=5), 0.05)
        await eventually(lambda: len(client_ids(r3, name)) == 1, "both BLPOPs to be dropped")
        await ar.rpush("jobs", "j1")
        assert await ar.lrange("jobs", 0, -1) == [b"j1"]


@pytest.mark.parametrize("steps", range(6))
@async_test
async def test_cancel_while_connecting_then_reconnect(
    r3: resp3.Redis, server: RedisServer, steps: int
) -> None:
    r3.set("a", "A")
    async with client(server, client_name="conn-cancel") as ar:
        task = asyncio.ensure_future(ar.get("a"))
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        try:
            assert await task == b"A"  # it may already be done: then the reply is its own
        except asyncio.CancelledError:
            pass
        assert list(await asyncio.gather(ar.get("a"), ar.incr("n"), ar.get("a"))) == [b"A", 1, b"A"]
