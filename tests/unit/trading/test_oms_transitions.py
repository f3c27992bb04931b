"""Every (status, event kind) pair of the transition table, in memory.

An allowed event moves the order to the table's target; anything else raises
InvalidTransition and leaves the book exactly as it was.
"""

from __future__ import annotations

import pytest

from tests.unit.trading._oms_cases import (
    ACC,
    PAIRS,
    E,
    S,
    event_of,
    expected,
    fill,
    make_order,
    pair_id,
    path_to,
)
from trading.core import Quantity
from trading.errors import InvalidTransition
from trading.oms import (
    DuplicateOrder,
    EventKind,
    OrderManager,
    OrderStatus,
    Submit,
    UnknownOrder,
)


def manager_at(status: OrderStatus | None, *, filled: bool = True) -> OrderManager:
    manager = OrderManager(clock=lambda: 1_000)
    for event in path_to(status, filled=filled):
        manager.apply(event)
    state = manager.get(ACC, "c1")
    assert (state.status if state else None) is status
    return manager


def snapshot(manager: OrderManager) -> tuple[object, ...]:
    book = manager.book
    return (
        manager.get(ACC, "c1"),
        book.exec_ids(ACC, "c1"),
        tuple(manager.open_orders(ACC)),
        tuple(manager.open_orders(ACC, "AAPL")),
        len(book),
    )


@pytest.mark.parametrize(("status", "kind"), PAIRS, ids=[pair_id(s, k) for s, k in PAIRS])
def test_every_pair(status: OrderStatus | None, kind: EventKind) -> None:
    manager = manager_at(status)
    before = manager.get(ACC, "c1")
    event = event_of(kind, before)
    target = expected(status, kind, before)
    if target is None:
        frozen = snapshot(manager)
        with pytest.raises(InvalidTransition) as info:
            manager.apply(event)
        assert snapshot(manager) == frozen
        if status is None:
            assert isinstance(info.value, UnknownOrder)
        elif kind in (E.SUBMIT, E.DENY):
            assert isinstance(info.value, DuplicateOrder)
        assert "acc/c1" in str(info.value)
        return
    change = manager.apply(event)
    assert change.after.status is target
    assert manager.get(ACC, "c1") == change.after
    assert change.after.version == (before.version + 1 if before else 1)
    open_ids = {o.client_order_id for o in manager.open_orders(ACC)}
    assert change.after.is_open == ("c1" in open_ids)


@pytest.mark.parametrize("pending", [S.PENDING_CANCEL, S.PENDING_REPLACE])
@pytest.mark.parametrize("filled", [False, True])
def test_rejected_request_returns_to_working(pending: OrderStatus, filled: bool) -> None:
    manager = manager_at(pending, filled=filled)
    kind = E.CANCEL_REJECT if pending is S.PENDING_CANCEL else E.REPLACE_REJECT
    change = manager.apply(event_of(kind, manager.get(ACC, "c1")))
    assert change.after.status is (S.PARTIALLY_FILLED if filled else S.NEW)
    assert change.after.pending is None


def test_replace_accept_creates_the_replacement() -> None:
    manager = manager_at(S.PENDING_REPLACE)
    change = manager.apply(event_of(E.REPLACE_ACCEPT, manager.get(ACC, "c1")))
    old, new = change.after, change.replacement
    assert new is not None
    assert (old.status, old.replaced_by, old.leaves_qty) == (S.REPLACED, "c1-r", Quantity(0))
    assert (new.status, new.replaces, new.version) == (S.PARTIALLY_FILLED, "c1", 1)
    expected = (Quantity(20), Quantity(4), Quantity(16))
    assert (new.order.quantity, new.cum_qty, new.leaves_qty) == expected
    assert new.order.limit_price == old.order.limit_price
    assert [o.client_order_id for o in manager.open_orders(ACC)] == ["c1-r"]


def test_replacement_of_an_unfilled_order_is_new() -> None:
    manager = manager_at(S.PENDING_REPLACE, filled=False)
    change = manager.apply(event_of(E.REPLACE_ACCEPT, manager.get(ACC, "c1")))
    assert change.replacement is not None and change.replacement.status is S.NEW


def test_fill_in_pending_cancel_keeps_pending_until_complete() -> None:
    manager = manager_at(S.PENDING_CANCEL)
    assert manager.apply(fill("c1", "p1", 2)).after.status is S.PENDING_CANCEL
    done = manager.apply(fill("c1", "p2", 4))
    after = done.after
    assert (after.status, after.cum_qty, after.leaves_qty) == (S.FILLED, Quantity(10), Quantity(0))


def test_identical_resubmission_is_a_retry_in_every_status() -> None:
    for status in OrderStatus:
        manager = manager_at(status)
        state = manager.get(ACC, "c1")
        change = manager.apply(Submit(make_order("c1")))
        assert change.duplicate and change.after == state
        assert manager.get(ACC, "c1") == state
