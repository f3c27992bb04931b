"""Price, Quantity and Money: exactness, refusal of floats, and the rounding policy."""

from __future__ import annotations

import pickle
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.core import (
    Instrument,
    Money,
    Price,
    Quantity,
    dec_hook,
    enc_hook,
    notional,
    quantize_ratio,
    to_decimal,
)
from trading.errors import InvalidValue, OffGridError

decimals = st.decimals(
    allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
)


def test_ten_fills_of_a_tenth_cost_exactly_the_total() -> None:
    total = Money.zero("USD")
    for _ in range(10):
        total = total + notional(Price("100.1"), Quantity("0.1"), "USD")
    assert total == Money("100.1", "USD")
    assert total.amount == Decimal("100.1")


@pytest.mark.parametrize("bad", [0.1, True, float("nan"), "NaN", "Infinity", "abc", None, [1]])
def test_constructors_refuse_inexact_or_non_numeric_input(bad: object) -> None:
    with pytest.raises(InvalidValue):
        Price(bad)  # type: ignore[arg-type]


def test_float_refusal_names_the_value_and_the_fix() -> None:
    with pytest.raises(InvalidValue, match=r"float 0\.1 refused.*str or Decimal"):
        Quantity(0.1)  # type: ignore[arg-type]


def test_values_are_immutable_and_picklable() -> None:
    price = Price("1.25")
    with pytest.raises(AttributeError):
        price.value = Decimal(2)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Money(1, "USD").amount = Decimal(3)  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(price)) == price
    assert pickle.loads(pickle.dumps(Money("2.5", "EUR"))) == Money("2.5", "EUR")


def test_types_do_not_mix() -> None:
    assert Price(1) != Quantity(1)
    with pytest.raises(TypeError):
        Price(1) + Quantity(1)  # type: ignore[operator]
    with pytest.raises(TypeError):
        assert Price(1) < Quantity(2)  # type: ignore[operator]
    with pytest.raises(InvalidValue, match="currency mismatch"):
        Money(1, "USD") + Money(1, "EUR")
    with pytest.raises(InvalidValue, match="3-letter"):
        Money(1, "usd")


def test_arithmetic_that_would_round_raises_instead() -> None:
    huge = Quantity("1" + "0" * 37)
    with pytest.raises(InvalidValue, match="not exact"):
        huge + Quantity("0.1")


@given(decimals, decimals)
def test_addition_and_subtraction_are_exact_inverses(a: Decimal, b: Decimal) -> None:
    assert (Price(a) + Price(b)) - Price(b) == Price(a)
    assert (Money(a, "USD") - Money(b, "USD")).amount == a - b
    negated = -Quantity(a)
    assert -negated == Quantity(a)
    assert abs(Quantity(a)).value == abs(a)


@given(decimals, decimals)
def test_ordering_matches_decimal(a: Decimal, b: Decimal) -> None:
    assert (Price(a) < Price(b)) == (a < b)
    assert (Quantity(a) >= Quantity(b)) == (a >= b)
    assert (Money(a, "USD") <= Money(b, "USD")) == (a <= b)
    assert (hash(Price(a)) == hash(Price(b))) or a != b


def test_quantize_ratio_policy() -> None:
    assert quantize_ratio(Decimal("1"), Decimal("3")) == Decimal("0.333333333333")
    assert quantize_ratio(Decimal("2"), Decimal("3")) == Decimal("0.666666666667")
    # half-even at the 12th place: ...5 rounds to the even neighbour
    assert quantize_ratio(Decimal("0.0000000000025"), Decimal(1)) == Decimal("0.000000000002")
    assert quantize_ratio(Decimal("100.1"), Decimal("1.0")) == Decimal("100.1")
    with pytest.raises(InvalidValue, match="by zero"):
        quantize_ratio(Decimal(1), Decimal(0))


def test_msgspec_hooks_round_trip() -> None:
    data = msgspec.json.encode(
        {"p": Price("100.10"), "q": Quantity("-3"), "m": Money("1.5", "JPY")}, enc_hook=enc_hook
    )
    assert data == b'{"p":"100.10","q":"-3","m":{"amount":"1.5","currency":"JPY"}}'

    class Holder(msgspec.Struct):
        p: Price
        q: Quantity
        m: Money

    back = msgspec.json.decode(data, type=Holder, dec_hook=dec_hook)
    assert (back.p, back.q, back.m) == (Price("100.10"), Quantity(-3), Money("1.5", "JPY"))
    with pytest.raises(msgspec.ValidationError, match=r"\$\.p"):
        msgspec.json.decode(
            b'{"p":"x","q":"1","m":{"amount":"1","currency":"USD"}}', type=Holder, dec_hook=dec_hook
        )


def test_to_decimal_keeps_the_written_digits() -> None:
    assert str(to_decimal("100.050")) == "100.050"
    assert to_decimal(7) == Decimal(7)


# --- instruments -------------------------------------------------------------------------

AAPL = Instrument("AAPL", Decimal("0.01"), Decimal("0.1"))


def test_instrument_grid_validation_names_value_and_grid() -> None:
    assert AAPL.validate_price(Price("100.05")) == Price("100.05")
    assert AAPL.validate_quantity(Quantity("2.3")) == Quantity("2.3")
    with pytest.raises(OffGridError, match=r"AAPL: price 100\.005 .* tick size 0\.01") as info:
        AAPL.validate_price(Price("100.005"))
    assert (info.value.value, info.value.grid, info.value.what) == (
        Decimal("100.005"),
        Decimal("0.01"),
        "price",
    )
    with pytest.raises(OffGridError, match=r"quantity 0\.15 .* lot size 0\.1"):
        AAPL.validate_quantity(Quantity("0.15"))
    with pytest.raises(InvalidValue, match="must be > 0"):
        AAPL.validate_price(Price(0))
    with pytest.raises(InvalidValue, match="must be > 0"):
        AAPL.validate_quantity(Quantity("-0.1"))


@given(st.integers(min_value=1, max_value=10**12))
def test_prices_built_from_ticks_are_on_the_grid(ticks: int) -> None:
    price = AAPL.price_from_ticks(ticks)
    assert AAPL.validate_price(price) is price
    assert AAPL.round_price(price) == price


def test_round_price_snaps_to_nearest_tick() -> None:
    assert AAPL.round_price(Decimal("100.004")) == Price("100.00")
    assert AAPL.round_price(Decimal("100.006")) == Price("100.01")
    assert AAPL.round_price(Decimal("100.005")) == Price("100.00")  # half-even


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"symbol": "", "tick_size": Decimal("0.01")}, "symbol"),
        ({"symbol": "A B", "tick_size": Decimal("0.01")}, "symbol"),
        ({"symbol": "X", "tick_size": Decimal(0)}, "tick_size must be > 0"),
        ({"symbol": "X", "tick_size": 0.01}, "float"),
        ({"symbol": "X", "tick_size": Decimal(1), "lot_size": Decimal(-1)}, "lot_size"),
        ({"symbol": "X", "tick_size": Decimal(1), "currency": "dollars"}, "currency"),
    ],
)
def test_instrument_refuses_bad_definitions(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        Instrument(**kwargs)  # type: ignore[arg-type]
