"""Closing a cluster client leaves no socket behind, even while a slot-map refresh it
started after a MOVED is still running on its background thread. A pool that refresh
opened after ``close()`` would belong to nobody: its sockets would be closed only by
the garbage collector, with a ``ResourceWarning`` (an error under this suite's
``filterwarnings``) in whichever test happened to be running then."""

from __future__ import annotations

import gc
import time
import warnings

from _cluster_helpers import tag_for_slot
from conftest import startup

import resp3
from resp3.cluster.base import MIN_REFRESH_INTERVAL
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
