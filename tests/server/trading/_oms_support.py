"""OMS server-test support: a store under a fresh key prefix, the invariant checker,
and the worker functions run in child processes (spawned, so they live here, in an
importable module, rather than in a test file).

Fixtures (import them by their function names; pytest knows them as ``oms_client``
and ``store``). Each test gets its own prefix (``omst-<hex>``), so tests never see each other's keys
and nothing needs flushing; the keys are deleted afterwards.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import resp3
from resp3.testing import RedisServer
from tests.unit.trading._oms_cases import ACC, fill
from trading.errors import OrderError
from trading.oms import Change, OrderManager, OrderState, WriteResult
from trading.oms.store import RedisOrderStore, decode_state


@pytest.fixture(name="oms_client")
def oms_client_fixture(server: RedisServer) -> Iterator[resp3.Redis]:
    client = resp3.Redis(host=server.host, port=server.port, socket_timeout=10.0)
    yield client
    client.close()


@pytest.fixture(name="store")
def store_fixture(oms_client: resp3.Redis) -> Iterator[RedisOrderStore]:
    """A store under a prefix no other test uses; its keys are removed afterwards."""
    prefix = f"omst-{uuid.uuid4().hex[:10]}"
    yield RedisOrderStore(oms_client, prefix=prefix)
    keys = list(oms_client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        oms_client.delete(*keys)


def check_order(store: RedisOrderStore, account: str, cid: str) -> OrderState:
    """Assert that the stored order agrees with its history and indexes; return it.

    * the hash decodes, and its version equals the history length (entries v = 1..n);
    * the last history entry names the hash's status;
    * cum qty == carried-over qty (a replacement's birth entry) + the fills in history;
    * each exec id appears once in the history, and the exec-id set is exactly those;
    * the open indexes contain the order exactly when it is open.
    """
    client, keys = store.client, store.keys
    state = decode_state(client.hgetall(keys.order(account, cid)))
    history = store.history(account, cid)
    assert [int(e["v"]) for e in history] == list(range(1, state.version + 1)), cid
    assert history[-1]["status"] == state.status.value, cid
    carried = Decimal(history[0].get("cum", "0")) if history[0]["kind"] == "replace_accept" else 0
    fills = [e for e in history if e["kind"].startswith("fill_")]
    assert state.cum_qty.value == carried + sum(Decimal(e["qty"]) for e in fills), cid
    assert state.cum_qty.value <= state.order.quantity.value, cid
    exec_ids = [e["exec"] for e in history if "exec" in e]
    assert len(exec_ids) == len(set(exec_ids)), f"{cid}: an exec id was applied twice"
    members = client.smembers(keys.execs(account, cid))
    stored = {e.decode() if isinstance(e, bytes) else e for e in members}
    assert stored == set(exec_ids), cid
    assert bool(client.sismember(keys.open(account), cid)) == state.is_open, cid
    assert bool(client.sismember(keys.open(account, state.symbol), cid)) == state.is_open, cid
    return state


def fill_exec_ids(store: RedisOrderStore, account: str, cid: str) -> list[str]:
    return [e["exec"] for e in store.history(account, cid) if e["kind"].startswith("fill_")]


class CountingStore(RedisOrderStore):
    """Counts the writes the script refused because the order had moved on."""

    conflicts = 0

    def write(self, change: Change) -> WriteResult:
        result = super().write(change)
        self.conflicts += result.outcome == "conflict"
        return result


def _manager(host: str, port: int, prefix: str) -> tuple[OrderManager, CountingStore]:
    client = resp3.Redis(host=host, port=port, socket_timeout=10.0)
    store = CountingStore(client, prefix=prefix)
    manager = OrderManager(store)
    manager.recover([ACC])
    return manager, store


def hammer(
    host: str, port: int, prefix: str, cids: list[str], rounds: int, tag: str, start: Any, out: Any
) -> None:
    """Child process: apply fills to ``cids``, each round one shared fill (same exec id
    and quantity in every process, as a venue re-delivering) and one of its own.
    Reports the exec ids this process actually applied (not duplicates), when it ran
    (monotonic clock, system-wide on Linux) and how many writes lost a race."""
    manager, counting = _manager(host, port, prefix)
    shared, own = random.Random(1234), random.Random(tag)
    applied: list[str] = []
    start.wait(30)
    began = time.monotonic()
    for k in range(rounds):
        for cid in cids:
            events = [fill(cid, f"s-{cid}-{k}", shared.randint(1, 3))]
            events.append(fill(cid, f"{tag}-{cid}-{k}", own.randint(1, 3)))
            for event in events:
                try:
                    change = manager.apply(event)
                except OrderError:
                    continue  # over-fill or order already filled
                if not change.duplicate:
                    applied.append(event.exec_id)
    out.put((tag, (applied, began, time.monotonic(), counting.conflicts)))


def fill_forever(host: str, port: int, prefix: str, cids: list[str]) -> None:
    """Child process: fill ``cids`` one lot at a time, exec ids ``k-<cid>-<n>``, until
    killed; alternates single writes and pipelined batches."""
    manager, _ = _manager(host, port, prefix)
    n = 0
    while True:
        batch = [fill(cid, f"k-{cid}-{n}", 1) for cid in cids]
        if n % 2:
            manager.apply_many(batch)
        else:
            for event in batch:
                manager.apply(event)
        n += 1
