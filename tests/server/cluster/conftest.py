"""Fixtures of the cluster tests: one session cluster (3 primaries, 3 replicas) for the
tests that leave it as they found it, and helpers for the destructive ones, which start
their own (``fresh_cluster``).

Every cluster is a :class:`resp3.testing_cluster.RedisClusterServer`: six throw-away
``redis-server``/``valkey-server`` processes on free ports with
``--cluster-node-timeout 1000``, stopped by PID at teardown; never the machine's 6379.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import resp3
from resp3.cluster import ClusterNode
from resp3.testing_cluster import RedisClusterServer


@pytest.fixture(scope="session")
def cluster() -> Iterator[RedisClusterServer]:
    with RedisClusterServer(primaries=3, replicas=1) as srv:
        yield srv


def startup(srv: RedisClusterServer) -> list[ClusterNode]:
    return [ClusterNode(host, port) for host, port in srv.startup_nodes]


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
def protocol(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def rc(cluster: RedisClusterServer) -> Iterator[resp3.RedisCluster]:
    """A RESP3 cluster client; every primary flushed before the test."""
    client = resp3.RedisCluster(startup_nodes=startup(cluster), socket_timeout=5.0)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def rcp(cluster: RedisClusterServer, protocol: int) -> Iterator[resp3.RedisCluster]:
    """A cluster client under RESP3 and RESP2; flushed before the test."""
    client = resp3.RedisCluster(
        startup_nodes=startup(cluster), protocol=protocol, socket_timeout=5.0
    )
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def fresh_cluster() -> Iterator[RedisClusterServer]:
    """A cluster of its own, for a test that kills or reshapes it."""
    with RedisClusterServer(primaries=3, replicas=1) as srv:
        yield srv
