"""Orders through FIX: an acceptor :class:`~trading.fix.application.Application` that
turns NewOrderSingle, OrderCancelRequest and OrderCancelReplaceRequest into OMS
events (pre-trade risk included) and answers with ExecutionReport and
OrderCancelReject as the orders move; fills come from a
:class:`~trading.oms.venue.PaperVenue` on the market-data cache.

=====================================  ===============================================
FIX in                                 OMS, and what goes back
=====================================  ===============================================
NewOrderSingle(D)                      ``manager.submit`` (the manager's pre-trade hook
                                       runs risk); denied: ExecutionReport Rejected
                                       (OrdRejReason 3, Text = risk reason); else sent
                                       to the venue: New, then fills (Trade on 4.4,
                                       Partial fill / Fill on 4.2), or Rejected
OrderCancelRequest(F)                  ``CancelRequest``: Pending Cancel, then
                                       Canceled, or OrderCancelReject(434=1)
OrderCancelReplaceRequest(G)           ``ReplaceRequest`` (risk checks the new terms):
                                       Pending Replace, then Replaced (the new ClOrdID
                                       with its terms) or OrderCancelReject(434=2)
unknown symbol, an order the core      ExecutionReport Rejected (OrdRejReason 1, or
refuses, a duplicate ClOrdID           0/99 with the reason as Text, or 6)
unknown OrigClOrdID, a request the     OrderCancelReject (CxlRejReason 1, or 0 "too
state machine refuses                  late", or 2 with the risk reason)
=====================================  ===============================================

The account is Account(1) when the order has one, else the counterparty's CompID
(``account_of`` replaces that rule). Each order gets an OrderID that survives its
replaces; ExecIDs are the venue's (gateway-made ones for pending states). Every OMS
change is passed to ``on_change`` first (``OmsRiskHook.on_change``: fills move
positions, ends release reservations), then reported to the session the order came
from. Call :meth:`OmsGateway.poll` periodically so resting orders meet new ticks.

What it does not do: the routes from orders to sessions live in memory, so after a
restart reports for orders placed before it cannot be delivered (the OMS store still
has the orders); there is no order-status request (H) or mass cancel.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from trading.core import Instrument, Order, Price, Quantity, TimeInForce
from trading.errors import OrderError, ReplaceDenied
from trading.fix.application import Application, UnsupportedMessageType
from trading.fix.message import Message
from trading.fix.messages import (
    ExecType,
    ExecutionReport,
    NewOrderSingle,
    OrderCancelReject,
    OrderCancelReplaceRequest,
    OrderCancelRequest,
    OrdStatus,
)
from trading.fix.session import send_to_target
from trading.fix.settings import SessionID
from trading.fix.validate import FieldValueError
from trading.oms import (
    CancelRequest,
    Change,
    Event,
    EventKind,
    FillReport,
    OrderManager,
    OrderState,
    OrderStatus,
    ReplaceRequest,
)
from trading.oms.venue import PaperVenue, TickSource

__all__ = ["OmsGateway"]

logger = logging.getLogger("trading.fix")
_K = EventKind


@dataclass(slots=True)
class _Route:
    """Where an order's reports go, and the OrderID the counterparty knows it by."""

    session_id: SessionID
    order_id: str


