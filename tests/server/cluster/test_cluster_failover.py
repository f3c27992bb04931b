"""A primary SIGKILLed under steady load, sync and asyncio (a cluster of its own each).

The load writes unique keys with SET (IDEMPOTENT: re-sent after a broken connection),
reads back acknowledged keys with GET, and INCRs a counter in the dying shard (not
idempotent: a broken connection after writing must surface, never be re-sent). After
the replica is promoted (``--cluster-node-timeout 1000``) the clients must carry on by
themselves, and:

* no SET or GET error reaches the caller (they wait out the failover, bounded by
  ``cluster_retry_timeout``); only INCRs that were in flight may fail;
* every acknowledged write is readable afterwards, and the counter is at most the
  acknowledged INCRs plus those whose outcome was unknown (nothing applied twice);
* the time from the promotion to the first success in the dead shard (of a command
  started after the kill) is printed and must stay under ``RECOVERY_LIMIT`` (the
  target is 2 s; the limit is looser because the machine is shared).

Redis replicates asynchronously: a write the old primary acknowledged in the instant
before the SIGKILL may never reach its replica, and Redis itself then loses it. Writes
acknowledged less than ``REPLICATION_WINDOW`` before the kill are therefore only counted
(and printed) if lost, and must stay a small fraction; a write acknowledged after the
kill (by the new primary) must never be lost.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from _async_helpers import run
from _cluster_helpers import Load, key_for_slot
from conftest import startup

import resp3
import resp3.asyncio
from resp3.cluster import ClusterNode
from resp3.errors import ConnectionError
from resp3.testing_cluster import ClusterNodeProcess, RedisClusterServer

RECOVERY_LIMIT = 5.0
REPLICATION_WINDOW = 0.5  # generous: a replica on a loaded 2-core machine may lag


def shard_slots(rc: Any, victim: ClusterNode) -> list[int]:
    return [slot for slot in range(16384) if rc.topology.primary_for(slot) == victim]


def report(
    capsys: pytest.CaptureFixture[str], label: str, killed: float, promoted: float, first: float
) -> None:
    with capsys.disabled():
        print(
            f"\n[{label}] kill -> promotion {promoted - killed:.2f}s, "
            f"promotion -> first success in the dead shard {first - promoted:.2f}s, "
            f"kill -> recovered {first - killed:.2f}s"
        )


def check_acknowledged(
    reader: Any, acked: list[tuple[float, float, Any]], killed: float
) -> tuple[int, int]:
    """Every acked (key, value) is readable; returns (checked, lost inside the window)."""
    keys = [result[0] for _, _, result in acked]
    values = reader(keys)
    lost_in_window = 0
    for (_, end, (key, value)), found in zip(acked, values, strict=True):
        if found == value:
            continue
        if killed - REPLICATION_WINDOW <= end <= killed:
            lost_in_window += 1
            continue
        raise AssertionError(
            f"acknowledged {key}={value!r} at t={end - killed:+.3f}s reads {found!r}"
        )
    return len(keys), lost_in_window


def test_primary_killed_under_load(
    fresh_cluster: RedisClusterServer, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = fresh_cluster
    rc = resp3.RedisCluster(
        startup_nodes=startup(srv), socket_timeout=2.0, cluster_retry_timeout=20
    )
    victim_node = rc.get_node_from_key(key_for_slot(0))
    assert victim_node is not None
    victim = srv.node_at(victim_node.port)
    replicas = srv.replicas_of(victim)
    slots = set(shard_slots(rc, victim_node))
    counter = key_for_slot(min(slots))
    channel = key_for_slot(min(slots) + 1)
    ps = rc.pubsub(ignore_subscribe_messages=True)
    ps.ssubscribe(channel)

    def write(i: int) -> tuple[str, bytes]:
        key = f"w:{i}"
        assert rc.set(key, i) is True
        return key, str(i).encode()

    acked_reads: list[int] = []

    def read(i: int) -> None:
        if writes.acked:
            _, _, (key, value) = writes.acked[i % len(writes.acked)]
            if rc.get(key) == value:
                acked_reads.append(i)

    incr_uncertain: list[BaseException] = []

    def incr(i: int) -> int:
        try:
            return int(rc.incr(counter))
        except ConnectionError as exc:
            incr_uncertain.append(exc)
            raise

    writes, reads, incrs = Load(write, threads=3), Load(read, threads=1), Load(incr, threads=1)
    for load in (writes, reads, incrs):
        load.start()
    try:
        time.sleep(0.5)
        killed = srv.kill(victim)
        _, promoted = srv.wait_promoted(replicas, timeout=20)
        deadline = time.monotonic() + 15
        recent = writes.acked
        while not any(t > killed and rc.keyslot(k) in slots for t, _, (k, _) in recent[-200:]):
            assert time.monotonic() < deadline, (
                "no write to the dead shard succeeded after the kill"
            )
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        for load in (writes, reads, incrs):
            load.stop()
    first = min(
        end for start, end, (key, _) in writes.acked if start > killed and rc.keyslot(key) in slots
    )
    report(capsys, "sync", killed, promoted, first)
    assert first - promoted < RECOVERY_LIMIT
    assert writes.errors == [] and reads.errors == []
    assert all(isinstance(exc, ConnectionError) for _, exc in incrs.errors)
    checked, lost = check_acknowledged(rc.mget, writes.acked, killed)
    with capsys.disabled():
        print(f"[sync] {checked} acknowledged writes checked, {lost} lost by the crash")
    assert checked > 100 and lost <= checked // 100
    final = int(rc.get(counter) or 0)
    acked_incrs = len(incrs.acked)
    assert final <= acked_incrs + len(incr_uncertain)  # nothing applied twice
    assert acked_reads  # reads of acknowledged keys kept succeeding
    # The shard channel's subscription follows the promotion.
    deadline = time.monotonic() + 10
    while True:
        rc.spublish(channel, "after-failover")
        message = ps.get_message(timeout=0.2)
        if message is not None and message["data"] == b"after-failover":
            break
        assert time.monotonic() < deadline, "the shard subscriber never came back"
    ps.close()
    rc.close()


def test_primary_killed_under_load_asyncio(
    fresh_cluster: RedisClusterServer, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = fresh_cluster

    async def main() -> None:
        rc = resp3.asyncio.RedisCluster(
            startup_nodes=startup(srv), socket_timeout=2.0, cluster_retry_timeout=20
        )
        await rc.initialize()
        victim_node = rc.get_node_from_key(key_for_slot(0))
        assert victim_node is not None
        victim: ClusterNodeProcess = srv.node_at(victim_node.port)
        replicas = srv.replicas_of(victim)
        slots = set(shard_slots(rc, victim_node))
        acked: list[tuple[float, float, Any]] = []
        errors: list[BaseException] = []
        stop = asyncio.Event()
        counter = iter(range(10**9))

        async def writer() -> None:
            while not stop.is_set():
                i = next(counter)
                start = time.monotonic()
                try:
                    assert await rc.set(f"w:{i}", i) is True
                except Exception as exc:
                    errors.append(exc)
                    await asyncio.sleep(0.01)
                else:
                    acked.append((start, time.monotonic(), (f"w:{i}", str(i).encode())))

        tasks = [asyncio.ensure_future(writer()) for _ in range(20)]
        await asyncio.sleep(0.5)
        killed = srv.kill(victim)
        loop = asyncio.get_running_loop()
        promoting = loop.run_in_executor(None, srv.wait_promoted, replicas, 20)
        _, promoted = await promoting
        deadline = time.monotonic() + 15
        while not any(t > killed and rc.keyslot(k) in slots for t, _, (k, _) in acked[-500:]):
            assert time.monotonic() < deadline, "no write to the dead shard succeeded"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks)
        first = min(end for t, end, (k, _) in acked if t > killed and rc.keyslot(k) in slots)
        report(capsys, "asyncio", killed, promoted, first)
        assert first - promoted < RECOVERY_LIMIT
        assert errors == []
        checked, lost = await _check_async(rc, acked, killed)
        with capsys.disabled():
            print(f"[asyncio] {checked} acknowledged writes checked, {lost} lost by the crash")
        assert checked > 100 and lost <= checked // 100
        await rc.aclose()

    run(main(), deadline=60)


async def _check_async(
    rc: Any, acked: list[tuple[float, float, Any]], killed: float
) -> tuple[int, int]:
    values = await rc.mget([result[0] for _, _, result in acked])
    return check_acknowledged(lambda _keys: values, acked, killed)


def test_threads_share_one_client_through_a_failover_of_replica_reads(
    fresh_cluster: RedisClusterServer,
) -> None:
    """read_from_replicas: a killed replica is skipped; reads keep succeeding."""
    srv = fresh_cluster
    rc = resp3.RedisCluster(startup_nodes=startup(srv), read_from_replicas=True, socket_timeout=2.0)
    keys = [key_for_slot(slot) for slot in range(0, 16384, 512)]
    rc.mset(dict.fromkeys(keys, "v"))
    time.sleep(0.2)  # let the replicas catch up
    replica = srv.node_at(rc.get_replicas()[0].port)
    failures: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                assert rc.mget(keys) == [b"v"] * len(keys)
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    srv.kill(replica)
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
    rc.close()
