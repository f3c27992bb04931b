"""Closing a cluster client leaves no socket behind, even while a slot-map refresh it
started after a MOVED is still running on its background thread. A pool that refresh
opened after ``close()`` would belong to nobody: its sockets would be closed only by
the garbage collector, with a ``ResourceWarning`` (an error under this suite's
``filterwarnings``) in whichever test happened to be running then."""

from __future__ import annotations

import asyncio
import gc
import time
import warnings

import pytest
from _async_helpers import run
from _cluster_helpers import tag_for_slot
from conftest import startup

import resp3
import resp3.asyncio
from resp3._reader import encode_command
from resp3.cluster.base import MIN_REFRESH_INTERVAL
from resp3.commands._base import Command
from resp3.testing_cluster import RedisClusterServer

SLOT = 4242


def test_close_during_background_refresh_leaks_no_socket(cluster: RedisClusterServer) -> None:
    cluster.wait_healthy()
    rc = resp3.RedisCluster(startup_nodes=startup(cluster), socket_timeout=5.0)
    owner = rc.topology.primary_for(SLOT)
    assert owner is not None
    wrong = next(n for n in rc.get_primaries() if n != owner)
    rc.topology.moved(SLOT, wrong.host, wrong.port)  # a stale map: the next GET is MOVED
    time.sleep(MIN_REFRESH_INTERVAL * 1.5)  # past the rate limit: MOVED starts a refresh
    key = tag_for_slot(SLOT)
    with rc._refresh_lock:  # hold the background refresh until the client is closed
        assert rc.get(f"{key}close-test") is None
        thread = rc._background
        assert thread is not None and thread.is_alive(), "MOVED started no background refresh"
        rc.close()
    thread.join(10)
    assert not thread.is_alive()
    assert rc._pools == {}, f"pools opened after close(): {sorted(rc._pools)}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del rc, thread
        gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == [], [str(w.message) for w in leaks]


def test_client_reopens_after_close(cluster: RedisClusterServer) -> None:
    """close() is not final: a command sent afterwards opens new pools (as in redis-py)."""
    with resp3.RedisCluster(startup_nodes=startup(cluster), socket_timeout=5.0) as rc:
        rc.set("{reopen}k", "v")
        rc.close()
        assert rc.get("{reopen}k") == b"v"
        assert rc._pools, "no pool was reopened"
        rc.delete("{reopen}k")


def test_asyncio_close_closes_retiring_node(cluster: RedisClusterServer) -> None:
    """A node that left the slot map keeps its connection until its replies are in
    (``retire``); closing the client meanwhile must still close that connection."""
    key = tag_for_slot(SLOT) + "blocked"

    async def main() -> None:
        rc = await resp3.asyncio.RedisCluster(
            startup_nodes=startup(cluster), socket_timeout=5.0
        ).initialize()
        try:
            real = rc.get_node_from_key(key)
            assert real is not None
            # The same server under a name no slot map lists: the refresh retires it.
            alias = rc.topology.node("localhost", real.port)
            mux = await rc.node_connections(alias).connect()
            blocked = mux.execute(encode_command(b"BLPOP", key, b"5"), Command((b"BLPOP",)))
            await rc.refresh_topology()
            assert rc._retiring, "the refresh retired no node"
            await asyncio.sleep(0.1)  # retire() is now waiting for the BLPOP reply
            assert mux.in_flight == 1
        finally:
            await rc.aclose()
        assert not mux.is_connected, "aclose() left a retiring node's connection open"
        with pytest.raises(ConnectionError):
            await blocked

    run(main())
