"""Typed messages: round trips through the wire, mapping to trading.core types,
required fields, FIX 4.2 defaults, and errors that name the tag."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from trading.core import OrderType, Side, TimeInForce
from trading.errors import FixError
from trading.fix import (
    BusinessMessageReject,
    ExecType,
    ExecutionReport,
    FieldMissing,
    FieldValue,
    FieldValueError,
    Heartbeat,
    Logon,
    Logout,
    Message,
    NewOrderSingle,
    OrderCancelReject,
    OrderCancelReplaceRequest,
    OrderCancelRequest,
    OrdStatus,
    Reject,
    ResendRequest,
    SequenceReset,
    TestRequest,
    TypedMessage,
    dictionary_for,
    parse,
    typed,
    validate,
)

T0 = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
HEADER: list[tuple[int, FieldValue]] = [(49, "CLIENT"), (56, "BROKER"), (34, 9), (52, T0)]

SAMPLES: list[TypedMessage] = [
    Logon(heart_bt_int=30, reset_seq_num_flag=True, raw_data=b"tok\x01en"),
    Logon(heart_bt_int=30, username="u", password="p", next_expected_msg_seq_num=5),
    Heartbeat(),
    Heartbeat(test_req_id="T1"),
    TestRequest(test_req_id="T2"),
    ResendRequest(begin_seq_no=5, end_seq_no=0),
    Reject(ref_seq_num=4, ref_tag_id=44, ref_msg_type="D", session_reject_reason=6, text="x"),
    SequenceReset(new_seq_no=20, gap_fill_flag=True),
    Logout(text="bye"),
    NewOrderSingle(
        cl_ord_id="C1",
        side=Side.BUY,
        transact_time=T0,
        ord_type=OrderType.LIMIT,
        symbol="AAPL",
        order_qty=Decimal("100"),
        price=Decimal("187.25"),
        time_in_force=TimeInForce.GTC,
        account="ACC",
    ),
    NewOrderSingle(
        cl_ord_id="C2",
        side=Side.SELL,
        transact_time=T0,
        ord_type=OrderType.STOP_LIMIT,
        symbol="MSFT",
        order_qty=Decimal("0.5"),
        price=Decimal("10"),
        stop_px=Decimal("10.5"),
        time_in_force=TimeInForce.GTD,
        expire_time=T0,
    ),
    OrderCancelRequest(
        orig_cl_ord_id="C1", cl_ord_id="C3", side=Side.BUY, transact_time=T0, symbol="AAPL"
    ),
    OrderCancelReplaceRequest(
        orig_cl_ord_id="C1",
        cl_ord_id="C4",
        side=Side.BUY,
        transact_time=T0,
        ord_type=OrderType.MARKET,
        symbol="AAPL",
        order_qty=Decimal("50"),
        time_in_force=TimeInForce.IOC,
    ),
    ExecutionReport(
        order_id="O1",
        exec_id="E1",
        exec_type=ExecType.TRADE,
        ord_status=OrdStatus.PARTIALLY_FILLED,
        side=Side.BUY,
        leaves_qty=Decimal("60"),
        cum_qty=Decimal("40"),
        avg_px=Decimal("187.2"),
        cl_ord_id="C1",
        symbol="AAPL",
        order_qty=Decimal("100"),
        last_qty=Decimal("40"),
        last_px=Decimal("187.2"),
        transact_time=T0,
        time_in_force=TimeInForce.FOK,
    ),
    OrderCancelReject(
        order_id="O1",
        cl_ord_id="C3",
        orig_cl_ord_id="C1",
        ord_status=OrdStatus.FILLED,
        cxl_rej_response_to="1",
        cxl_rej_reason=0,
        text="too late",
    ),
    BusinessMessageReject(ref_msg_type="Z", business_reject_reason=3, ref_seq_num=8),
]


def on_the_wire(message: Message) -> Message:
    for tag, value in HEADER:
        message.set(tag, value)
    return parse(message.encode())


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_round_trip_through_the_wire(sample: TypedMessage) -> None:
    received = on_the_wire(sample.to_message("FIX.4.4"))
    assert type(sample).from_message(received) == sample
    assert typed(received) == sample
    assert validate(received, dictionary_for("FIX.4.4")) is None


def test_core_types_map_to_fix_codes() -> None:
    message = SAMPLES[10].to_message()
    assert [message.get(t) for t in (54, 40, 59, 38, 44, 99)] == [
        b"2",
        b"4",
        b"6",
        b"0.5",
        b"10",
        b"10.5",
    ]
    assert message.get(60) == b"20240102-03:04:05.678"


def test_fix42_defaults_make_valid_messages() -> None:
    nos = NewOrderSingle(
        cl_ord_id="C1", side=Side.BUY, transact_time=T0, ord_type=OrderType.MARKET, symbol="X"
    )
    received = on_the_wire(nos.to_message("FIX.4.2"))
    assert received.get(21) == b"1"
    assert validate(received, dictionary_for("FIX.4.2")) is None
    er = ExecutionReport(
        order_id="O",
        exec_id="E",
        exec_type=ExecType.FILL,
        ord_status=OrdStatus.FILLED,
        side=Side.SELL,
        leaves_qty=Decimal(0),
        cum_qty=Decimal(5),
        avg_px=Decimal(1),
        symbol="X",
    )
    received = on_the_wire(er.to_message("FIX.4.2"))
    assert received.get(20) == b"0"
    assert validate(received, dictionary_for("FIX.4.2")) is None
    assert 21 not in nos.to_message("FIX.4.4")


def test_missing_required_field_names_tag_and_message() -> None:
    message = Message.build("FIX.4.4", "1")
    with pytest.raises(FieldMissing, match="TestRequest: required field 112 is missing"):
        TestRequest.from_message(message)


@pytest.mark.parametrize(
    ("tag", "raw", "what"),
    [
        (54, b"5", "Side"),  # sell short has no core counterpart
        (40, b"P", "OrdType"),
        (59, b"2", "TimeInForce"),
        (38, b"lots", "decimal"),
        (60, b"yesterday", "UTCTimestamp"),
    ],
)
def test_unmapped_or_malformed_values_raise(tag: int, raw: bytes, what: str) -> None:
    message = SAMPLES[9].to_message()
    message.set(tag, raw)
    with pytest.raises(FieldValueError, match=f"field {tag}: .* {what}"):
        NewOrderSingle.from_message(message)


def test_unknown_exec_type_raises() -> None:
    message = SAMPLES[13].to_message()
    message.set(150, "Q")
    with pytest.raises(FieldValueError, match="field 150: b'Q' is not a valid ExecType"):
        ExecutionReport.from_message(message)


def test_wrong_msg_type_is_refused() -> None:
    with pytest.raises(FixError, match="Heartbeat needs MsgType b'0', got b'1'"):
        Heartbeat.from_message(TestRequest(test_req_id="x").to_message())


def test_typed_returns_none_for_other_types() -> None:
    assert typed(Message.build("FIX.4.4", "V")) is None


def test_received_text_is_kept_while_typed_view_is_exact() -> None:
    message = SAMPLES[9].to_message()
    message.set(38, b"002000.00")
    order = NewOrderSingle.from_message(message)
    assert order.order_qty == Decimal("2000")
    assert message.get(38) == b"002000.00"
