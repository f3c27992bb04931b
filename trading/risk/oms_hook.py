"""Glue between the OMS (``trading.oms.OrderManager``) and the :class:`~.engine.RiskEngine`.

The OMS decides what happens to an order; risk must hear about every change that
moves a reservation. :class:`OmsRiskHook` maps them:

=====================================  ==========================================
OMS change                             risk
=====================================  ==========================================
``submit`` (before it is planned)      :meth:`check`: checks and reserves, or a
                                       reason string makes the OMS store ``denied``
``replace_request`` (before applying)  :meth:`check_replace`: reserves the new ID
                                       for what it leaves to fill
``fill_partial`` / ``fill_complete``   fill moves lots from open to position
``replace_accept``                     the old ID's remainder is released
``replace_reject``                     the new ID's reservation is released
``reject``, ``cancel_accept``,         everything the order (and a pending
``expire``, ``fill_complete``          replacement) still holds is released
``deny`` (stored)                      anything held under that ID is released
``accept``, requests                   nothing
=====================================  ==========================================

Why a stored ``deny`` releases: the OMS keeps client order IDs unique per account, so
once it stores a denied order under an ID, no order under that ID will be sent. A
reservation under it can only come from an earlier attempt whose store write failed
(a timeout, then a retry that risk refused as a duplicate ID), or from a process that
lost the race to store the same ID. Either way it is orphaned, and keeping it would
hold the limits forever.

When :meth:`check` accepted an order but the manager then raised (``DuplicateOrder``,
a Redis error) and the caller gives up on the order, the caller must call
``engine.release(account, client_order_id)``: the hook never sees that change.

Call :meth:`on_change` with every :class:`~trading.oms.manager.Change` the manager
returns (``apply`` and ``submit``); duplicates are ignored, and every risk operation
is idempotent, so re-applying a change after a crash is safe.

The check returns ``str(denial)``, ``"<reason code>: <message>"``, because the OMS
stores a plain reason; :func:`~.reasons.parse_reason` gets the code back.
"""

from __future__ import annotations

from trading.core.orders import Fill, Order
from trading.core.values import Quantity
from trading.oms.events import FillReport, ReplaceRequest
from trading.oms.manager import Change
from trading.oms.order_state import OrderState
from trading.oms.states import EventKind
from trading.risk.engine import RiskEngine

__all__ = ["OmsRiskHook"]

_FILLS = (EventKind.FILL_PARTIAL, EventKind.FILL_COMPLETE)


class OmsRiskHook:
    """Pass :meth:`check` as ``OrderManager.submit(order, check=hook.check)`` and feed
    :meth:`on_change` every change the manager makes."""

    def __init__(self, engine: RiskEngine) -> None:
        self.engine = engine

    def check(self, order: Order) -> str | None:
        """The OMS ``PreTradeCheck``: None (accepted and reserved) or the denial text."""
        denial = self.engine.check(order)
        return None if denial is None else str(denial)

    def check_replace(self, state: OrderState, request: ReplaceRequest) -> str | None:
        """Check and reserve a replace's new terms under its new client order ID, for
        the quantity it leaves to fill. The old reservation stays until the venue
        answers, so both count meanwhile (the safe side)."""
        order = state.order
        quantity = request.quantity if request.quantity is not None else order.quantity
        remaining = quantity.value - state.cum_qty.value
        if remaining <= 0:
            return None  # the OMS refuses this replace itself; nothing to reserve
        limit = request.limit_price if request.limit_price is not None else order.limit_price
        replacement = Order(
            request.new_client_order_id,
            order.account,
            order.instrument,
            order.side,
            order.order_type,
            Quantity(remaining),
            limit,
            order.stop_price,
            order.time_in_force,
            order.expire_time_ns,
        )
        return self.check(replacement)

    def on_change(self, change: Change) -> None:
        """Move or free reservations as the table in the module docstring says."""
        kind = change.kind
        if change.duplicate or kind is None:
            return
        after, before = change.after, change.before
        account = after.account
        event = change.event
        if kind in _FILLS and isinstance(event, FillReport):
            order = after.order
            self.engine.on_fill(
                account,
                Fill(
                    event.exec_id,
                    event.client_order_id,
                    order.instrument,
                    order.side,
                    event.quantity,
                    event.price,
                    event.timestamp_ns,
                ),
            )
        pending = before.pending if before is not None else None
        if kind is EventKind.REPLACE_ACCEPT:
            self.engine.release(account, after.client_order_id)
        elif kind is EventKind.REPLACE_REJECT:
            if pending is not None:
                self.engine.release(account, pending.client_order_id)
        elif after.is_terminal:
            self.engine.release(account, after.client_order_id)
            if pending is not None:
                self.engine.release(account, pending.client_order_id)
