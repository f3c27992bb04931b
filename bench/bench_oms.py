"""OMS: submit -> pre-trade check -> accept, in process and persisted in Redis.

Run from the repository root: ``.venv/bin/python bench/bench_oms.py``.

Every contender takes the same pre-built limit orders (building an ``Order``, which
validates it against its instrument, is the caller's cost and is reported apart) through
the same flow: run a dummy pre-trade check (returns None), submit (``pending_new``),
then accept (``new``). Persisted contenders store the same hash fields, history
entries and index sets, computed by the same Python code; they differ only in how they
talk to Redis:

* ``in process``: ``OrderManager()`` with no store: ``submit(order, check=...)`` then
  ``apply(Accept(...))``; wall and CPU time per order (the machine may be shared);
* ``resp3 + Lua, per order``: ``OrderManager(RedisOrderStore(resp3.Redis))``, the same
  two calls, each change one EVALSHA of the store's script: 2 round trips per order;
* ``resp3 + Lua, batches``: ``apply_many`` over ``--batch`` orders' submits then
  accepts: one pipeline of EVALSHAs per round, 2 round trips per batch;
* ``redis-py + Lua, per order``: the same store and manager driven by ``redis.Redis``
  (hiredis): the driver's share of the cost;
* ``redis-py naive``: the flow written step by step, one round trip per command,
  without a script: EXISTS, HSET, XADD, 3 x SADD for the submit, HGETALL (read and
  validate), HSET, XADD for the accept: 9 round trips per order, and no atomicity.

Samples are taken round-robin (``--repeats``) and the median is reported; the database
is flushed between samples, untimed. The client is pinned to core 0 and the server to
core 1 (``bench/_harness.py``). Every sample must leave ``--orders`` orders in ``new``,
or the run stops.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from _harness import environment, fmt_rate, fmt_ratio, markdown_table, median, pin_client
from _harness import start_server as start_pinned_server

import resp3
from trading.core import Instrument, Order, OrderType, Price, Quantity, Side
from trading.oms import Accept, Event, OrderManager, OrderStatus, Submit
from trading.oms.manager import plan
from trading.oms.store import (
    OrderKeys,
    RedisOrderStore,
    decode_state,
    encode_changes,
    encode_state,
    history_fields,
)

TARGET_US = 20.0
TARGET_RATIO = 3.0
AAPL = Instrument("AAPL", Decimal("0.01"))
ACCOUNT = "bench"

Flow = Callable[[list[Order]], None]


def make_orders(count: int) -> list[Order]:
    return [
        Order(f"o{i}", ACCOUNT, AAPL, Side.BUY, OrderType.LIMIT, Quantity(10), Price("100.00"))
        for i in range(count)
    ]


def check(order: Order) -> str | None:
    return None


def in_process(orders: list[Order]) -> tuple[float, float]:
    """Seconds of wall and CPU time for the whole flow over ``orders``, no store."""
    manager = OrderManager()
    submit, apply = manager.submit, manager.apply
    wall, cpu = time.perf_counter(), time.process_time()
    for order in orders:
        submit(order, check=check)
        apply(Accept(ACCOUNT, order.client_order_id))
    return time.perf_counter() - wall, time.process_time() - cpu


def managed(client: Any) -> Flow:
    def flow(orders: list[Order]) -> None:
        manager = OrderManager(RedisOrderStore(client, prefix="bench"))
        for order in orders:
            manager.submit(order, check=check)
            manager.apply(Accept(ACCOUNT, order.client_order_id))

    return flow


def batched(client: resp3.Redis, batch: int) -> Flow:
    def flow(orders: list[Order]) -> None:
        manager = OrderManager(RedisOrderStore(client, prefix="bench"))
        for start in range(0, len(orders), batch):
            chunk = orders[start : start + batch]
            events: list[Event] = [Submit(o) for o in chunk if check(o) is None]
            events += [Accept(ACCOUNT, o.client_order_id) for o in chunk]
            for result in manager.apply_many(events):
                if isinstance(result, Exception):
                    raise result

    return flow


def naive(client: Any) -> Flow:
    """One command per round trip, validating in Python between them (not atomic). The
    hash fields and history entries are the store's, computed by the same functions."""
    keys = OrderKeys("bench")

    def flow(orders: list[Order]) -> None:
        for order in orders:
            if check(order) is not None:
                continue
            cid = order.client_order_id
            okey, history = keys.order(ACCOUNT, cid), keys.events(ACCOUNT, cid)
            if client.exists(okey):
                raise RuntimeError(f"{cid} exists")
            created = plan(Submit(order), None, (), _taken, time.time_ns())
            fields = encode_state(created.after, static=True)
            client.hset(okey, mapping=_pairs(["v", "1", *fields]))
            client.xadd(history, _pairs(["v", "1", *history_fields(created, created.after)]))
            client.sadd(keys.open(ACCOUNT), cid)
            client.sadd(keys.open(ACCOUNT, order.symbol), cid)
            client.sadd(keys.orders(ACCOUNT), cid)
            current = decode_state(client.hgetall(okey))
            accepted = plan(Accept(ACCOUNT, cid), current, (), _taken, time.time_ns())
            version = str(accepted.after.version)
            fields = encode_changes(current, accepted.after)
            client.hset(okey, mapping=_pairs(["v", version, *fields]))
            entry = history_fields(accepted, accepted.after)
            client.xadd(history, _pairs(["v", version, *entry]))

    return flow


