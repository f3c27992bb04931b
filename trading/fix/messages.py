"""Typed views of the messages the engine speaks: session messages (Logon, Heartbeat,
TestRequest, ResendRequest, Reject, SequenceReset, Logout) and order flow
(NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest, ExecutionReport,
OrderCancelReject, BusinessMessageReject).

Each class is a frozen dataclass whose attributes are annotated with their FIX tag
(``Annotated[Decimal | None, Tag.OrderQty]``). That one declaration drives both
directions, so a field cannot be read under one tag and written under another:

* ``X.from_message(message)`` reads the body fields; an attribute without ``None`` in
  its type is required and its absence raises :class:`FieldMissing`; a malformed or
  unmapped value raises :class:`FieldValueError` (both name the tag);
* ``x.to_message(begin_string)`` builds a :class:`Message` with 8 and 35 and the body;
  the session adds the rest of the header (49, 56, 34, 52) before encoding.

Values map to ``trading.core`` types where the meaning is the same: Side(54) 1/2 <->
``Side.BUY``/``SELL``, OrdType(40) 1-4 <-> ``OrderType``, TimeInForce(59) 0/1/3/4/6 <->
``TimeInForce``; prices and quantities are exact ``Decimal``. FIX values without a
core counterpart (sell short, OPG...) raise :class:`FieldValueError` rather than being
mapped to something close. FIX 4.2 requires two fields 4.4 dropped; ``to_message``
fills them when left ``None``: HandlInst(21) = ``"1"`` on orders and
ExecTransType(20) = ``"0"`` on execution reports.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, TypeVar

from trading.core.orders import OrderType, Side, TimeInForce
from trading.errors import FixError
from trading.fix.message import ORDER_TYPE_CODES, SIDE_CODES, TIME_IN_FORCE_CODES, Message
from trading.fix.tags import DATA_FIELDS, Tag
from trading.fix.validate import (
    FieldMissing,
    FieldValueError,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
    parse_timestamp,
)

__all__ = [
    "BusinessMessageReject",
    "ExecType",
    "ExecutionReport",
    "Heartbeat",
    "Logon",
    "Logout",
    "NewOrderSingle",
    "OrdStatus",
    "OrderCancelReject",
    "OrderCancelReplaceRequest",
    "OrderCancelRequest",
    "Reject",
    "ResendRequest",
    "SequenceReset",
    "TestRequest",
    "TypedMessage",
    "typed",
]


class ExecType(str, enum.Enum):
    """ExecType(150). PARTIAL_FILL and FILL are FIX 4.2; 4.4 reports fills as TRADE."""

    NEW = "0"
    PARTIAL_FILL = "1"
    FILL = "2"
    DONE_FOR_DAY = "3"
    CANCELED = "4"
    REPLACED = "5"
    PENDING_CANCEL = "6"
    STOPPED = "7"
    REJECTED = "8"
    SUSPENDED = "9"
    PENDING_NEW = "A"
    CALCULATED = "B"
    EXPIRED = "C"
    RESTATED = "D"
    PENDING_REPLACE = "E"
    TRADE = "F"
    TRADE_CORRECT = "G"
    TRADE_CANCEL = "H"
    ORDER_STATUS = "I"


class OrdStatus(str, enum.Enum):
    """OrdStatus(39)."""

    NEW = "0"
    PARTIALLY_FILLED = "1"
    FILLED = "2"
    DONE_FOR_DAY = "3"
    CANCELED = "4"
    REPLACED = "5"
    PENDING_CANCEL = "6"
    STOPPED = "7"
    REJECTED = "8"
    SUSPENDED = "9"
    PENDING_NEW = "A"
    CALCULATED = "B"
    EXPIRED = "C"
    ACCEPTED_FOR_BIDDING = "D"
    PENDING_REPLACE = "E"


def _from_codes(codes: Mapping[Any, bytes], what: str) -> Callable[[int, bytes], Any]:
    reverse = {code: member for member, code in codes.items()}

    def decode(tag: int, raw: bytes) -> Any:
        try:
            return reverse[raw]
        except KeyError:
            raise FieldValueError(tag, raw, what) from None

    return decode


def _str_enum(cls: type[enum.Enum]) -> Callable[[int, bytes], Any]:
    def decode(tag: int, raw: bytes) -> Any:
        try:
            return cls(raw.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            raise FieldValueError(tag, raw, cls.__name__) from None

    return decode


def _text(tag: int, raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _raw(tag: int, raw: bytes) -> bytes:
    return raw


_DECODERS: dict[object, Callable[[int, bytes], Any]] = {
    str: _text,
    bytes: _raw,
    int: parse_int,
    bool: parse_bool,
    Decimal: parse_decimal,
    datetime: parse_timestamp,
    date: parse_date,
    Side: _from_codes(SIDE_CODES, "Side (1 or 2)"),
    OrderType: _from_codes(ORDER_TYPE_CODES, "OrdType (1-4)"),
    TimeInForce: _from_codes(TIME_IN_FORCE_CODES, "TimeInForce (0, 1, 3, 4 or 6)"),
    ExecType: _str_enum(ExecType),
    OrdStatus: _str_enum(OrdStatus),
}

# (attribute, tag, decoder, required)
_Spec = tuple[tuple[str, int, Callable[[int, bytes], Any], bool], ...]
_T = TypeVar("_T", bound="TypedMessage")

# Fields FIX 4.2 requires that 4.4 made optional: written when left None.
_FIX42_DEFAULTS: dict[bytes, tuple[tuple[int, bytes], ...]] = {
    b"D": ((21, b"1"),),
    b"G": ((21, b"1"),),
    b"8": ((20, b"0"),),
}


_SPECS: dict[type, _Spec] = {}


def _spec(cls: type) -> _Spec:
    """The (attribute, tag, decoder, required) rows of a typed message, built once."""
    found = _SPECS.get(cls)
    if found is not None:
        return found
    rows = []
    for name, hint in typing.get_type_hints(cls, include_extras=True).items():
        if typing.get_origin(hint) is not Annotated:
            continue
        inner, tag = typing.get_args(hint)[:2]
        options = typing.get_args(inner)
        optional = typing.get_origin(inner) in (typing.Union, types.UnionType) and (
            type(None) in options
        )
        base = next(a for a in options if a is not type(None)) if optional else inner
        rows.append((name, int(tag), _DECODERS[base], not optional))
    found = _SPECS[cls] = tuple(rows)
    return found


class TypedMessage:
    """Shared behaviour of the typed messages (see the module docstring)."""

    __slots__ = ()
    MSG_TYPE: ClassVar[bytes]

    @classmethod
    def from_message(cls: type[_T], message: Message) -> _T:
        """Read the body of ``message``; FixError if its MsgType is not ``MSG_TYPE``."""
        msg_type = message.get(35)
        if msg_type != cls.MSG_TYPE:
            raise FixError(f"{cls.__name__} needs MsgType {cls.MSG_TYPE!r}, got {msg_type!r}")
        values: dict[str, Any] = {}
        get = message.get
        for name, tag, decode, required in _spec(cls):
            raw = get(tag)
            if raw is None:
                if required:
                    raise FieldMissing(tag, cls.__name__)
                continue
            values[name] = decode(tag, raw)
        return cls(**values)

    def to_message(self, begin_string: str | bytes = b"FIX.4.4") -> Message:
        """A message with BeginString, MsgType and this body (None attributes left out)."""
        fields = [(tag, getattr(self, name)) for name, tag, _, _ in _spec(type(self))]
        data = [(tag, value) for tag, value in fields if tag in DATA_FIELDS]
        if data:
            fields = [(tag, value) for tag, value in fields if tag not in DATA_FIELDS]
        message = Message.build(begin_string, self.MSG_TYPE, fields)
        for tag, value in data:
            if value is not None:
                message.append_data(tag, value)
        if begin_string in ("FIX.4.2", b"FIX.4.2"):
            for tag, default in _FIX42_DEFAULTS.get(self.MSG_TYPE, ()):
                if tag not in message:
                    message.append(tag, default)
        return message


@dataclass(frozen=True, slots=True)
class Logon(TypedMessage):
    MSG_TYPE: ClassVar[bytes] = b"A"
    heart_bt_int: Annotated[int, Tag.HeartBtInt]
    encrypt_method: Annotated[int, Tag.EncryptMethod] = 0
    reset_seq_num_flag: Annotated[bool | None, Tag.ResetSeqNumFlag] = None
    next_expected_msg_seq_num: Annotated[int | None, Tag.NextExpectedMsgSeqNum] = None
    max_message_size: Annotated[int | None, Tag.MaxMessageSize] = None
    username: Annotated[str | None, Tag.Username] = None
    password: Annotated[str | None, Tag.Password] = None
    raw_data: Annotated[bytes | None, Tag.RawData] = None


@dataclass(frozen=True, slots=True)
class Heartbeat(TypedMessage):
    MSG_TYPE: ClassVar[bytes] = b"0"
    test_req_id: Annotated[str | None, Tag.TestReqID] = None


@dataclass(frozen=True, slots=True)
class TestRequest(TypedMessage):
    MSG_TYPE: ClassVar[bytes] = b"1"
    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name
    test_req_id: Annotated[str, Tag.TestReqID]


@dataclass(frozen=True, slots=True)
class ResendRequest(TypedMessage):
    """EndSeqNo 0 means "everything after BeginSeqNo" (FIX 4.2 and later)."""

    MSG_TYPE: ClassVar[bytes] = b"2"
    begin_seq_no: Annotated[int, Tag.BeginSeqNo]
    end_seq_no: Annotated[int, Tag.EndSeqNo] = 0


@dataclass(frozen=True, slots=True)
class Reject(TypedMessage):
    MSG_TYPE: ClassVar[bytes] = b"3"
    ref_seq_num: Annotated[int, Tag.RefSeqNum]
    ref_tag_id: Annotated[int | None, Tag.RefTagID] = None
    ref_msg_type: Annotated[str | None, Tag.RefMsgType] = None
    session_reject_reason: Annotated[int | None, Tag.SessionRejectReason] = None
    text: Annotated[str | None, Tag.Text] = None


@dataclass(frozen=True, slots=True)
class SequenceReset(TypedMessage):
    MSG_TYPE: ClassVar[bytes] = b"4"
    new_seq_no: Annotated[int, Tag.NewSeqNo]
    gap_fill_flag: Annotated[bool | None, Tag.GapFillFlag] = None


@dataclass(frozen=True, slots=True)
class Logout(TypedMessage):
    MSG_TYPE: ClassVar[bytes] = b"5"
    text: Annotated[str | None, Tag.Text] = None


@dataclass(frozen=True, slots=True)
class NewOrderSingle(TypedMessage):
    MSG_TYPE: ClassVar[bytes] = b"D"
    cl_ord_id: Annotated[str, Tag.ClOrdID]
    side: Annotated[Side, Tag.Side]
    transact_time: Annotated[datetime, Tag.TransactTime]
    ord_type: Annotated[OrderType, Tag.OrdType]
    symbol: Annotated[str | None, Tag.Symbol] = None
    order_qty: Annotated[Decimal | None, Tag.OrderQty] = None
    price: Annotated[Decimal | None, Tag.Price] = None
    stop_px: Annotated[Decimal | None, Tag.StopPx] = None
    time_in_force: Annotated[TimeInForce | None, Tag.TimeInForce] = None
    expire_time: Annotated[datetime | None, Tag.ExpireTime] = None
    account: Annotated[str | None, Tag.Account] = None
    currency: Annotated[str | None, Tag.Currency] = None
    handl_inst: Annotated[str | None, Tag.HandlInst] = None
    text: Annotated[str | None, Tag.Text] = None


@dataclass(frozen=True, slots=True)
class OrderCancelRequest(TypedMessage):
    MSG_TYPE: ClassVar[bytes] = b"F"
    orig_cl_ord_id: Annotated[str, Tag.OrigClOrdID]
    cl_ord_id: Annotated[str, Tag.ClOrdID]
    side: Annotated[Side, Tag.Side]
    transact_time: Annotated[datetime, Tag.TransactTime]
    symbol: Annotated[str | None, Tag.Symbol] = None
    order_qty: Annotated[Decimal | None, Tag.OrderQty] = None
    order_id: Annotated[str | None, Tag.OrderID] = None
    account: Annotated[str | None, Tag.Account] = None
    text: Annotated[str | None, Tag.Text] = None


@dataclass(frozen=True, slots=True)
class OrderCancelReplaceRequest(TypedMessage):
    MSG_TYPE: ClassVar[bytes] = b"G"
    orig_cl_ord_id: Annotated[str, Tag.OrigClOrdID]
    cl_ord_id: Annotated[str, Tag.ClOrdID]
    side: Annotated[Side, Tag.Side]
    transact_time: Annotated[datetime, Tag.TransactTime]
    ord_type: Annotated[OrderType, Tag.OrdType]
    symbol: Annotated[str | None, Tag.Symbol] = None
    order_qty: Annotated[Decimal | None, Tag.OrderQty] = None
    price: Annotated[Decimal | None, Tag.Price] = None
    stop_px: Annotated[Decimal | None, Tag.StopPx] = None
    time_in_force: Annotated[TimeInForce | None, Tag.TimeInForce] = None
    expire_time: Annotated[datetime | None, Tag.ExpireTime] = None
    order_id: Annotated[str | None, Tag.OrderID] = None
    account: Annotated[str | None, Tag.Account] = None
    handl_inst: Annotated[str | None, Tag.HandlInst] = None
    text: Annotated[str | None, Tag.Text] = None


@dataclass(frozen=True, slots=True)
class ExecutionReport(TypedMessage):
    """FIX 4.2 also requires Symbol(55); LastQty(32) is 4.2's LastShares."""

    MSG_TYPE: ClassVar[bytes] = b"8"
    order_id: Annotated[str, Tag.OrderID]
    exec_id: Annotated[str, Tag.ExecID]
    exec_type: Annotated[ExecType, Tag.ExecType]
    ord_status: Annotated[OrdStatus, Tag.OrdStatus]
    side: Annotated[Side, Tag.Side]
    leaves_qty: Annotated[Decimal, Tag.LeavesQty]
    cum_qty: Annotated[Decimal, Tag.CumQty]
    avg_px: Annotated[Decimal, Tag.AvgPx]
    cl_ord_id: Annotated[str | None, Tag.ClOrdID] = None
    orig_cl_ord_id: Annotated[str | None, Tag.OrigClOrdID] = None
    symbol: Annotated[str | None, Tag.Symbol] = None
    order_qty: Annotated[Decimal | None, Tag.OrderQty] = None
    ord_type: Annotated[OrderType | None, Tag.OrdType] = None
    price: Annotated[Decimal | None, Tag.Price] = None
    stop_px: Annotated[Decimal | None, Tag.StopPx] = None
    time_in_force: Annotated[TimeInForce | None, Tag.TimeInForce] = None
    last_qty: Annotated[Decimal | None, Tag.LastQty] = None
    last_px: Annotated[Decimal | None, Tag.LastPx] = None
    transact_time: Annotated[datetime | None, Tag.TransactTime] = None
    ord_rej_reason: Annotated[int | None, Tag.OrdRejReason] = None
    exec_trans_type: Annotated[str | None, Tag.ExecTransType] = None
    account: Annotated[str | None, Tag.Account] = None
    text: Annotated[str | None, Tag.Text] = None


