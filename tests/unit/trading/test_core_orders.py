"""Order validation, fills, average price and positions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.core import (
    Fill,
    Instrument,
    Money,
    Order,
    OrderType,
    Position,
    Price,
    Quantity,
    Side,
    TimeInForce,
    average_price,
)
from trading.errors import InvalidValue, OrderError

AAPL = Instrument("AAPL", Decimal("0.01"), Decimal("0.1"))
MSFT = Instrument("MSFT", Decimal("0.01"))


def order(**overrides: object) -> Order:
    fields: dict[str, object] = {
        "client_order_id": "c1",
        "account": "acc",
        "instrument": AAPL,
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": Quantity("1.5"),
        "limit_price": Price("100.05"),
    }
    fields.update(overrides)
    return Order(**fields)  # type: ignore[arg-type]


def fill(side: Side, qty: str, price: str, n: int = 0, instrument: Instrument = AAPL) -> Fill:
    return Fill(f"e{n}", "c1", instrument, side, Quantity(qty), Price(price), timestamp_ns=n)


def test_valid_orders_of_every_type() -> None:
    assert order().symbol == "AAPL"
    assert order(order_type=OrderType.MARKET, limit_price=None).limit_price is None
    stop = order(order_type=OrderType.STOP, limit_price=None, stop_price=Price("99"))
    assert stop.stop_price == Price(99)
    both = order(order_type=OrderType.STOP_LIMIT, stop_price=Price("99.5"))
    assert (both.limit_price, both.stop_price) == (Price("100.05"), Price("99.5"))
    gtd = order(time_in_force=TimeInForce.GTD, expire_time_ns=1_700_000_000_000_000_000)
    assert gtd.expire_time_ns == 1_700_000_000_000_000_000


def test_orders_are_immutable_and_hashable() -> None:
    first = order()
    with pytest.raises(AttributeError):
        first.quantity = Quantity(2)  # type: ignore[misc]
    assert hash(first) == hash(order())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"limit_price": None}, "a limit order needs a limit_price"),
        ({"order_type": OrderType.MARKET}, "must not have a limit_price"),
        ({"order_type": OrderType.STOP}, "needs a stop_price"),
        ({"order_type": OrderType.STOP_LIMIT}, "stop_limit order needs a stop_price"),
        ({"stop_price": Price(1)}, "limit order must not have a stop_price"),
        ({"time_in_force": TimeInForce.GTD}, "GTD order needs expire_time_ns"),
        ({"time_in_force": TimeInForce.GTD, "expire_time_ns": -5}, "positive int"),
        ({"expire_time_ns": 5}, "only allowed with GTD, not DAY"),
        (
            {"order_type": OrderType.MARKET, "limit_price": None, "time_in_force": TimeInForce.GTC},
            "cannot rest",
        ),
        ({"quantity": Quantity("0.15")}, r"quantity 0\.15 is not a multiple of the lot size"),
        ({"quantity": Quantity(0)}, "quantity must be > 0"),
        ({"limit_price": Price("100.001")}, "tick size 0.01"),
        ({"client_order_id": " "}, "client_order_id must be a non-empty string"),
        ({"account": ""}, "account must be a non-empty string"),
        ({"side": "buy"}, "side must be a Side"),
        ({"quantity": Decimal(1)}, "quantity must be a Quantity"),
    ],
)
def test_invalid_combinations_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(OrderError, match=message):
        order(**overrides)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(OrderError) as info:
        order(limit_price=None, quantity=Quantity("0.15"), time_in_force=TimeInForce.GTD)
    assert len(info.value.problems) == 3, info.value.problems


def test_fill_validation_and_notional() -> None:
    one = fill(Side.SELL, "0.3", "100.10")
    assert one.notional == Money("30.03", "USD")
    assert one.signed_quantity == Quantity("-0.3")
    with pytest.raises(InvalidValue, match="lot size"):
        fill(Side.BUY, "0.05", "100")
    with pytest.raises(InvalidValue, match="tick size"):
        fill(Side.BUY, "1", "100.001")


def test_ten_fills_of_a_tenth_at_100_1() -> None:
    fills = [fill(Side.BUY, "0.1", "100.1", n) for n in range(10)]
    total = Money.zero("USD")
    for each in fills:
        total = total + each.notional
    assert total.amount == Decimal("100.1")
    assert average_price(fills) == Price("100.1")
    position = Position.flat(AAPL).apply_all(fills)
    assert position.quantity == Quantity(1)
    assert position.cost == Money("100.1", "USD")
    assert position.average_price == Price("100.1")


def test_average_price_rounds_half_even_to_twelve_places() -> None:
    fills = [fill(Side.BUY, "0.1", "100.00", 1), fill(Side.BUY, "0.2", "100.01", 2)]
    # (10.000 + 20.002) / 0.3 = 100.00666...
    assert average_price(fills) == Price("100.006666666667")
    with pytest.raises(InvalidValue, match="no fills"):
        average_price([])
    with pytest.raises(InvalidValue, match="mixed instruments"):
        average_price([fill(Side.BUY, "1", "1"), fill(Side.BUY, "1", "1", 2, MSFT)])


def test_position_round_trip_long_short_and_flip() -> None:
    position = Position.flat(AAPL).apply(fill(Side.BUY, "10", "100"))
    position = position.apply(fill(Side.SELL, "4", "110", 1))
    assert position.quantity == Quantity(6)
    assert position.realized_pnl == Money(40, "USD")
    assert position.average_price == Price(100)
    # sell 10 while long 6: close 6 at 90 (-60), open short 4 at 90
    position = position.apply(fill(Side.SELL, "10", "90", 2))
    assert position.quantity == Quantity(-4)
    assert position.realized_pnl == Money(-20, "USD")
    assert position.cost == Money(-360, "USD")
    assert position.average_price == Price(90)
    assert position.unrealized_pnl(Price(80)) == Money(40, "USD")
    position = position.apply(fill(Side.BUY, "4", "85", 3))
    assert position.is_flat and position.average_price is None
    assert position.cost == Money(0, "USD")
    assert position.realized_pnl == Money(0, "USD")


def test_partial_close_with_unrepresentable_average_keeps_cost_conserved() -> None:
    # cost 100.01 over 3 lots: the closed third of the cost is rounded, the rest is exact
    position = Position.flat(MSFT).apply_all(
        [fill(Side.BUY, "1", "33.33", 0, MSFT), fill(Side.BUY, "2", "33.34", 1, MSFT)]
    )
    partial = position.apply(fill(Side.SELL, "1", "33.34", 2, MSFT))
    assert partial.cost + (partial.realized_pnl - Money("33.34", "USD")) * -1 == position.cost
    closed = partial.apply(fill(Side.SELL, "2", "33.34", 3, MSFT))
    assert closed.is_flat and closed.cost == Money(0, "USD")
    assert closed.realized_pnl == Money("0.01", "USD")  # 3 * 33.34 - 100.01 exactly


def test_position_refuses_other_instruments() -> None:
    with pytest.raises(InvalidValue, match="got a fill in MSFT"):
        Position.flat(AAPL).apply(fill(Side.BUY, "1", "1", 0, MSFT))


fills_strategy = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(min_value=1, max_value=500),  # lots of 0.1
        st.integers(min_value=1, max_value=100_000),  # ticks of 0.01
    ),
    max_size=40,
)


@given(fills_strategy, st.integers(min_value=1, max_value=100_000))
def test_pnl_identity_holds_exactly_for_any_fill_sequence(
    trades: list[tuple[Side, int, int]], mark_ticks: int
) -> None:
    """realized + unrealized(mark) == mark * net qty - sum of signed notionals, exactly,
    whatever rounding happened on partial closes."""
    position = Position.flat(AAPL)
    cash = Money.zero("USD")
    net = Quantity(0)
    for n, (side, lots, ticks) in enumerate(trades):
        each = Fill(
            f"e{n}", "c", AAPL, side, Quantity(Decimal(lots) / 10), AAPL.price_from_ticks(ticks)
        )
        position = position.apply(each)
        cash = cash - each.notional if side is Side.BUY else cash + each.notional
        net = net + each.signed_quantity
    mark = AAPL.price_from_ticks(mark_ticks)
    assert position.quantity == net
    assert position.realized_pnl + position.unrealized_pnl(mark) == cash + AAPL.notional(mark, net)
    if net.is_zero():
        assert position.cost == Money(0, "USD")
        assert position.realized_pnl == cash
