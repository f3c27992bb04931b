"""Orders, fills and positions as immutable values.

An :class:`Order` here is what a client asked for, nothing more: it has no status.
Building one checks every field against the instrument and the order type and
raises :class:`~trading.errors.OrderError` listing *all* problems (a limit order
without a price, a GTD order without an expiry, a quantity off the lot grid...).
The order state machine lives elsewhere and wraps these values.

A :class:`Position` is rebuilt from fills with exact arithmetic. It keeps the signed
open quantity and the exact signed *cost* of that quantity; the average price is
derived from them. Only when a position is partly reduced does the cost of the closed
part need a division, rounded by :func:`~trading.core.values.quantize_ratio`; the
remaining cost is what is left after subtracting it, so rounding never leaks: closing
a position completely always realises exactly what was paid.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from trading.core.instruments import Instrument
from trading.core.values import (
    EXACT,
    Money,
    Price,
    Quantity,
    exact,
    quantize_ratio,
)
from trading.errors import InvalidValue, OrderError

__all__ = [
    "Fill",
    "Order",
    "OrderType",
    "Position",
    "Side",
    "TimeInForce",
    "average_price",
]


class Side(str, enum.Enum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy (adds to a position), -1 for a sell."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(str, enum.Enum):
    """Which prices an order carries: market none, limit a limit price, stop a stop
    (trigger) price, stop-limit both."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"

    @property
    def needs_limit_price(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT)

    @property
    def needs_stop_price(self) -> bool:
        return self in (OrderType.STOP, OrderType.STOP_LIMIT)


class TimeInForce(str, enum.Enum):
    """DAY until the session ends, GTC until cancelled, IOC fill what you can now,
    FOK fill everything now or nothing, GTD until ``expire_time_ns``."""

    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    GTD = "gtd"


_FIELD_TYPES: tuple[tuple[str, type], ...] = (
    ("instrument", Instrument),
    ("side", Side),
    ("order_type", OrderType),
    ("quantity", Quantity),
    ("time_in_force", TimeInForce),
)


