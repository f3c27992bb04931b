"""parse() and Splitter: framing, checksum, raw data fields, byte-by-byte feeding,
garbage and resynchronisation, precise errors."""

from __future__ import annotations

import pytest

from trading.errors import FixParseError
from trading.fix import INCOMPLETE, Message, Splitter, parse

SOH = b"\x01"


def wire(*fields: str | bytes, begin: str = "FIX.4.4") -> bytes:
    """A framed message computed independently of the code under test (plain sum())."""
    body = b"".join((f.encode() if isinstance(f, str) else f) + SOH for f in fields)
    data = f"8={begin}\x019={len(body)}\x01".encode() + body
    return data + b"10=%03d\x01" % (sum(data) % 256)


def length_of(raw: bytes) -> int:
    return int(raw.split(SOH)[1][2:])


HEARTBEAT = wire("35=0", "49=A", "56=B", "34=2", "52=20240102-03:04:05.678")
ORDER = wire(
    "35=D", "49=A", "56=B", "34=3", "52=20240102-03:04:05", "11=X1", "55=AAPL", "54=1",
    "60=20240102-03:04:05", "38=002000.00", "40=2", "44=10.5",
)  # fmt: skip


def drain(splitter: Splitter) -> list[bytes | str]:
    """Everything gets() yields until INCOMPLETE; errors recorded as 'error'."""
    out: list[bytes | str] = []
    while True:
        try:
            raw = splitter.gets()
        except FixParseError:
            out.append("error")
            continue
        if raw is INCOMPLETE:
            return out
        out.append(raw)


def test_parse_keeps_every_field_as_received() -> None:
    message = parse(ORDER)
    assert message.fields[:3] == ((8, b"FIX.4.4"), (9, b"%d" % length_of(ORDER)), (35, b"D"))
    assert message.get(38) == b"002000.00"
    assert message.fields[-1] == (10, ORDER[-4:-1])
    assert len(message) == 15


def test_parse_accepts_bytearray_and_memoryview() -> None:
    assert parse(bytearray(HEARTBEAT)) == parse(memoryview(HEARTBEAT)) == parse(HEARTBEAT)


def test_value_may_contain_equals_sign() -> None:
    raw = wire("35=0", "49=A", "56=B", "34=2", "52=20240102-03:04:05", "58=a=b==")
    assert parse(raw).get(58) == b"a=b=="


@pytest.mark.parametrize(("length_tag", "data_tag"), [(95, 96), (212, 213), (354, 355), (93, 89)])
def test_raw_data_may_contain_soh_and_fake_fields(length_tag: int, data_tag: int) -> None:
    data = b"x\x0110=000\x018=FIX.4.4\x01"
    fields = ["35=0", "49=A", "56=B", "34=2", "52=20240102-03:04:05"]
    raw = wire(*fields, b"%d=%d" % (length_tag, len(data)), b"%d=" % data_tag + data)
    message = parse(raw)
    assert message.get(data_tag) == data
    assert message.get(length_tag) == b"%d" % len(data)
    assert message.get(10) == raw[-4:-1]


def test_data_field_without_length_is_refused() -> None:
    raw = wire("35=0", "49=A", "56=B", "34=2", "96=abc")
    with pytest.raises(FixParseError, match="data field 96 needs a numeric length field 95"):
        parse(raw)


def test_data_length_too_long_is_refused_with_offset() -> None:
    raw = wire("35=0", "95=10", "96=abc")
    with pytest.raises(FixParseError, match=r"data field 96 is not 10 bytes .* \(at byte \d+\)"):
        parse(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"9=5\x0135=0\x0110=000\x01", "must start with BeginString"),
        (b"8=FIX.4.4\x0135=0\x019=5\x01", "BodyLength\\(9\\) must be the second field"),
        (b"8=FIX.4.4\x019=x\x0135=0\x0110=000\x01", "BodyLength\\(9\\) is not a number"),
        (b"8=FIX.4.4\x019=6\x0135=0\x0110=000\x01", "says 6 but CheckSum\\(10\\) is not there"),
        (b"8=FIX.4.4\x019=5\x0135=0\x0110=0000\x01", "CheckSum\\(10\\) must be three digits"),
        (b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01", "CheckSum\\(10\\) is 000 but the bytes sum"),
    ],
)
def test_broken_framing_is_named(raw: bytes, message: str) -> None:
    with pytest.raises(FixParseError, match=message):
        parse(raw)


