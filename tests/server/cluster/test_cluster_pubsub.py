"""Cluster pub/sub, sync and asyncio: classic channels through any node, shard channels
subscribed on the node that owns their slot (checked with PUBSUB SHARDCHANNELS on every
primary), and a shard channel that follows its slot to another node."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from _async_helpers import run
from _cluster_helpers import key_for_slot
from conftest import startup

import resp3
import resp3.asyncio
from resp3.cluster import key_slot
from resp3.testing_cluster import RedisClusterServer


def shard_channels_by_port(cluster: RedisClusterServer) -> dict[int, set[bytes]]:
    return {
        node.port: set(node.call("PUBSUB", "SHARDCHANNELS"))
        for node in cluster.running()
        if node.info("replication")["role"] == "master"
    }


def wait_for(check: Callable[[], Any], what: str, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def next_data(ps: Any, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = ps.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            return message  # type: ignore[no-any-return]
    raise AssertionError("no message within the timeout")


CHANNELS = [key_for_slot(slot) for slot in (100, 6000, 12000)]  # one per primary


def test_classic_and_shard_channels(cluster: RedisClusterServer) -> None:
    with resp3.RedisCluster(startup_nodes=startup(cluster)) as rc:
        ps = rc.pubsub()
        ps.subscribe("news")
        ps.psubscribe("sport.*")
        ps.ssubscribe(*CHANNELS)
        confirmations = [ps.get_message(timeout=2) for _ in range(5)]
        kinds = sorted(m["type"] for m in confirmations if m is not None)
        assert kinds == ["psubscribe", "ssubscribe", "ssubscribe", "ssubscribe", "subscribe"]
        where = shard_channels_by_port(cluster)
        for channel in CHANNELS:
            owner = rc.get_node_from_key(channel)
            assert owner is not None
            holders = [port for port, names in where.items() if channel.encode() in names]
            assert holders == [owner.port]
        for index, channel in enumerate(CHANNELS):
            assert rc.spublish(channel, f"s{index}") == 1
            message = next_data(ps)
            assert (message["type"], message["channel"], message["data"]) == (
                "smessage",
                channel.encode(),
                f"s{index}".encode(),
            )
        rc.publish("news", "n1")  # sent to another node: the cluster relays it
        assert next_data(ps)["data"] == b"n1"
        rc.publish("sport.tennis", "p1")
        message = next_data(ps)
        assert (message["type"], message["pattern"]) == ("pmessage", b"sport.*")
        ps.sunsubscribe(CHANNELS[0])
        wait_for(
            lambda: (
                CHANNELS[0].encode() not in set().union(*shard_channels_by_port(cluster).values())
            ),
            "sunsubscribe",
        )
        assert rc.spublish(CHANNELS[0], "gone") == 0
        ps.close()


def test_handlers_and_run_in_thread(cluster: RedisClusterServer) -> None:
    with resp3.RedisCluster(startup_nodes=startup(cluster)) as rc:
        got: list[bytes] = []
        done = threading.Event()

        def handler(message: dict[str, Any]) -> None:
            got.append(message["data"])
            if len(got) == 3:
                done.set()

        ps = rc.pubsub()
        ps.ssubscribe(**dict.fromkeys(CHANNELS, handler))
        worker = ps.run_in_thread(sleep_time=0.05)
        try:
            wait_for(lambda: all(rc.pubsub_numsub() is not None for _ in [0]), "start")
            for channel in CHANNELS:
                wait_for(
                    lambda c=channel: rc.spublish(c, f"h:{c}") == 1, f"subscriber of {channel}"
                )
            assert done.wait(5)
        finally:
            worker.stop()
        assert sorted(got) == sorted(f"h:{c}".encode() for c in CHANNELS)


def test_shard_channel_follows_its_slot(cluster: RedisClusterServer) -> None:
    channel = key_for_slot(2222)
    slot = key_slot(channel)
    with resp3.RedisCluster(startup_nodes=startup(cluster)) as rc:
        ps = rc.pubsub(ignore_subscribe_messages=True)
        ps.ssubscribe(channel)
        wait_for(lambda: rc.spublish(channel, "before") == 1, "subscription")
        assert next_data(ps)["data"] == b"before"
        source = cluster.primary_of(slot)
        target = next(
            n
            for n in cluster.running()
            if n is not source and n.info("replication")["role"] == "master"
        )
        try:
            cluster.migrate_slot(slot, target)
            assert ps.get_message(timeout=0.3) is None  # the server's sunsubscribe is absorbed
            wait_for(lambda: rc.spublish(channel, "after") == 1, "subscription on the new owner")
            assert next_data(ps)["data"] == b"after"
            assert channel.encode() in shard_channels_by_port(cluster)[target.port]
        finally:
            ps.close()
            cluster.migrate_slot(slot, source)
            cluster.wait_healthy()


def test_asyncio_pubsub_and_slot_move(cluster: RedisClusterServer) -> None:
    channel = key_for_slot(3333)
    slot = key_slot(channel)

    async def main() -> None:
        async with resp3.asyncio.RedisCluster(startup_nodes=startup(cluster)) as rc:
            ps = rc.pubsub()
            await ps.subscribe("anews")
            await ps.ssubscribe(*CHANNELS, channel)
            confirmations = [await ps.get_message(timeout=2) for _ in range(5)]
            assert all(m is not None for m in confirmations)
            heard: list[bytes] = []

            async def consume() -> None:  # a subscriber keeps reading: that drives rerouting
                async for message in ps.listen():
                    if message["type"] in ("message", "smessage"):
                        heard.append(message["data"])

            async def publish_until_heard(name: str, data: str, sharded: bool = True) -> None:
                for _ in range(100):
                    if data.encode() in heard:
                        return
                    if sharded:
                        await rc.spublish(name, data)
                    else:
                        await rc.publish(name, data)
                    await asyncio.sleep(0.05)
                raise AssertionError(f"{data!r} on {name} never arrived")

            consumer = asyncio.ensure_future(consume())
            await publish_until_heard("anews", "hello", sharded=False)
            for name in CHANNELS:
                await publish_until_heard(name, f"a:{name}")
            source = cluster.primary_of(slot)
            target = next(
                n
                for n in cluster.running()
                if n is not source and n.info("replication")["role"] == "master"
            )
            try:
                cluster.migrate_slot(slot, target)
                await publish_until_heard(channel, "moved")
                assert heard.count(b"moved") >= 1
            finally:
                consumer.cancel()
                await ps.aclose()
                cluster.migrate_slot(slot, source)
                cluster.wait_healthy()

    run(main())


@pytest.mark.parametrize("name", ["ch1", b"ch1"])
def test_channel_name_types(cluster: RedisClusterServer, name: str | bytes) -> None:
    with resp3.RedisCluster(startup_nodes=startup(cluster)) as rc:
        ps = rc.pubsub()
        ps.ssubscribe(name)
        assert ps.get_message(timeout=2) is not None
        assert rc.spublish(name, "x") == 1
        assert next_data(ps)["data"] == b"x"
        with pytest.raises(TypeError):
            ps.ssubscribe(1.5)
        ps.close()
