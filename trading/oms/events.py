"""Order events: what a client asks for and what a venue reports.

Every event names its order by ``account`` and ``client_order_id`` (unique per
account) and carries ``timestamp_ns`` (nanoseconds since the epoch; 0 lets the manager
stamp it with its clock). :data:`Event` is the closed union of all of them, so code
that handles events uses ``match`` ending in ``assert_never``.

Venue reports may carry ``exec_id`` (FIX ExecID). A report whose ``exec_id`` was
already applied to the order is a no-op: a venue that re-delivers after a crash cannot
apply anything twice. For fills the id is mandatory, since a double fill is the costly
case; other reports may omit it (then a re-delivered report is refused as an invalid
transition, which changes nothing either).

Events validate only what they can see alone (a positive fill quantity, a replace that
changes something). Whether the order allows the event is the state machine's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from trading.core import Order, Price, Quantity
from trading.errors import OrderError

__all__ = [
    "Accept",
    "CancelAccept",
    "CancelReject",
    "CancelRequest",
    "Deny",
    "Event",
    "Expire",
    "FillReport",
    "Reject",
    "ReplaceAccept",
    "ReplaceReject",
    "ReplaceRequest",
    "Submit",
]


@dataclass(frozen=True, slots=True)
class _OrderEvent:
    """Base of the events that carry the whole order (its ids come from it)."""

    order: Order

    @property
    def account(self) -> str:
        return self.order.account

    @property
    def client_order_id(self) -> str:
        return self.order.client_order_id


@dataclass(frozen=True, slots=True)
class _Report:
    """Base of the venue reports that change the status and carry nothing else."""

    account: str
    client_order_id: str
    exec_id: str | None = None
    timestamp_ns: int = 0


@dataclass(frozen=True, slots=True)
class _Refusal:
    """Base of the venue refusals: a report with the venue's ``reason``."""

    account: str
    client_order_id: str
    reason: str
    exec_id: str | None = None
    timestamp_ns: int = 0


@dataclass(frozen=True, slots=True)
class Submit(_OrderEvent):
    """The client sends ``order``. Creates the order in ``pending_new``."""

    timestamp_ns: int = 0


@dataclass(frozen=True, slots=True)
class Deny(_OrderEvent):
    """A pre-trade check refused ``order``: it is recorded in ``denied`` and never sent."""

    reason: str
    timestamp_ns: int = 0


@dataclass(frozen=True, slots=True)
class Accept(_Report):
    """The venue acknowledged the order (FIX ExecType New)."""


@dataclass(frozen=True, slots=True)
class Reject(_Refusal):
    """The venue refused the new order (FIX ExecType Rejected)."""


@dataclass(frozen=True, slots=True)
class FillReport:
    """``quantity`` traded at ``price`` (FIX ExecType Trade). ``exec_id`` is mandatory
    and makes re-delivery harmless. Whether it completes the order is decided when it
    is applied; more than the leaves quantity is refused."""

    account: str
    client_order_id: str
    exec_id: str
    quantity: Quantity
    price: Price
    timestamp_ns: int = 0

    def __post_init__(self) -> None:
        where = f"{self.account}/{self.client_order_id}"
        if not isinstance(self.exec_id, str) or not self.exec_id:
            raise OrderError(f"{where}: a fill needs a non-empty exec_id")
        if not isinstance(self.quantity, Quantity) or self.quantity.value <= 0:
            raise OrderError(f"{where}: fill {self.exec_id} quantity must be > 0")
        if not isinstance(self.price, Price) or self.price.value <= 0:
            raise OrderError(f"{where}: fill {self.exec_id} price must be > 0")


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """The client asks to cancel the rest of the order (FIX OrderCancelRequest)."""

    account: str
    client_order_id: str
    timestamp_ns: int = 0


@dataclass(frozen=True, slots=True)
class CancelAccept(_Report):
    """The venue canceled the order: the answer to a cancel request, or unsolicited
    (an IOC remainder, a venue-side cancel)."""


@dataclass(frozen=True, slots=True)
class CancelReject(_Refusal):
    """The venue refused the cancel request (FIX OrderCancelReject); the order keeps
    working."""


@dataclass(frozen=True, slots=True)
class ReplaceRequest:
    """The client asks to replace the order by ``new_client_order_id`` with a new
    ``quantity`` and/or ``limit_price`` (FIX OrderCancelReplaceRequest). At least one
    of them must be given; the new id must differ from the current one."""

    account: str
    client_order_id: str
    new_client_order_id: str
    quantity: Quantity | None = None
    limit_price: Price | None = None
    timestamp_ns: int = 0

    def __post_init__(self) -> None:
        where = f"{self.account}/{self.client_order_id}"
        new = self.new_client_order_id
        if not isinstance(new, str) or not new.strip() or new == self.client_order_id:
            raise OrderError(f"{where}: replace needs a new, different client order id")
        if self.quantity is None and self.limit_price is None:
            raise OrderError(f"{where}: replace must change the quantity or the limit price")


@dataclass(frozen=True, slots=True)
class ReplaceAccept(_Report):
    """The venue replaced the order: the old id ends in ``replaced`` and the pending
    request's new id continues with the new terms and the filled quantity so far."""


@dataclass(frozen=True, slots=True)
class ReplaceReject(_Refusal):
    """The venue refused the replace request; the order keeps working unchanged."""


@dataclass(frozen=True, slots=True)
class Expire(_Report):
    """The order's time in force ran out (DAY at session end, GTD at its expiry)."""


Event: TypeAlias = (
    Submit
    | Deny
    | Accept
    | Reject
    | FillReport
    | CancelRequest
    | CancelAccept
    | CancelReject
    | ReplaceRequest
    | ReplaceAccept
    | ReplaceReject
    | Expire
)
