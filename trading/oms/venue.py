"""Execution venues: the interface FIX and the simulator plug into, and a paper venue.

A venue receives three requests (new, cancel, replace) and answers only through
reports, which are ordinary OMS events (``Accept``, ``FillReport``, ``CancelAccept``...)
handed to the ``on_report`` callback it was built with; typically
``on_report=manager.apply``. A request never returns a verdict directly, because a
real venue answers asynchronously and may answer a request with several reports.

:class:`PaperVenue` fills against the latest cached market tick of the order's symbol
(the market-data publisher's latest-tick hash, read through :class:`RedisTickSource`).
It is deliberately simple: no queue position, no market impact, each resting order is
checked against the newest tick when it arrives and on :meth:`PaperVenue.poll`.

* a buy executes at the ask (``full_depth``) or the last price, a sell at the bid or
  the last price; the size is capped by the displayed volume when the tick has one;
* a limit order executes when that price is at or better than its limit, a stop order
  triggers when the price reaches the stop (then trades like a market or limit order);
* IOC and market orders cancel what does not fill at once; FOK fills completely or
  cancels without filling;
* an order without a tick for its symbol is rejected.

Every report carries an exec id ``<name>-<session>-<n>``, unique per venue instance, so
re-delivery is harmless on the OMS side.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

import resp3
from trading.core import Order, OrderType, Price, Quantity, Side, TimeInForce
from trading.market_data.feed import latest_tick
from trading.market_data.keys import KeyLayout
from trading.market_data.ticks import FullDepth, Simple, Tick, WithVolume, assert_never
from trading.oms.events import (
    Accept,
    CancelAccept,
    CancelReject,
    Event,
    FillReport,
    Reject,
    ReplaceAccept,
    ReplaceReject,
)
from trading.oms.order_state import OrderState

__all__ = [
    "PaperVenue",
    "RedisTickSource",
    "ReportSink",
    "StaticTickSource",
    "TickSource",
    "Venue",
    "executable",
]

#: Where a venue sends its reports (``OrderManager.apply`` fits).
ReportSink = Callable[[Event], object]


class Venue(Protocol):
    """An execution venue. Each method sends a request; answers arrive as reports."""

    def new_order(self, order: Order) -> None:
        """Send a new order (its OMS state is ``pending_new``)."""

    def cancel_order(self, state: OrderState) -> None:
        """Ask to cancel the rest of an order (its OMS state is ``pending_cancel``)."""

    def replace_order(self, state: OrderState) -> None:
        """Ask to replace an order by ``state.pending`` (OMS state ``pending_replace``)."""


class TickSource(Protocol):
    def latest(self, symbol: str) -> Tick | None:
        """The newest tick of ``symbol``, or None when there is none yet."""


class RedisTickSource:
    """Reads the publisher's latest-tick hash (``md:{SYMBOL}:last``, see
    ``trading.market_data.keys``). Raises ``MalformedEntry`` for a hash in another
    format, and the client's errors for I/O."""

    def __init__(self, client: resp3.Redis, layout: KeyLayout | None = None) -> None:
        self.client = client
        self.layout = layout or KeyLayout()

    def latest(self, symbol: str) -> Tick | None:
        found = latest_tick(self.client, symbol, layout=self.layout)
        return None if found is None else found[0]


class StaticTickSource:
    """Ticks kept in memory, set by hand: for tests and offline runs."""

    def __init__(self, ticks: Iterable[Tick] = ()) -> None:
        self._ticks = {tick.symbol: tick for tick in ticks}

    def set(self, tick: Tick) -> None:
        self._ticks[tick.symbol] = tick

    def latest(self, symbol: str) -> Tick | None:
        return self._ticks.get(symbol)


def executable(side: Side, tick: Tick) -> tuple[Decimal, int | None]:
    """The price a ``side`` order trades at against ``tick`` and the size available
    there (None: not displayed, so unlimited)."""
    quote = tick.quote
    match quote:
        case Simple(price=price):
            return price, None
        case WithVolume(price=price, volume=volume):
            return price, volume
        case FullDepth():
            if side is Side.BUY:
                return quote.ask_price, quote.ask_volume
            return quote.bid_price, quote.bid_volume
        case _:
            assert_never(quote)


@dataclass(frozen=True, slots=True)
class _Resting:
    order: Order
    filled: Decimal
    triggered: bool

    @property
    def leaves(self) -> Decimal:
        return self.order.quantity.value - self.filled


