"""Market-data sum types: tick formats, generation styles, and the generated ``Tick``.

Every type is a frozen, tagged ``msgspec.Struct`` (``tag_field="type"``), so the same
classes serve three purposes: the configuration schema, the values the generator
emits, and the JSON on the wire. A union such as :data:`TickFormat` is closed: code
that handles one uses ``match`` and ends with :func:`assert_never`, so adding a variant
makes ``mypy --strict`` point at every place that must learn about it.

Money-like fields (prices) are ``Decimal``: the configured ``100.05`` stays exactly
100.05. Model parameters (drift, volatility, dt, step size) are ``float``: they only
feed floating-point simulation. Range checks live in :mod:`trading.market_data.config`
(``msgspec.Meta`` constraints for the float and int fields, explicit checks for the
Decimal ones, which msgspec cannot constrain).
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Annotated, NoReturn

import msgspec

__all__ = [
    "BrownianMotion",
    "FullDepth",
    "GenerationStyle",
    "RandomWalk",
    "Simple",
    "Tick",
    "TickFormat",
    "WithVolume",
    "assert_never",
    "tick_fields",
]

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - exercised on 3.10 only

    def assert_never(value: NoReturn, /) -> NoReturn:
        """Static exhaustiveness check for ``match`` (``typing.assert_never`` from 3.11)."""
        raise AssertionError(f"unhandled variant: {value!r}")


Positive = Annotated[float, msgspec.Meta(gt=0)]
#: A configured size: positive, and small enough for numpy's Poisson sampler.
Volume = Annotated[int, msgspec.Meta(gt=0, le=10**12)]


class _Variant(msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True):
    """Shared options: immutable, tagged by a ``type`` key, unknown keys refused."""


# -- tick formats: what one tick carries ------------------------------------------------


class Simple(_Variant, frozen=True, tag="simple"):
    """A last price only."""

    price: Decimal


class WithVolume(_Variant, frozen=True, tag="with_volume"):
    """A last price and the volume traded at it."""

    price: Decimal
    volume: Volume


class FullDepth(_Variant, frozen=True, tag="full_depth"):
    """Top of book: best bid and ask with their sizes. Generated quotes keep
    ``bid_price < ask_price`` by at least one tick."""

    bid_price: Decimal
    ask_price: Decimal
    bid_volume: Volume
    ask_volume: Volume


TickFormat = Simple | WithVolume | FullDepth


# -- generation styles: how prices move -------------------------------------------------


class RandomWalk(_Variant, frozen=True, tag="random_walk"):
    """Arithmetic Gaussian walk: each step adds ``step_size * volatility * Z``,
    ``Z ~ N(0, 1)``. ``step_size`` is a price distance (e.g. 0.05), ``volatility`` the
    standard deviation of one step counted in step sizes. Mean increment 0, standard
    deviation ``step_size * volatility``; see ``generators`` for how prices stay positive."""

    step_size: Positive
    volatility: Positive


class BrownianMotion(_Variant, frozen=True, tag="brownian_motion"):
    """Geometric Brownian motion: ``S' = S * exp((drift - volatility**2 / 2) * dt +
    volatility * sqrt(dt) * Z)``. ``drift`` and ``volatility`` are per unit of time,
    ``dt`` the step in those units. Prices stay positive by construction."""

    drift: float
    volatility: Positive
    dt: Positive


GenerationStyle = RandomWalk | BrownianMotion


# -- generated ticks ---------------------------------------------------------------------


class Tick(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One generated market-data event.

    ``quote`` has the configured format's type (a :class:`FullDepth` config yields
    ``FullDepth`` quotes); its prices are ``Decimal`` on the tick grid. Encoded with
    ``msgspec.json.encode`` it reads
    ``{"symbol":"AAPL","timestamp_ns":...,"quote":{"type":"simple","price":"100.05"}}``.
    """

    symbol: str
    timestamp_ns: int
    quote: TickFormat


def tick_fields(tick: Tick) -> dict[str, str]:
    """Flatten a tick into string fields (e.g. for a Redis stream entry):
    ``symbol``, ``ts`` (ns), ``type`` and the quote's fields, prices as exact decimals."""
    fields = {"symbol": tick.symbol, "ts": str(tick.timestamp_ns)}
    quote = tick.quote
    match quote:
        case Simple(price=price):
            fields.update(type="simple", price=str(price))
        case WithVolume(price=price, volume=volume):
            fields.update(type="with_volume", price=str(price), volume=str(volume))
        case FullDepth():
            fields.update(
                type="full_depth",
                bid_price=str(quote.bid_price),
                ask_price=str(quote.ask_price),
                bid_volume=str(quote.bid_volume),
                ask_volume=str(quote.ask_volume),
            )
        case _:
            assert_never(quote)
    return fields
