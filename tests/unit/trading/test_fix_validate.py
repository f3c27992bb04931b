"""validate(): every session reject reason it can find, QuickFIX's order of checks,
groups, options, and the FIX 4.2 limit on reasons."""

from __future__ import annotations

import pytest

from trading.fix import (
    Message,
    SessionRejectReason,
    ValidationIssue,
    dictionary_for,
    parse,
    reason_supported,
    validate,
)

SOH = b"\x01"
FIX44 = dictionary_for("FIX.4.4")
FIX42 = dictionary_for("FIX.4.2")
HEADER = ("49=CLIENT", "56=BROKER", "34=7", "52=20240102-03:04:05.678")
ORDER_BODY = ("11=ORD1", "55=AAPL", "54=1", "60=20240102-03:04:05", "38=100", "40=2", "44=10.5")


def wire(*fields: str | bytes, begin: str = "FIX.4.4") -> bytes:
    body = b"".join((f.encode() if isinstance(f, str) else f) + SOH for f in fields)
    data = f"8={begin}\x019={len(body)}\x01".encode() + body
    return data + b"10=%03d\x01" % (sum(data) % 256)


def check(*fields: str | bytes, begin: str = "FIX.4.4", **options: bool) -> ValidationIssue | None:
    dictionary = FIX44 if begin == "FIX.4.4" else FIX42
    return validate(parse(wire(*fields, begin=begin)), dictionary, **options)


def order_with(*extra: str) -> list[str]:
    """ORDER_BODY with ``extra`` fields replacing the same tags or added at the end."""
    tags = {f.split("=", 1)[0] for f in extra}
    return [f for f in ORDER_BODY if f.split("=", 1)[0] not in tags] + list(extra)


def issue(reason: SessionRejectReason, tag: int | None) -> ValidationIssue:
    return ValidationIssue(int(reason), reason.text, tag)


R = SessionRejectReason


def test_valid_messages_pass() -> None:
    assert check("35=D", *HEADER, *ORDER_BODY) is None
    assert check("35=0", *HEADER) is None
    assert check("35=A", *HEADER, "98=0", "108=30", "141=Y") is None
    assert check("35=D", *HEADER, *ORDER_BODY, "21=1", begin="FIX.4.2") is None


def test_standard_texts() -> None:
    texts = {r: r.text for r in R}
    assert texts[R.INVALID_TAG_NUMBER] == "Invalid tag number"
    assert texts[R.REQUIRED_TAG_MISSING] == "Required tag missing"
    assert texts[R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE] == "Tag not defined for this message type"
    assert texts[R.TAG_SPECIFIED_WITHOUT_A_VALUE] == "Tag specified without a value"
    assert texts[R.VALUE_IS_INCORRECT] == "Value is incorrect (out of range) for this tag"
    assert texts[R.INCORRECT_DATA_FORMAT_FOR_VALUE] == "Incorrect data format for value"
    assert texts[R.COMPID_PROBLEM] == "CompID problem"
    assert texts[R.SENDINGTIME_ACCURACY_PROBLEM] == "SendingTime accuracy problem"
    assert texts[R.INVALID_MSGTYPE] == "Invalid MsgType"
    assert texts[R.TAG_APPEARS_MORE_THAN_ONCE] == "Tag appears more than once"
    assert texts[R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER] == "Tag specified out of required order"
    assert (
        texts[R.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP]
        == "Incorrect NumInGroup count for repeating group"
    )
    assert ValidationIssue.of(R.COMPID_PROBLEM) == ValidationIssue(9, "CompID problem", None)


def test_invalid_tag_number() -> None:
    assert check("35=0", *HEADER, "9999=x") == issue(R.INVALID_TAG_NUMBER, 9999)
    assert check("35=0", *HEADER, "4999=x") == issue(R.INVALID_TAG_NUMBER, 4999)


def test_unknown_tags_allowed_by_options() -> None:
    assert check("35=0", *HEADER, "9999=x", check_user_defined_fields=False) is None
    assert check("35=0", *HEADER, "4999=x", allow_unknown_message_fields=True) is None
    # a known tag outside its message is also accepted then, as in QuickFIX
    assert check("35=0", *HEADER, "11=x", allow_unknown_message_fields=True) is None


@pytest.mark.parametrize("missing", [49, 56, 34, 52])
def test_required_header_field_missing(missing: int) -> None:
    header = [f for f in HEADER if not f.startswith(f"{missing}=")]
    assert check("35=0", *header) == issue(R.REQUIRED_TAG_MISSING, missing)


def test_required_body_fields_reported_in_tag_order() -> None:
    assert check("35=D", *HEADER, "55=X") == issue(R.REQUIRED_TAG_MISSING, 11)
    assert check("35=D", *HEADER, "11=A", "55=X") == issue(R.REQUIRED_TAG_MISSING, 40)
    assert check("35=1", *HEADER) == issue(R.REQUIRED_TAG_MISSING, 112)


