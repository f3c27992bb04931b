"""Instruments: what can be traded, and the price and quantity grids it trades on.

An exchange only accepts prices that are whole multiples of the tick size and
quantities that are whole multiples of the lot size. Checking this before an order
leaves the process turns a remote reject into a local, precise error
(:class:`~trading.errors.OffGridError` naming value, grid and symbol).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from trading.core.values import Money, Price, Quantity, notional, to_decimal
from trading.errors import InvalidValue, OffGridError

__all__ = ["Instrument", "on_grid"]

_SYMBOL = re.compile(r"\S+")
_CURRENCY = re.compile(r"[A-Z]{3}")


def on_grid(value: Decimal, grid: Decimal) -> bool:
    """True when ``value`` is an exact whole multiple of ``grid`` (``grid`` > 0)."""
    try:
        return value.remainder_near(grid) == 0
    except InvalidOperation:  # quotient too large for the context: certainly not a sane grid point
        return False


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable symbol with its tick size, lot size and quote currency.

    Construction validates every field and raises :class:`InvalidValue` for an empty
    or blank symbol, a non-positive (or float) tick or lot size, or a currency that is
    not a 3-letter upper-case code. Tick and lot sizes are kept as ``Decimal``.
    """

    symbol: str
    tick_size: Decimal
    lot_size: Decimal = Decimal(1)
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not _SYMBOL.fullmatch(self.symbol):
            raise InvalidValue(f"Instrument: symbol {self.symbol!r} must be non-empty, no spaces")
        for name in ("tick_size", "lot_size"):
            size = to_decimal(getattr(self, name), f"{self.symbol} {name}")
            if size <= 0:
                raise InvalidValue(f"{self.symbol}: {name} must be > 0, got {size}")
            object.__setattr__(self, name, size)
        if not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency):
            raise InvalidValue(
                f"{self.symbol}: currency {self.currency!r} is not a 3-letter upper-case code"
            )

    def validate_price(self, price: Price) -> Price:
        """Return ``price`` if it is positive and on the tick grid.

        Raises :class:`OffGridError` (e.g. ``AAPL: price 100.005 is not a multiple of the
        tick size 0.01``) or :class:`InvalidValue` for a non-positive price.
        """
        if not isinstance(price, Price):
            raise InvalidValue(f"{self.symbol}: expected a Price, got {type(price).__name__}")
        if price.value <= 0:
            raise InvalidValue(f"{self.symbol}: price must be > 0, got {price.value}")
        if not on_grid(price.value, self.tick_size):
            raise OffGridError("price", price.value, self.tick_size, self.symbol)
        return price

    def validate_quantity(self, quantity: Quantity) -> Quantity:
        """Return ``quantity`` if it is positive and a whole number of lots.

        Raises :class:`OffGridError` or :class:`InvalidValue` (non-positive).
        """
        if not isinstance(quantity, Quantity):
            raise InvalidValue(f"{self.symbol}: expected a Quantity, got {type(quantity).__name__}")
        if quantity.value <= 0:
            raise InvalidValue(f"{self.symbol}: quantity must be > 0, got {quantity.value}")
        if not on_grid(quantity.value, self.lot_size):
            raise OffGridError("quantity", quantity.value, self.lot_size, self.symbol)
        return quantity

    def round_price(self, value: Decimal | Price, rounding: str = ROUND_HALF_EVEN) -> Price:
        """Snap ``value`` to the nearest tick (``rounding`` is a ``decimal`` mode)."""
        raw = value.value if isinstance(value, Price) else to_decimal(value, "price")
        ticks = (raw / self.tick_size).to_integral_value(rounding=rounding)
        return self.price_from_ticks(int(ticks))

    def price_from_ticks(self, ticks: int) -> Price:
        """The price ``ticks * tick_size``, exactly (used to turn generated tick counts
        into prices)."""
        return Price(Decimal(ticks) * self.tick_size)

    def notional(self, price: Price, quantity: Quantity) -> Money:
        """``price * quantity`` in the instrument's currency, exactly."""
        return notional(price, quantity, self.currency)
