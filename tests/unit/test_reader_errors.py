"""Malformed input, limits and memory safety of the reader, against both twins.

Every protocol violation is a ProtocolError whose message names what was wrong and the
absolute stream offset of the offending reply; the twins must agree on the message
word for word. After one, the reader is poisoned: the stream position is unknown.
"""

from __future__ import annotations

import tracemalloc
from types import ModuleType
from typing import Any

import pytest

from resp3.errors import ProtocolError
from resp3.types import INCOMPLETE

BAD_INPUT = [
    (b"?x\r\n", "unknown type byte b'?' at offset 0"),
    (b"+OK\r\n:1\r\n@\r\n", "unknown type byte b'@' at offset 9"),
    (b"*1\r\n\x00", "unknown type byte b'\\x00' at offset 4"),
    (b"$abc\r\n", "invalid number b'abc' for type '$' at offset 0"),
    (b"*1x\r\n", "invalid number b'1x' for type '*' at offset 0"),
    (b":12a\r\n", "invalid number b'12a' for type ':' at offset 0"),
    (b":\r\n", "invalid number b'' for type ':' at offset 0"),
    (b":+5\r\n", "invalid number b'+5' for type ':' at offset 0"),
    (b"$-\r\n", "invalid number b'-' for type '$' at offset 0"),
    (b"$ 5\r\n", "invalid number b' 5' for type '$' at offset 0"),
    (b"%\xd9\xa1\r\n", "invalid number b'\\xd9\\xa1' for type '%' at offset 0"),
    (b">?\r\n", "invalid number b'?' for type '>' at offset 0"),
    (b"|?\r\n", "invalid number b'?' for type '|' at offset 0"),
    (b"$-2\r\n", "negative length -2 for type '$' at offset 0"),
    (b"*-5\r\n", "negative length -5 for type '*' at offset 0"),
    (b"%-1\r\n", "negative length -1 for type '%' at offset 0"),
    (b"~-1\r\n", "negative length -1 for type '~' at offset 0"),
    (b">-1\r\n", "negative length -1 for type '>' at offset 0"),
    (b"|-1\r\n", "negative length -1 for type '|' at offset 0"),
    (b"=-1\r\n", "negative length -1 for type '=' at offset 0"),
    (b"!-1\r\n", "negative length -1 for type '!' at offset 0"),
    (b"$?\r\n;-1\r\n", "negative length -1 for type ';' at offset 4"),
    (b":9223372036854775808\r\n", "number b'9223372036854775808' out of 64-bit range at offset 0"),
    (
        b"*-9223372036854775809\r\n",
        "number b'-9223372036854775809' out of 64-bit range at offset 0",
    ),
    (b"$3\r\nabcde\r\n", "missing CRLF after 3-byte payload of type '$' at offset 7"),
    (b"*1\r\n=5\r\ntxt:ab\r\n", "missing CRLF after 5-byte payload of type '=' at offset 13"),
    (b"!1\r\nEx\r\n", "missing CRLF after 1-byte payload of type '!' at offset 5"),
    (b"$?\r\n;1\r\nab\r\n", "missing CRLF after 1-byte payload of type ';' at offset 9"),
    (b"*" + b"1" * 64, "missing CRLF after type '*' at offset 0"),
    (b"+a\r\n:" + b"1" * 64, "missing CRLF after type ':' at offset 4"),
    (b"_" * 65, "missing CRLF after type '_' at offset 0"),
    (b".\r\n", "'.' outside a streamed aggregate at offset 0"),
    (b"*1\r\n.\r\n", "'.' outside a streamed aggregate at offset 4"),
    (b"*?\r\n.x\r\n", "end marker with payload b'x' at offset 4"),
    (b"%?\r\n+k\r\n.\r\n", "streamed map ended between a key and its value at offset 8"),
    (b";0\r\n", "';' chunk outside a streamed string at offset 0"),
    (b"*1\r\n;3\r\nabc\r\n", "';' chunk outside a streamed string at offset 4"),
    (b"$?\r\n+a\r\n", "expected ';' chunk in streamed string, got type '+' at offset 4"),
    (
        b"$?\r\n;1\r\na\r\n$?\r\n",
        "expected ';' chunk in streamed string, got type '$' at offset 11",
    ),
    (b"$?\r\n.\r\n", "expected ';' chunk in streamed string, got type '.' at offset 4"),
    (b"#x\r\n", "invalid boolean b'x' at offset 0"),
    (b"#\r\n", "invalid boolean b'' at offset 0"),
    (b"#tt\r\n", "invalid boolean b'tt' at offset 0"),
    (b"#T\r\n", "invalid boolean b'T' at offset 0"),
    (b",abc\r\n", "invalid double b'abc' at offset 0"),
    (b",\r\n", "invalid double b'' at offset 0"),
    (b",1.5x\r\n", "invalid double b'1.5x' at offset 0"),
    (b", 1\r\n", "invalid double b' 1' at offset 0"),
    (b",1_0\r\n", "invalid double b'1_0' at offset 0"),
    (b",infinity\r\n", "invalid double b'infinity' at offset 0"),
    (b",.\r\n", "invalid double b'.' at offset 0"),
    (b",1e\r\n", "invalid double b'1e' at offset 0"),
    (b"(\r\n", "invalid big number b'' at offset 0"),
    (b"(1.5\r\n", "invalid big number b'1.5' at offset 0"),
    (b"(--1\r\n", "invalid big number b'--1' at offset 0"),
    (b"(1_000\r\n", "invalid big number b'1_000' at offset 0"),
    (b"_x\r\n", "null with payload b'x' at offset 0"),
    (b"=3\r\nabc\r\n", "verbatim string without 'fmt:' prefix at offset 0"),
    (b"=5\r\ntxtab\r\n", "verbatim string without 'fmt:' prefix at offset 0"),
    (b"=0\r\n\r\n", "verbatim string without 'fmt:' prefix at offset 0"),
]


