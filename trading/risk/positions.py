"""Exact positions and P&L per account and symbol, from fills, kept in Redis.

Theory of operation
-------------------
A position is :class:`trading.core.Position`: signed quantity, exact cost of the open
quantity, realised P&L (average-cost method). This module only stores it and marks it:

* :meth:`PositionBook.apply` applies one fill once. Under ``WATCH`` of the account's
  positions hash and applied-fill set it reads the symbol's record, computes
  ``Position.apply`` in Python with exact ``Decimal`` arithmetic, and writes the new
  record together with the execution ID in one ``MULTI``. A concurrent writer makes
  ``EXEC`` fail and the step re-runs; a fill seen before (same execution ID) is a no-op,
  so replaying an execution report after a crash cannot double-count it.
* Unrealised P&L is marked to the latest cached market price (:class:`RedisMarks`
  reads the market-data cache hash of :mod:`trading.market_data.keys`): the last price,
  or the mid of bid and ask for a full-depth quote.

Record format (one hash field per symbol in ``risk:{A}:positions``)::

    1 <quantity> <cost> <realized_pnl> <currency> <tick_size> <lot_size>

decimal strings separated by single spaces, version first. The instrument's grid and
currency are stored so a record can be read back without the limits file.

These positions are the accounting view. The integer lots the limits script keeps
(``risk:{A}:book``) move with the same fills; both skip an execution ID they saw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from trading.core.instruments import Instrument
from trading.core.orders import Fill, Position
from trading.core.values import Money, Price, Quantity
from trading.errors import InvalidValue
from trading.market_data.keys import KeyLayout
from trading.market_data.ticks import FullDepth, Simple, WithVolume, assert_never
from trading.risk.limits import RiskKeys

if TYPE_CHECKING:
    from resp3.client import Redis
    from resp3.pipeline import Pipeline

__all__ = [
    "MarkSource",
    "PositionBook",
    "PositionView",
    "RedisMarks",
    "StaticMarks",
    "decode_position",
    "encode_position",
]

_VERSION = "1"
_TWO = Decimal(2)


class MarkSource(Protocol):
    """Where the latest market price of a symbol comes from (None: not known)."""

    def mark(self, symbol: str) -> Decimal | None: ...


class StaticMarks:
    """Fixed marks from a mapping (tests, benchmarks, end-of-day files)."""

    def __init__(self, marks: dict[str, Decimal] | None = None) -> None:
        self.marks: dict[str, Decimal] = dict(marks or {})

    def mark(self, symbol: str) -> Decimal | None:
        return self.marks.get(symbol)


class RedisMarks:
    """Marks read from the market-data latest-tick cache (``md:{SYMBOL}:last``).

    ``max_age`` (seconds) keeps a mark for that long in this process before reading
    it again; 0 reads Redis on every call. A malformed cache hash raises
    :class:`~trading.errors.MalformedEntry` (a publisher bug, not a missing price).
    """

    def __init__(
        self, client: Redis, layout: KeyLayout | None = None, *, max_age: float = 0.0
    ) -> None:
        self.client = client
        self.layout = layout or KeyLayout()
        self.max_age = max_age
        self._cache: dict[str, tuple[float, Decimal | None]] = {}

    def mark(self, symbol: str) -> Decimal | None:
        if self.max_age > 0:
            hit = self._cache.get(symbol)
            now = time.monotonic()
            if hit is not None and now - hit[0] < self.max_age:
                return hit[1]
        key = self.layout.latest(symbol)
        fields = self.client.hgetall(key)
        # Imported here: the codec needs numpy, the rest of risk does not.
        from trading.market_data.codec import decode_latest

        value = quote_mark(decode_latest(symbol, fields, key=key)[0].quote) if fields else None
        if self.max_age > 0:
            self._cache[symbol] = (time.monotonic(), value)
        return value


def quote_mark(quote: Simple | WithVolume | FullDepth) -> Decimal:
    """The price a quote marks positions at: its price, or the bid/ask mid."""
    match quote:
        case Simple(price=price) | WithVolume(price=price):
            return price
        case FullDepth(bid_price=bid, ask_price=ask):
            return (bid + ask) / _TWO
        case _:
            assert_never(quote)


def encode_position(position: Position) -> str:
    inst = position.instrument
    return " ".join(
        (
            _VERSION,
            str(position.quantity.value),
            str(position.cost.amount),
            str(position.realized_pnl.amount),
            inst.currency,
            str(inst.tick_size),
            str(inst.lot_size),
        )
    )


def decode_position(symbol: str, raw: Any, *, key: str) -> Position:
    """The position stored in one hash field. Raises :class:`~trading.errors.InvalidValue`
    naming the key and the symbol for a record that does not follow the format above."""
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    parts = text.split(" ")
    if len(parts) != 7 or parts[0] != _VERSION:
        raise InvalidValue(f"{key} field {symbol}: not a version-1 position record {text[:80]!r}")
    try:
        quantity, cost, realized = (Decimal(part) for part in parts[1:4])
        instrument = Instrument(symbol, Decimal(parts[5]), Decimal(parts[6]), parts[4])
        return Position(
            instrument,
            Quantity(quantity),
            Money(cost, instrument.currency),
            Money(realized, instrument.currency),
        )
    except (ArithmeticError, InvalidValue) as exc:
        raise InvalidValue(
            f"{key} field {symbol}: bad position record {text[:80]!r}: {exc}"
        ) from None


@dataclass(frozen=True, slots=True)
class PositionView:
    """A position with its mark: ``unrealized`` is None when no market price is known."""

    account: str
    position: Position
    mark: Decimal | None
    unrealized: Money | None

    @property
    def symbol(self) -> str:
        return self.position.instrument.symbol


class PositionBook:
    """Exact positions per account and symbol, persisted in Redis (see module docstring)."""

    def __init__(self, client: Redis, keys: RiskKeys | None = None) -> None:
        self.client = client
        self.keys = keys or RiskKeys()

    def apply(self, account: str, fill: Fill) -> Position | None:
        """Apply ``fill`` to ``account``'s position; None if its execution ID was applied
        before. Raises :class:`~trading.errors.InvalidValue` for a fill whose instrument
        (grid, currency) differs from the stored position's, or for a corrupt record;
        nothing is written in either case."""
        key, applied = self.keys.positions(account), self.keys.fills(account)
        symbol = fill.symbol

        def step(pipe: Pipeline) -> Position | None:
            if pipe.execute_command("SISMEMBER", applied, fill.execution_id):
                pipe.unwatch()
                return None
            raw = pipe.execute_command("HGET", key, symbol)
            current = (
                Position.flat(fill.instrument)
                if raw is None
                else decode_position(symbol, raw, key=key)
            )
            updated = current.apply(fill)
            pipe.multi()
            pipe.hset(key, symbol, encode_position(updated))
            pipe.sadd(applied, fill.execution_id)
            pipe.sadd(self.keys.accounts(), account)
            return updated

        result: Position | None = self.client.transaction(
            step, key, applied, value_from_callable=True
        )
        return result

    def get(self, account: str, symbol: str) -> Position | None:
        key = self.keys.positions(account)
        raw = self.client.hget(key, symbol)
        return None if raw is None else decode_position(symbol, raw, key=key)

    def positions(self, account: str) -> dict[str, Position]:
        """Every symbol the account has a record for (flat ones included), by symbol."""
        key = self.keys.positions(account)
        out = {}
        for field, raw in self.client.hgetall(key).items():
            symbol = field.decode() if isinstance(field, bytes) else str(field)
            out[symbol] = decode_position(symbol, raw, key=key)
        return dict(sorted(out.items()))

    def accounts(self) -> list[str]:
        """Accounts that ever reserved an order or applied a fill."""
        members = self.client.smembers(self.keys.accounts())
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    def report(self, account: str, marks: MarkSource | None = None) -> list[PositionView]:
        """Positions of ``account`` with unrealised P&L at ``marks`` (None: not marked)."""
        views = []
        for symbol, position in self.positions(account).items():
            mark = marks.mark(symbol) if marks is not None else None
            unrealized = None if mark is None else position.unrealized_pnl(Price(mark))
            views.append(PositionView(account, position, mark, unrealized))
        return views
