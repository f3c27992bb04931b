"""trading.oms: a FIX-aligned order state machine, persisted atomically in Redis.

* :mod:`~trading.oms.states`: statuses, event kinds and the transition table (data);
* :mod:`~trading.oms.events`: the events (client requests and venue reports);
* :mod:`~trading.oms.order_state`: one order's immutable state and ``step``;
* :mod:`~trading.oms.manager`: ``OrderBook`` (pure) and ``OrderManager`` (with a store);
* :mod:`~trading.oms.store`: ``RedisOrderStore``, one Lua script per change;
* :mod:`~trading.oms.venue`: the venue interface and ``PaperVenue``.

See docs/oms.md.
"""

from trading.oms.events import (
    Accept,
    CancelAccept,
    CancelReject,
    CancelRequest,
    Deny,
    Event,
    Expire,
    FillReport,
    Reject,
    ReplaceAccept,
    ReplaceReject,
    ReplaceRequest,
    Submit,
)
from trading.oms.manager import (
    Change,
    Contention,
    OrderBook,
    OrderManager,
    OrderStore,
    PreTradeCheck,
    Stored,
    WriteResult,
)
from trading.oms.order_state import OrderState, ReplaceTerms, Step, step
from trading.oms.states import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    WORKING,
    DuplicateOrder,
    EventKind,
    OrderStatus,
    UnknownOrder,
    render_table,
)

__all__ = [
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "WORKING",
    "Accept",
    "CancelAccept",
    "CancelReject",
    "CancelRequest",
    "Change",
    "Contention",
    "Deny",
    "DuplicateOrder",
    "Event",
    "EventKind",
    "Expire",
    "FillReport",
    "OrderBook",
    "OrderManager",
    "OrderState",
    "OrderStatus",
    "OrderStore",
    "PreTradeCheck",
    "Reject",
    "ReplaceAccept",
    "ReplaceReject",
    "ReplaceRequest",
    "ReplaceTerms",
    "Step",
    "Stored",
    "Submit",
    "UnknownOrder",
    "WriteResult",
    "render_table",
    "step",
]
