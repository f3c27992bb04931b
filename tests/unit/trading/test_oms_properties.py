"""Random event sequences against the in-memory manager (hypothesis stateful).

Invariants after every step, for every order: cum qty <= order qty; leaves = qty - cum
while open and 0 once terminal; cum = carried-over + own fills; the average price lies
within [min, max] of the chain's fill prices; version counts the applied events;
terminal states absorb (never change again); a refused event changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.unit.trading._oms_cases import ACC, fill, make_order
from trading.core import Price, Quantity, TimeInForce
from trading.errors import OrderError
from trading.oms import (
    Accept,
    CancelAccept,
    CancelReject,
    CancelRequest,
    Event,
    Expire,
    FillReport,
    OrderManager,
    Reject,
    ReplaceAccept,
    ReplaceReject,
    ReplaceRequest,
    Submit,
)

TIFS = st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD])
PRICES = st.integers(9_990, 10_010).map(lambda cents: f"{cents // 100}.{cents % 100:02d}")


class OmsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.manager = OrderManager(clock=lambda: 1)
        self.ids: list[str] = []
        self.carried: dict[str, Decimal] = {}
        self.own: dict[str, Decimal] = {}
        self.prices: dict[str, list[Decimal]] = {}
        self.events: dict[str, int] = {}
        self.terminal: dict[str, object] = {}
        self.fills: list[FillReport] = []
        self.counter = 0

    def _new_id(self) -> str:
        self.counter += 1
        return f"o{self.counter}"

    def _apply(self, event: Event) -> bool:
        before = self.manager.get(ACC, event.client_order_id)
        try:
            change = self.manager.apply(event)
        except OrderError:
            assert self.manager.get(ACC, event.client_order_id) == before
            return False
        if change.duplicate:
            assert self.manager.get(ACC, event.client_order_id) == before
            return False
        cid = event.client_order_id
        self.events[cid] = self.events.get(cid, 0) + 1
        if isinstance(event, FillReport):
            self.own[cid] += event.quantity.value
            self.prices[cid].append(event.price.value)
            self.fills.append(event)
        born = change.replacement
        if born is not None:
            new = born.client_order_id
            self.ids.append(new)
            self.carried[new] = change.after.cum_qty.value
            self.own[new] = Decimal(0)
            self.prices[new] = list(self.prices[cid])
            self.events[new] = 1
        return True

    @rule(qty=st.integers(1, 20), tif=TIFS)
    def submit(self, qty: int, tif: TimeInForce) -> None:
        cid = self._new_id()
        expire = 10**12 if tif is TimeInForce.GTD else None
        order = make_order(cid, qty, tif=tif, expire_ns=expire)
        assert self._apply(Submit(order))
        self.ids.append(cid)
        self.carried[cid] = self.own[cid] = Decimal(0)
        self.prices[cid] = []

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def resubmit_identical(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(self.ids))
        state = self.manager.get(ACC, cid)
        assert state is not None
        change = self.manager.apply(Submit(state.order))
        assert change.duplicate and change.after == state

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), qty=st.integers(1, 8), px=PRICES)
    def fill(self, data: st.DataObject, qty: int, px: str) -> None:
        cid = data.draw(st.sampled_from(self.ids))
        self.counter += 1
        self._apply(fill(cid, f"x{self.counter}", qty, px))

    @precondition(lambda self: self.fills)
    @rule(data=st.data())
    def redeliver_fill(self, data: st.DataObject) -> None:
        event = data.draw(st.sampled_from(self.fills))
        before = self.manager.get(ACC, event.client_order_id)
        change = self.manager.apply(event)
        assert change.duplicate and self.manager.get(ACC, event.client_order_id) == before

    @precondition(lambda self: self.ids)
    @rule(data=st.data(), qty=st.integers(1, 30), px=st.none() | PRICES)
    def replace_request(self, data: st.DataObject, qty: int, px: str | None) -> None:
        cid = data.draw(st.sampled_from(self.ids))
        request = ReplaceRequest(ACC, cid, self._new_id(), Quantity(qty), Price(px) if px else None)
        self._apply(request)

    @precondition(lambda self: self.ids)
    @rule(
        data=st.data(),
        make=st.sampled_from(
            [
                lambda cid: Accept(ACC, cid),
                lambda cid: Reject(ACC, cid, "no"),
                lambda cid: CancelRequest(ACC, cid),
                lambda cid: CancelAccept(ACC, cid),
                lambda cid: CancelReject(ACC, cid, "no"),
                lambda cid: ReplaceAccept(ACC, cid),
                lambda cid: ReplaceReject(ACC, cid, "no"),
                lambda cid: Expire(ACC, cid),
            ]
        ),
    )
    def other_event(self, data: st.DataObject, make: object) -> None:
        cid = data.draw(st.sampled_from(self.ids))
        self._apply(make(cid))  # type: ignore[operator]

    @invariant()
    def orders_are_consistent(self) -> None:
        for cid in self.ids:
            state = self.manager.get(ACC, cid)
            assert state is not None
            qty, cum = state.order.quantity.value, state.cum_qty.value
            assert 0 <= cum <= qty
            assert state.leaves_qty.value == (qty - cum if state.is_open else 0)
            assert cum == self.carried[cid] + self.own[cid]
            assert state.version == self.events[cid]
            if cum:
                prices = self.prices[cid]
                assert state.avg_px is not None
                assert min(prices) <= state.avg_px.value <= max(prices)
            if cid in self.terminal:
                assert state == self.terminal[cid]
            elif state.is_terminal:
                self.terminal[cid] = state


OmsMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
test_oms_state_machine = OmsMachine.TestCase
