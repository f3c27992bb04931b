"""OrderManager in memory: submit and checks, duplicates, fills, replace, expiry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.trading._oms_cases import AAPL, ACC, fill, make_order, path_to
from trading.core import Instrument, Order, Price, Quantity, TimeInForce
from trading.errors import InvalidTransition, OffGridError, OrderError
from trading.oms import (
    Accept,
    CancelAccept,
    DuplicateOrder,
    Expire,
    FillReport,
    OrderManager,
    OrderStatus,
    ReplaceAccept,
    ReplaceRequest,
    Submit,
    UnknownOrder,
)

S = OrderStatus


def working(cid: str = "c1", **kwargs: object) -> OrderManager:
    manager = OrderManager(clock=lambda: 5)
    manager.apply(Submit(make_order(cid, **kwargs)))  # type: ignore[arg-type]
    manager.apply(Accept(ACC, cid))
    return manager


def test_submit_runs_the_check_and_denies() -> None:
    calls: list[Order] = []

    def check(order: Order) -> str | None:
        calls.append(order)
        return "max order size 5" if order.quantity.value > 5 else None

    manager = OrderManager()
    denied = manager.submit(make_order("big", 10), check=check).after
    ok = manager.submit(make_order("small", 5), check=check).after
    assert (denied.status, denied.reason, denied.is_open) == (S.DENIED, "max order size 5", False)
    assert ok.status is S.PENDING_NEW and len(calls) == 2
    assert [o.client_order_id for o in manager.open_orders(ACC)] == ["small"]


def test_resubmission_is_idempotent_and_skips_the_check() -> None:
    calls: list[Order] = []

    def deny(order: Order) -> str:
        calls.append(order)
        return "no"

    manager = OrderManager()
    first = manager.submit(make_order("c1"), check=deny).after
    again = manager.submit(make_order("c1"), check=deny)
    assert again.duplicate and again.after == first and len(calls) == 1
    with pytest.raises(DuplicateOrder, match="acc/c1: client order id already used"):
        manager.submit(make_order("c1", 11))
    assert manager.get(ACC, "c1") == first


def test_same_id_in_another_account_is_another_order() -> None:
    manager = OrderManager()
    manager.submit(make_order("c1"))
    other = manager.submit(make_order("c1", account="acc2")).after
    assert other.status is S.PENDING_NEW and manager.book.accounts() == ["acc", "acc2"]


def test_fills_keep_cum_and_average_exact() -> None:
    manager = working(qty="3")
    prices = ["100.00", "100.01", "100.01"]
    for n, px in enumerate(prices):
        state = manager.apply(fill("c1", f"e{n}", 1, px)).after
    assert state.status is S.FILLED and state.cum_qty == Quantity(3)
    assert state.cum_notional == Decimal("300.02")
    assert state.avg_px == Price("100.006666666667")  # the one rounding policy
    assert state.leaves_qty == Quantity(0)


def test_over_fill_is_refused_and_changes_nothing() -> None:
    manager = working()
    manager.apply(fill("c1", "e1", 7))
    before = manager.get(ACC, "c1")
    with pytest.raises(OrderError, match=r"e2 of 4 would over-fill the order \(filled 7 of 10"):
        manager.apply(fill("c1", "e2", 4))
    assert manager.get(ACC, "c1") == before
    assert manager.book.exec_ids(ACC, "c1") == {"e1"}


def test_fill_off_the_grid_is_refused() -> None:
    lots = Instrument("ES", Decimal("0.25"), Decimal("2"))
    manager = OrderManager()
    manager.apply(Submit(make_order("c1", 10, "4000.25", instrument=lots)))
    with pytest.raises(OrderError, match=r"acc/c1: ES: price 4000\.10 is not a multiple") as info:
        manager.apply(FillReport(ACC, "c1", "e", Quantity(2), Price("4000.10")))
    assert isinstance(info.value.__cause__, OffGridError)
    with pytest.raises(OrderError, match="quantity 3 is not a multiple"):
        manager.apply(FillReport(ACC, "c1", "e", Quantity(3), Price("4000.25")))
    assert manager.get(ACC, "c1").version == 1  # type: ignore[union-attr]


def test_redelivered_exec_id_is_a_no_op_even_after_the_order_is_done() -> None:
    manager = working()
    first = manager.apply(fill("c1", "e1", 10)).after
    again = manager.apply(fill("c1", "e1", 10))
    assert again.duplicate and again.after == first
    manager2 = working()
    manager2.apply(CancelAccept(ACC, "c1", exec_id="x1"))
    assert manager2.apply(CancelAccept(ACC, "c1", exec_id="x1")).duplicate
    with pytest.raises(InvalidTransition):  # no exec id: a plain invalid transition
        manager2.apply(CancelAccept(ACC, "c1"))


def test_events_for_unknown_orders() -> None:
    with pytest.raises(UnknownOrder, match="acc/nope: no such order"):
        OrderManager().apply(fill("nope", "e", 1))


@pytest.mark.parametrize(
    ("qty", "px", "message"),
    [
        ("4", None, "new quantity 4 is not above the filled quantity 4"),
        ("3", None, "new quantity 3 is not above the filled quantity 4"),
        ("10", "100.00", "replace changes neither quantity nor limit price"),
        ("10.5", None, "quantity 10.5 is not a multiple of the lot size"),
        (None, "100.001", "price 100.001 is not a multiple of the tick size"),
    ],
)
def test_replace_request_refusals(qty: str | None, px: str | None, message: str) -> None:
    manager = working()
    manager.apply(fill("c1", "e1", 4))
    before = manager.get(ACC, "c1")
    request = ReplaceRequest(
        ACC, "c1", "c2", Quantity(qty) if qty else None, Price(px) if px else None
    )
    with pytest.raises(OrderError, match=message):
        manager.apply(request)
    assert manager.get(ACC, "c1") == before


def test_replace_request_validation() -> None:
    with pytest.raises(OrderError, match="must change the quantity or the limit price"):
        ReplaceRequest(ACC, "c1", "c2")
    with pytest.raises(OrderError, match="new, different client order id"):
        ReplaceRequest(ACC, "c1", "c1", Quantity(1))
    market = OrderManager()
    market.apply(Submit(make_order("m", px=None)))
    market.apply(Accept(ACC, "m"))
    with pytest.raises(OrderError, match="a market order has no limit price"):
        market.apply(ReplaceRequest(ACC, "m", "m2", limit_price=Price("1.00")))


def test_replace_to_a_taken_id_is_refused_at_request_and_at_accept() -> None:
    manager = working()
    manager.apply(Submit(make_order("taken")))
    with pytest.raises(DuplicateOrder, match="acc/taken"):
        manager.apply(ReplaceRequest(ACC, "c1", "taken", Quantity(20)))
    manager.apply(ReplaceRequest(ACC, "c1", "c2", Quantity(20)))
    manager.apply(Submit(make_order("c2")))  # someone took the id meanwhile
    with pytest.raises(DuplicateOrder, match="acc/c2"):
        manager.apply(ReplaceAccept(ACC, "c1"))
    assert manager.get(ACC, "c1").status is S.PENDING_REPLACE  # type: ignore[union-attr]


def test_replace_cannot_be_confirmed_below_fills_made_while_pending() -> None:
    manager = working()
    manager.apply(fill("c1", "e1", 4))
    manager.apply(ReplaceRequest(ACC, "c1", "c2", Quantity(6)))
    manager.apply(fill("c1", "e2", 2))
    with pytest.raises(OrderError, match="replace to 6 cannot be confirmed after fills reached 6"):
        manager.apply(ReplaceAccept(ACC, "c1"))


def test_replacement_keeps_the_chain_average() -> None:
    manager = working()
    manager.apply(fill("c1", "e1", 4, "100.00"))
    manager.apply(ReplaceRequest(ACC, "c1", "c2", Quantity(8), Price("101.00")))
    new = manager.apply(ReplaceAccept(ACC, "c1")).replacement
    assert new is not None and new.order.limit_price == Price("101.00")
    done = manager.apply(fill("c2", "e2", 4, "101.00")).after
    assert (done.status, done.avg_px) == (S.FILLED, Price("100.5"))


def test_expire_due_gtd_and_day() -> None:
    manager = OrderManager(clock=lambda: 1)
    orders = [
        make_order("gtd-past", tif=TimeInForce.GTD, expire_ns=100),
        make_order("gtd-future", tif=TimeInForce.GTD, expire_ns=10_000),
        make_order("day", tif=TimeInForce.DAY),
        make_order("gtc", tif=TimeInForce.GTC),
        make_order("pending", tif=TimeInForce.GTD, expire_ns=50),
    ]
    for order in orders:
        manager.apply(Submit(order))
        if order.client_order_id != "pending":
            manager.apply(Accept(ACC, order.client_order_id))
    expired = manager.expire_due(200)
    assert [c.after.client_order_id for c in expired] == ["gtd-past"]
    expired = manager.expire_due(300, session_end=True)
    assert [c.after.client_order_id for c in expired] == ["day"]
    assert {o.client_order_id for o in manager.open_orders(ACC)} == {"gtd-future", "gtc", "pending"}
    with pytest.raises(OrderError, match="a GTC order does not expire"):
        manager.apply(Expire(ACC, "gtc"))


def test_events_are_stamped_by_the_clock_unless_they_carry_a_time() -> None:
    manager = OrderManager(clock=lambda: 42)
    assert manager.apply(Submit(make_order())).after.created_ns == 42
    assert manager.apply(Accept(ACC, "c1", timestamp_ns=77)).after.updated_ns == 77


def test_apply_many_returns_errors_as_values() -> None:
    manager = OrderManager()
    results = manager.apply_many(
        [*path_to(OrderStatus.NEW), fill("c1", "e1", 11), fill("c1", "e1", 3), fill("c1", "e1", 3)]
    )
    assert isinstance(results[2], OrderError)
    assert not isinstance(results[3], OrderError) and results[3].after.cum_qty == Quantity(3)
    assert not isinstance(results[4], OrderError) and results[4].duplicate


def test_open_orders_by_symbol() -> None:
    msft = Instrument("MSFT", Decimal("0.01"))
    manager = OrderManager()
    manager.apply(Submit(make_order("a")))
    manager.apply(Submit(make_order("b", instrument=msft)))
    assert [o.client_order_id for o in manager.open_orders(ACC, "MSFT")] == ["b"]
    assert [o.client_order_id for o in manager.open_orders(ACC, "AAPL")] == ["a"]
    assert AAPL.symbol == "AAPL"