def test_body_length_error_gives_offset_and_true_length() -> None:
    good = wire("35=0", "49=A")
    broken = good.replace(b"9=10", b"9=12")
    with pytest.raises(FixParseError, match=r"says 12 .* body is 10 bytes\) \(at byte 27\)"):
        parse(broken)


def test_msg_type_must_be_third() -> None:
    with pytest.raises(FixParseError, match="MsgType\\(35\\) must be the third field"):
        parse(wire("49=A", "35=0"))


@pytest.mark.parametrize("field", ["abc", "=x", "12a=x", "1234567890=x"])
def test_field_without_numeric_tag_is_refused(field: str) -> None:
    with pytest.raises(FixParseError, match="has no numeric tag"):
        parse(wire("35=0", field))


def test_field_without_equals_is_not_misread_when_another_has_two() -> None:
    # "12" has no '=', "58=34=x" has two: splitting on '=' alone would read 12=58, 34=x
    with pytest.raises(FixParseError, match="field b'12' has no numeric tag followed by '='"):
        parse(wire("35=0", "12", "58=34=x"))


@pytest.mark.parametrize(
    "fields",
    [
        ("35=0", "58=a=b"),  # '=' inside a value
        ("35=0", "058=x"),  # leading zero in a tag
        ("35=0", "12345=x"),  # tag above 9999
        ("35=A", "95=2", "96=\x01="),  # data field
    ],
)
def test_unusual_messages_parse_like_the_fast_path_would(fields: tuple[str, ...]) -> None:
    message = parse(wire(*fields))
    assert [t for t, _ in message][:3] == [8, 9, 35]
    assert message.get(10) is not None


def test_empty_value_is_kept_for_validation() -> None:
    assert parse(wire("35=0", "58=")).get(58) == b""


# ------------------------------------------------------------------------ splitter


def test_splitter_byte_by_byte() -> None:
    stream = HEARTBEAT + ORDER + HEARTBEAT
    splitter = Splitter()
    got: list[bytes] = []
    for i in range(len(stream)):
        splitter.feed(stream[i : i + 1])
        raw = splitter.gets()
        if raw is not INCOMPLETE:
            got.append(raw)
            assert i + 1 in (len(HEARTBEAT), len(HEARTBEAT) + len(ORDER), len(stream))
    assert got == [HEARTBEAT, ORDER, HEARTBEAT]
    assert splitter.gets() is INCOMPLETE
    assert splitter.buffered == 0
    assert splitter.discarded == 0


def test_splitter_many_messages_in_one_feed() -> None:
    splitter = Splitter()
    splitter.feed(ORDER * 50)
    assert drain(splitter) == [ORDER] * 50


def test_splitter_passes_data_fields_with_soh() -> None:
    data = b"\x0110=123\x01"
    raw = wire("35=0", f"95={len(data)}", b"96=" + data)
    splitter = Splitter()
    splitter.feed(raw + HEARTBEAT)
    assert drain(splitter) == [raw, HEARTBEAT]


def test_garbage_before_and_between_messages_is_skipped() -> None:
    splitter = Splitter()
    splitter.feed(b"\x00\xffnoise 58=FIX8=FI" + HEARTBEAT + b"junk" + ORDER + b"tail")
    assert drain(splitter) == [HEARTBEAT, ORDER]
    assert splitter.discarded == len(b"\x00\xffnoise 58=FIX8=FI") + len(b"junk")
    assert splitter.buffered == 4  # "tail" is kept: 4 bytes may be the start of "8=FIX"
    splitter.feed(b"x" * 100 + b"8=F")
    assert splitter.gets() is INCOMPLETE
    assert splitter.buffered == 4
    splitter.feed(b"IX.4.4")
    assert splitter.gets() is INCOMPLETE
    assert splitter.buffered == len(b"x8=FIX.4.4") - 1


