"""Random event sequences applied to an in-memory manager and a Redis-backed one: same
outcome for every event (same state or same error), and Redis stays self-consistent
(hash == history == indexes) after each step."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from _oms_support import check_order, oms_client_fixture  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import resp3
from tests.unit.trading._oms_cases import ACC, fill, make_order
from trading.core import Quantity
from trading.errors import OrderError
from trading.oms import (
    Accept,
    CancelAccept,
    CancelReject,
    CancelRequest,
    Event,
    Expire,
    OrderManager,
    Reject,
    ReplaceAccept,
    ReplaceReject,
    ReplaceRequest,
    Submit,
)
from trading.oms.store import RedisOrderStore

IDS = ["a", "b", "c"]
KINDS = (
    "accept", "reject", "fill", "fill", "fill", "fill", "cxl", "cxl_ok", "cxl_rej",
    "rpl", "rpl_ok", "rpl_rej", "expire", "again", "submit",
)  # fmt: skip
OPS = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, len(IDS) - 1),
    st.integers(1, 6),
    st.integers(0, 3),
)
#: Every order starts submitted, and most accepted, so random events mostly meet a
#: live order (the refusals are covered just as well).
PRELUDE = [("submit", i, 1, 0) for i in range(len(IDS))] + [
    ("accept", 0, 1, 0),
    ("accept", 1, 1, 0),
]


def to_event(op: str, cid: str, qty: int, n: int, k: int) -> Event:
    simple: dict[str, Callable[[], Event]] = {
        "accept": lambda: Accept(ACC, cid),
        "reject": lambda: Reject(ACC, cid, "no"),
        "cxl": lambda: CancelRequest(ACC, cid),
        "cxl_ok": lambda: CancelAccept(ACC, cid, exec_id=f"c{k}"),
        "cxl_rej": lambda: CancelReject(ACC, cid, "no"),
        "rpl": lambda: ReplaceRequest(ACC, cid, f"{cid}{k}", Quantity(qty + 4)),
        "rpl_ok": lambda: ReplaceAccept(ACC, cid),
        "rpl_rej": lambda: ReplaceReject(ACC, cid, "no"),
        "expire": lambda: Expire(ACC, cid),
        "submit": lambda: Submit(make_order(cid, 8)),
        "fill": lambda: fill(cid, f"e{k}", qty, f"100.0{n}"),
        "again": lambda: fill(cid, f"e{max(k - n - 1, 0)}", qty, f"100.0{n}"),
    }
    return simple[op]()


def outcome(manager: OrderManager, event: Event) -> object:
    try:
        change = manager.apply(event)
    except OrderError as exc:
        return type(exc)
    return (change.duplicate, change.after, change.replacement)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(OPS, min_size=1, max_size=30))
def test_redis_and_memory_agree(
    oms_client: resp3.Redis, ops: list[tuple[str, int, int, int]]
) -> None:
    prefix = f"omsp-{uuid.uuid4().hex[:10]}"
    store = RedisOrderStore(oms_client, prefix=prefix)
    memory, stored = OrderManager(clock=lambda: 9), OrderManager(store, clock=lambda: 9)
    # a chain of replacements renames an order: follow the newest id of each slot
    current = {cid: cid for cid in IDS}
    try:
        for k, (op, slot, qty, n) in enumerate(PRELUDE + ops):
            cid = current[IDS[slot]]
            event = to_event(op, cid, qty, n, k)
            expected = outcome(memory, event)
            assert outcome(stored, event) == expected, (k, event)
            if isinstance(expected, tuple) and expected[2] is not None:
                current[IDS[slot]] = expected[2].client_order_id
            for state_id in {cid, current[IDS[slot]]}:
                if memory.get(ACC, state_id) is not None:
                    assert check_order(store, ACC, state_id) == memory.get(ACC, state_id)
    finally:
        keys = list(oms_client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            oms_client.delete(*keys)
