"""MOVED, ASK and TRYAGAIN, produced on purpose with a slot caught half-way through a
migration (CLUSTER SETSLOT IMPORTING/MIGRATING + MIGRATE of some of its keys), for the
sync and the asyncio client. Each test moves the slot back, so the session cluster is
left as it was found."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from _async_helpers import run
from _cluster_helpers import tag_for_slot
from conftest import startup

import resp3
import resp3.asyncio
from resp3.testing_cluster import ClusterNodeProcess, RedisClusterServer

SLOT = 777


@pytest.fixture
def half_migrated(
    cluster: RedisClusterServer,
) -> Iterator[tuple[ClusterNodeProcess, ClusterNodeProcess, str]]:
    """Slot SLOT MIGRATING from its owner to another primary; ``{tag}moved`` already
    migrated, ``{tag}stays`` not. Yields (source, target, tag); undoes everything."""
    cluster.wait_healthy()
    source = cluster.primary_of(SLOT)
    target = next(n for n in cluster.running() if n is not source and _is_primary(n))
    tag = tag_for_slot(SLOT)
    for key in source.call("CLUSTER", "GETKEYSINSLOT", SLOT, 1000) or []:
        source.call("DEL", key)
    source.call("SET", f"{tag}moved", "m")
    source.call("SET", f"{tag}stays", "s")
    target.call("CLUSTER", "SETSLOT", SLOT, "IMPORTING", source.node_id)
    source.call("CLUSTER", "SETSLOT", SLOT, "MIGRATING", target.node_id)
    source.call("MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", f"{tag}moved")
    try:
        yield source, target, tag
    finally:
        for node in (source, target):
            node.call("CLUSTER", "SETSLOT", SLOT, "STABLE")
        cluster.wait_healthy()  # every node agrees on the owner before we ask one of them
        if cluster.primary_of(SLOT) is not source:
            cluster.migrate_slot(SLOT, source)
            cluster.wait_healthy()
        with resp3.RedisCluster(startup_nodes=startup(cluster)) as rc:
            rc.delete(f"{tag}moved", f"{tag}stays", f"{tag}new")


def _asking_get(node: ClusterNodeProcess, key: str) -> object:
    """GET on an importing node, which answers only after ASKING on that connection."""
    pipe = node.client.pipeline(transaction=False)
    pipe.execute_command("ASKING").execute_command("GET", key)
    return pipe.execute()[1]


def _is_primary(node: ClusterNodeProcess) -> bool:
    return node.info("replication")["role"] == "master"


def _finish(
    cluster: RedisClusterServer, source: ClusterNodeProcess, target: ClusterNodeProcess
) -> None:
    """Migrate the remaining keys and hand the slot to ``target`` everywhere."""
    keys = source.call("CLUSTER", "GETKEYSINSLOT", SLOT, 1000)
    if keys:
        source.call("MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", *keys)
    for node in cluster.running():
        if _is_primary(node):
            node.call("CLUSTER", "SETSLOT", SLOT, "NODE", target.node_id)


class FinishLater(threading.Thread):
    """Runs ``_finish`` 0.3 s from now; ``join()`` re-raises what it raised, so a failure
    there fails the test with its own message instead of dying with the thread."""

    def __init__(
        self, cluster: RedisClusterServer, source: ClusterNodeProcess, target: ClusterNodeProcess
    ) -> None:
        super().__init__(daemon=True)
        self.args_ = (cluster, source, target)
        self.error: BaseException | None = None

    def run(self) -> None:
        time.sleep(0.3)
        try:
            _finish(*self.args_)
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self.error is not None:
            raise AssertionError(f"finishing the migration failed: {self.error!r}") from self.error


def test_ask_moved_and_tryagain(
    cluster: RedisClusterServer,
    half_migrated: tuple[ClusterNodeProcess, ClusterNodeProcess, str],
) -> None:
    source, target, tag = half_migrated
    with resp3.RedisCluster(startup_nodes=startup(cluster)) as rc:
        assert rc.topology.primary_for(SLOT).port == source.port  # type: ignore[union-attr]
        # ASK: the source no longer has the key; the client asks the target once.
        assert rc.get(f"{tag}moved") == b"m"
        assert rc.get(f"{tag}stays") == b"s"
        assert rc.set(f"{tag}new", "n") is True  # a new key in a migrating slot: ASK too
        assert _asking_get(target, f"{tag}new") == b"n"
        assert rc.topology.primary_for(SLOT).port == source.port  # type: ignore[union-attr]
        pipe = rc.pipeline()
        pipe.get(f"{tag}moved").get(f"{tag}stays").get(f"{tag}new")
        assert pipe.execute() == [b"m", b"s", b"n"]
        # TRYAGAIN: keys of one MGET split between both nodes until the slot is done.
        timer = FinishLater(cluster, source, target)
        started = time.monotonic()
        timer.start()
        try:
            assert rc.mget([f"{tag}moved", f"{tag}stays"]) == [b"m", b"s"]
        finally:
            timer.join()
        assert time.monotonic() - started >= 0.25
        # MOVED: the slot map was stale; the client follows and patches it.
        assert rc.get(f"{tag}stays") == b"s"
        assert rc.topology.primary_for(SLOT).port == target.port  # type: ignore[union-attr]


def test_ask_moved_and_tryagain_asyncio(
    cluster: RedisClusterServer,
    half_migrated: tuple[ClusterNodeProcess, ClusterNodeProcess, str],
) -> None:
    source, target, tag = half_migrated

    async def main() -> None:
        async with resp3.asyncio.RedisCluster(startup_nodes=startup(cluster)) as rc:
            assert await rc.get(f"{tag}moved") == b"m"
            assert await rc.set(f"{tag}new", "n") is True
            pipe = rc.pipeline()
            pipe.get(f"{tag}moved").get(f"{tag}stays").get(f"{tag}new")
            assert await pipe.execute() == [b"m", b"s", b"n"]
            tx = rc.pipeline(transaction=True)  # ASKING before MULTI covers the whole block
            tx.get(f"{tag}moved").get(f"{tag}new")
            assert await tx.execute() == [b"m", b"n"]
            timer = FinishLater(cluster, source, target)
            timer.start()
            try:
                assert await rc.mget([f"{tag}moved", f"{tag}stays"]) == [b"m", b"s"]
            finally:
                timer.join()
            assert await rc.get(f"{tag}stays") == b"s"
            assert rc.topology.primary_for(SLOT).port == target.port  # type: ignore[union-attr]

    run(main())


def test_transaction_follows_ask_sync(
    cluster: RedisClusterServer,
    half_migrated: tuple[ClusterNodeProcess, ClusterNodeProcess, str],
) -> None:
    source, target, tag = half_migrated
    with resp3.RedisCluster(startup_nodes=startup(cluster)) as rc:
        pipe = rc.pipeline(transaction=True)
        pipe.get(f"{tag}stays").set(f"{tag}stays", "t")  # every key still on the source
        assert pipe.execute() == [b"s", True]
        # Keys on both sides: EXEC answers TRYAGAIN (nothing ran) until the slot is done.
        timer = FinishLater(cluster, source, target)
        timer.start()
        try:
            pipe = rc.pipeline(transaction=True)
            pipe.get(f"{tag}moved").get(f"{tag}stays").set(f"{tag}new", "t")
            assert pipe.execute() == [b"m", b"t", True]
        finally:
            timer.join()
        assert target.call("GET", f"{tag}new") == b"t"
