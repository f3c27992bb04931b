"""resp3.asyncio.RedisCluster on a healthy 3+3 cluster: the sync client's behaviour,
awaited, plus what only asyncio promises: one multiplexed connection per node, so many
tasks' commands for a node leave in one write, and blocking commands on connections of
their own."""

from __future__ import annotations

import asyncio

import pytest
from _async_helpers import count_writes, run
from _cluster_helpers import key_for_slot, keys_for_every_slot, tag_for_slot
from conftest import startup

import resp3.asyncio
from resp3.cluster import ClusterCrossSlotError, ClusterError
from resp3.errors import ResponseError
from resp3.testing_cluster import RedisClusterServer


def client(cluster: RedisClusterServer, **kwargs: object) -> resp3.asyncio.RedisCluster:
    return resp3.asyncio.RedisCluster(startup_nodes=startup(cluster), **kwargs)


def test_commands_in_every_slot_and_splits(cluster: RedisClusterServer, protocol: int) -> None:
    async def main() -> None:
        async with client(cluster, protocol=protocol) as rc:
            await rc.flushall()
            keys = keys_for_every_slot()[::8]
            await asyncio.gather(*(rc.set(key, i) for i, key in enumerate(keys)))
            assert await rc.mget(keys) == [str(i).encode() for i in range(len(keys))]
            assert await rc.dbsize() == len(keys)
            for node in rc.get_primaries():
                expected = sum(rc.get_node_from_key(k) == node for k in keys)
                assert await rc.with_target(node).dbsize() == expected
            asked = [keys[3], "missing", keys[0], keys[3]]
            assert await rc.mget(asked) == [b"3", None, b"0", b"3"]
            assert await rc.exists(*asked) == 3
            assert await rc.mset({keys[1]: "x", keys[-1]: "y"}) is True
            assert await rc.delete(*keys[:100], "missing") == 100
            assert await rc.unlink(*keys[100:]) == len(keys) - 100
            assert await rc.dbsize() == 0
            with pytest.raises(ClusterCrossSlotError):
                await rc.sunionstore(key_for_slot(1), [key_for_slot(2), key_for_slot(3)])

    run(main())


def test_pipelines_and_transactions(cluster: RedisClusterServer, protocol: int) -> None:
    async def main() -> None:
        async with client(cluster, protocol=protocol) as rc:
            await rc.flushall()
            keys = [key_for_slot(slot) for slot in range(0, 16384, 151)]
            pipe = rc.pipeline()
            for i, key in enumerate(keys):
                pipe.set(key, i).incr(key)
            pipe.mget(keys[:3]).ping()
            expected: list[object] = []
            for i in range(len(keys)):
                expected += [True, i + 1]
            assert await pipe.execute() == [*expected, [b"1", b"2", b"3"], True]
            pipe = rc.pipeline().set(keys[0], "text").incr(keys[0]).get(keys[1])
            results = await pipe.execute(raise_on_error=False)
            assert isinstance(results[1], ResponseError) and results[2] == b"2"
            tag = tag_for_slot(5000)
            tx = rc.pipeline(transaction=True).set(f"{tag}a", 1).incr(f"{tag}a")
            assert await tx.execute() == [True, 2]
            with pytest.raises(ClusterCrossSlotError):
                await rc.pipeline(transaction=True).set(f"{tag}a", 1).set(keys[0], 1).execute()
            with pytest.raises(ClusterError, match="several nodes"):
                await rc.pipeline().keys().execute()

            calls = []

            async def double(pipe: resp3.asyncio.cluster_pipeline.ClusterPipeline) -> None:
                value = int(await pipe.get(f"{tag}a"))
                if not calls:
                    await rc.incr(f"{tag}a")
                calls.append(value)
                pipe.multi()
                pipe.set(f"{tag}a", value * 10)

            assert await rc.transaction(double, f"{tag}a") == [True]
            assert calls == [2, 3] and await rc.get(f"{tag}a") == b"30"

    run(main())


def test_one_write_per_node_for_many_tasks(cluster: RedisClusterServer) -> None:
    async def main() -> None:
        async with client(cluster) as rc:
            keys = [key_for_slot(slot) for slot in range(0, 16384, 41)]
            await asyncio.gather(*(rc.set(k, 1) for k in keys))  # opens every shared connection
            counters = {}
            for node in rc.get_primaries():
                mux = rc.node_connections(node).mux
                assert mux is not None
                counters[node.name] = count_writes(mux)
            values = await asyncio.gather(*(rc.get(k) for k in keys))
            assert values == [b"1"] * len(keys)
            assert {name: len(c.writes) for name, c in counters.items()} == dict.fromkeys(
                counters, 1
            )

    run(main())


def test_blocking_commands_use_a_dedicated_connection(cluster: RedisClusterServer) -> None:
    async def main() -> None:
        async with client(cluster) as rc:
            queue = key_for_slot(10)
            waiter = asyncio.ensure_future(rc.blpop([queue], timeout=5))
            await asyncio.sleep(0.05)
            assert await rc.set(key_for_slot(11), "not stuck") is True  # same node, shared conn
            assert await rc.rpush(queue, "job") == 1
            assert await waiter == [queue.encode(), b"job"]

    run(main())


def test_node_commands_scan_and_lookup(cluster: RedisClusterServer) -> None:
    async def main() -> None:
        async with client(cluster, decode_responses=True) as rc:
            await rc.flushall()
            keys = {f"scan:{i}" for i in range(200)}
            await rc.mset(dict.fromkeys(keys, "v"))
            seen = [key async for key in rc.scan_iter(match="scan:*", count=40)]
            assert sorted(seen) == sorted(keys)
            assert sorted(await rc.keys("scan:*")) == sorted(keys)
            assert await rc.ping() is True
            info = await rc.with_target(rc.ALL_NODES).info("server")
            assert len(info) == 6
            assert await rc.execute_command("PING", target_nodes=rc.PRIMARIES) is True
            assert await rc.execute_command("FUNCTION", "STATS") is not None
            await rc.hset("h", mapping={"a": "1", "b": "2"})
            assert dict([pair async for pair in rc.hscan_iter("h")]) == {"a": "1", "b": "2"}
            with pytest.raises(ClusterError, match="scan_iter"):
                await rc.scan(0)

    run(main())


def test_lazy_initialization_and_bad_seeds(cluster: RedisClusterServer) -> None:
    async def main() -> None:
        rc = client(cluster)
        assert rc.get_primaries() == []  # nothing read yet
        refreshes = 0
        refresh = rc.refresh_topology

        async def counting(*, force: bool = True) -> None:
            nonlocal refreshes
            refreshes += 1
            await refresh(force=force)

        rc.refresh_topology = counting  # type: ignore[method-assign]
        results = await asyncio.gather(*(rc.set(f"lazy:{i}", i) for i in range(50)))
        assert results == [True] * 50
        assert refreshes == 1  # 50 first commands, one slot-map read
        assert len(rc.get_primaries()) == 3
        await rc.aclose()
        dead = resp3.asyncio.RedisCluster("127.0.0.1", 1)
        with pytest.raises(ClusterError, match="CLUSTER SHARDS"):
            await dead.get("x")
        await dead.aclose()

    run(main())
