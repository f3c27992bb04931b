"""The tick sum types: tagged JSON, immutability, and the flattened stream fields."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from trading.market_data.ticks import (
    BrownianMotion,
    FullDepth,
    GenerationStyle,
    RandomWalk,
    Simple,
    Tick,
    TickFormat,
    WithVolume,
    tick_fields,
)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (Simple(price=Decimal("1.50")), b'{"type":"simple","price":"1.50"}'),
        (
            WithVolume(price=Decimal("2"), volume=7),
            b'{"type":"with_volume","price":"2","volume":7}',
        ),
        (
            FullDepth(
                bid_price=Decimal("1"), ask_price=Decimal("1.01"), bid_volume=1, ask_volume=2
            ),
            b'{"type":"full_depth","bid_price":"1","ask_price":"1.01","bid_volume":1,'
            b'"ask_volume":2}',
        ),
    ],
)
def test_tick_formats_are_tagged_on_the_wire(value: TickFormat, encoded: bytes) -> None:
    assert msgspec.json.encode(value) == encoded
    assert msgspec.json.decode(encoded, type=TickFormat) == value


def test_generation_styles_are_tagged_and_strict() -> None:
    style = msgspec.json.decode(
        b'{"type":"random_walk","step_size":0.5,"volatility":1}', type=GenerationStyle
    )
    assert style == RandomWalk(step_size=0.5, volatility=1.0)
    with pytest.raises(msgspec.ValidationError, match="Object contains unknown field `x`"):
        msgspec.json.decode(
            b'{"type":"brownian_motion","drift":0,"volatility":1,"dt":1,"x":1}',
            type=GenerationStyle,
        )
    with pytest.raises(msgspec.ValidationError, match=r"Expected `float` > 0.0"):
        msgspec.json.decode(
            b'{"type":"brownian_motion","drift":0,"volatility":-1,"dt":1}', type=BrownianMotion
        )


def test_values_are_frozen_and_hashable() -> None:
    quote = Simple(price=Decimal(1))
    with pytest.raises(AttributeError):
        quote.price = Decimal(2)  # type: ignore[misc]
    tick = Tick("AAPL", 5, quote)
    assert hash(tick) == hash(Tick("AAPL", 5, Simple(price=Decimal("1"))))


def test_tick_fields_flatten_each_variant() -> None:
    depth = FullDepth(
        bid_price=Decimal("9.99"), ask_price=Decimal("10.01"), bid_volume=3, ask_volume=4
    )
    assert tick_fields(Tick("X", 1, depth)) == {
        "symbol": "X",
        "ts": "1",
        "type": "full_depth",
        "bid_price": "9.99",
        "ask_price": "10.01",
        "bid_volume": "3",
        "ask_volume": "4",
    }
    assert tick_fields(Tick("Y", 2, WithVolume(price=Decimal("1.0"), volume=9))) == {
        "symbol": "Y",
        "ts": "2",
        "type": "with_volume",
        "price": "1.0",
        "volume": "9",
    }
    assert tick_fields(Tick("Z", 3, Simple(price=Decimal("0.05"))))["price"] == "0.05"