def _taken(key: tuple[str, str]) -> bool:
    return False


def _pairs(flat: Sequence[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def verify(client: resp3.Redis, count: int) -> None:
    keys = OrderKeys("bench")
    for i in (0, count // 2, count - 1):
        state = decode_state(client.hgetall(keys.order(ACCOUNT, f"o{i}")))
        if state.status is not OrderStatus.NEW or client.xlen(keys.events(ACCOUNT, f"o{i}")) != 2:
            raise RuntimeError(f"o{i} is {state.status.value}, not new with 2 history entries")
    if client.scard(keys.open(ACCOUNT)) != count:
        raise RuntimeError("open index incomplete")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=50_000, help="orders per in-process sample")
    parser.add_argument("--persisted", type=int, default=2_000, help="orders per Redis sample")
    parser.add_argument("--batch", type=int, default=100, help="orders per apply_many")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import redis
    from redis.utils import HIREDIS_AVAILABLE

    if not HIREDIS_AVAILABLE:
        print("redis-py does not see hiredis; install it to compare fairly", file=sys.stderr)
        return 1
    placement = pin_client()
    build = time.perf_counter()
    orders = make_orders(args.orders)
    build_us = (time.perf_counter() - build) / args.orders * 1e6
    walls, cpus = [], []
    for _ in range(args.repeats):
        wall, cpu = in_process(orders)
        walls.append(wall / args.orders * 1e6)
        cpus.append(cpu / args.orders * 1e6)

    server, server_placement = start_pinned_server()
    try:
        fast = resp3.Redis(host=server.host, port=server.port)
        slow = redis.Redis(host=server.host, port=server.port)
        contenders: dict[str, Flow] = {
            "resp3 + Lua, per order": managed(fast),
            f"resp3 + Lua, batches of {args.batch}": batched(fast, args.batch),
            "redis-py + Lua, per order": managed(slow),
            "redis-py naive, per step": naive(slow),
        }
        persisted = orders[: args.persisted]
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.repeats):
            for name, flow in contenders.items():
                fast.flushdb()
                start = time.perf_counter()
                flow(persisted)
                samples[name].append(len(persisted) / (time.perf_counter() - start))
                verify(fast, len(persisted))
        env = environment(server, f"{placement}, {server_placement}", ["redis", "hiredis"])
        fast.close()
        slow.close()
    finally:
        server.close()

    wall_us, cpu_us = median(walls), median(cpus)
    print(env)
    print()
    print(f"In process, {args.orders} orders, median of {args.repeats}:")
    print()
    print(
        markdown_table(
            ["flow", "orders/s (wall)", "µs/order (wall)", "µs/order (CPU)", "target"],
            [
                [
                    "submit -> check -> accept",
                    fmt_rate(1e6 / wall_us),
                    f"{wall_us:.1f}",
                    f"{cpu_us:.1f}",
                    f"< {TARGET_US:g} µs {'met' if wall_us < TARGET_US else 'MISSED'} (wall)",
                ],
                ["Order(...) construction (not in the flow)", "", f"{build_us:.1f}", "", ""],
            ],
        )
    )
    print()
    print(f"Persisted, {args.persisted} orders per sample, median of {args.repeats}:")
    print()
    rates = {name: median(values) for name, values in samples.items()}
    base = rates["redis-py naive, per step"]
    rows = [
        [
            name,
            fmt_rate(rate),
            f"{1e6 / rate:.0f}",
            fmt_ratio(rate, base, TARGET_RATIO if name.startswith("resp3") else None),
        ]
        for name, rate in rates.items()
    ]
    print(markdown_table(["flow", "orders/s", "µs/order", "vs redis-py naive"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
