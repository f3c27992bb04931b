"""Message: typed building, canonical encoding with groups, BodyLength/CheckSum,
typed getters and their errors."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from trading.core import OrderType, Price, Quantity, Side, TimeInForce
from trading.errors import FixError, FixParseError
from trading.fix import (
    FieldMissing,
    FieldValue,
    FieldValueError,
    Message,
    Tag,
    checksum,
    dictionary_for,
    parse,
    to_bytes,
)

SOH = b"\x01"


def tags_of(raw: bytes) -> list[int]:
    return [int(f.split(b"=", 1)[0]) for f in raw.split(SOH)[:-1]]


def test_encode_computes_body_length_and_checksum() -> None:
    raw = Message.build("FIX.4.4", "0", [(49, "A"), (56, "B"), (34, 1)]).encode()
    assert raw == b"8=FIX.4.4\x019=20\x0135=0\x0134=1\x0149=A\x0156=B\x0110=%03d\x01" % (
        sum(raw[:-7]) % 256
    )
    assert parse(raw).encode() == raw


def test_stale_length_and_checksum_are_replaced() -> None:
    message = Message([(8, b"FIX.4.4"), (9, b"999"), (35, b"0"), (10, b"000"), (49, b"A")])
    raw = message.encode()
    assert raw.startswith(b"8=FIX.4.4\x019=10\x0135=0\x0149=A\x01")
    assert raw.count(b"\x0110=") == 1
    parse(raw)  # verifies both


def test_canonical_order_header_body_trailer() -> None:
    message = Message.build(
        "FIX.4.4",
        "D",
        [
            (55, "X"),
            (52, "20240101-00:00:00"),
            (11, "A"),
            (34, 5),
            (49, "S"),
            (1, "acc"),
            (56, "T"),
            (43, True),
            (60, "20240101-00:00:00"),
            (5001, "custom"),
        ],
    )
    message.append_data(89, b"sig")
    raw = message.encode()
    # SignatureLength(93) must precede Signature(89): the one exception to ascending order
    header, body, trailer = [8, 9, 35, 34, 43, 49, 52, 56], [1, 11, 55, 60, 5001], [93, 89, 10]
    assert tags_of(raw) == [*header, *body, *trailer]
    assert parse(raw).get(89) == b"sig"


def test_groups_stay_intact_in_dictionary_order() -> None:
    fields: list[tuple[int, FieldValue | None]] = [
        (55, "X"), (453, 2), (448, "P1"), (452, 1), (447, "D"),  # 452 before 447
        (448, "P2"), (802, 1), (523, "sub"), (803, 4), (447, "C"), (37, "O"),
    ]  # fmt: skip
    raw = Message.build("FIX.4.4", "8", fields).encode()
    assert tags_of(raw) == [8, 9, 35, 37, 55, 453, 448, 447, 452, 448, 447, 802, 523, 803, 10]
    assert b"448=P1\x01447=D\x01452=1\x01448=P2\x01447=C\x01802=1\x01523=sub\x01803=4" in raw


def test_header_group_is_kept_in_header() -> None:
    message = Message.build(
        "FIX.4.4", "0", [(11, "x"), (627, 1), (628, "HOP"), (629, "20240101-00:00:00")]
    )
    message.append(49, "S")
    assert tags_of(message.encode()) == [8, 9, 35, 49, 627, 628, 629, 11, 10]


def test_group_member_before_delimiter_cannot_be_ordered() -> None:
    message = Message.build("FIX.4.4", "8", [(453, 1), (447, "D"), (448, "P")])
    with pytest.raises(
        FixError, match=r"NoPartyIDs\(453\): field 447 comes before the delimiter 448"
    ):
        message.encode()


def test_encode_needs_begin_string_and_known_version() -> None:
    with pytest.raises(FieldMissing, match="field 8 is missing"):
        Message([(35, b"0")]).encode()
    with pytest.raises(FixError, match=r"no data dictionary for BeginString 'FIX\.9\.9'"):
        Message.build("FIX.9.9", "0").encode()


def test_explicit_dictionary_encodes_other_begin_strings() -> None:
    raw = Message.build("FIXT.1.1", "0", [(49, "A")]).encode(dictionary_for("FIX.4.4"))
    assert raw.startswith(b"8=FIXT.1.1\x019=")


def test_checksum_matches_plain_sum_on_long_input() -> None:
    data = bytes(range(256)) * 20 + b"\xff" * 300
    text = bytes(range(32, 127)) * 30  # ASCII: summed in chunks of 511
    for size in (0, 1, 255, 256, 257, 511, 512, 513, 1022, 1023, len(data)):
        assert checksum(data[:size]) == sum(data[:size]) % 256
        assert checksum(text[:size]) == sum(text[:size]) % 256
        assert checksum(memoryview(text)[:size]) == sum(text[:size]) % 256


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (b"raw", b"raw"),
        ("caf\u00e9", "caf\u00e9".encode()),
        (42, b"42"),
        (-7, b"-7"),
        (True, b"Y"),
        (False, b"N"),
        (Decimal("1E+2"), b"100"),
        (Decimal("0.000001"), b"0.000001"),
        (Decimal("-12.50"), b"-12.50"),
        (Price("187.25"), b"187.25"),
        (Quantity("100"), b"100"),
        (datetime(2024, 1, 2, 3, 4, 5, 678901), b"20240102-03:04:05.678"),
        (
            datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            b"20240102-03:04:05.000",
        ),
        (date(2024, 2, 29), b"20240229"),
        (time(23, 59, 58, 1000), b"23:59:58.001"),
        (Side.BUY, b"1"),
        (Side.SELL, b"2"),
        (OrderType.STOP_LIMIT, b"4"),
        (TimeInForce.GTD, b"6"),
        (Tag.ClOrdID, b"11"),
    ],
)
def test_to_bytes(value: FieldValue, text: bytes) -> None:
    assert to_bytes(value) == text


def test_to_bytes_refuses_float() -> None:
    with pytest.raises(TypeError, match="cannot write float"):
        to_bytes(0.1)  # type: ignore[arg-type]


def test_soh_only_in_data_fields() -> None:
    message = Message.build("FIX.4.4", "0")
    with pytest.raises(FixError, match=r"field 58: value b'a\\x01b' contains SOH"):
        message.append(58, "a\x01b")
    message.append(95, 3)
    message.append(96, b"a\x01b")
    with pytest.raises(FixError, match="tag 0 is not a positive integer"):
        message.append(0, "x")
    with pytest.raises(FixError, match="field 58 is not a raw data field"):
        message.append_data(58, b"x")


def test_set_replaces_first_and_remove_drops_all() -> None:
    message = Message.build("FIX.4.4", "0", [(58, "a"), (58, "b")])
    message.set(58, "c")
    assert message.get_all(58) == [b"c", b"b"]
    assert message.get(58) == b"c"
    message.set(112, "t")
    assert message.get(112) == b"t"
    assert message.remove(58) == 2
    assert 58 not in message
    copy = message.copy()
    copy.set(112, "u")
    assert message.get(112) == b"t"


def test_typed_getters() -> None:
    message = Message(
        [
            (38, b"002000.00"), (34, b"-12"), (43, b"Y"), (52, b"20240102-03:04:05.123456789"),
            (60, b"20240102-03:04:05"), (64, b"20240229"), (58, "Zürich".encode()),
        ]
    )  # fmt: skip
    assert message.get_decimal(38) == Decimal("2000.00")
    assert str(message.get_decimal(38)) == "2000.00"
    assert message.get_int(34) == -12
    assert message.get_bool(43) is True
    assert message.get_datetime(52) == datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
    assert message.get_datetime(60) == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert message.get_date(64) == date(2024, 2, 29)
    assert message.get_str(58) == "Zürich"
    assert message.get_int(999, None) is None
    assert message.get(999) is None
    with pytest.raises(FieldMissing, match="required field 999 is missing") as missing:
        message.get_int(999)
    assert missing.value.tag == 999
    with pytest.raises(FieldMissing):
        message[999]


@pytest.mark.parametrize(
    ("getter", "raw"),
    [
        ("get_int", b"1.5"),
        ("get_int", b""),
        ("get_int", b"+1"),
        ("get_int", b" 1"),
        ("get_decimal", b"1e5"),
        ("get_decimal", b"NaN"),
        ("get_decimal", b"."),
        ("get_decimal", b"1.2.3"),
        ("get_bool", b"y"),
        ("get_datetime", b"20240102-03:04"),
        ("get_datetime", b"20240230-03:04:05"),
        ("get_datetime", b"20240102-03:04:05."),
        ("get_datetime", b"20240102T03:04:05"),
        ("get_date", b"2024-01-02"),
        ("get_date", b"20241301"),
    ],
)
def test_typed_getter_errors_name_the_tag(getter: str, raw: bytes) -> None:
    message = Message([(44, raw)])
    with pytest.raises(FieldValueError, match=re.escape(f"field 44: {raw!r}")) as error:
        getattr(message, getter)(44)
    assert isinstance(error.value, FixParseError)
    assert error.value.tag == 44


def test_leap_second_reads_as_59() -> None:
    message = Message([(52, b"20161231-23:59:60.5")])
    assert message.get_datetime(52).second == 59


def test_groups_view() -> None:
    message = Message.build(
        "FIX.4.4",
        "8",
        [
            (37, "O"),
            (453, 2),
            (448, "P1"),
            (447, "D"),
            (802, 1),
            (523, "s"),
            (803, 4),
            (448, "P2"),
            (452, 3),
            (151, 0),
        ],
    )
    parties = message.groups(Tag.NoPartyIDs)
    assert [p.get(448) for p in parties] == [b"P1", b"P2"]
    assert parties[1].get_int(452) == 3
    # an instance has no BeginString or MsgType: say which layout to use
    subs = parties[0].groups(Tag.NoPartySubIDs, dictionary_for("FIX.4.4"), msg_type=b"8")
    assert [s.fields for s in subs] == [((523, b"s"), (803, b"4"))]
    assert message.groups(Tag.NoContraBrokers) == []
    with pytest.raises(FixError, match="58 is not a group of MsgType b'8'"):
        message.groups(58)


def test_repr_and_equality() -> None:
    message = Message([(8, b"FIX.4.4"), (35, b"0")])
    assert repr(message) == "Message(8=FIX.4.4|35=0)"
    assert message == Message([(8, b"FIX.4.4"), (35, b"0")])
    assert message != Message([(8, b"FIX.4.4")])
    assert list(message) == [(8, b"FIX.4.4"), (35, b"0")]