@dataclass(frozen=True, slots=True)
class OrderCancelReject(TypedMessage):
    """CxlRejResponseTo(434): ``"1"`` for a cancel request, ``"2"`` for cancel/replace."""

    MSG_TYPE: ClassVar[bytes] = b"9"
    order_id: Annotated[str, Tag.OrderID]
    cl_ord_id: Annotated[str, Tag.ClOrdID]
    orig_cl_ord_id: Annotated[str, Tag.OrigClOrdID]
    ord_status: Annotated[OrdStatus, Tag.OrdStatus]
    cxl_rej_response_to: Annotated[str, Tag.CxlRejResponseTo]
    cxl_rej_reason: Annotated[int | None, Tag.CxlRejReason] = None
    account: Annotated[str | None, Tag.Account] = None
    text: Annotated[str | None, Tag.Text] = None


@dataclass(frozen=True, slots=True)
class BusinessMessageReject(TypedMessage):
    MSG_TYPE: ClassVar[bytes] = b"j"
    ref_msg_type: Annotated[str, Tag.RefMsgType]
    business_reject_reason: Annotated[int, Tag.BusinessRejectReason]
    ref_seq_num: Annotated[int | None, Tag.RefSeqNum] = None
    business_reject_ref_id: Annotated[str | None, Tag.BusinessRejectRefID] = None
    text: Annotated[str | None, Tag.Text] = None


_BY_TYPE: dict[bytes, type[TypedMessage]] = {
    cls.MSG_TYPE: cls
    for cls in (
        Logon,
        Heartbeat,
        TestRequest,
        ResendRequest,
        Reject,
        SequenceReset,
        Logout,
        NewOrderSingle,
        OrderCancelRequest,
        OrderCancelReplaceRequest,
        ExecutionReport,
        OrderCancelReject,
        BusinessMessageReject,
    )
}


def typed(message: Message) -> TypedMessage | None:
    """The typed view of ``message``, or None when its MsgType has no class here.

    Raises :class:`FieldMissing` / :class:`FieldValueError` like ``from_message``.
    """
    cls = _BY_TYPE.get(message.get(35, b""))
    return None if cls is None else cls.from_message(message)