class OmsGateway(Application):
    """See the module docstring. ``instruments`` maps a symbol to its instrument
    (``RiskConfig.instrument`` fits), None for an unknown symbol."""

    def __init__(
        self,
        manager: OrderManager,
        ticks: TickSource,
        instruments: Callable[[str], Instrument | None],
        *,
        on_change: Callable[[Change], object] | None = None,
        account_of: Callable[[SessionID, Message], str] | None = None,
        venue_name: str = "paper",
    ) -> None:
        self.manager = manager
        self.instruments = instruments
        self.on_change = on_change
        self.account_of = account_of or _default_account
        self.venue = PaperVenue(ticks, self._on_report, name=venue_name)
        self._run = uuid.uuid4().hex[:8]
        self._ids = itertools.count(1)
        self._routes: dict[tuple[str, str], _Route] = {}
        self._requests: dict[tuple[str, str], str] = {}  # order key -> cancel ClOrdID

    def poll(self) -> None:
        """Match resting orders against the newest ticks (reports go out as usual)."""
        self.venue.poll()

    def _next_id(self, kind: str) -> str:
        return f"{kind}-{self._run}-{next(self._ids)}"

    # -- from the counterparty -------------------------------------------------------------

    def from_app(self, message: Message, session_id: SessionID) -> None:
        msg_type = message.get(35)
        if msg_type == b"D":
            self._new_order(message, session_id)
        elif msg_type == b"F":
            self._cancel(message, session_id)
        elif msg_type == b"G":
            self._replace(message, session_id)
        else:
            raise UnsupportedMessageType(f"MsgType {msg_type!r} is not handled by the gateway")

    def _new_order(self, message: Message, session_id: SessionID) -> None:
        account = self.account_of(session_id, message)
        try:
            nos = NewOrderSingle.from_message(message)
        except FieldValueError as exc:
            self._refuse(message, session_id, account, 0, f"unsupported value: {exc}")
            return
        key = (account, nos.cl_ord_id)
        if key in self._routes:
            if message.get(97) != b"Y":  # a PossResend of a known order is dropped
                self._refuse(message, session_id, account, 6, "duplicate ClOrdID")
            return
        instrument = self.instruments(nos.symbol or "")
        if instrument is None:
            self._refuse(message, session_id, account, 1, f"unknown symbol {nos.symbol!r}")
            return
        try:
            order = _order(nos, account, instrument)
        except OrderError as exc:
            self._refuse(message, session_id, account, 99, str(exc))
            return
        self._routes[key] = _Route(session_id, self._next_id("O"))
        try:
            change = self.manager.submit(order)
        except OrderError as exc:  # DuplicateOrder: the OMS already has this ID
            del self._routes[key]
            self._refuse(message, session_id, account, 6, str(exc))
            return
        self._record(change)
        if change.after.status is OrderStatus.PENDING_NEW and not change.duplicate:
            self.venue.new_order(order)

    def _cancel(self, message: Message, session_id: SessionID) -> None:
        account = self.account_of(session_id, message)
        request = OrderCancelRequest.from_message(message)
        key = (account, request.orig_cl_ord_id)
        reject = _CancelRefusal(message, session_id, account, "1")
        if key not in self._routes:
            self._send_cancel_reject(reject, None, 1, "unknown order")
            return
        try:
            change = self.manager.apply(CancelRequest(account, request.orig_cl_ord_id))
        except OrderError as exc:
            self._send_cancel_reject(reject, self.manager.get(*key), 0, str(exc))
            return
        self._requests[key] = request.cl_ord_id
        self._record(change)
        self.venue.cancel_order(change.after)

    def _replace(self, message: Message, session_id: SessionID) -> None:
        account = self.account_of(session_id, message)
        request = OrderCancelReplaceRequest.from_message(message)
        key = (account, request.orig_cl_ord_id)
        reject = _CancelRefusal(message, session_id, account, "2")
        route = self._routes.get(key)
        state = self.manager.get(*key)
        if route is None or state is None:
            self._send_cancel_reject(reject, None, 1, "unknown order")
            return
        quantity = None
        if request.order_qty is not None and request.order_qty != state.order.quantity.value:
            quantity = Quantity(request.order_qty)
        price = None
        limit = state.order.limit_price
        if request.price is not None and (limit is None or request.price != limit.value):
            price = Price(request.price)
        try:
            orig, new = request.orig_cl_ord_id, request.cl_ord_id
            change = self.manager.apply(ReplaceRequest(account, orig, new, quantity, price))
        except ReplaceDenied as exc:
            self._send_cancel_reject(reject, state, 2, f"{exc.code}: {exc.message}")
            return
        except OrderError as exc:
            self._send_cancel_reject(reject, state, 0, str(exc))
            return
        self._routes[(account, request.cl_ord_id)] = _Route(session_id, route.order_id)
        self._record(change)
        self.venue.replace_order(change.after)

    # -- from the venue ------------------------------------------------------------------

    def _on_report(self, event: Event) -> None:
        try:
            change = self.manager.apply(event)
        except OrderError as exc:
            logger.warning("venue report %s refused by the OMS: %s", event, exc)
            return
        self._record(change)

    def _record(self, change: Change) -> None:
        if self.on_change is not None:
            self.on_change(change)
        if change.duplicate or change.kind is None:
            return
        after = change.after
        route = self._routes.get(after.key)
        if route is None:
            return
        message = self._report(change, route)
        if message is not None:
            send_to_target(message, route.session_id)

    def _report(self, change: Change, route: _Route) -> Message | None:
        kind, after, event = change.kind, change.after, change.event
        begin = route.session_id.begin_string
        key = after.key
        exec_id = change.exec_id or self._next_id("X")
        cl, orig = after.client_order_id, None
        report = _Report(exec_id, route.order_id, after)
        if kind in (_K.SUBMIT,):
            return None
        if kind is _K.DENY:
            status = OrdStatus.REJECTED
            return report.build(begin, ExecType.REJECTED, status, rej=3, text=after.reason)
        if kind is _K.ACCEPT:
            return report.build(begin, ExecType.NEW)
        if kind is _K.REJECT:
            return report.build(begin, ExecType.REJECTED, rej=0, text=after.reason)
        if kind in (_K.FILL_PARTIAL, _K.FILL_COMPLETE) and isinstance(event, FillReport):
            trade = ExecType.TRADE
            if begin == "FIX.4.2":
                trade = ExecType.FILL if kind is _K.FILL_COMPLETE else ExecType.PARTIAL_FILL
            return report.build(begin, trade, last=(event.quantity.value, event.price.value))
        if kind in (_K.CANCEL_REQUEST, _K.CANCEL_ACCEPT, _K.CANCEL_REJECT):
            requested = self._requests.get(key)
            if requested is not None:
                cl, orig = requested, after.client_order_id
            if kind is not _K.CANCEL_REQUEST:
                self._requests.pop(key, None)
            if kind is _K.CANCEL_REJECT:
                target = (cl, orig or cl)
                return _cancel_reject(begin, route.order_id, *target, after, "1", 0, after.reason)
            exec_type = ExecType.PENDING_CANCEL if kind is _K.CANCEL_REQUEST else ExecType.CANCELED
            return report.build(begin, exec_type, cl=cl, orig=orig)
        pending = change.before.pending if change.before is not None else None
        if kind is _K.REPLACE_REQUEST and after.pending is not None:
            new_id = after.pending.client_order_id
            return report.build(begin, ExecType.PENDING_REPLACE, cl=new_id, orig=cl)
        if kind is _K.REPLACE_ACCEPT and change.replacement is not None:
            new = _Report(exec_id, route.order_id, change.replacement)
            return new.build(begin, ExecType.REPLACED, orig=cl)
        if kind is _K.REPLACE_REJECT and pending is not None:
            new_id = pending.client_order_id
            self._routes.pop((after.account, new_id), None)
            return _cancel_reject(begin, route.order_id, new_id, cl, after, "2", 0, after.reason)
        if kind is _K.EXPIRE:
            return report.build(begin, ExecType.EXPIRED)
        return None

    # -- refusals ----------------------------------------------------------------------

    def _refuse(
        self, message: Message, session_id: SessionID, account: str, reason: int, text: str
    ) -> None:
        """ExecutionReport Rejected for an order that never reached the OMS."""
        begin = session_id.begin_string
        if begin == "FIX.4.2" and reason == 99:
            reason = 0  # 4.2's OrdRejReason has no "other"
        side = message.get_str(54, "")
        report = Message.build(
            begin,
            b"8",
            [
                (1, account),
                (6, 0),
                (11, message.get(11, b"NONE")),
                (14, 0),
                (17, self._next_id("X")),
                (20, b"0" if begin == "FIX.4.2" else None),
                (37, b"NONE"),
                (38, message.get(38)),
                (39, b"8"),
                (54, side.encode() if side else b"1"),
                (55, message.get(55, b"UNKNOWN")),
                (58, text[:500]),
                (103, reason),
                (150, b"8"),
                (151, 0),
            ],
        )
        send_to_target(report, session_id)

    def _send_cancel_reject(
        self, refusal: _CancelRefusal, state: OrderState | None, reason: int, text: str | None
    ) -> None:
        message, sid = refusal.message, refusal.session_id
        route = self._routes.get((refusal.account, message.get_str(41, "")))
        reply = _cancel_reject(
            sid.begin_string,
            route.order_id if route is not None else "NONE",
            message.get_str(11, "NONE"),
            message.get_str(41, "NONE"),
            state,
            refusal.response_to,
            reason,
            text,
        )
        send_to_target(reply, sid)


