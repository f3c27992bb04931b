"""PaperVenue against in-memory ticks, reporting into an in-memory manager."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.trading._oms_cases import ACC, make_order
from trading.core import Order, OrderType, Price, Quantity, Side, TimeInForce
from trading.market_data.ticks import FullDepth, Simple, Tick, WithVolume
from trading.oms import CancelRequest, EventKind, OrderManager, OrderStatus, ReplaceRequest
from trading.oms.venue import PaperVenue, StaticTickSource, executable

S = OrderStatus


def depth(bid: str, ask: str, bid_size: int = 100, ask_size: int = 100, ts: int = 7) -> Tick:
    quote = FullDepth(
        bid_price=Decimal(bid), ask_price=Decimal(ask), bid_volume=bid_size, ask_volume=ask_size
    )
    return Tick(symbol="AAPL", timestamp_ns=ts, quote=quote)


class Harness:
    def __init__(self, *ticks: Tick) -> None:
        self.ticks = StaticTickSource(ticks)
        self.manager = OrderManager(clock=lambda: 1)
        self.kinds: list[EventKind | None] = []
        self.venue = PaperVenue(self.ticks, self.report)

    def report(self, event: object) -> None:
        change = self.manager.apply(event)  # type: ignore[arg-type]
        self.kinds.append(change.kind)

    def send(self, order: Order) -> OrderStatus:
        self.manager.submit(order)
        self.venue.new_order(order)
        return self.status(order.client_order_id)

    def status(self, cid: str) -> OrderStatus:
        state = self.manager.get(ACC, cid)
        assert state is not None
        return state.status


def test_marketable_limit_fills_at_the_ask() -> None:
    h = Harness(depth("99.98", "100.00"))
    assert h.send(make_order("c1", 10, "100.05")) is S.FILLED
    state = h.manager.get(ACC, "c1")
    assert state is not None and state.avg_px == Price("100.00")
    assert h.kinds == [EventKind.ACCEPT, EventKind.FILL_COMPLETE]


def test_resting_limit_fills_when_the_market_comes() -> None:
    h = Harness(depth("99.98", "100.00"))
    sell = make_order("s1", 5, "100.10", side=Side.SELL)
    assert h.send(sell) is S.NEW
    h.ticks.set(depth("100.10", "100.12", bid_size=3))
    h.venue.poll()
    assert h.status("s1") is S.PARTIALLY_FILLED
    h.venue.poll(["AAPL"])
    state = h.manager.get(ACC, "s1")
    assert state is not None and (state.status, state.avg_px) == (S.FILLED, Price("100.10"))
    assert h.venue.resting() == []


def test_market_ioc_remainder_is_canceled() -> None:
    h = Harness(depth("99.98", "100.00", ask_size=4))
    order = Order("m1", ACC, make_order().instrument, Side.BUY, OrderType.MARKET, Quantity(10))
    assert h.send(order) is S.CANCELED
    state = h.manager.get(ACC, "m1")
    assert state is not None and state.cum_qty == Quantity(4)
    assert h.kinds == [EventKind.ACCEPT, EventKind.FILL_PARTIAL, EventKind.CANCEL_ACCEPT]


def test_fok_fills_all_or_nothing() -> None:
    h = Harness(depth("99.98", "100.00", ask_size=4))
    assert h.send(make_order("f1", 10, "100.00", tif=TimeInForce.FOK)) is S.CANCELED
    assert h.manager.get(ACC, "f1").cum_qty == Quantity(0)  # type: ignore[union-attr]
    assert h.send(make_order("f2", 4, "100.00", tif=TimeInForce.FOK)) is S.FILLED


def test_no_tick_is_a_reject() -> None:
    h = Harness()
    assert h.send(make_order("c1")) is S.REJECTED
    assert h.manager.get(ACC, "c1").reason == "no market data for AAPL"  # type: ignore[union-attr]


def test_cancel_and_replace_flow() -> None:
    h = Harness(depth("99.98", "100.00"))
    h.send(make_order("c1", 10, "99.00"))
    h.manager.apply(ReplaceRequest(ACC, "c1", "c2", Quantity(6), Price("100.00")))
    h.venue.replace_order(h.manager.get(ACC, "c1"))  # type: ignore[arg-type]
    assert (h.status("c1"), h.status("c2")) == (S.REPLACED, S.FILLED)
    h.send(make_order("c3", 10, "99.00"))
    state = h.manager.apply(CancelRequest(ACC, "c3")).after
    h.venue.cancel_order(state)
    assert h.status("c3") is S.CANCELED
    assert h.venue.resting() == []


def test_cancel_of_an_order_the_venue_no_longer_has_is_rejected() -> None:
    h = Harness(depth("99.98", "100.00"))
    h.send(make_order("c1", 10, "99.00"))
    state = h.manager.apply(CancelRequest(ACC, "c1")).after
    h.venue._resting.clear()
    h.venue.cancel_order(state)
    assert h.status("c1") is S.NEW


def test_stop_order_triggers_at_the_stop() -> None:
    h = Harness(depth("99.98", "100.00"))
    stop = Order(
        "st", ACC, make_order().instrument, Side.BUY, OrderType.STOP, Quantity(2),
        stop_price=Price("101.00"),
    )  # fmt: skip
    assert h.send(stop) is S.NEW
    h.ticks.set(depth("101.00", "101.02"))
    h.venue.poll()
    assert h.status("st") is S.FILLED


@pytest.mark.parametrize(
    ("tick", "side", "expected"),
    [
        (Tick(symbol="X", timestamp_ns=1, quote=Simple(price=Decimal("5"))), Side.BUY, (5, None)),
        (
            Tick(symbol="X", timestamp_ns=1, quote=WithVolume(price=Decimal("5"), volume=3)),
            Side.SELL,
            (5, 3),
        ),
        (depth("1", "2", 7, 9), Side.SELL, (1, 7)),
    ],
)
def test_executable(tick: Tick, side: Side, expected: tuple[int, int | None]) -> None:
    assert executable(side, tick) == (Decimal(expected[0]), expected[1])
