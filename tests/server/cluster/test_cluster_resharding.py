"""Slots migrated while clients keep working, and a node added then removed (a cluster of
its own per test).

The migration is redis-cli's: SETSLOT IMPORTING on the target, MIGRATING on the
source, MIGRATE in small batches with pauses (so clients hit the ASK window many times),
SETSLOT NODE everywhere. During it the load writes unique keys, INCRs counters, runs
same-slot MGETs (TRYAGAIN while the keys are split between the nodes) and MULTI/EXEC
transactions. Resharding never breaks a connection, so nothing may surface to the
caller and nothing may be lost or applied twice: every acknowledged SET is readable,
every counter equals its number of acknowledged INCRs.
"""

from __future__ import annotations

import asyncio
import time

from _async_helpers import run
from _cluster_helpers import Load, key_for_slot, tag_for_slot
from conftest import startup

import resp3
import resp3.asyncio
from resp3.testing_cluster import RedisClusterServer

SLOT = 4000


def sync_load(rc: resp3.RedisCluster, tag: str) -> list[Load]:
    def write(i: int) -> tuple[str, bytes]:
        key = f"{tag}w:{i}" if i % 2 else f"w:{i}"
        assert rc.set(key, i) is True
        return key, str(i).encode()

    def incr(i: int) -> int:
        return int(rc.incr(f"{tag}counter"))

    def mget(i: int) -> None:
        assert rc.mget([f"{tag}fixed:{i % 50}", f"{tag}fixed:{(i + 1) % 50}"]) == [b"f", b"f"]

    def transaction(i: int) -> None:
        pipe = rc.pipeline(transaction=True)
        pipe.incr(f"{tag}tx").get(f"{tag}fixed:0")
        assert pipe.execute()[1] == b"f"

    return [
        Load(write, threads=2),
        Load(incr, threads=1),
        Load(mget, threads=1),
        Load(transaction, threads=1),
    ]


def verify(rc: resp3.RedisCluster, tag: str, loads: list[Load]) -> None:
    writes, incrs, mgets, transactions = loads
    for load in loads:
        assert load.errors == [], [repr(exc) for _, exc in load.errors[:3]]
    assert len(writes.acked) > 100 and len(mgets.acked) > 10 and len(transactions.acked) > 10
    keys = [result[0] for _, _, result in writes.acked]
    assert rc.mget(keys) == [result[1] for _, _, result in writes.acked]
    assert int(rc.get(f"{tag}counter") or 0) == len(incrs.acked)
    assert int(rc.get(f"{tag}tx") or 0) == len(transactions.acked)


def fill(rc: resp3.RedisCluster, tag: str) -> None:
    rc.mset({f"{tag}fixed:{i}": "f" for i in range(50)})
    rc.mset({f"{tag}bulk:{i}": "b" for i in range(150)})


def test_slot_migrated_under_load(fresh_cluster: RedisClusterServer) -> None:
    srv = fresh_cluster
    tag = tag_for_slot(SLOT)
    with resp3.RedisCluster(startup_nodes=startup(srv), socket_timeout=5.0) as rc:
        fill(rc, tag)
        source = srv.primary_of(SLOT)
        target = next(n for n in srv.nodes[:3] if n is not source)
        loads = sync_load(rc, tag)
        for load in loads:
            load.start()
        try:
            time.sleep(0.2)
            moved = srv.migrate_slot(
                SLOT, target, batch=10, between_batches=lambda: time.sleep(0.02)
            )
            time.sleep(0.2)
            srv.migrate_slot(SLOT, source, batch=25, between_batches=lambda: time.sleep(0.01))
            time.sleep(0.2)
        finally:
            for load in loads:
                load.stop()
        assert moved >= 200
        verify(rc, tag, loads)
        assert rc.topology.primary_for(SLOT).port == source.port  # type: ignore[union-attr]


def test_slot_migrated_under_load_asyncio(fresh_cluster: RedisClusterServer) -> None:
    srv = fresh_cluster
    tag = tag_for_slot(SLOT)

    async def main() -> None:
        async with resp3.asyncio.RedisCluster(startup_nodes=startup(srv)) as rc:
            await rc.mset({f"{tag}bulk:{i}": "b" for i in range(200)})
            errors: list[BaseException] = []
            acked: list[tuple[str, bytes]] = []
            incrs = 0
            stop = asyncio.Event()
            numbers = iter(range(10**9))

            async def worker() -> None:
                nonlocal incrs
                while not stop.is_set():
                    i = next(numbers)
                    try:
                        if i % 3 == 0:
                            await rc.incr(f"{tag}counter")
                            incrs += 1
                        elif i % 3 == 1:
                            pipe = rc.pipeline()
                            pipe.set(f"{tag}p:{i}", i).set(key_for_slot(i % 16384), i)
                            assert await pipe.execute() == [True, True]
                            acked.append((f"{tag}p:{i}", str(i).encode()))
                        else:
                            assert await rc.set(f"{tag}s:{i}", i) is True
                            acked.append((f"{tag}s:{i}", str(i).encode()))
                    except Exception as exc:
                        errors.append(exc)
                    await asyncio.sleep(0.002)  # steady, not saturating: the GIL is shared

            tasks = [asyncio.ensure_future(worker()) for _ in range(20)]
            await asyncio.sleep(0.2)
            source = srv.primary_of(SLOT)
            target = next(n for n in srv.nodes[:3] if n is not source)
            loop = asyncio.get_running_loop()

            def migrate() -> int:
                return srv.migrate_slot(
                    SLOT, target, batch=10, between_batches=lambda: time.sleep(0.02)
                )

            moved = await loop.run_in_executor(None, migrate)
            await asyncio.sleep(0.3)
            stop.set()
            await asyncio.gather(*tasks)
            assert moved >= 200
            assert errors == [], [repr(e) for e in errors[:3]]
            assert await rc.mget([key for key, _ in acked]) == [value for _, value in acked]
            assert int(await rc.get(f"{tag}counter") or 0) == incrs
            assert rc.topology.primary_for(SLOT).port == target.port  # type: ignore[union-attr]

    run(main(), deadline=60)


def test_node_added_then_removed(fresh_cluster: RedisClusterServer) -> None:
    srv = fresh_cluster
    tag = tag_for_slot(SLOT)
    moving = [SLOT, SLOT + 1, 9000]
    with resp3.RedisCluster(startup_nodes=startup(srv), socket_timeout=5.0) as rc:
        fill(rc, tag)
        loads = sync_load(rc, tag)
        for load in loads:
            load.start()
        try:
            new = srv.add_primary()
            owners = {slot: srv.primary_of(slot) for slot in moving}
            for slot in moving:
                srv.migrate_slot(slot, new, batch=20, between_batches=lambda: time.sleep(0.01))
            time.sleep(0.3)
            node = rc.get_node(new.host, new.port)
            assert node is not None and node.server_type == "primary"
            assert rc.get_node_from_key(f"{tag}x") == node
            assert new.call("DBSIZE") >= 200
            for slot in moving:
                srv.migrate_slot(slot, owners[slot], batch=20)
            time.sleep(0.3)
            srv.remove_node(new)
            time.sleep(0.3)
        finally:
            for load in loads:
                load.stop()
        verify(rc, tag, loads)
        deadline = time.monotonic() + 5
        while rc.get_node(new.host, new.port) is not None:
            assert time.monotonic() < deadline, "the removed node is still in the slot map"
            rc.refresh_topology()
            time.sleep(0.1)
        assert len(rc.get_nodes()) == 6
