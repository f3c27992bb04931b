"""The pure checks: each boundary exactly, each reason code, and properties that a check
never passes an order beyond its limit (and never refuses one within it)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.core import Instrument, Order, OrderType, Price, Quantity, Side
from trading.risk.checks import (
    Request,
    Snapshot,
    check_duplicate,
    check_grid,
    check_gross_exposure,
    check_instrument,
    check_kill_switch,
    check_open_orders,
    check_order_notional,
    check_order_quantity,
    check_position,
    check_price_collar,
    check_rate,
    evaluate,
    exposure_after,
    order_price,
    worst_position,
)
from trading.risk.config import MAX_EXACT, SymbolRules
from trading.risk.reasons import Denial, KillMode, OrderDenied, Reason, parse_reason

AAPL = Instrument("AAPL", Decimal("0.01"))
COARSE = Instrument("AAPL", Decimal("0.05"), Decimal(10))


def order(
    qty: int | str = 10,
    px: str | None = "100.00",
    side: Side = Side.BUY,
    *,
    kind: OrderType | None = None,
    stop: str | None = None,
    instrument: Instrument = AAPL,
) -> Order:
    kind = kind or (OrderType.LIMIT if px is not None else OrderType.MARKET)
    return Order(
        "c1",
        "acc",
        instrument,
        side,
        kind,
        Quantity(qty),
        None if px is None else Price(px),
        None if stop is None else Price(stop),
    )


def rules(instrument: Instrument = AAPL, tradable: bool = True) -> SymbolRules:
    return SymbolRules(instrument, tradable, None, None, None, None, None, -1, -1)


def reason(denial: Denial | None) -> Reason | None:
    return None if denial is None else denial.reason


# -- order checks ------------------------------------------------------------------------


def test_instrument_known_same_currency_and_tradable() -> None:
    assert check_instrument(order(), rules()) is None
    assert reason(check_instrument(order(), None)) is Reason.UNKNOWN_INSTRUMENT
    euro = Instrument("AAPL", Decimal("0.01"), currency="EUR")
    denial = check_instrument(order(instrument=euro), rules())
    assert denial == Denial(
        Reason.UNKNOWN_INSTRUMENT, "AAPL: order quoted in EUR, configured in USD"
    )
    assert reason(check_instrument(order(), rules(tradable=False))) is Reason.INSTRUMENT_HALTED


def test_grid_is_the_configured_one() -> None:
    assert check_grid(order(20, "100.05"), COARSE) is None
    assert check_grid(order(15, "100.05"), COARSE) == Denial(
        Reason.QUANTITY_OFF_LOT, "AAPL: quantity 15 is not a multiple of the lot size 10"
    )
    assert reason(check_grid(order(20, "100.01"), COARSE)) is Reason.PRICE_OFF_TICK
    stop = order(20, None, kind=OrderType.STOP, stop="100.02")
    assert check_grid(stop, COARSE) == Denial(
        Reason.PRICE_OFF_TICK, "AAPL: stop price 100.02 is not a multiple of the tick size 0.05"
    )


def test_order_quantity_boundary() -> None:
    assert check_order_quantity(order(100), Decimal(100)) is None
    assert check_order_quantity(order(101), Decimal(100)) == Denial(
        Reason.MAX_ORDER_QUANTITY, "AAPL: quantity 101 above the limit 100"
    )
    assert check_order_quantity(order(10**9), None) is None


def test_order_price_limit_then_stop_then_mark() -> None:
    assert order_price(order(px="99.00"), Decimal(1)) == Decimal("99.00")
    stop = order(px=None, kind=OrderType.STOP, stop="98.00")
    assert order_price(stop, Decimal(1)) == Decimal("98.00")
    assert order_price(order(px=None), Decimal("97.5")) == Decimal("97.5")
    assert order_price(order(px=None), None) is None


def test_order_notional_boundary_and_missing_price() -> None:
    o = order(10, "100.00")
    assert check_order_notional(o, Decimal("100.00"), Decimal(1000), "USD") is None
    assert check_order_notional(o, Decimal("100.01"), Decimal(1000), "USD") == Denial(
        Reason.MAX_ORDER_NOTIONAL, "AAPL: notional 1000.10 USD above the limit 1000 USD"
    )
    assert check_order_notional(o, None, None, "USD") is None
    missing = check_order_notional(order(px=None), None, Decimal(1), "USD")
    assert reason(missing) is Reason.NO_MARKET_PRICE


@pytest.mark.parametrize(
    ("px", "passes"),
    [("95.00", True), ("94.99", False), ("105.00", True), ("105.01", False), ("100.00", True)],
)
def test_price_collar_is_inclusive_and_exact(px: str, passes: bool) -> None:
    denial = check_price_collar(order(px=px), Decimal(100), Decimal(5))
    assert (denial is None) is passes
    if denial is not None:
        assert denial.reason is Reason.PRICE_COLLAR
        assert "outside the 5% collar [95, 105] around the market price 100" in denial.message


def test_price_collar_needs_a_mark_only_for_limit_prices() -> None:
    assert reason(check_price_collar(order(), None, Decimal(5))) is Reason.NO_MARKET_PRICE
    assert check_price_collar(order(px=None), None, Decimal(5)) is None  # market order
    stop = order(px=None, kind=OrderType.STOP, stop="50.00")
    assert check_price_collar(stop, Decimal(100), Decimal(5)) is None  # stops are away by design
    assert check_price_collar(order(px="1.00"), Decimal(100), None) is None


# -- limit checks ------------------------------------------------------------------------


def request(side: int = 1, lots: int = 10, **limits: Any) -> Request:
    return replace(Request("acc", "c1", "AAPL", side, lots, 10_000, unit=Decimal("0.01")), **limits)


def test_kill_switch_on_refuses_everything_and_reduce_only_lets_reductions_through() -> None:
    assert check_kill_switch(request(), Snapshot()) is None
    on = Snapshot(kill=KillMode.ON, kill_scope="account")
    assert check_kill_switch(request(), on) == Denial(
        Reason.KILL_SWITCH, "account kill switch is on"
    )
    long_50 = Snapshot(kill=KillMode.REDUCE_ONLY, position=50)
    assert check_kill_switch(request(-1, 50), long_50) is None
    assert reason(check_kill_switch(request(-1, 51), long_50)) is Reason.REDUCE_ONLY
    assert reason(check_kill_switch(request(1, 1), long_50)) is Reason.REDUCE_ONLY
    pending = replace(long_50, open_sell=30)
    denial = check_kill_switch(request(-1, 21), pending)
    assert denial is not None and denial.message == (
        "global kill switch is reduce-only: AAPL sell of 21 (with 30 already open) does not "
        "reduce the position 50"
    )
    short = Snapshot(kill=KillMode.REDUCE_ONLY, position=-5)
    assert check_kill_switch(request(1, 5), short) is None
    assert reason(check_kill_switch(request(1, 1), Snapshot(kill=KillMode.REDUCE_ONLY))) is (
        Reason.REDUCE_ONLY
    )


def test_duplicate_rate_and_open_orders() -> None:
    assert check_duplicate(request(), Snapshot()) is None
    assert reason(check_duplicate(request(), Snapshot(seen=True))) is (
        Reason.DUPLICATE_CLIENT_ORDER_ID
    )
    assert check_rate(request(max_rate=3), Snapshot(recent=2)) is None
    assert reason(check_rate(request(max_rate=3), Snapshot(recent=3))) is Reason.ORDER_RATE
    assert reason(check_rate(request(max_rate=0), Snapshot())) is Reason.ORDER_RATE
    assert check_rate(request(max_rate=-1), Snapshot(recent=10**6)) is None
    assert check_open_orders(request(max_open_orders=2), Snapshot(open_orders=1)) is None
    assert reason(check_open_orders(request(max_open_orders=2), Snapshot(open_orders=2))) is (
        Reason.MAX_OPEN_ORDERS
    )


def test_position_counts_open_orders_on_the_same_side_only() -> None:
    snap = Snapshot(position=40, open_buy=30, open_sell=1000)
    assert check_position(request(1, 30, max_long_lots=100), snap) is None
    denial = check_position(request(1, 31, max_long_lots=100), snap)
    assert denial == Denial(
        Reason.MAX_LONG_POSITION,
        "AAPL: long position could reach 101 (filled 40, open buys 30, this order 31), limit 100",
    )
    assert check_position(request(-1, 10**6, max_long_lots=0), snap) is None
    assert check_position(request(-1, 60, max_short_lots=0), Snapshot(position=60)) is None
    assert reason(check_position(request(-1, 61, max_short_lots=0), Snapshot(position=60))) is (
        Reason.MAX_SHORT_POSITION
    )


def test_gross_exposure_only_refuses_orders_that_raise_the_worst_position() -> None:
    snap = Snapshot(position=10, exposure=100_000, gross=100_000)  # 10 lots at 100.00
    assert exposure_after(request(1, 5), snap) == (10, 15, 150_000, 150_000)
    assert check_gross_exposure(request(1, 5, max_gross_units=150_000), snap) is None
    denial = check_gross_exposure(request(1, 6, max_gross_units=150_000), snap)
    assert denial == Denial(
        Reason.MAX_GROSS_EXPOSURE,
        "account acc: gross exposure would be 1600.00 USD, limit 1500.00 USD",
    )
    # a sell of 10 cannot raise the worst position (10 long, or 0): never refused
    assert check_gross_exposure(request(-1, 10, max_gross_units=0), snap) is None
    # 2**53 units cannot be counted exactly: refused even without a limit
    huge = Request("acc", "c1", "AAPL", 1, 1, MAX_EXACT)
    assert reason(check_gross_exposure(huge, Snapshot())) is Reason.MAX_GROSS_EXPOSURE


def test_evaluate_runs_in_script_order() -> None:
    """Everything fails at first; relaxing the first failing check reveals the next."""
    snap = Snapshot(kill=KillMode.ON, seen=True, recent=9, open_orders=9, position=9)
    req = request(max_rate=0, max_open_orders=0, max_long_lots=0, max_gross_units=0)
    steps: list[tuple[Reason, dict[str, object], dict[str, object]]] = [
        (Reason.KILL_SWITCH, {}, {"kill": KillMode.OFF}),
        (Reason.DUPLICATE_CLIENT_ORDER_ID, {}, {"seen": False}),
        (Reason.ORDER_RATE, {"max_rate": -1}, {}),
        (Reason.MAX_OPEN_ORDERS, {"max_open_orders": -1}, {}),
        (Reason.MAX_LONG_POSITION, {"max_long_lots": -1}, {}),
        (Reason.MAX_GROSS_EXPOSURE, {"max_gross_units": -1}, {}),
    ]
    for code, relax_request, relax_snapshot in steps:
        assert reason(evaluate(req, snap)) is code
        req = replace(req, **relax_request)  # type: ignore[arg-type]
        snap = replace(snap, **relax_snapshot)  # type: ignore[arg-type]
    assert evaluate(req, snap) is None


def test_denial_text_exception_and_parse() -> None:
    denial = Denial(Reason.ORDER_RATE, "account a: 5 orders in the last second")
    assert str(denial) == "order_rate: account a: 5 orders in the last second"
    assert parse_reason(str(denial)) is Reason.ORDER_RATE
    assert parse_reason("order_rate") is None
    assert parse_reason("bogus: text") is None
    error = denial.error()
    assert isinstance(error, OrderDenied)
    assert (error.code, error.message, error.reason) == (
        Reason.ORDER_RATE,
        denial.message,
        str(denial),
    )
    import pickle

    again = pickle.loads(pickle.dumps(error))
    assert again.denial == denial


# -- properties ----------------------------------------------------------------------------

lots = st.integers(0, 10**6)
limits = st.integers(-1, 10**6)


@settings(max_examples=300)
@given(qty=st.integers(1, 10**6), limit=st.integers(0, 10**6))
def test_order_quantity_never_passes_above_its_limit(qty: int, limit: int) -> None:
    denial = check_order_quantity(order(qty), Decimal(limit))
    assert (denial is None) == (qty <= limit)


@settings(max_examples=300)
@given(
    ticks=st.integers(1, 10**6),
    mark_ticks=st.integers(1, 10**6),
    percent=st.decimals(Decimal("0.01"), Decimal(100), places=2),
)
def test_collar_passes_exactly_the_prices_within_percent(
    ticks: int, mark_ticks: int, percent: Decimal
) -> None:
    price, mark = ticks * AAPL.tick_size, mark_ticks * AAPL.tick_size
    denial = check_price_collar(order(px=str(price)), mark, percent)
    assert (denial is None) == (abs(price - mark) / mark <= percent / 100)


@settings(max_examples=500)
@given(
    side=st.sampled_from([1, -1]),
    qty=st.integers(1, 10**6),
    pos=st.integers(-(10**6), 10**6),
    buy=lots,
    sell=lots,
    max_long=limits,
    max_short=limits,
)
def test_position_check_never_passes_beyond_a_limit(
    side: int, qty: int, pos: int, buy: int, sell: int, max_long: int, max_short: int
) -> None:
    req = request(side, qty, max_long_lots=max_long, max_short_lots=max_short)
    denial = check_position(req, Snapshot(position=pos, open_buy=buy, open_sell=sell))
    if side > 0:
        within = max_long < 0 or pos + buy + qty <= max_long
    else:
        within = max_short < 0 or sell + qty - pos <= max_short
    assert (denial is None) == within


@settings(max_examples=500)
@given(
    side=st.sampled_from([1, -1]),
    qty=st.integers(1, 10**4),
    pos=st.integers(-(10**4), 10**4),
    buy=st.integers(0, 10**4),
    sell=st.integers(0, 10**4),
    px=st.integers(1, 10**6),
    other=st.integers(0, 10**9),
    max_gross=limits,
)
def test_gross_check_never_passes_a_raise_above_the_limit(
    side: int, qty: int, pos: int, buy: int, sell: int, px: int, other: int, max_gross: int
) -> None:
    exposure = worst_position(pos, buy, sell) * px
    snap = Snapshot(position=pos, open_buy=buy, open_sell=sell, exposure=exposure)
    snap = replace(snap, gross=exposure + other)
    req = replace(request(side, qty, max_gross_units=max_gross), price_units=px)
    denial = check_gross_exposure(req, snap)
    old_worst, new_worst, _, gross = exposure_after(req, snap)
    assert gross == other + new_worst * px
    if denial is None:
        assert max_gross < 0 or new_worst <= old_worst or gross <= max_gross
    else:
        assert new_worst > old_worst and 0 <= max_gross < gross


@settings(max_examples=500)
@given(
    side=st.sampled_from([1, -1]),
    qty=st.integers(1, 100),
    pos=st.integers(-100, 100),
    buy=st.integers(0, 100),
    sell=st.integers(0, 100),
)
def test_reduce_only_never_lets_a_position_grow_or_flip(
    side: int, qty: int, pos: int, buy: int, sell: int
) -> None:
    snap = Snapshot(kill=KillMode.REDUCE_ONLY, position=pos, open_buy=buy, open_sell=sell)
    if check_kill_switch(request(side, qty), snap) is None:
        pending = (buy if side > 0 else sell) + qty
        after = pos + side * pending  # every open order on the order's side filled
        assert abs(after) < abs(pos)
        assert after == 0 or (after > 0) == (pos > 0)