@dataclass(slots=True)
class _CancelRefusal:
    message: Message
    session_id: SessionID
    account: str
    response_to: str


@dataclass(slots=True)
class _Report:
    """An ExecutionReport about one order state."""

    exec_id: str
    order_id: str
    state: OrderState

    def build(
        self,
        begin: str,
        exec_type: ExecType,
        status: OrdStatus | None = None,
        *,
        cl: str | None = None,
        orig: str | None = None,
        last: tuple[Decimal, Decimal] | None = None,
        rej: int | None = None,
        text: str | None = None,
    ) -> Message:
        state, order = self.state, self.state.order
        avg = state.avg_px
        return ExecutionReport(
            order_id=self.order_id,
            exec_id=self.exec_id,
            exec_type=exec_type,
            ord_status=status or _status(state),
            side=order.side,
            leaves_qty=state.leaves_qty.value,
            cum_qty=state.cum_qty.value,
            avg_px=avg.value.normalize() if avg is not None else Decimal(0),
            cl_ord_id=cl or state.client_order_id,
            orig_cl_ord_id=orig,
            symbol=order.symbol,
            order_qty=order.quantity.value,
            ord_type=order.order_type,
            price=order.limit_price.value if order.limit_price is not None else None,
            stop_px=order.stop_price.value if order.stop_price is not None else None,
            time_in_force=order.time_in_force,
            last_qty=last[0] if last else None,
            last_px=last[1] if last else None,
            transact_time=datetime.now(timezone.utc),
            ord_rej_reason=rej,
            account=order.account,
            text=text,
        ).to_message(begin)