def test_implausible_begin_string_is_noise() -> None:
    splitter = Splitter()
    splitter.feed(b"8=FIX=1\x018=FIX.4.4 \x01" + b"8=FIX" + b"x" * 40 + HEARTBEAT)
    assert drain(splitter) == [HEARTBEAT]
    assert splitter.discarded == 7 + 12 + 45


def test_lost_soh_between_messages_keeps_the_next_one() -> None:
    splitter = Splitter()
    splitter.feed(ORDER[:-1] + HEARTBEAT)
    assert drain(splitter) == ["error", HEARTBEAT]


def test_wrong_checksum_is_reported_then_skipped() -> None:
    bad = ORDER[:-4] + b"%03d\x01" % ((int(ORDER[-4:-1]) + 1) % 256)
    splitter = Splitter()
    splitter.feed(bad + HEARTBEAT)
    with pytest.raises(FixParseError, match="stream offset 0: CheckSum\\(10\\) does not match"):
        splitter.gets()
    assert splitter.gets() == HEARTBEAT


def test_too_long_body_length_does_not_swallow_the_next_message() -> None:
    claimed = length_of(HEARTBEAT) + len(ORDER)
    bad = HEARTBEAT.replace(b"9=%d" % length_of(HEARTBEAT), b"9=%d" % claimed, 1)
    splitter = Splitter()
    splitter.feed(bad + ORDER + HEARTBEAT)
    assert drain(splitter) == ["error", ORDER, HEARTBEAT]


def test_too_short_body_length_is_reported() -> None:
    bad = ORDER.replace(b"9=%d" % length_of(ORDER), b"9=%d" % (length_of(ORDER) - 6), 1)
    splitter = Splitter()
    splitter.feed(bad + HEARTBEAT)
    assert drain(splitter) == ["error", HEARTBEAT]


def test_size_limit_refuses_huge_body_length_at_once() -> None:
    splitter = Splitter(max_message_size=1000)
    splitter.feed(b"8=FIX.4.4\x019=5000\x01" + HEARTBEAT)
    with pytest.raises(FixParseError, match="9\\) 5000 exceeds the size limit"):
        splitter.gets()
    assert splitter.gets() == HEARTBEAT


@pytest.mark.parametrize(
    "head", [b"8=FIX.4.4\x0135=0\x01", b"8=FIX.4.4\x019=x5\x01", b"8=FIX.4.4\x019=1234567890"]
)
def test_broken_header_is_reported_once_complete(head: bytes) -> None:
    splitter = Splitter()
    splitter.feed(head + HEARTBEAT)
    assert drain(splitter) == ["error", HEARTBEAT]


def test_partial_header_waits() -> None:
    splitter = Splitter()
    for part in (b"8=FIX.4", b".4\x019", b"=1", b"2"):
        splitter.feed(part)
        assert splitter.gets() is INCOMPLETE
    assert splitter.buffered == len(b"8=FIX.4.4\x019=12")


def test_error_offsets_count_the_whole_stream() -> None:
    splitter = Splitter()
    for _ in range(3):
        splitter.feed(HEARTBEAT)
        assert splitter.gets() == HEARTBEAT
    splitter.feed(HEARTBEAT[:-2] + b"9\x01")
    with pytest.raises(FixParseError, match=f"stream offset {3 * len(HEARTBEAT)}:"):
        splitter.gets()


def test_incomplete_has_no_truth_value() -> None:
    with pytest.raises(TypeError, match="no truth value"):
        bool(INCOMPLETE)
    assert repr(INCOMPLETE) == "trading.fix.INCOMPLETE"


def test_parsed_message_is_a_message() -> None:
    message = parse(HEARTBEAT)
    assert isinstance(message, Message)
    assert message.msg_type == b"0"
    assert message.seq_num == 2