def test_fix42_requires_handl_inst_and_symbol() -> None:
    body = [f for f in ORDER_BODY if not f.startswith("55=")]
    assert check("35=D", *HEADER, *body, begin="FIX.4.2") == issue(R.REQUIRED_TAG_MISSING, 21)
    got = check("35=D", *HEADER, *body, "21=1", begin="FIX.4.2")
    assert got == issue(R.REQUIRED_TAG_MISSING, 55)


def test_tag_not_defined_for_message_type() -> None:
    assert check("35=0", *HEADER, "11=x") == issue(R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE, 11)


def test_tag_without_value() -> None:
    assert check("35=0", *HEADER, "112=") == issue(R.TAG_SPECIFIED_WITHOUT_A_VALUE, 112)
    assert check("35=0", *HEADER, "112=", check_fields_have_values=False) is None


@pytest.mark.parametrize(
    ("field", "tag"),
    [
        ("38=abc", 38),  # QTY
        ("38=1e5", 38),
        ("44=1.2.3", 44),  # PRICE
        ("44=+1", 44),
        ("44=.", 44),
        ("126=20240102-03:04", 126),  # UTCTIMESTAMP
        ("126=20241302-03:04:05", 126),
        ("126=20240102-24:00:00", 126),
        ("126=20240102-03:04:05.1234567890", 126),
        ("432=2024011", 432),  # LOCALMKTDATE ExpireDate
        ("432=20240132", 432),
        ("64=2024-01-02", 64),  # SettlDate LOCALMKTDATE
        ("200=202413", 200),  # MONTHYEAR
        ("200=2024w1", 200),
        ("114=X", 114),  # BOOLEAN LocateReqd
        ("114=y", 114),
        ("110=ten", 110),
    ],
)
def test_incorrect_data_format(field: str, tag: int) -> None:
    got = check("35=D", *HEADER, *order_with(field))
    assert got == issue(R.INCORRECT_DATA_FORMAT_FOR_VALUE, tag)


@pytest.mark.parametrize(
    "field",
    [
        "38=002000.00",
        "38=-1",
        "38=.5",
        "38=5.",
        "126=20240102-03:04:05",
        "126=20240102-03:04:05.1",
        "126=20240102-23:59:60.123456789",
        "432=20240229",
        "200=202401",
        "200=20240115",
        "200=202401w3",
        "114=N",
        "110=0",
    ],
)
def test_correct_formats(field: str) -> None:
    assert check("35=D", *HEADER, *order_with(field)) is None


def test_int_char_and_sequence_formats() -> None:
    assert check("35=0", *HEADER, "43=YES") == issue(R.INCORRECT_DATA_FORMAT_FOR_VALUE, 43)
    got = check("35=0", "49=A", "56=B", "34=x", "52=20240102-03:04:05")
    assert got == issue(R.INCORRECT_DATA_FORMAT_FOR_VALUE, 34)
    got = check("35=0", "49=A", "56=B", "34=-1", "52=20240102-03:04:05")
    assert got == issue(R.INCORRECT_DATA_FORMAT_FOR_VALUE, 34)
    got = check("35=A", *HEADER, "98=0", "108=99999999999")
    assert got == issue(R.INCORRECT_DATA_FORMAT_FOR_VALUE, 108)
    got = check("35=D", *HEADER, *ORDER_BODY, "21=12")  # HandlInst is a CHAR
    assert got == issue(R.INCORRECT_DATA_FORMAT_FOR_VALUE, 21)


def test_value_out_of_range() -> None:
    assert check("35=D", *HEADER, *order_with("54=Z")) == issue(R.VALUE_IS_INCORRECT, 54)
    assert check("35=D", *HEADER, *ORDER_BODY, "18=1 ?") == issue(R.VALUE_IS_INCORRECT, 18)
    assert check("35=D", *HEADER, *ORDER_BODY, "18=1 5 G") is None  # ExecInst: multi-value


def test_invalid_msg_type() -> None:
    assert check("35=ZZ", *HEADER) == issue(R.INVALID_MSGTYPE, None)
    assert check("35=AE", *HEADER, begin="FIX.4.2") == issue(R.INVALID_MSGTYPE, None)


def test_tag_appears_more_than_once() -> None:
    assert check("35=0", *HEADER, "112=a", "112=b") == issue(R.TAG_APPEARS_MORE_THAN_ONCE, 112)
    assert check("35=0", *HEADER, "49=X") == issue(R.TAG_APPEARS_MORE_THAN_ONCE, 49)
    got = check("35=0", "49=A", "49=B", "56=B", "34=1", "52=20240102-03:04:05")
    assert got == issue(R.TAG_APPEARS_MORE_THAN_ONCE, 49)


def test_out_of_order() -> None:
    got = check("35=0", "49=A", "56=B", "112=x", "34=1", "52=20240102-03:04:05")
    assert got == issue(R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, 34)
    # a body field after the trailer started
    got = check("35=0", *HEADER, "93=2", "112=x", "89=ab")
    assert got == issue(R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, 112)
    got = check("35=0", "49=A", "56=B", "112=x", "34=1", "52=x", check_fields_out_of_order=False)
    assert got == issue(R.INCORRECT_DATA_FORMAT_FOR_VALUE, 52)