def _status(state: OrderState) -> OrdStatus:
    code = state.status.fix_code
    return OrdStatus(code) if code is not None else OrdStatus.REJECTED


def _cancel_reject(
    begin: str,
    order_id: str,
    cl: str,
    orig: str,
    state: OrderState | None,
    response_to: str,
    reason: int,
    text: str | None,
) -> Message:
    return OrderCancelReject(
        order_id=order_id,
        cl_ord_id=cl,
        orig_cl_ord_id=orig,
        ord_status=_status(state) if state is not None else OrdStatus.REJECTED,
        cxl_rej_response_to=response_to,
        cxl_rej_reason=reason,
        account=state.account if state is not None else None,
        text=(text or "")[:500] or None,
    ).to_message(begin)


def _default_account(session_id: SessionID, message: Message) -> str:
    return message.get_str(1, "") or session_id.target_comp_id


def _order(nos: NewOrderSingle, account: str, instrument: Instrument) -> Order:
    if nos.order_qty is None:
        raise OrderError("OrderQty(38) is required")
    expire = None
    if nos.time_in_force is TimeInForce.GTD and nos.expire_time is not None:
        expire = int(nos.expire_time.timestamp() * 1_000_000_000)
    return Order(
        nos.cl_ord_id,
        account,
        instrument,
        nos.side,
        nos.ord_type,
        Quantity(nos.order_qty),
        Price(nos.price) if nos.price is not None else None,
        Price(nos.stop_px) if nos.stop_px is not None else None,
        nos.time_in_force or TimeInForce.DAY,
        expire,
    )
