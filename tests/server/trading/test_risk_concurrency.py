"""Several processes submit at the edge of a limit at the same time: exactly as many
orders as the limit holds get through, never one more, for each shared limit.

Each scenario starts 4 worker processes (spawned: fresh interpreters with their own
connections) that wait for a common start time and then submit their orders as fast as
they can. Orders are sized so the limit does not fall on an order boundary by luck.
"""

from __future__ import annotations

import itertools
import multiprocessing
import time
from collections.abc import Iterator
from typing import Any

import pytest

import resp3
from resp3.testing import RedisServer
from tests.server.trading._risk_helpers import flushed_client, limits_json, submit_worker
from trading.risk import RedisLimits

WORKERS = 4


@pytest.fixture(scope="module")
def pool() -> Iterator[Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as workers:
        workers.map(abs, range(WORKERS))  # start the interpreters before the clock runs
        yield workers


@pytest.fixture
def client(server: RedisServer) -> Iterator[resp3.Redis]:
    redis = flushed_client(server)
    yield redis
    redis.close()


def race(pool: Any, server: RedisServer, limits: str, orders: list[list[list[Any]]]) -> list[Any]:
    """Run one list of orders per worker from a common start; returns their reports."""
    start = time.time() + 0.5
    tasks = [
        {"url": server.url, "limits": limits, "start": start, "orders": mine, "account": "acc"}
        for mine in orders
    ]
    reports: list[Any] = pool.map(submit_worker, tasks)
    return reports


def accepted(reports: list[Any]) -> list[str]:
    return [cid for report in reports for cid in report["accepted"]]


def denied(reports: list[Any]) -> set[str]:
    return {code for report in reports for code in report["denied"]}


def overlapped(reports: list[Any]) -> bool:
    """At least two workers were submitting during the same interval."""
    spans = sorted((r["first"], r["last"]) for r in reports)
    return any(b[0] < a[1] for a, b in itertools.pairwise(spans))


@pytest.mark.timeout(20)
def test_position_limit_holds_across_processes(
    pool: Any, server: RedisServer, client: resp3.Redis
) -> None:
    began = time.monotonic()
    limits = limits_json(symbol={"max_long_position": 100})
    orders = [
        [[f"w{w}-{i}", "AAPL", "buy", 7, "100.00"] for i in range(40)] for w in range(WORKERS)
    ]
    reports = race(pool, server, limits, orders)
    assert len(accepted(reports)) == 14  # 14 * 7 = 98 <= 100 < 105
    assert denied(reports) == {"max_long_position"}
    (row,) = RedisLimits(client).usage("acc").symbols
    assert (row.position, row.open_buy) == (0, 98)
    assert overlapped(reports)
    assert time.monotonic() - began < 20


@pytest.mark.timeout(20)
def test_open_orders_and_gross_exposure_hold_across_processes(
    pool: Any, server: RedisServer, client: resp3.Redis
) -> None:
    limits = limits_json({"max_open_orders": 9})
    orders = [
        [[f"w{w}-{i}", "MSFT", "sell", 1, "50.00"] for i in range(25)] for w in range(WORKERS)
    ]
    reports = race(pool, server, limits, orders)
    assert len(accepted(reports)) == 9
    assert denied(reports) == {"max_open_orders"}
    assert RedisLimits(client).usage("acc").open_orders == 9

    client.flushdb()
    # 1000 USD of gross exposure; each worker buys its own symbol, 3 lots at 100 = 300 USD
    limits = limits_json({"max_gross_exposure": 1000})
    symbols = ("AAPL", "MSFT", "TSLA", "IBM")
    prices = {"AAPL": "100.00", "MSFT": "50.00", "TSLA": "200.00", "IBM": "10.00"}
    qty = {"AAPL": 3, "MSFT": 6, "TSLA": 1, "IBM": 30}  # each order is 300 USD (TSLA 200)
    orders = [
        [[f"w{w}-{i}", sym, "buy", qty[sym], prices[sym]] for i in range(20)]
        for w, sym in enumerate(symbols)
    ]
    reports = race(pool, server, limits, orders)
    usage = RedisLimits(client).usage("acc")
    assert usage.gross <= 100_000  # 1000.00 USD in cents
    assert usage.gross > 100_000 - 30_000  # and no room left for one more 300 USD order
    assert denied(reports) == {"max_gross_exposure"}
    assert len(accepted(reports)) == len(set(accepted(reports)))


@pytest.mark.timeout(20)
def test_rate_and_duplicate_ids_hold_across_processes(
    pool: Any, server: RedisServer, client: resp3.Redis
) -> None:
    limits = limits_json({"max_orders_per_second": 25})
    # the same 30 client order IDs from every worker: each ID can win once, 25 in the window
    orders = [[[f"o{i}", "IBM", "buy", 1, "10.00"] for i in range(30)] for _ in range(WORKERS)]
    reports = race(pool, server, limits, orders)
    winners = accepted(reports)
    elapsed = max(r["last"] for r in reports) - min(r["first"] for r in reports)
    assert elapsed < 1.0  # all inside one rate window, so exactly 25 get through
    assert len(winners) == len(set(winners)) == 25
    assert denied(reports) == {"order_rate", "duplicate_client_order_id"}
