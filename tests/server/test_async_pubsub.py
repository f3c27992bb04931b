"""resp3.asyncio pub/sub on a real server, under RESP3 (pushes) and RESP2 (arrays).

Messages must be the same dicts as the sync client's, handlers may be plain or async
callables, and a subscriber must come back with every subscription after its
connection is killed or the server restarts (messages published meanwhile are lost:
Redis pub/sub keeps no history).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _async_helpers import async_test, client, client_ids, eventually

import resp3
import resp3.asyncio
from resp3.retry import ConstantBackoff, Retry
from resp3.testing import RedisServer


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A server this test may SIGKILL and restart on the same port."""
    with RedisServer(unix_socket=False) as srv:
        yield srv


async def next_message(p: resp3.asyncio.PubSub, timeout: float = 2.0) -> dict[str, Any]:
    """The next message; ``get_message`` also returns None after a reconnect, so loop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = await p.get_message(timeout=max(0.01, deadline - time.monotonic()))
        if message is not None:
            return message
    raise AssertionError(f"no pub/sub message within {timeout}s")


async def confirmations(p: resp3.asyncio.PubSub, count: int) -> set[tuple[str, Any]]:
    return {(m["type"], m["channel"]) for m in [await next_message(p) for _ in range(count)]}


def sync_messages(r: resp3.Redis) -> list[dict[str, Any]]:
    """The sync client's messages for the scenario of the parity test."""
    p = r.pubsub()
    try:
        p.subscribe("news")
        p.psubscribe("ev.*")
        p.ssubscribe("shard")
        subs = [p.get_message(timeout=1) for _ in range(3)]
        r.publish("news", "hello")
        r.publish("ev.x", b"\x00bin")
        r.spublish("shard", "s")
        messages = [p.get_message(timeout=1) for _ in range(3)]
        p.unsubscribe("news")
        return [m for m in [*subs, *messages, p.get_message(timeout=1)] if m is not None]
    finally:
        p.close()


@async_test
async def test_messages_are_the_sync_clients_dicts(
    r: resp3.Redis, server: RedisServer, protocol: int
) -> None:
    expected = sync_messages(r)
    assert len(expected) == 7
    async with client(server, protocol) as ar:
        p = ar.pubsub()
        await p.subscribe("news")
        await p.psubscribe("ev.*")
        await p.ssubscribe("shard")
        got = [await next_message(p) for _ in range(3)]
        assert await ar.publish("news", "hello") == 1
        assert await ar.publish("ev.x", b"\x00bin") == 1
        assert await ar.spublish("shard", "s") == 1
        got += [await next_message(p) for _ in range(3)]
        await p.unsubscribe("news")
        got.append(await next_message(p))
        assert got == expected
        assert got[4] == {
            "type": "pmessage",
            "pattern": b"ev.*",
            "channel": b"ev.x",
            "data": b"\x00bin",
        }
        start = time.monotonic()
        assert await p.get_message(timeout=0.1) is None
        assert 0.08 < time.monotonic() - start < 1.0
        assert await p.get_message() is None, "timeout=0 polls without waiting"
        await p.aclose()
        assert not p.subscribed


@async_test
async def test_listen_and_async_iteration(
    r: resp3.Redis, server: RedisServer, protocol: int
) -> None:
    async with client(server, protocol) as ar, ar.pubsub(ignore_subscribe_messages=True) as p:
        await p.subscribe("jobs")
        await eventually(lambda: r.pubsub_numsub("jobs")[0][1] == 1, "the subscription")
        for i in range(5):
            await ar.publish("jobs", f"job-{i}")
        seen: list[Any] = []
        async for message in p.listen():
            seen.append(message["data"])
            if len(seen) == 3:
                break
        async for message in p:  # __aiter__ is listen()
            seen.append(message["data"])
            if len(seen) == 5:
                await p.unsubscribe()
        assert seen == [f"job-{i}".encode() for i in range(5)]
        assert not p.subscribed, "unsubscribing everything ends the iteration"


@async_test
async def test_sync_and_async_handlers(r: resp3.Redis, server: RedisServer, protocol: int) -> None:
    handled: list[tuple[str, Any]] = []

    def on_sync(message: dict[str, Any]) -> None:
        handled.append(("sync", message["data"]))

    async def on_async(message: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        handled.append(("async", message["channel"]))

    async with client(server, protocol) as ar, ar.pubsub(ignore_subscribe_messages=True) as p:
        await p.subscribe("plain", **{"h.sync": on_sync})
        await p.psubscribe(**{"h.a*": on_async})
        await eventually(lambda: r.pubsub_numpat() == 1, "the pattern subscription")
        await eventually(lambda: r.pubsub_numsub("plain")[0][1] == 1, "the subscription")
        await ar.publish("h.sync", "x")
        await ar.publish("h.async", "y")
        await ar.publish("plain", "z")
        message = await next_message(p)
        assert (message["channel"], message["data"]) == (b"plain", b"z")
        assert handled == [("sync", b"x"), ("async", b"h.async")]


@async_test
async def test_resubscribes_after_client_kill(
    r: resp3.Redis, server: RedisServer, protocol: int
) -> None:
    name = "sub-probe"
    async with client(server, protocol, client_name=name) as ar:
        p = ar.pubsub()
        await p.subscribe("a", "b")
        await p.psubscribe("c.*")
        assert await confirmations(p, 3) == {
            ("subscribe", b"a"),
            ("subscribe", b"b"),
            ("psubscribe", b"c.*"),
        }
        (victim,) = client_ids(r, name)
        assert r.client_kill_filter(_id=victim) == 1
        assert await confirmations(p, 3) == {
            ("subscribe", b"a"),
            ("subscribe", b"b"),
            ("psubscribe", b"c.*"),
        }
        assert client_ids(r, name) not in ([], [victim])
        r.publish("b", "after")
        r.publish("c.d", "pattern")
        assert (await next_message(p))["data"] == b"after"
        assert (await next_message(p))["pattern"] == b"c.*"
        await p.aclose()


@async_test
async def test_resubscribes_after_a_server_restart(own_server: RedisServer, protocol: int) -> None:
    patient = Retry(retries=60, backoff=ConstantBackoff(0.05))
    async with client(own_server, protocol, retry=patient) as ar:
        p = ar.pubsub(ignore_subscribe_messages=True)
        await p.subscribe("alerts")
        await p.psubscribe("log.*")
        await eventually(lambda: p.connection is not None, "the subscriber to connect")
        assert await p.get_message(timeout=0.2) is None  # confirmations, ignored
        own_server.kill()
        restart = asyncio.get_running_loop().call_later(0.2, own_server.start)
        try:
            assert await p.get_message(timeout=2) is None, "reconnecting returns None"
        finally:
            restart.cancel()

        async def subscribed() -> bool:
            numsub = await ar.pubsub_numsub("alerts")
            return bool(numsub[0][1] == 1 and await ar.pubsub_numpat() == 1)

        await eventually(subscribed, "the resubscription on the new server")
        await ar.publish("alerts", "fire")
        await ar.publish("log.err", "oops")
        first, second = await next_message(p), await next_message(p)
        assert (first["type"], first["data"]) == ("message", b"fire")
        assert (second["type"], second["pattern"], second["data"]) == (
            "pmessage",
            b"log.*",
            b"oops",
        )
        await p.aclose()
