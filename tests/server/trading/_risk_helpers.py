"""Shared pieces of the risk server tests: clients, configs, and the worker processes.

Plain functions only (fixtures live in each test module). Worker functions are at module
level so ``multiprocessing`` (spawn) can import them in a fresh interpreter; they build
their own client from a URL and return plain data. Imported as
``tests.server.trading._risk_helpers``.
"""

from __future__ import annotations

import copy
import json
import time
from decimal import Decimal
from typing import Any

import resp3
from resp3.testing import RedisServer
from trading.core import Instrument, Order, OrderType, Price, Quantity, Side
from trading.risk import KillSwitch, RedisLimits, RiskEngine, StaticMarks, parse_config
from trading.risk.checks import Request
from trading.risk.memory import MemoryLimits
from trading.risk.reasons import Denial, KillMode

__all__ = [
    "BASE_LIMITS",
    "MARKS",
    "RedisTwin",
    "flushed_client",
    "limits_json",
    "make_order",
    "submit_worker",
]

MARKS = {
    "AAPL": Decimal("100"),
    "MSFT": Decimal("50"),
    "TSLA": Decimal("200"),
    "IBM": Decimal("10"),
}

#: Generous defaults; each test tightens the one limit it is about.
BASE_LIMITS: dict[str, Any] = {
    "currency": "USD",
    "instruments": [
        {"symbol": symbol, "tick_size": "0.01"} for symbol in ("AAPL", "MSFT", "TSLA", "IBM")
    ],
    "defaults": {
        "account": {
            "max_gross_exposure": None,
            "max_open_orders": None,
            "max_orders_per_second": None,
        },
        "symbol": {
            "max_order_quantity": None,
            "max_order_notional": None,
            "max_long_position": None,
            "max_short_position": None,
            "price_collar_percent": 10,
        },
    },
}  # fmt: skip


def limits_json(account: dict[str, Any] | None = None, symbol: dict[str, Any] | None = None) -> str:
    """BASE_LIMITS with some default account and symbol limits replaced."""
    data = copy.deepcopy(BASE_LIMITS)
    data["defaults"]["account"].update(account or {})
    data["defaults"]["symbol"].update(symbol or {})
    return json.dumps(data)


def flushed_client(server: RedisServer, **options: Any) -> resp3.Redis:
    client = resp3.Redis(host=server.host, port=server.port, **options)
    client.flushdb()
    return client


def make_order(
    cid: str,
    symbol: str = "AAPL",
    side: Side = Side.BUY,
    qty: int | str = 10,
    px: str | None = "100.00",
    account: str = "acc",
) -> Order:
    kind = OrderType.LIMIT if px is not None else OrderType.MARKET
    return Order(
        cid,
        account,
        Instrument(symbol, Decimal("0.01")),
        side,
        kind,
        Quantity(qty),
        None if px is None else Price(px),
    )


def submit_worker(task: dict[str, Any]) -> dict[str, Any]:
    """One process of a concurrency test: wait for the shared start time, submit the
    task's orders one after another through a Redis-backed engine, report the outcome.

    ``task``: url, limits (JSON), start (time.time() to begin at), orders (a list of
    ``[cid, symbol, side, qty, px]``), account.
    """
    client = resp3.Redis.from_url(task["url"])
    engine = RiskEngine(parse_config(task["limits"]), RedisLimits(client), StaticMarks(MARKS))
    orders = [
        make_order(cid, symbol, Side(side), qty, px, task["account"])
        for cid, symbol, side, qty, px in task["orders"]
    ]
    client.ping()  # connect before the start line
    delay = task["start"] - time.time()
    if delay > 0:
        time.sleep(delay)
    accepted: list[str] = []
    denied: list[str] = []
    first = time.time()
    for order in orders:
        denial = engine.check(order)
        if denial is None:
            accepted.append(order.client_order_id)
        else:
            denied.append(denial.reason.value)
    last = time.time()
    client.close()
    return {"accepted": accepted, "denied": denied, "first": first, "last": last}


class RedisTwin:
    """RedisLimits and MemoryLimits driven in lockstep: every answer must be identical
    (denials compared whole, message included). Offers what ``_risk_model.run`` needs."""

    def __init__(self, client: resp3.Redis) -> None:
        # a window far longer than any test, so "recent" does not depend on timing
        self.redis = RedisLimits(client, window_ms=3_600_000)
        self.memory = MemoryLimits(window_ms=3_600_000)
        self.switch = KillSwitch(client)

    def reserve(self, req: Request) -> Denial | None:
        got = self.redis.reserve(req)
        assert got == self.memory.reserve(req)
        return got

    def fill(self, *args: Any) -> bool:
        got = self.redis.fill(*args)
        assert got == self.memory.fill(*args)
        return got

    def release(self, account: str, client_order_id: str) -> int:
        got = self.redis.release(account, client_order_id)
        assert got == self.memory.release(account, client_order_id)
        return got

    def set_kill(self, mode: KillMode, account: str | None = None) -> None:
        self.switch.set(mode, account)
        self.memory.set_kill(mode, account)

    def usage(self, account: str) -> Any:
        got = self.redis.usage(account)
        assert got == self.memory.usage(account)
        return got
