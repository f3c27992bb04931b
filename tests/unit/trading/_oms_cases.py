"""Shared OMS test cases: an order driven to each status, and one event of each kind.

Used by the unit tests (in memory) and the server tests (through Redis), so both check
the same (status, event) matrix. Imported as ``tests.unit.trading._oms_cases``.
"""

from __future__ import annotations

from decimal import Decimal

from trading.core import Instrument, Order, OrderType, Price, Quantity, Side, TimeInForce
from trading.oms import (
    TRANSITIONS,
    Accept,
    CancelAccept,
    CancelReject,
    CancelRequest,
    Deny,
    Event,
    EventKind,
    Expire,
    FillReport,
    OrderState,
    OrderStatus,
    Reject,
    ReplaceAccept,
    ReplaceReject,
    ReplaceRequest,
    Submit,
)
from trading.oms.states import resolve

AAPL = Instrument("AAPL", Decimal("0.01"))
ACC = "acc"
QTY = 10
S = OrderStatus
E = EventKind

#: Every row of the table: the statuses and NO_ORDER (None).
ROWS: tuple[OrderStatus | None, ...] = (None, *OrderStatus)


def make_order(
    cid: str = "c1",
    qty: int | str = QTY,
    px: str | None = "100.00",
    *,
    account: str = ACC,
    tif: TimeInForce = TimeInForce.DAY,
    expire_ns: int | None = None,
    side: Side = Side.BUY,
    instrument: Instrument = AAPL,
) -> Order:
    kind = OrderType.LIMIT if px is not None else OrderType.MARKET
    return Order(
        cid,
        account,
        instrument,
        side,
        kind,
        Quantity(qty),
        Price(px) if px is not None else None,
        time_in_force=tif,
        expire_time_ns=expire_ns,
    )


def fill(
    cid: str, exec_id: str, qty: int | str | Decimal, px: str = "100.00", account: str = ACC
) -> FillReport:
    return FillReport(account, cid, exec_id, Quantity(qty), Price(px))


def path_to(status: OrderStatus | None, cid: str = "c1", *, filled: bool = True) -> list[Event]:
    """Events that take a fresh order ``cid`` to ``status``. Pending and working
    statuses go through a partial fill of 4 when ``filled`` (so "working" resolves to
    partially_filled), else straight from new."""
    order = make_order(cid)
    working: list[Event] = [Submit(order), Accept(ACC, cid, exec_id=f"{cid}-ack")]
    if filled:
        working.append(fill(cid, f"{cid}-f4", 4))
    paths: dict[OrderStatus | None, list[Event]] = {
        None: [],
        S.PENDING_NEW: [Submit(order)],
        S.NEW: working[:2],
        S.PARTIALLY_FILLED: [*working[:2], fill(cid, f"{cid}-f4", 4)],
        S.FILLED: [*working[:2], fill(cid, f"{cid}-f10", QTY)],
        S.PENDING_CANCEL: [*working, CancelRequest(ACC, cid)],
        S.CANCELED: [*working, CancelRequest(ACC, cid), CancelAccept(ACC, cid)],
        S.PENDING_REPLACE: [*working, ReplaceRequest(ACC, cid, f"{cid}-r", Quantity(20))],
        S.REPLACED: [
            *working,
            ReplaceRequest(ACC, cid, f"{cid}-r", Quantity(20)),
            ReplaceAccept(ACC, cid),
        ],
        S.REJECTED: [Submit(order), Reject(ACC, cid, "venue says no")],
        S.EXPIRED: [*working[:2], Expire(ACC, cid)],
        S.DENIED: [Deny(order, "limit breached")],
    }
    return paths[status]


def event_of(kind: EventKind, state: OrderState | None, cid: str = "c1") -> Event:
    """One event of ``kind`` for order ``cid`` in ``state``. A fill_complete fills the
    leaves exactly (or the whole order when nothing is left); a creation event on an
    existing order has *different* terms (a real duplicate, not a retry)."""
    qty = QTY + 1 if state is not None else QTY
    leaves = state.leaves_qty.value if state is not None else Decimal(0)
    complete = leaves if leaves > 0 else Decimal(QTY)
    events: dict[EventKind, Event] = {
        E.SUBMIT: Submit(make_order(cid, qty)),
        E.DENY: Deny(make_order(cid, qty), "denied"),
        E.ACCEPT: Accept(ACC, cid, exec_id="x-accept"),
        E.REJECT: Reject(ACC, cid, "rejected", exec_id="x-reject"),
        E.FILL_PARTIAL: fill(cid, "x-fill-1", 1, "100.01"),
        E.FILL_COMPLETE: fill(cid, "x-fill-all", complete, "99.99"),
        E.CANCEL_REQUEST: CancelRequest(ACC, cid),
        E.CANCEL_ACCEPT: CancelAccept(ACC, cid, exec_id="x-canceled"),
        E.CANCEL_REJECT: CancelReject(ACC, cid, "too late", exec_id="x-cxl-rej"),
        E.REPLACE_REQUEST: ReplaceRequest(ACC, cid, "x-new", Quantity(30), Price("100.50")),
        E.REPLACE_ACCEPT: ReplaceAccept(ACC, cid, exec_id="x-replaced"),
        E.REPLACE_REJECT: ReplaceReject(ACC, cid, "no", exec_id="x-rpl-rej"),
        E.EXPIRE: Expire(ACC, cid, exec_id="x-expired"),
    }
    return events[kind]


def expected(
    status: OrderStatus | None, kind: EventKind, state: OrderState | None
) -> OrderStatus | None:
    """The status ``kind`` leads to from ``status`` per the table, or None if refused.

    (None, replace_accept) is the birth of a replacement order, never an event sent to
    an unknown id, so as an event it is refused (UnknownOrder)."""
    if status is None and kind is E.REPLACE_ACCEPT:
        return None
    target = TRANSITIONS.get((status, kind))
    if target is None:
        return None
    filled = state is not None and state.cum_qty.value > 0
    if kind in (E.FILL_PARTIAL, E.FILL_COMPLETE):
        filled = True
    return resolve(target, filled)


PAIRS = [(status, kind) for status in ROWS for kind in EventKind]


def pair_id(status: OrderStatus | None, kind: EventKind) -> str:
    return f"{status.value if status else 'none'}-{kind.value}"
