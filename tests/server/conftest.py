"""Server fixtures: one throw-away server per session, clients flushed per test.

The server is started by ``resp3.testing.RedisServer`` on a free 127.0.0.1 port (never
6379) and stopped by PID at the end of the session.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import resp3
from resp3.testing import RedisServer


@pytest.fixture(scope="session")
def server() -> Iterator[RedisServer]:
    with RedisServer() as srv:
        yield srv


@pytest.fixture(params=[3, 2], ids=["resp3", "resp2"])
def protocol(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def r(server: RedisServer, protocol: int) -> Iterator[resp3.Redis]:
    """A resp3 client on db 0 of the session server, flushed before the test."""
    client = resp3.Redis(host=server.host, port=server.port, protocol=protocol)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def r3(server: RedisServer) -> Iterator[resp3.Redis]:
    """A RESP3-only resp3 client, flushed before the test."""
    client = resp3.Redis(host=server.host, port=server.port, protocol=3)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def redispy(server: RedisServer, protocol: int) -> Iterator[object]:
    """redis-py on the same server and protocol, to compare replies value for value."""
    import redis

    client = redis.Redis(host=server.host, port=server.port, protocol=protocol)
    yield client
    client.close()
