"""resp3.asyncio.Redis against a real server: the sync client's API and values, awaited.

Every command case runs on the sync client and on the asyncio client from the same empty
database, under RESP3 and RESP2, and the two lists of replies must be equal. Then the
asyncio-only promises: automatic pipelining (many tasks, one connection, one write per
loop iteration) and blocking commands on connections of their own.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

import pytest
from _async_helpers import (
    LOOP_FACTORIES,
    async_test,
    client,
    client_ids,
    count_writes,
    eventually,
    mux_of,
    run,
)

import resp3
import resp3.asyncio
from resp3.testing import RedisServer

Call = tuple[str, tuple[Any, ...], dict[str, Any]]


def c(name: str, *args: Any, **kwargs: Any) -> Call:
    return (name, args, kwargs)


CASES: dict[str, list[Call]] = {
    "strings": [
        c("set", "k", "v"),
        c("get", "k"),
        c("get", "missing"),
        c("append", "k", "w"),
        c("getrange", "k", 0, 0),
        c("strlen", "k"),
        c("setnx", "k", "x"),
        c("set", "k", "new", get=True),
        c("incr", "n"),
        c("incrby", "n", 5),
        c("incrbyfloat", "n", 1.5),
        c("decrby", "m", 2),
        c("mset", {"a": "1", "b": b"\x00\xff"}),
        c("mget", ["a", "b", "missing"]),
        c("getdel", "a"),
        c("setex", "e", 1000, "v"),
    ],
    "hashes": [
        c("hset", "h", mapping={"f1": "1", "f2": "two"}),
        c("hset", "h", "f3", 3.5),
        c("hget", "h", "f2"),
        c("hgetall", "h"),
        c("hmget", "h", ["f1", "nope"]),
        c("hincrby", "h", "f1", 4),
        c("hincrbyfloat", "h", "f3", 0.25),
        c("hkeys", "h"),
        c("hvals", "h"),
        c("hlen", "h"),
        c("hexists", "h", "f9"),
        c("hsetnx", "h", "f1", "x"),
        c("hdel", "h", "f1", "f9"),
        c("hgetall", "missing"),
    ],
    "lists": [
        c("rpush", "l", "a", "b", "c", "b"),
        c("lpush", "l", "z"),
        c("lrange", "l", 0, -1),
        c("lindex", "l", 1),
        c("lpos", "l", "b"),
        c("lpop", "l"),
        c("lpop", "l", 2),
        c("rpop", "l"),
        c("lpop", "missing"),
        c("llen", "l"),
        c("lset", "l", 0, "q"),
        c("lmove", "l", "l2", "LEFT", "RIGHT"),
        c("lrange", "l2", 0, -1),
    ],
    "sets": [
        c("sadd", "s1", "a", "b", "c"),
        c("sadd", "s2", "b", "c", "d"),
        c("smembers", "s1"),
        c("sismember", "s1", "a"),
        c("smismember", "s1", ["a", "x"]),
        c("scard", "s2"),
        c("sinter", ["s1", "s2"]),
        c("sunion", "s1", "s2"),
        c("sdiff", ["s1", "s2"]),
        c("srem", "s1", "a", "zz"),
        c("smembers", "missing"),
    ],
    "zsets": [
        c("zadd", "z", {"a": 1, "b": 2.5, "c": -3}),
        c("zadd", "z", {"a": 5}, xx=True, ch=True),
        c("zrange", "z", 0, -1),
        c("zrange", "z", 0, -1, withscores=True),
        c("zrevrange", "z", 0, 1, withscores=True),
        c("zscore", "z", "b"),
        c("zscore", "z", "nope"),
        c("zmscore", "z", ["a", "nope"]),
        c("zincrby", "z", 0.5, "b"),
        c("zrank", "z", "b"),
        c("zrangebyscore", "z", "-inf", 3, withscores=True),
        c("zcount", "z", 0, "+inf"),
        c("zpopmin", "z"),
        c("zcard", "z"),
    ],
    "streams": [
        c("xadd", "st", {"f": "v1"}, id="1-1"),
        c("xadd", "st", {"f": "v2", "g": "w"}, id="2-1"),
        c("xlen", "st"),
        c("xrange", "st"),
        c("xrevrange", "st", count=1),
        c("xread", {"st": "0"}),
        c("xread", {"st": "2-1"}),
        c("xgroup_create", "st", "grp", id="0"),
        c("xreadgroup", "grp", "alice", {"st": ">"}, count=1),
        c("xack", "st", "grp", "1-1"),
        c("xpending", "st", "grp"),
    ],
    "keys_server": [
        c("set", "k", "v"),
        c("exists", "k", "nope"),
        c("type", "k"),
        c("expire", "k", 100),
        c("persist", "k"),
        c("ttl", "k"),
        c("ttl", "nope"),
        c("rename", "k", "k2"),
        c("delete", "k2", "nope"),
        c("dbsize"),
        c("ping"),
        c("echo", "hello"),
        c("eval", "return {1, 'two', {3}}", 0),
        c("config_get", "maxmemory-policy"),
    ],
}


def call(target: Any, step: Call) -> Any:
    name, args, kwargs = step
    return getattr(target, name)(*args, **kwargs)


@pytest.mark.parametrize("family", list(CASES))
@async_test
async def test_commands_return_the_sync_clients_values(
    r: resp3.Redis, server: RedisServer, protocol: int, family: str
) -> None:
    steps = CASES[family]
    expected = [call(r, step) for step in steps]
    r.flushdb()
    async with client(server, protocol) as ar:
        got = [await call(ar, step) for step in steps]
    assert got == expected


def test_constructor_accepts_the_sync_clients_keywords() -> None:
    pool_only = {"connection_pool", "blocking_pool", "blocking_pool_timeout"}
    pool_only.add("single_connection_client")
    sync_params = set(inspect.signature(resp3.Redis).parameters) - pool_only
    missing = sync_params - set(inspect.signature(resp3.asyncio.Redis).parameters)
    assert not missing, f"resp3.asyncio.Redis lacks keywords of resp3.Redis: {sorted(missing)}"


@async_test
async def test_constructor_options_reach_the_server(r3: resp3.Redis, server: RedisServer) -> None:
    async with client(server, 2, db=1, client_name="ctor-probe", decode_responses=True) as ar:
        await ar.set("where", "db1")
        assert await ar.get("where") == "db1"
        assert await ar.client_getname() == "ctor-probe"
        info = await ar.execute_command("CLIENT", "INFO")
        assert "resp=2" in info and "db=1" in info
    assert r3.get("where") is None
    with resp3.Redis(host=server.host, port=server.port, db=1) as r1:
        assert r1.getdel("where") == b"db1"


@async_test
async def test_from_url_tcp_and_unix(r3: resp3.Redis, server: RedisServer) -> None:
    url = f"redis://{server.host}:{server.port}/2?protocol=2"
    async with resp3.asyncio.Redis.from_url(url, client_name="url-probe") as ar:
        assert (ar.config.db, ar.config.protocol) == (2, 2)
        await ar.set("u", "1")
        assert await ar.get("u") == b"1"
        assert await ar.client_getname() == "url-probe"  # str under RESP2, as redis-py
        await ar.delete("u")
    assert server.unix_path is not None
    async with resp3.asyncio.Redis.from_url(f"unix://{server.unix_path}?db=0") as au:
        await au.set("via-unix", "yes")
        assert mux_of(au).config.unix_socket_path == server.unix_path
    assert r3.get("via-unix") == b"yes"


@pytest.mark.parametrize("transaction", [True, False], ids=["multi", "plain"])
@async_test
async def test_pipeline_returns_the_sync_pipelines_values(
    r: resp3.Redis, server: RedisServer, protocol: int, transaction: bool
) -> None:
    def fill(pipe: Any) -> None:
        pipe.set("a", "1").incr("a").get("a").hset("h", mapping={"x": "1"}).hgetall("h")
        pipe.rpush("l", "p", "q").lrange("l", 0, -1).zadd("z", {"m": 2}).zrange("z", 0, -1, True)
        pipe.incr("l")  # WRONGTYPE: a value in the list, not a raise mid-batch
        pipe.get("a")

    sync_pipe = r.pipeline(transaction)
    fill(sync_pipe)
    expected = sync_pipe.execute(raise_on_error=False)
    r.flushdb()
    async with client(server, protocol) as ar:
        pipe = ar.pipeline(transaction)
        fill(pipe)
        assert len(pipe) == 11
        got = await pipe.execute(raise_on_error=False)
        assert got == expected
        assert isinstance(got[9], resp3.ResponseError)
        assert got[10] == b"2"
        assert len(pipe) == 0, "execute() must reset the command stack"
        fill(pipe)
        with pytest.raises(resp3.ResponseError, match="WRONGTYPE") as info:
            await pipe.execute()
        assert "Command # 10" in str(info.value)
        assert await ar.get("a") == b"2", "the commands around the failed one still ran"
        assert await pipe.execute() == []


@async_test
async def test_transaction_rejected_while_queueing_applies_nothing(
    r: resp3.Redis, server: RedisServer, protocol: int
) -> None:
    async with client(server, protocol) as ar:
        pipe = ar.pipeline(True)
        pipe.set("a", "1").execute_command("SET", "only-one-arg").set("b", "2")
        results = await pipe.execute(raise_on_error=False)
        assert isinstance(results[1], resp3.ResponseError)
        assert isinstance(results[0], resp3.ExecAbortError)
        pipe.set("a", "1").execute_command("SET", "only-one-arg")
        with pytest.raises(resp3.ResponseError, match="Command # 2"):
            await pipe.execute()
        assert await ar.exists("a", "b") == 0
        assert await ar.ping() is True, "the shared connection is still in step"


@async_test
async def test_transaction_retries_when_a_watched_key_changes(
    r: resp3.Redis, server: RedisServer, protocol: int
) -> None:
    attempts = 0
    async with client(server, protocol) as ar:
        await ar.set("counter", 1)

        async def add_ten(pipe: resp3.asyncio.Pipeline) -> int:
            nonlocal attempts
            attempts += 1
            value = int(await pipe.execute_command("GET", "counter"))
            if attempts == 1:
                await ar.incr("counter")  # another connection: voids the WATCH
            pipe.multi()
            pipe.set("counter", value + 10)
            return value

        seen = await ar.transaction(add_ten, "counter", value_from_callable=True)
        assert (attempts, seen, await ar.get("counter")) == (2, 2, b"12")
        assert await ar.transaction(add_ten, "counter") == [True]

        pipe = ar.pipeline()
        await pipe.watch("counter")
        await ar.set("counter", 0)
        pipe.multi()
        pipe.incr("counter")
        with pytest.raises(resp3.WatchError):
            await pipe.execute()
        assert await ar.get("counter") == b"0"


@async_test
async def test_register_script_survives_script_flush_also_in_pipelines(
    r: resp3.Redis, server: RedisServer, protocol: int
) -> None:
    source = "redis.call('SET', KEYS[1], ARGV[1]); return {KEYS[1], ARGV[1], 7}"
    sync_script = r.register_script(source)
    expected = sync_script(keys=["sk"], args=["sv"])
    async with client(server, protocol) as ar:
        await ar.script_flush()
        script = ar.register_script(source)
        assert script.sha == sync_script.sha
        assert await script(keys=["sk"], args=["sv"]) == expected
        assert await ar.script_exists(script.sha) == [True]
        await ar.script_flush()
        assert await script(keys=["sk"], args=["sv"]) == expected, "NOSCRIPT -> EVAL fallback"
        await ar.script_flush()
        for transaction in (True, False):
            pipe = ar.pipeline(transaction)
            script(keys=["pk"], args=["pv"], client=pipe)
            pipe.get("pk")
            assert await pipe.execute() == [[b"pk", b"pv", 7], b"pv"]
            await ar.script_flush()


@async_test
async def test_scan_iterators_match_the_sync_client(
    r: resp3.Redis, server: RedisServer, protocol: int
) -> None:
    r.mset({f"key:{i}": i for i in range(120)})
    r.hset("h", mapping={f"f{i}": i for i in range(80)})
    r.sadd("s", *range(90))
    r.zadd("z", {f"m{i}": i for i in range(70)})
    async with client(server, protocol) as ar:
        keys = [k async for k in ar.scan_iter(match="key:*", count=7)]
        assert sorted(keys) == sorted(r.scan_iter(match="key:*", count=7))
        assert len(keys) == 120
        assert dict([p async for p in ar.hscan_iter("h", count=5)]) == dict(r.hscan_iter("h"))
        assert sorted([m async for m in ar.sscan_iter("s")]) == sorted(r.sscan_iter("s"))
        pairs = [p async for p in ar.zscan_iter("z", count=3)]
        assert sorted(pairs) == sorted(r.zscan_iter("z"))


@async_test
async def test_async_with_and_aclose_release_every_connection(
    r3: resp3.Redis, server: RedisServer
) -> None:
    name = "aclose-probe"
    async with client(server, client_name=name) as ar:
        await ar.ping()
        assert await ar.blpop(["nothing"], timeout=0.05) is None  # a pooled connection too
        assert len(client_ids(r3, name)) == 2
    assert ar._mux is None
    await eventually(lambda: client_ids(r3, name) == [], "the server to see both closed")
    ar2 = client(server, client_name=name)
    await ar2.ping()
    blocked = asyncio.ensure_future(ar2.blpop(["nothing"], timeout=2))
    await eventually(lambda: len(client_ids(r3, name)) == 2, "BLPOP to block")
    await ar2.aclose()
    with pytest.raises(resp3.ConnectionError):
        await blocked  # a borrowed connection is closed too, not left to leak
    await eventually(lambda: client_ids(r3, name) == [], "aclose() to close both")
    assert ar2.pool._idle == [] and ar2.pool._created == 0


@async_test
async def test_concurrent_tasks_share_one_command_connection(
    r3: resp3.Redis, server: RedisServer
) -> None:
    r3.mset({f"k{i}": f"v{i}" for i in range(1000)})
    async with client(server, client_name="mux-probe") as ar:
        values = await asyncio.gather(*(ar.get(f"k{i}") for i in range(1000)))
        assert values == [f"v{i}".encode() for i in range(1000)]
        assert len(client_ids(r3, "mux-probe")) == 1


@async_test
async def test_one_loop_iteration_goes_out_in_one_write(
    r3: resp3.Redis, server: RedisServer
) -> None:
    r3.mset({f"k{i}": f"v{i}" for i in range(500)})
    async with client(server) as ar:
        await ar.ping()
        writes = count_writes(mux_of(ar)).writes
        values = await asyncio.gather(*(ar.get(f"k{i}") for i in range(500)))
        assert values == [f"v{i}".encode() for i in range(500)]
        assert len(writes) == 1, f"{len(writes)} writes for one loop iteration"
        assert writes[0].count(b"$3\r\nGET\r\n") == 500
        writes.clear()
        for i in range(0, 50):
            assert await ar.get(f"k{i}") == f"v{i}".encode()
        assert len(writes) == 50, "a task awaiting each reply sends each command alone"


@async_test
async def test_blocking_commands_do_not_stall_the_shared_connection(
    r: resp3.Redis, server: RedisServer, protocol: int
) -> None:
    r.mset({f"k{i}": i for i in range(1000)})
    async with client(server, protocol, client_name="block-probe") as ar:
        blpop = asyncio.ensure_future(ar.blpop(["queue"], timeout=1))
        xread = asyncio.ensure_future(ar.xread({"stream": "$"}, block=1000))
        await eventually(lambda: len(client_ids(r, "block-probe")) == 2, "two blocked clients")
        start = time.monotonic()
        values = await asyncio.gather(*(ar.get(f"k{i}") for i in range(1000)))
        elapsed = time.monotonic() - start
        assert values == [str(i).encode() for i in range(1000)]
        assert elapsed < 0.5, f"1000 GETs took {elapsed:.2f}s next to BLPOP/XREAD"
        assert not blpop.done() and not xread.done()
        await ar.rpush("queue", "job")
        await ar.xadd("stream", {"f": "v"}, id="5-0")
        popped, read = await blpop, await xread
        r.rpush("queue", "job")
        assert popped == r.blpop(["queue"], timeout=1)
        assert read == r.xread({"stream": "0"})
        start = time.monotonic()
        assert await ar.blpop(["empty"], timeout=0.2) is None
        assert 0.15 < time.monotonic() - start < 1.0


async def smoke(server: RedisServer) -> None:
    async with client(server) as ar:
        await ar.set("smoke", "1")
        got = await asyncio.gather(*(ar.incr("smoke") for _ in range(100)))
        assert sorted(got) == list(range(2, 102))
        pipe = ar.pipeline()
        pipe.get("smoke").delete("smoke")
        assert await pipe.execute() == [b"101", 1]
        assert await ar.blpop(["empty"], timeout=0.05) is None


@pytest.mark.parametrize("loop_factory", LOOP_FACTORIES)
def test_smoke_on_every_available_event_loop(
    r3: resp3.Redis, server: RedisServer, loop_factory: Callable[[], asyncio.AbstractEventLoop]
) -> None:
    run(smoke(server), loop_factory=loop_factory)