@dataclass(frozen=True, slots=True)
class Order:
    """A client's order request: immutable, validated on construction.

    Rules enforced (all violations reported together in one :class:`OrderError`):

    * ``client_order_id`` and ``account`` are non-empty strings;
    * ``quantity`` is positive and a whole number of lots;
    * ``limit_price`` is present exactly for LIMIT and STOP_LIMIT, ``stop_price``
      exactly for STOP and STOP_LIMIT; present prices are positive and on the tick grid;
    * ``expire_time_ns`` is present exactly when ``time_in_force`` is GTD;
    * a MARKET order cannot rest on the book, so it refuses GTC and GTD.
    """

    client_order_id: str
    account: str
    instrument: Instrument
    side: Side
    order_type: OrderType
    quantity: Quantity
    limit_price: Price | None = None
    stop_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    expire_time_ns: int | None = None

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            ident = self.client_order_id or "<no id>"
            raise OrderError(f"invalid order {ident}: " + "; ".join(problems), problems)

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    def _problems(self) -> Iterable[str]:
        for name in ("client_order_id", "account"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                yield f"{name} must be a non-empty string, got {value!r}"
        wrong_types = False
        for name, expected in _FIELD_TYPES:
            value = getattr(self, name)  # typed Any: callers may pass anything at run time
            if not isinstance(value, expected):
                wrong_types = True
                yield f"{name} must be a {expected.__name__}, got {value!r}"
        if wrong_types:
            return
        yield from self._check(lambda: self.instrument.validate_quantity(self.quantity))
        yield from self._price_problems(
            "limit_price", self.limit_price, self.order_type.needs_limit_price
        )
        yield from self._price_problems(
            "stop_price", self.stop_price, self.order_type.needs_stop_price
        )
        yield from self._time_problems()

    def _price_problems(self, name: str, price: Price | None, needed: bool) -> Iterable[str]:
        kind = self.order_type.value
        if needed and price is None:
            yield f"a {kind} order needs a {name}"
        elif not needed and price is not None:
            yield f"a {kind} order must not have a {name} (got {price})"
        elif price is not None:
            yield from self._check(lambda: self.instrument.validate_price(price))

    def _time_problems(self) -> Iterable[str]:
        tif = self.time_in_force
        expire = self.expire_time_ns
        if tif is TimeInForce.GTD:
            if expire is None:
                yield "a GTD order needs expire_time_ns"
            elif isinstance(expire, bool) or not isinstance(expire, int) or expire <= 0:
                yield f"expire_time_ns must be a positive int (ns since epoch), got {expire!r}"
        elif expire is not None:
            yield f"expire_time_ns is only allowed with GTD, not {tif.name}"
        if self.order_type is OrderType.MARKET and tif in (TimeInForce.GTC, TimeInForce.GTD):
            yield f"a market order cannot rest, so {tif.name} is not allowed"

    @staticmethod
    def _check(validate: Callable[[], object]) -> Iterable[str]:
        try:
            validate()
        except InvalidValue as exc:
            yield str(exc)


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution: ``quantity`` (positive, on the lot grid) traded at ``price``
    (positive, on the tick grid) for order ``client_order_id``.

    Raises :class:`InvalidValue` (or its :class:`~trading.errors.OffGridError`) on
    construction when quantity or price break the instrument's rules.
    """

    execution_id: str
    client_order_id: str
    instrument: Instrument
    side: Side
    quantity: Quantity
    price: Price
    timestamp_ns: int = 0

    def __post_init__(self) -> None:
        if not self.execution_id:
            raise InvalidValue("Fill: execution_id must be non-empty")
        if not isinstance(self.side, Side):
            raise InvalidValue(f"Fill {self.execution_id}: side must be a Side, got {self.side!r}")
        self.instrument.validate_quantity(self.quantity)
        self.instrument.validate_price(self.price)

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    @property
    def notional(self) -> Money:
        """``price * quantity``, exact, in the instrument's currency (always positive)."""
        return self.instrument.notional(self.price, self.quantity)

    @property
    def signed_quantity(self) -> Quantity:
        """+quantity for a buy, -quantity for a sell."""
        return self.quantity if self.side is Side.BUY else -self.quantity


def average_price(fills: Iterable[Fill]) -> Price:
    """Volume-weighted average price of ``fills`` (all one instrument, either side).

    Sum of notionals and quantities is exact; the final division follows
    :func:`~trading.core.values.quantize_ratio` (half-even, 12 places). Raises
    :class:`InvalidValue` for no fills or mixed instruments.
    """
    total_qty = Quantity(0)
    total: Money | None = None
    instrument: Instrument | None = None
    for fill in fills:
        if instrument is not None and fill.instrument != instrument:
            raise InvalidValue(
                f"average_price: mixed instruments {instrument.symbol}, {fill.symbol}"
            )
        instrument = fill.instrument
        total_qty = total_qty + fill.quantity
        total = fill.notional if total is None else total + fill.notional
    if total is None:
        raise InvalidValue("average_price: no fills")
    return Price(quantize_ratio(total.amount, total_qty.value))


@dataclass(frozen=True, slots=True)
class Position:
    """Net position in one instrument: signed ``quantity`` (long > 0), the exact signed
    ``cost`` of that open quantity, and ``realized_pnl`` so far. Immutable:
    :meth:`apply` returns the position after one fill. Start from :meth:`flat`.

    Crossing through zero (selling 15 when long 10) closes the long at the fill price
    and opens a short of 5 at the same price.
    """

    instrument: Instrument
    quantity: Quantity
    cost: Money
    realized_pnl: Money

    def __post_init__(self) -> None:
        currency = self.instrument.currency
        if self.cost.currency != currency or self.realized_pnl.currency != currency:
            raise InvalidValue(f"Position {self.instrument.symbol}: amounts must be in {currency}")
        if self.quantity.is_zero() and not self.cost.amount.is_zero():
            raise InvalidValue(f"Position {self.instrument.symbol}: flat but cost {self.cost}")

    @classmethod
    def flat(cls, instrument: Instrument) -> Position:
        zero = Money.zero(instrument.currency)
        return cls(instrument, Quantity(0), zero, zero)

    @property
    def is_flat(self) -> bool:
        return self.quantity.is_zero()

    @property
    def average_price(self) -> Price | None:
        """Average entry price of the open quantity (``quantize_ratio`` policy), or
        None when flat."""
        if self.is_flat:
            return None
        return Price(quantize_ratio(self.cost.amount, self.quantity.value))

    def unrealized_pnl(self, mark: Price) -> Money:
        """Profit of closing the open quantity at ``mark``: ``mark * quantity - cost``."""
        return self.instrument.notional(mark, self.quantity) - self.cost

    def apply(self, fill: Fill) -> Position:
        """The position after ``fill``. Raises :class:`InvalidValue` for a fill in
        another instrument."""
        if fill.instrument != self.instrument:
            raise InvalidValue(f"Position {self.instrument.symbol}: got a fill in {fill.symbol}")
        held = self.quantity.value
        delta = fill.signed_quantity
        if held == 0 or (held > 0) == (delta.value > 0):
            added = self.instrument.notional(fill.price, delta)
            return Position(
                self.instrument, self.quantity + delta, self.cost + added, self.realized_pnl
            )
        closing = Quantity(min(abs(delta.value), abs(held)))
        if closing.value == abs(held):
            removed = self.cost
        else:
            share = exact(EXACT.multiply, self.cost.amount, closing.value)
            removed = Money(quantize_ratio(share, abs(held)), self.cost.currency)
        closed = closing if held > 0 else -closing  # signed like the position
        proceeds = self.instrument.notional(fill.price, closed)
        realized = self.realized_pnl + proceeds - removed
        remaining = self.quantity - closed
        if remaining.is_zero() and abs(delta) != closing:
            opened = delta + closed  # what is left of the fill after closing
            return Position(
                self.instrument, opened, self.instrument.notional(fill.price, opened), realized
            )
        return Position(self.instrument, remaining, self.cost - removed, realized)

    def apply_all(self, fills: Iterable[Fill]) -> Position:
        position = self
        for fill in fills:
            position = position.apply(fill)
        return position
