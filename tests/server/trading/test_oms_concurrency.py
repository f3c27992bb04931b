"""Several processes on one order book, and a process killed mid-stream.

Both tests use spawned child processes with their own managers on the session server.
Each is bounded (child joins time out) and takes a few seconds, mostly interpreter
start-up.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from decimal import Decimal

from _oms_support import (  # noqa: F401  (fixtures)
    check_order,
    fill_exec_ids,
    fill_forever,
    hammer,
    oms_client_fixture,
    store_fixture,
)

from resp3.testing import RedisServer
from tests.unit.trading._oms_cases import ACC, fill, make_order
from trading.core import Quantity
from trading.oms import Accept, OrderManager, OrderStatus
from trading.oms.store import RedisOrderStore

SPAWN = multiprocessing.get_context("spawn")


def open_orders(store: RedisOrderStore, cids: list[str], qty: int) -> None:
    manager = OrderManager(store)
    for cid in cids:
        manager.submit(make_order(cid, qty))
        manager.apply(Accept(ACC, cid))


def test_two_processes_fill_the_same_orders(server: RedisServer, store: RedisOrderStore) -> None:
    cids = [f"h{i}" for i in range(4)]
    open_orders(store, cids, 150)
    start, out = SPAWN.Barrier(2), SPAWN.Queue()
    args = (server.host, server.port, store.keys.prefix, cids, 40)
    children = [SPAWN.Process(target=hammer, args=(*args, tag, start, out)) for tag in "AB"]
    for child in children:
        child.start()
    reports = dict(out.get(timeout=60) for _ in children)
    for child in children:
        child.join(timeout=20)
        assert child.exitcode == 0
    (applied_a, start_a, end_a, lost_a), (applied_b, start_b, end_b, lost_b) = (
        reports["A"],
        reports["B"],
    )
    assert start_a < end_b and start_b < end_a, "the processes did not run at the same time"
    a, b = set(applied_a), set(applied_b)
    assert not a & b, "the same exec id was applied by both processes"
    assert len(a) == len(applied_a) and len(b) == len(applied_b)
    total_fills = 0
    for cid in cids:
        state = check_order(store, ACC, cid)
        history = fill_exec_ids(store, ACC, cid)
        assert set(history) == {e for e in a | b if e.split("-")[1] == cid}
        assert state.version == 2 + len(history)
        assert state.status is OrderStatus.FILLED  # enough fills were offered for each
        total_fills += len(history)
    assert total_fills == len(a) + len(b)
    assert lost_a + lost_b > 0, "no write ever lost a race: the test did not contend"


def test_killed_process_leaves_no_half_applied_fill(
    server: RedisServer, store: RedisOrderStore
) -> None:
    cids = [f"k{i}" for i in range(3)]
    open_orders(store, cids, 100_000)
    args = (server.host, server.port, store.keys.prefix, cids)
    child = SPAWN.Process(target=fill_forever, args=args)
    child.start()
    events = [store.keys.events(ACC, cid) for cid in cids]
    deadline = time.monotonic() + 15
    try:
        while sum(store.client.xlen(key) for key in events) < 300:
            assert time.monotonic() < deadline, "child made no progress"
            assert child.is_alive(), f"child died: exit code {child.exitcode}"
            time.sleep(0.01)
    finally:
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        child.join(timeout=10)
    assert child.exitcode == -signal.SIGKILL
    applied = {}
    for cid in cids:
        state = check_order(store, ACC, cid)
        ids = fill_exec_ids(store, ACC, cid)
        applied[cid] = {int(e.rsplit("-", 1)[1]) for e in ids}
        assert state.cum_qty.value == Decimal(len(ids))
    # every order got fills 0..n-1 (each batch goes order by order), at most one short
    top = max(max(ns) for ns in applied.values())
    for ns in applied.values():
        assert ns == set(range(len(ns))) and len(ns) >= top

    # a new manager recovers, and the venue re-delivers everything from the start
    manager = OrderManager(store)
    assert manager.recover([ACC]) == len(cids)
    upto = top + 5
    duplicates = 0
    for n in range(upto + 1):
        for cid in cids:
            duplicates += manager.apply(fill(cid, f"k-{cid}-{n}", 1)).duplicate
    assert duplicates == sum(len(ns) for ns in applied.values())
    for cid in cids:
        state = check_order(store, ACC, cid)
        assert state.cum_qty == Quantity(upto + 1)
        assert manager.get(ACC, cid) == state