PARTIES_OK = ("453=2", "448=P1", "447=D", "452=1", "448=P2", "447=C", "452=3")
ER = ("37=O1", "17=E1", "150=0", "39=0", "54=1", "151=100", "14=0", "6=0")


def test_groups_pass() -> None:
    assert check("35=8", *HEADER, *ER, *PARTIES_OK) is None
    assert check("35=8", *HEADER, *ER, "453=1", "448=P", "802=1", "523=s", "803=4") is None
    assert check("35=8", *HEADER, *ER, "453=0") is None


def test_group_count_mismatch() -> None:
    got = check("35=8", *HEADER, *ER, "453=3", *PARTIES_OK[1:])
    assert got == issue(R.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP, 453)
    got = check("35=8", *HEADER, *ER, "453=1", "448=P", "802=2", "523=s", "803=4")
    assert got == issue(R.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP, 802)
    got = check("35=8", *HEADER, *ER, "453=1")
    assert got == issue(R.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP, 453)


def test_group_member_before_delimiter_or_repeated() -> None:
    got = check("35=8", *HEADER, *ER, "453=1", "447=D", "448=P")
    assert got == issue(R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, 447)
    # second instance without its delimiter: 447 repeats inside the first; the broken
    # structure is reported before the count that it makes meaningless
    got = check("35=8", *HEADER, *ER, "453=2", "448=P", "447=D", "447=C")
    assert got == issue(R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, 447)
    got = check("35=8", *HEADER, *ER, "453=1", "448=P", "447=D", "447=C")
    assert got == issue(R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, 447)


def test_group_members_are_checked_like_body_fields() -> None:
    got = check("35=8", *HEADER, *ER, "453=1", "448=P", "452=abc")
    assert got == issue(R.INCORRECT_DATA_FORMAT_FOR_VALUE, 452)
    got = check("35=8", *HEADER, *ER, "453=1", "448=P", "447=?")
    assert got == issue(R.VALUE_IS_INCORRECT, 447)
    got = check("35=8", *HEADER, *ER, "453=1", "448=")
    assert got == issue(R.TAG_SPECIFIED_WITHOUT_A_VALUE, 448)


def test_field_after_group_belongs_to_body_again() -> None:
    # 448 after the group ended at 58 is a body field ER does not define
    got = check("35=8", *HEADER, *ER, "453=1", "448=P", "58=t", "448=Q")
    assert got == issue(R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE, 448)


def test_required_group_members() -> None:
    # NewOrderList: NoOrders(73) is required, so ClOrdID(11) is required in each instance
    head = ("66=L1", "394=3", "68=1", "73=1")
    got = check("35=E", *HEADER, *head, "11=A", "67=1", "55=X", "54=1", "38=1")
    assert got is None
    got = check("35=E", *HEADER, *head, "11=A", "55=X", "54=1", "38=1")
    assert got == issue(R.REQUIRED_TAG_MISSING, 67)


def test_order_of_checks_follows_quickfix() -> None:
    # out of order beats an invalid MsgType, which beats missing fields, which beat
    # format problems; header fields are checked before body fields
    got = check("35=ZZ", "49=A", "112=x", "56=B")
    assert got == issue(R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, 56)
    assert check("35=ZZ", "49=A") == issue(R.INVALID_MSGTYPE, None)
    assert check("35=D", *HEADER, "38=x") == issue(R.REQUIRED_TAG_MISSING, 11)
    got = check("35=D", "43=bad", *HEADER, *order_with("9999=1"))
    assert got == issue(R.INCORRECT_DATA_FORMAT_FOR_VALUE, 43)
    got = check("35=D", *HEADER, *order_with("9999=1", "44=x"))
    assert got == issue(R.INCORRECT_DATA_FORMAT_FOR_VALUE, 44)  # 44 < 9999, body in tag order


def test_raw_data_with_soh_validates() -> None:
    assert check("35=A", *HEADER, "98=0", "108=30", "95=3", b"96=a\x01b") is None
    assert check("35=0", *HEADER, "212=4", b"213=<\x01/>") is None  # header data field


def test_fix42_reasons_stop_at_11() -> None:
    assert reason_supported(FIX42, R.INVALID_MSGTYPE)
    assert not reason_supported(FIX42, R.TAG_APPEARS_MORE_THAN_ONCE)
    assert reason_supported(FIX44, R.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP)
    assert reason_supported(FIX44, R.NON_DATA_VALUE_INCLUDES_FIELD_DELIMITER)


def test_message_without_msg_type_is_invalid_msg_type() -> None:
    message = Message([(8, b"FIX.4.4"), (49, b"A")])
    assert validate(message, FIX44) == issue(R.INVALID_MSGTYPE, None)
