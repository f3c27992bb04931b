"""Order statuses, event kinds and the transition table: the state machine as data.

Theory of operation
-------------------
An order's life is a path through :class:`OrderStatus`, driven by events. The only
source of truth for which event is allowed in which status is :data:`TRANSITIONS`, a
mapping ``(status, event kind) -> target``. Everything else reads it:

* ``OrderState.apply`` (in memory) looks the pair up and raises
  :class:`~trading.errors.InvalidTransition` when it is missing;
* the Redis script (``store.py``) embeds the same table, generated from this data, and
  refuses a write whose ``from -> to`` it does not list;
* ``docs/oms.md`` shows the table rendered by :func:`render_table`; a test checks the
  document is identical.

The row :data:`NO_ORDER` (``None``) is the status before the order exists: only the
creation events (``submit``, ``deny``, and ``replace_accept`` for the replacement
order) start there. A target of :data:`WORKING` means "back to working": ``new`` when
nothing is filled, ``partially_filled`` otherwise, which is what FIX reports after a
cancel or replace is rejected. A fill is classified before the lookup as
``fill_partial`` or ``fill_complete`` (does it leave anything to fill?), so every
target is fixed by the table and no arithmetic hides in it.

Terminal statuses (filled, canceled, replaced, rejected, expired, denied) have no row
entries: they absorb, and any event there is an invalid transition.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from trading.errors import InvalidTransition

__all__ = [
    "NO_ORDER",
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "WORKING",
    "DuplicateOrder",
    "EventKind",
    "OrderStatus",
    "Target",
    "UnknownOrder",
    "Working",
    "allowed_events",
    "next_status",
    "render_table",
    "resolve",
]


class OrderStatus(str, enum.Enum):
    """Where an order is in its life. Values are lower-case and FIX-aligned; ``denied``
    is ours (a pre-trade check refused the order, so no venue ever saw it)."""

    PENDING_NEW = "pending_new"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    PENDING_REPLACE = "pending_replace"
    REPLACED = "replaced"
    REJECTED = "rejected"
    EXPIRED = "expired"
    DENIED = "denied"

    @property
    def fix_code(self) -> str | None:
        """FIX OrdStatus (tag 39) value, or None for ``denied`` (never sent anywhere)."""
        return _FIX_CODES[self]

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


_FIX_CODES: Final[Mapping[OrderStatus, str | None]] = {
    OrderStatus.PENDING_NEW: "A",
    OrderStatus.NEW: "0",
    OrderStatus.PARTIALLY_FILLED: "1",
    OrderStatus.FILLED: "2",
    OrderStatus.PENDING_CANCEL: "6",
    OrderStatus.CANCELED: "4",
    OrderStatus.PENDING_REPLACE: "E",
    OrderStatus.REPLACED: "5",
    OrderStatus.REJECTED: "8",
    OrderStatus.EXPIRED: "C",
    OrderStatus.DENIED: None,
}


class EventKind(str, enum.Enum):
    """What happened to an order. ``fill_partial``/``fill_complete`` are the two ways one
    fill event (``FillReport``) can land, decided by whether it leaves anything to fill."""

    SUBMIT = "submit"
    DENY = "deny"
    ACCEPT = "accept"
    REJECT = "reject"
    FILL_PARTIAL = "fill_partial"
    FILL_COMPLETE = "fill_complete"
    CANCEL_REQUEST = "cancel_request"
    CANCEL_ACCEPT = "cancel_accept"
    CANCEL_REJECT = "cancel_reject"
    REPLACE_REQUEST = "replace_request"
    REPLACE_ACCEPT = "replace_accept"
    REPLACE_REJECT = "replace_reject"
    EXPIRE = "expire"


class Working(enum.Enum):
    """The one non-status target: ``new`` if nothing is filled, else ``partially_filled``."""

    WORKING = "working"


WORKING: Final = Working.WORKING
Target = OrderStatus | Working

#: The "status" of an order that does not exist yet (the creation row of the table).
NO_ORDER: Final = None

_S = OrderStatus
_E = EventKind


def _live(**extra: Target) -> dict[EventKind, Target]:
    """The events a working order (new or partially filled) accepts."""
    table: dict[EventKind, Target] = {
        _E.FILL_PARTIAL: _S.PARTIALLY_FILLED,
        _E.FILL_COMPLETE: _S.FILLED,
        _E.CANCEL_REQUEST: _S.PENDING_CANCEL,
        _E.CANCEL_ACCEPT: _S.CANCELED,  # unsolicited: IOC remainder, venue-side cancel
        _E.REPLACE_REQUEST: _S.PENDING_REPLACE,
        _E.EXPIRE: _S.EXPIRED,
    }
    table.update({_E(k): v for k, v in extra.items()})
    return table


_ROWS: dict[OrderStatus | None, dict[EventKind, Target]] = {
    NO_ORDER: {
        _E.SUBMIT: _S.PENDING_NEW,
        _E.DENY: _S.DENIED,
        _E.REPLACE_ACCEPT: WORKING,  # the replacement order is born with the old cum qty
    },
    _S.PENDING_NEW: {
        _E.ACCEPT: _S.NEW,
        _E.REJECT: _S.REJECTED,
        _E.FILL_PARTIAL: _S.PARTIALLY_FILLED,  # a fill implies the venue accepted it
        _E.FILL_COMPLETE: _S.FILLED,
    },
    _S.NEW: _live(),
    _S.PARTIALLY_FILLED: _live(),
    _S.PENDING_CANCEL: {
        _E.FILL_PARTIAL: _S.PENDING_CANCEL,
        _E.FILL_COMPLETE: _S.FILLED,
        _E.CANCEL_ACCEPT: _S.CANCELED,
        _E.CANCEL_REJECT: WORKING,
        _E.EXPIRE: _S.EXPIRED,
    },
    _S.PENDING_REPLACE: {
        _E.FILL_PARTIAL: _S.PENDING_REPLACE,
        _E.FILL_COMPLETE: _S.FILLED,
        _E.CANCEL_ACCEPT: _S.CANCELED,
        _E.REPLACE_ACCEPT: _S.REPLACED,
        _E.REPLACE_REJECT: WORKING,
        _E.EXPIRE: _S.EXPIRED,
    },
    _S.FILLED: {},
    _S.CANCELED: {},
    _S.REPLACED: {},
    _S.REJECTED: {},
    _S.EXPIRED: {},
    _S.DENIED: {},
}

#: ``(status or NO_ORDER, event kind) -> target``. A pair that is absent is refused.
TRANSITIONS: Final[Mapping[tuple[OrderStatus | None, EventKind], Target]] = MappingProxyType(
    {(status, kind): target for status, row in _ROWS.items() for kind, target in row.items()}
)

TERMINAL_STATUSES: Final = frozenset(s for s in OrderStatus if not _ROWS[s])
#: Statuses indexed as "open" in Redis: not terminal (pending_new included).
OPEN_STATUSES: Final = frozenset(s for s in OrderStatus if s not in TERMINAL_STATUSES)


class UnknownOrder(InvalidTransition):
    """An event for an order that does not exist (in this account)."""


class DuplicateOrder(InvalidTransition):
    """A creation event for a client order id the account already has, with different
    content (an identical resubmission is a retry and returns the stored order)."""


def resolve(target: Target, filled: bool) -> OrderStatus:
    """The concrete status of ``target``; ``filled`` says whether cum qty > 0."""
    if isinstance(target, OrderStatus):
        return target
    return _S.PARTIALLY_FILLED if filled else _S.NEW


def next_status(
    status: OrderStatus | None, kind: EventKind, *, filled: bool, where: str
) -> OrderStatus:
    """The status after ``kind`` in ``status``, or raise :class:`InvalidTransition`.

    ``where`` names the order in the message (``acc/c1``). For the ``NO_ORDER`` row the
    error is :class:`UnknownOrder`; for a creation event on an existing order it is
    :class:`DuplicateOrder`.
    """
    target = TRANSITIONS.get((status, kind))
    if target is not None:
        return resolve(target, filled)
    if status is NO_ORDER:
        raise UnknownOrder(f"{where}: no such order, so {kind.value} is not possible")
    if kind in (_E.SUBMIT, _E.DENY):
        raise DuplicateOrder(f"{where}: client order id already used (order is {status.value})")
    raise InvalidTransition(f"{where}: {kind.value} is not allowed in status {status.value}")


def allowed_events(status: OrderStatus | None) -> tuple[EventKind, ...]:
    return tuple(kind for kind in EventKind if (status, kind) in TRANSITIONS)


def allowed_targets() -> dict[tuple[str, str], tuple[str, ...]]:
    """The table with targets resolved to concrete statuses, keyed by plain strings
    (``""`` for ``NO_ORDER``): what the Redis script checks."""
    out: dict[tuple[str, str], tuple[str, ...]] = {}
    for (status, kind), target in TRANSITIONS.items():
        concrete = (
            (target.value,)
            if isinstance(target, OrderStatus)
            else (_S.NEW.value, _S.PARTIALLY_FILLED.value)
        )
        out[("" if status is None else status.value, kind.value)] = concrete
    return out


def render_table(kinds: Iterable[EventKind] = tuple(EventKind)) -> str:
    """The transition table as Markdown: one row per status, one column per event kind,
    the target in each allowed cell and ``·`` elsewhere."""
    kinds = tuple(kinds)
    header = "| status \\ event | " + " | ".join(k.value for k in kinds) + " |"
    rule = "|---|" + "---|" * len(kinds)
    lines = [header, rule]
    for status in _ROWS:
        name = "(no order)" if status is None else status.value
        cells = []
        for kind in kinds:
            target = TRANSITIONS.get((status, kind))
            cells.append("·" if target is None else target.value)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