class PaperVenue:
    """A venue that fills against the latest tick (see the module docstring)."""

    def __init__(self, ticks: TickSource, on_report: ReportSink, *, name: str = "paper") -> None:
        self.ticks = ticks
        self.on_report = on_report
        self.name = name
        self._session = uuid.uuid4().hex[:8]
        self._counter = itertools.count(1)
        self._resting: dict[tuple[str, str], _Resting] = {}

    def _exec_id(self) -> str:
        return f"{self.name}-{self._session}-{next(self._counter)}"

    def resting(self) -> list[Order]:
        """Orders working at this venue, oldest first."""
        return [r.order for r in self._resting.values()]

    def new_order(self, order: Order) -> None:
        account, oid = order.account, order.client_order_id
        tick = self.ticks.latest(order.symbol)
        if tick is None:
            reason = f"no market data for {order.symbol}"
            self.on_report(Reject(account, oid, reason, exec_id=self._exec_id()))
            return
        self.on_report(Accept(account, oid, exec_id=self._exec_id()))
        self._resting[(account, oid)] = _Resting(order, Decimal(0), triggered=False)
        self._match((account, oid), tick)

    def cancel_order(self, state: OrderState) -> None:
        key = state.key
        if self._resting.pop(key, None) is None:
            reason = "unknown order or already done"
            self.on_report(CancelReject(*key, reason, exec_id=self._exec_id()))
            return
        self.on_report(CancelAccept(*key, exec_id=self._exec_id()))

    def replace_order(self, state: OrderState) -> None:
        key, terms = state.key, state.pending
        resting = self._resting.get(key)
        if resting is None or terms is None or terms.quantity.value <= resting.filled:
            reason = "unknown order, already done, or new quantity not above filled"
            self.on_report(ReplaceReject(*key, reason, exec_id=self._exec_id()))
            return
        del self._resting[key]
        order = replace(
            resting.order,
            client_order_id=terms.client_order_id,
            quantity=terms.quantity,
            limit_price=terms.limit_price,
        )
        new_key = (order.account, order.client_order_id)
        self._resting[new_key] = replace(resting, order=order)
        self.on_report(ReplaceAccept(*key, exec_id=self._exec_id()))
        tick = self.ticks.latest(order.symbol)
        if tick is not None:
            self._match(new_key, tick)

    def poll(self, symbols: Iterable[str] | None = None) -> None:
        """Check resting orders (of ``symbols``, default all) against the newest ticks."""
        wanted = None if symbols is None else set(symbols)
        for key, resting in list(self._resting.items()):
            if wanted is not None and resting.order.symbol not in wanted:
                continue
            tick = self.ticks.latest(resting.order.symbol)
            if tick is not None and key in self._resting:
                self._match(key, tick)

    def _match(self, key: tuple[str, str], tick: Tick) -> None:
        resting = self._resting[key]
        order = resting.order
        price, available = executable(order.side, tick)
        if not resting.triggered and order.order_type.needs_stop_price:
            stop = order.stop_price.value if order.stop_price else Decimal(0)
            if (price < stop) if order.side is Side.BUY else (price > stop):
                return
            resting = self._resting[key] = replace(resting, triggered=True)
        quantity = self._fill_quantity(order, resting.leaves, price, available)
        immediate = order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) or (
            order.order_type is OrderType.MARKET
        )
        if order.time_in_force is TimeInForce.FOK and quantity < resting.leaves:
            quantity = Decimal(0)
        if quantity > 0:
            resting = self._resting[key] = replace(resting, filled=resting.filled + quantity)
            fill = FillReport(
                *key, self._exec_id(), Quantity(quantity), Price(price), tick.timestamp_ns
            )
            self.on_report(fill)
        if resting.leaves == 0:
            del self._resting[key]
        elif immediate:
            del self._resting[key]
            self.on_report(CancelAccept(*key, exec_id=self._exec_id()))

    @staticmethod
    def _fill_quantity(order: Order, leaves: Decimal, price: Decimal, size: int | None) -> Decimal:
        limit = order.limit_price.value if order.limit_price else None
        if limit is not None and ((price > limit) if order.side is Side.BUY else (price < limit)):
            return Decimal(0)
        if size is None or size >= leaves:
            return leaves
        lot = order.instrument.lot_size
        return (Decimal(size) // lot) * lot