@pytest.mark.parametrize(("wire", "message"), BAD_INPUT, ids=[repr(w) for w, _ in BAD_INPUT])
def test_bad_input_is_a_protocol_error_naming_what_and_where(
    reader_module: ModuleType, wire: bytes, message: str
) -> None:
    reader = reader_module.Reader()
    reader.feed(wire)
    with pytest.raises(ProtocolError) as info:
        reader.gets_all()
    assert type(info.value) is ProtocolError
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"+\xff\r\n", "cannot decode string as utf-8 (invalid start byte) at offset 0"),
        (
            b"*1\r\n$2\r\n\xc3(\r\n",
            "cannot decode string as utf-8 (invalid continuation byte) at offset 4",
        ),
        (
            b"=6\r\ntxt:\xe2\x82\r\n",
            "cannot decode string as utf-8 (unexpected end of data) at offset 0",
        ),
        (
            b"$?\r\n;1\r\n\xc3\r\n;0\r\n",
            "cannot decode string as utf-8 (unexpected end of data) at offset 11",
        ),
        (
            b"%1\r\n+\xff\r\n:1\r\n",
            "cannot decode string as utf-8 (invalid start byte) at offset 4",
        ),
    ],
)
def test_undecodable_string_with_encoding_set(
    reader_module: ModuleType, wire: bytes, message: str
) -> None:
    reader = reader_module.Reader(encoding="utf-8")
    reader.feed(wire)
    with pytest.raises(ProtocolError) as info:
        reader.gets()
    assert str(info.value) == message


