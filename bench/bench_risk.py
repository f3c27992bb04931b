"""Pre-trade risk: cost of one order through each part of the check path.

Run from the repository root: ``.venv/bin/python bench/bench_risk.py``.

Rows (each a median over ``--repeats`` samples of ``--orders`` distinct pre-built orders,
in microseconds per order; building the ``Order`` objects is not timed):

* ``order checks``: ``RiskEngine.check_order`` on a limit order with every order
  check configured (instrument, grid, max quantity, max notional, 5 % price collar
  against a ``StaticMarks`` price). This is the in-process path every order takes;
* ``order checks, market order``: the same for a market order (valued at the mark);
* ``+ MemoryLimits``: ``RiskEngine.check`` with the in-process limits backend, every
  shared limit configured (kill switch, duplicate ID, rate, open orders, position,
  gross exposure): the full decision and reservation without I/O;
* ``+ RedisLimits``: ``RiskEngine.check`` with the Lua script on a local throw-away
  server (client pinned to core 0, server to core 1): one EVALSHA round trip per
  order (TCP on 127.0.0.1). The limits are set so every order is accepted, so each
  sample reserves ``--orders // 4`` orders; the database is flushed between samples.

Nothing is pinned by default: on a loaded 2-core machine, pinning client and server to
one core each made every round trip wait for the scheduler (ping 250 us instead of
12 us). ``--pin`` pins them as the client benchmarks do.

Every sample must accept every order, or the run stops.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from decimal import Decimal

from _harness import environment, markdown_table, median, pin_client, start_server

import resp3
from resp3.testing import RedisServer
from trading.core import Instrument, Order, OrderType, Price, Quantity, Side
from trading.risk import MemoryLimits, RedisLimits, RiskEngine, StaticMarks, parse_config

LIMITS = {
    "currency": "USD",
    "instruments": [{"symbol": "AAPL", "tick_size": "0.01"}],
    "defaults": {
        "account": {
            "max_gross_exposure": 10**12,
            "max_open_orders": 10**7,
            "max_orders_per_second": 10**7,
        },
        "symbol": {
            "max_order_quantity": 1000,
            "max_order_notional": 1000000,
            "max_long_position": 10**9,
            "max_short_position": 10**9,
            "price_collar_percent": 5,
        },
    },
}
AAPL = Instrument("AAPL", Decimal("0.01"))


def orders(count: int, sample: int, market: bool = False) -> list[Order]:
    kind = OrderType.MARKET if market else OrderType.LIMIT
    return [
        Order(
            f"s{sample}-{i}",
            "acc",
            AAPL,
            Side.BUY if i % 2 else Side.SELL,
            kind,
            Quantity(1 + i % 100),
            None if market else Price(f"{99 + (i % 200) / 100:.2f}"),
        )
        for i in range(count)
    ]


def per_order(check: Callable[[Order], object], batch: list[Order]) -> float:
    """Microseconds per order for ``check`` over ``batch``; every order must pass."""
    start = time.perf_counter()
    results = [check(order) for order in batch]
    elapsed = time.perf_counter() - start
    refused = [r for r in results if r is not None]
    if refused:
        sys.exit(f"bench_risk: {len(refused)} orders refused, first: {refused[0]}")
    return elapsed / len(batch) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--pin", action="store_true", help="client on core 0, server on core 1 (bench/_harness.py)"
    )
    args = parser.parse_args()
    placement = pin_client() if args.pin else "not pinned"
    config = parse_config(json.dumps(LIMITS))
    marks = StaticMarks({"AAPL": Decimal("100")})
    if args.pin:
        server, server_placement = start_server()
    else:
        server, server_placement = RedisServer(unix_socket=False).start(), "server not pinned"
    try:
        client = resp3.Redis(host=server.host, port=server.port)
        samples: dict[str, list[float]] = {}
        for sample in range(args.repeats):
            local = RiskEngine(config, MemoryLimits(), marks)
            limit_batch = orders(args.orders, sample)
            market_batch = orders(args.orders, sample, market=True)
            rows = {
                "order checks (limit order)": (local.check_order, limit_batch),
                "order checks (market order)": (local.check_order, market_batch),
                "+ MemoryLimits reservation": (local.check, limit_batch),
            }
            for name, (check, batch) in rows.items():
                samples.setdefault(name, []).append(per_order(check, batch))
            client.flushdb()
            remote = RiskEngine(config, RedisLimits(client), marks)
            remote_batch = orders(args.orders // 4, sample)
            samples.setdefault("+ RedisLimits reservation (1 EVALSHA)", []).append(
                per_order(remote.check, remote_batch)
            )
        print(environment(server, f"{placement}, {server_placement}", ["hiredis"]))
        print()
        table = [
            [name, f"{median(values):.2f}", f"{1e6 / median(values):,.0f}"]
            for name, values in samples.items()
        ]
        print(markdown_table(["path", "us/order", "orders/s"], table))
        client.close()
    finally:
        server.close()


if __name__ == "__main__":
    main()
