"""Fixtures of the market-data server tests: a flushed client on the session server,
a small config, and a clock the tests advance by hand (see ``_md_support``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _md_support import FakeClock, make_config

import resp3
from resp3.testing import RedisServer
from trading.market_data.config import MarketDataConfig


@pytest.fixture
def client(server: RedisServer) -> Iterator[resp3.Redis]:
    """A RESP3 client on the session server, db flushed before the test."""
    redis = resp3.Redis(host=server.host, port=server.port, socket_timeout=5.0)
    redis.flushdb()
    yield redis
    redis.close()


@pytest.fixture
def config() -> MarketDataConfig:
    return make_config()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