def test_the_error_is_sticky(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    reader.feed(b"+ok\r\n#x\r\n+fine\r\n")
    assert reader.gets() == b"ok"
    for _ in range(3):
        with pytest.raises(ProtocolError, match=r"^invalid boolean b'x' at offset 5$"):
            reader.gets()
    reader.feed(b"+more\r\n")
    with pytest.raises(ProtocolError, match=r"^invalid boolean b'x' at offset 5$"):
        reader.gets_all()


def test_offsets_count_from_the_start_of_the_stream(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    for _ in range(30):
        reader.feed(b"+OK\r\n" * 1000)
        assert len(reader.gets_all()) == 1000
    reader.feed(b"$5\r\nhel")
    assert reader.gets() is INCOMPLETE
    reader.feed(b"lo\r\n" + b"*1\r\n" * 200 + b"\x01")
    with pytest.raises(ProtocolError, match=r"^unknown type byte b'\\x01' at offset 150811$"):
        reader.gets_all()


def test_number_line_limit_is_64_bytes(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    reader.feed(b"*" + b"1" * 63)
    assert reader.gets() is INCOMPLETE
    reader.feed(b"1")
    with pytest.raises(ProtocolError, match=r"^missing CRLF after type '\*' at offset 0$"):
        reader.gets()


def test_bulk_longer_than_max_bulk_len(reader_module: ModuleType) -> None:
    reader = reader_module.Reader(max_bulk_len=10)
    reader.feed(b"$10\r\n0123456789\r\n=10\r\ntxt:456789\r\n!10\r\nERR 456789\r\n")
    assert len(reader.gets_all()) == 3
    reader.feed(b"*1\r\n$?\r\n;10\r\n0123456789\r\n;11\r\n")
    with pytest.raises(ProtocolError) as info:
        reader.gets()
    assert str(info.value) == "bulk length 11 exceeds max_bulk_len=10 at offset 76"


def test_default_max_bulk_len_is_512_mib(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    reader.feed(b"$536870912\r\n")
    assert reader.gets() is INCOMPLETE
    reader = reader_module.Reader()
    reader.feed(b"$536870913\r\n")
    with pytest.raises(
        ProtocolError, match=r"^bulk length 536870913 exceeds max_bulk_len=536870912"
    ):
        reader.gets()


def test_line_without_crlf_longer_than_max_bulk_len(reader_module: ModuleType) -> None:
    reader = reader_module.Reader(max_bulk_len=10)
    reader.feed(b"+" + b"x" * 11)
    assert reader.gets() is INCOMPLETE
    reader.feed(b"x")
    with pytest.raises(ProtocolError, match=r"^missing CRLF after type '\+' at offset 0$"):
        reader.gets()


@pytest.mark.parametrize(
    "header", [b"*2147483647\r\n", b"%2147483647\r\n", b"~2147483647\r\n", b">2147483647\r\n",
               b"|2147483647\r\n", b"*9223372036854775807\r\n", b"$536870912\r\n"]
)  # fmt: skip
def test_huge_declared_length_allocates_nothing(reader_module: ModuleType, header: bytes) -> None:
    reader = reader_module.Reader()
    tracemalloc.start()
    try:
        reader.feed(header + b":1\r\n" * 4)
        assert reader.gets() is INCOMPLETE
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024, f"{header!r} made the reader allocate {peak} bytes"


def nested(kind: bytes, depth: int) -> bytes:
    if kind == b"%":
        return b"%1\r\n+k\r\n" * depth + b":1\r\n"
    return (kind + b"1\r\n") * depth + b":1\r\n"


def depth_of(value: Any) -> int:
    depth = 0
    while isinstance(value, (list, dict)):
        value = value[0] if isinstance(value, list) else value[b"k"]
        depth += 1
    assert value == 1
    return depth


@pytest.mark.parametrize("kind", [b"*", b">", b"%"])
def test_nesting_exactly_max_depth_works(reader_module: ModuleType, kind: bytes) -> None:
    reader = reader_module.Reader()
    reader.feed(nested(kind, 512))
    assert depth_of(reader.gets()) == 512
    reader = reader_module.Reader(max_depth=3)
    reader.feed(nested(kind, 3))
    assert depth_of(reader.gets()) == 3


@pytest.mark.parametrize("kind", [b"*", b">", b"%"])
def test_nesting_deeper_than_max_depth_fails(reader_module: ModuleType, kind: bytes) -> None:
    reader = reader_module.Reader()
    data = nested(kind, 513)
    reader.feed(data)
    offset = data.rindex(kind)
    with pytest.raises(ProtocolError) as info:
        reader.gets()
    assert str(info.value) == f"nesting deeper than max_depth=512 at offset {offset}"


@pytest.mark.parametrize(
    ("wire", "offset"),
    [
        (b"*1\r\n*1\r\n$?\r\n;0\r\n", 8),
        (b"*1\r\n*?\r\n*?\r\n.\r\n.\r\n", 8),
        (b"*1\r\n|1\r\n*1\r\n:1\r\n:2\r\n:3\r\n", 8),
    ],
)
def test_streamed_and_attribute_frames_count_towards_max_depth(
    reader_module: ModuleType, wire: bytes, offset: int
) -> None:
    reader = reader_module.Reader(max_depth=2)
    reader.feed(wire)
    with pytest.raises(ProtocolError) as info:
        reader.gets()
    assert str(info.value) == f"nesting deeper than max_depth=2 at offset {offset}"


def test_empty_aggregates_do_not_count_towards_max_depth(reader_module: ModuleType) -> None:
    reader = reader_module.Reader(max_depth=1)
    reader.feed(b"*2\r\n*0\r\n%0\r\n")
    assert reader.gets() == [[], {}]


def test_depth_is_bounded_by_max_depth_not_the_recursion_limit(reader_module: ModuleType) -> None:
    reader = reader_module.Reader(max_depth=20000)
    for _ in range(20000 // 500):
        reader.feed(b"*1\r\n" * 500)
        assert reader.gets() is INCOMPLETE
    reader.feed(b":1\r\n")
    value = reader.gets()
    assert depth_of(value) == 20000
    # Unlink level by level: freeing a 20000-deep list recursively is not what is tested.
    while isinstance(value, list) and value:
        value = value.pop()


def test_int_too_long_for_int_conversion(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    reader.feed(b":" + b"0" * 5000 + b"7\r\n")
    assert reader.gets() == 7
    reader.feed(b":" + b"1" * 5000 + b"\r\n")
    with pytest.raises(
        ProtocolError, match=r"^number b'1111.*' out of 64-bit range at offset 5004$"
    ):
        reader.gets()


def test_big_number_beyond_the_int_digit_limit(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    reader.feed(b"(" + b"9" * 4300 + b"\r\n")
    assert reader.gets() == 10**4300 - 1
    reader.feed(b"(" + b"9" * 4301 + b"\r\n")
    with pytest.raises(ProtocolError) as info:
        reader.gets()
    assert str(info.value) == (
        "big number of 4301 digits exceeds the interpreter's limit "
        "(sys.set_int_max_str_digits) at offset 4303"
    )
