"""The reader's feed()/gets() contract, byte by byte, against both twins (``reader_module``).

Values are compared through ``canon()``, which keeps the exact type of every node, so
``True`` is not ``1``, ``b"x"`` is not ``"x"``, ``Push`` is not ``list`` and ``nan``
equals ``nan``. Malformed input lives in ``test_reader_errors.py``.
"""

from __future__ import annotations

import math
from array import array
from types import ModuleType
from typing import Any

import pytest

from resp3.errors import (
    AskError,
    AuthenticationResponseError,
    BusyLoadingError,
    ClusterDownError,
    CrossSlotError,
    ExecAbortError,
    MasterDownError,
    MovedError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from resp3.types import INCOMPLETE, Push


def canon(value: Any) -> Any:
    """A comparable form that keeps types, ignores set order and treats nan as equal."""
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, ResponseError):
        return (type(value).__name__, value.args, value.code)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [canon(item) for item in value])
    if isinstance(value, dict):
        return ("dict", [(canon(k), canon(v)) for k, v in value.items()])
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, sorted(repr(canon(item)) for item in value))
    return (type(value).__name__, value)


def parse_all(mod: ModuleType, data: bytes, **options: Any) -> list[Any]:
    reader = mod.Reader(**options)
    reader.feed(data)
    replies: list[Any] = reader.gets_all()
    assert reader.gets() is INCOMPLETE
    return replies


def parse_one(mod: ModuleType, data: bytes, **options: Any) -> Any:
    replies = parse_all(mod, data, **options)
    assert len(replies) == 1, replies
    return replies[0]


SCALARS = [
    (b"+OK\r\n", b"OK"),
    (b"+\r\n", b""),
    (b"+a\rb\nc\r\n", b"a\rb\nc"),
    (b":0\r\n", 0),
    (b":-42\r\n", -42),
    (b":9223372036854775807\r\n", 2**63 - 1),
    (b":-9223372036854775808\r\n", -(2**63)),
    (b"$5\r\nhello\r\n", b"hello"),
    (b"$0\r\n\r\n", b""),
    (b"$4\r\na\r\nb\r\n", b"a\r\nb"),
    (b"$-1\r\n", None),
    (b"*-1\r\n", None),
    (b"_\r\n", None),
    (b"#t\r\n", True),
    (b"#f\r\n", False),
    (b",1.5\r\n", 1.5),
    (b",-0.25\r\n", -0.25),
    (b",10\r\n", 10.0),
    (b",-0\r\n", -0.0),
    (b",1e3\r\n", 1000.0),
    (b",1.25E-2\r\n", 0.0125),
    (b",.5\r\n", 0.5),
    (b",1.\r\n", 1.0),
    (b",inf\r\n", math.inf),
    (b",-inf\r\n", -math.inf),
    (b",+inf\r\n", math.inf),
    (b",nan\r\n", math.nan),
    (
        b"(3492890328409238509324850943850943825024385\r\n",
        3492890328409238509324850943850943825024385,
    ),
    (
        b"(-3492890328409238509324850943850943825024385\r\n",
        -3492890328409238509324850943850943825024385,
    ),
    (b"(+7\r\n", 7),
    (b"=15\r\ntxt:Some string\r\n", b"Some string"),
    (b"=4\r\nmkd:\r\n", b""),
    (b"=7\r\ntxt:a\r\n\r\n", b"a\r\n"),
]


@pytest.mark.parametrize(("wire", "expected"), SCALARS, ids=[repr(w) for w, _ in SCALARS])
def test_scalar(reader_module: ModuleType, wire: bytes, expected: Any) -> None:
    assert canon(parse_one(reader_module, wire)) == canon(expected)


AGGREGATES = [
    (b"*3\r\n:1\r\n:2\r\n:3\r\n", [1, 2, 3]),
    (b"*0\r\n", []),
    (b"*2\r\n*1\r\n+a\r\n$-1\r\n", [[b"a"], None]),
    (b"*3\r\n_\r\n*-1\r\n#f\r\n", [None, None, False]),
    (b"%2\r\n+first\r\n:1\r\n+second\r\n,2.5\r\n", {b"first": 1, b"second": 2.5}),
    (b"%0\r\n", {}),
    (b"%2\r\n+k\r\n:1\r\n+k\r\n:2\r\n", {b"k": 2}),
    (b"%1\r\n+k\r\n*2\r\n:1\r\n:2\r\n", {b"k": [1, 2]}),
    (b"~3\r\n+a\r\n+b\r\n+a\r\n", {b"a", b"b"}),
    (b"~0\r\n", set()),
    (b">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n", Push([b"message", b"chan", b"hi"])),
    (b">0\r\n", Push()),
    (b"*1\r\n>1\r\n:1\r\n", [Push([1])]),
    (b"$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n", b"Hello word"),
    (b"$?\r\n;0\r\n", b""),
    (b"$?\r\n;2\r\n\r\n\r\n;0\r\n", b"\r\n"),
    (b"*?\r\n:1\r\n:2\r\n.\r\n", [1, 2]),
    (b"*?\r\n.\r\n", []),
    (b"%?\r\n+a\r\n:1\r\n+b\r\n:2\r\n.\r\n", {b"a": 1, b"b": 2}),
    (b"~?\r\n+a\r\n+a\r\n:1\r\n.\r\n", {b"a", 1}),
    (b"*2\r\n*?\r\n$?\r\n;1\r\nx\r\n;0\r\n.\r\n:7\r\n", [[b"x"], 7]),
    (b"*?\r\n*?\r\n.\r\n%?\r\n.\r\n~?\r\n.\r\n.\r\n", [[], {}, set()]),
]


@pytest.mark.parametrize(("wire", "expected"), AGGREGATES, ids=[repr(w) for w, _ in AGGREGATES])
def test_aggregate(reader_module: ModuleType, wire: bytes, expected: Any) -> None:
    assert canon(parse_one(reader_module, wire)) == canon(expected)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b"%1\r\n*2\r\n:1\r\n:2\r\n+v\r\n", {(1, 2): b"v"}),
        (b"%1\r\n%1\r\n+a\r\n:1\r\n+v\r\n", {((b"a", 1),): b"v"}),
        (b"%1\r\n~2\r\n:1\r\n:2\r\n+v\r\n", {frozenset({1, 2}): b"v"}),
        (b"%1\r\n*1\r\n*1\r\n:1\r\n+v\r\n", {((1,),): b"v"}),
        (b"~2\r\n*1\r\n:1\r\n*1\r\n:1\r\n", {(1,)}),
        (b"~1\r\n%1\r\n+k\r\n*1\r\n:1\r\n", {((b"k", (1,)),)}),
        (b"~1\r\n>1\r\n:1\r\n", {(1,)}),
        (b"~1\r\n~1\r\n:1\r\n", {frozenset({1})}),
    ],
)
def test_unhashable_keys_and_members_become_tuples(
    reader_module: ModuleType, wire: bytes, expected: Any
) -> None:
    assert canon(parse_one(reader_module, wire)) == canon(expected)


ERROR_CODES = [
    ("ERR", ResponseError),
    ("NOSCRIPT", NoScriptError),
    ("READONLY", ReadOnlyError),
    ("LOADING", BusyLoadingError),
    ("EXECABORT", ExecAbortError),
    ("OOM", OutOfMemoryError),
    ("NOPERM", NoPermissionError),
    ("WRONGPASS", AuthenticationResponseError),
    ("NOAUTH", AuthenticationResponseError),
    ("MOVED", MovedError),
    ("ASK", AskError),
    ("TRYAGAIN", TryAgainError),
    ("CLUSTERDOWN", ClusterDownError),
    ("CROSSSLOT", CrossSlotError),
    ("MASTERDOWN", MasterDownError),
]


@pytest.mark.parametrize(("code", "cls"), ERROR_CODES)
@pytest.mark.parametrize("bulk", [False, True], ids=["simple", "bulk"])
def test_error_reply_is_returned_with_class_from_code_table(
    reader_module: ModuleType, code: str, cls: type[ResponseError], bulk: bool
) -> None:
    message = f"{code} something went wrong".encode()
    wire = b"!%d\r\n%s\r\n" % (len(message), message) if bulk else b"-%s\r\n" % message
    reply = parse_one(reader_module, wire)
    assert type(reply) is cls
    assert str(reply) == "something went wrong"
    assert reply.code == code


@pytest.mark.parametrize(
    ("wire", "message", "code"),
    [
        (
            b"-WRONGTYPE Operation against a key\r\n",
            "WRONGTYPE Operation against a key",
            "WRONGTYPE",
        ),
        (b"-ERR\r\n", "", "ERR"),
        (b"-\r\n", "", ""),
        (b"-ERR bad \xff byte\r\n", "bad \ufffd byte", "ERR"),
        (b"!21\r\nSYNTAX invalid syntax\r\n", "SYNTAX invalid syntax", "SYNTAX"),
        (b"!10\r\nERR a\r\nb c\r\n", "a\r\nb c", "ERR"),
    ],
)
def test_error_reply_message_and_code(
    reader_module: ModuleType, wire: bytes, message: str, code: str
) -> None:
    for options in ({}, {"encoding": "utf-8"}):
        reply = parse_one(reader_module, wire, **options)
        assert type(reply) is ResponseError
        assert (str(reply), reply.code) == (message, code)


def test_error_reply_does_not_disturb_the_stream(reader_module: ModuleType) -> None:
    replies = parse_all(reader_module, b"*2\r\n-ERR inner\r\n:1\r\n-NOSCRIPT x\r\n+OK\r\n")
    assert canon(replies) == canon(
        [[ResponseError("inner", "ERR"), 1], NoScriptError("x", "NOSCRIPT"), b"OK"]
    )


ATTRIBUTED = (
    b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
    b"*2\r\n:2039123\r\n:9543892\r\n"
)


def test_attribute_describes_the_next_top_level_reply(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    assert reader.attributes is None
    reader.feed(ATTRIBUTED + b"+plain\r\n")
    assert reader.gets() == [2039123, 9543892]
    assert canon(reader.attributes) == canon({b"key-popularity": {b"a": 0.1923, b"b": 0.0012}})
    assert reader.gets() == b"plain"
    assert reader.attributes is None


def test_attribute_waits_for_its_reply(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    reader.feed(b"+first\r\n|1\r\n+ttl\r\n:5\r\n")
    assert reader.gets() == b"first"
    assert reader.gets() is INCOMPLETE
    assert reader.attributes is None
    reader.feed(b"+second\r\n")
    assert reader.gets() == b"second"
    assert reader.attributes == {b"ttl": 5}


@pytest.mark.parametrize(
    ("wire", "expected", "attributes"),
    [
        (b"*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n", [1, 2], None),
        (b"%1\r\n|1\r\n+a\r\n+b\r\n+k\r\n|1\r\n+c\r\n+d\r\n+v\r\n", {b"k": b"v"}, None),
        (b"|1\r\n+k\r\n|1\r\n+inner\r\n+x\r\n+v\r\n+reply\r\n", b"reply", {b"k": b"v"}),
        (b"|0\r\n:1\r\n", 1, {}),
        (b"|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n:2\r\n:3\r\n", 3, {b"b": 2}),
        (b"|1\r\n+a\r\n:1\r\n*1\r\n|1\r\n+b\r\n:2\r\n:3\r\n", [3], {b"a": 1}),
        (b"*?\r\n|1\r\n+a\r\n:1\r\n.\r\n", [], None),
    ],
)
def test_attributes_never_shift_replies(
    reader_module: ModuleType, wire: bytes, expected: Any, attributes: Any
) -> None:
    reader = reader_module.Reader()
    reader.feed(wire + b"+next\r\n")
    assert canon(reader.gets()) == canon(expected)
    assert canon(reader.attributes) == canon(attributes)
    assert reader.gets() == b"next"
    assert reader.gets() is INCOMPLETE


def test_attributes_after_gets_all_are_those_of_the_last_reply(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    reader.feed(ATTRIBUTED + b"|1\r\n+last\r\n#t\r\n:9\r\n")
    assert reader.gets_all() == [[2039123, 9543892], 9]
    assert reader.attributes == {b"last": True}


def test_encoding_gives_str(reader_module: ModuleType) -> None:
    wire = (
        b"*8\r\n+OK\r\n$2\r\n\xc3\xa9\r\n=8\r\ntxt:\xe2\x82\xac1\r\n$?\r\n;1\r\n\xc3\r\n;1\r\n\xa9\r\n;0\r\n"
        b"%1\r\n+k\r\n~1\r\n+m\r\n:5\r\n-ERR e\r\n(12\r\n"
    )
    expected = ["OK", "é", "€1", "é", {"k": {"m"}}, 5, ResponseError("e", "ERR"), 12]
    reader = reader_module.Reader(encoding="utf-8")
    assert reader.encoding == "utf-8"
    reader.feed(wire + b"|1\r\n+a\r\n+b\r\n:0\r\n")
    assert canon(reader.gets_all()) == canon([expected, 0])
    assert canon(reader.attributes) == canon({"a": "b"})


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, b"\xe9\xff"),
        ({"encoding": "latin-1"}, "\xe9\xff"),
        ({"encoding": "utf-8", "errors": "replace"}, "\ufffd\ufffd"),
        ({"encoding": "utf-8", "errors": "surrogateescape"}, "\udce9\udcff"),
    ],
)
def test_encoding_and_errors_options(
    reader_module: ModuleType, options: dict[str, Any], expected: Any
) -> None:
    assert canon(parse_one(reader_module, b"$2\r\n\xe9\xff\r\n", **options)) == canon(expected)


@pytest.mark.parametrize(
    ("options", "exception"),
    [
        ({"protocol": 1}, ValueError),
        ({"protocol": 4}, ValueError),
        ({"encoding": "no-such-codec"}, LookupError),
        ({"errors": "no-such-handler"}, LookupError),
        ({"max_bulk_len": -1}, ValueError),
        ({"max_depth": 0}, ValueError),
    ],
)
def test_constructor_rejects_bad_options(
    reader_module: ModuleType, options: dict[str, Any], exception: type[Exception]
) -> None:
    with pytest.raises(exception):
        reader_module.Reader(**options)


def test_protocol_is_recorded_and_both_grammars_are_understood(reader_module: ModuleType) -> None:
    reader = reader_module.Reader(protocol=2)
    assert reader.protocol == 2
    reader.feed(b"*2\r\n$1\r\na\r\n:1\r\n%1\r\n#t\r\n_\r\n")
    assert reader.gets_all() == [[b"a", 1], {True: None}]
    reader.protocol = 3
    assert reader.protocol == 3
    with pytest.raises(ValueError, match="protocol must be 2 or 3, got 5"):
        reader.protocol = 5
    assert reader.protocol == 3


def test_incomplete_then_complete(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    assert reader.gets() is INCOMPLETE
    assert reader.gets_all() == []
    for part in (b"*2\r", b"\n$5\r\nhel", b"", b"lo\r\n", b"%1\r\n+k\r\n"):
        reader.feed(part)
        assert reader.gets() is INCOMPLETE
    reader.feed(b":1\r\n+tail")
    assert reader.gets() == [b"hello", {b"k": 1}]
    assert reader.gets() is INCOMPLETE
    assert reader.buffered() == len(b"+tail")
    reader.feed(b"\r\n")
    assert reader.gets() == b"tail"
    assert reader.buffered() == 0


def test_gets_all_returns_every_complete_reply_and_keeps_the_rest(
    reader_module: ModuleType,
) -> None:
    reader = reader_module.Reader()
    reader.feed(b"+a\r\n:1\r\n*1\r\n_\r\n$3\r\nxy")
    assert reader.gets_all() == [b"a", 1, [None]]
    assert reader.gets_all() == []
    reader.feed(b"z\r\n")
    assert reader.gets_all() == [b"xyz"]


REPRESENTATIVE = b"".join(w for w, _ in SCALARS + AGGREGATES) + ATTRIBUTED + b"-ERR last\r\n"
REPRESENTATIVE_REPLIES = [e for _, e in SCALARS + AGGREGATES] + [
    [2039123, 9543892],
    ResponseError("last", "ERR"),
]


def feed_in_chunks(mod: ModuleType, chunks: list[bytes]) -> list[Any]:
    reader = mod.Reader()
    replies: list[Any] = []
    for chunk in chunks:
        reader.feed(chunk)
        replies += reader.gets_all()
    assert reader.buffered() == 0
    return replies


@pytest.mark.parametrize("size", [1, 2, 3, 7, len(REPRESENTATIVE)], ids=["1", "2", "3", "7", "all"])
def test_any_chunk_size_gives_the_same_replies(reader_module: ModuleType, size: int) -> None:
    data = REPRESENTATIVE
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    assert canon(feed_in_chunks(reader_module, chunks)) == canon(REPRESENTATIVE_REPLIES)


def test_every_split_point_gives_the_same_replies(reader_module: ModuleType) -> None:
    data = REPRESENTATIVE
    expected = canon(REPRESENTATIVE_REPLIES)
    for cut in range(1, len(data)):
        assert canon(feed_in_chunks(reader_module, [data[:cut], data[cut:]])) == expected, cut


def test_feed_accepts_any_bytes_like(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    reader.feed(b"+a\r\n")
    reader.feed(bytearray(b"+b\r\n"))
    reader.feed(memoryview(b"xx+c\r\nyy")[2:-2])
    reader.feed(memoryview(bytearray(b"+d\r\n")))
    reader.feed(array("B", b"+e\r\n"))
    assert reader.gets_all() == [b"a", b"b", b"c", b"d", b"e"]


@pytest.mark.parametrize(
    ("data", "offset", "length"),
    [
        (b"xx+a\r\nyy", 2, 4),
        (b"xx+a\r\n", 2, -1),
        (b"+a\r\nyy", 0, 4),
        (bytearray(b"xx+a\r\nyy"), 2, 4),
        (memoryview(b"zxx+a\r\nyy")[1:], 2, 4),
    ],
)
def test_feed_offset_and_length(
    reader_module: ModuleType, data: bytes | bytearray | memoryview, offset: int, length: int
) -> None:
    reader = reader_module.Reader()
    reader.feed(data, offset, length)
    assert reader.gets_all() == [b"a"]
    reader.feed(data, offset=offset, length=0)
    assert reader.buffered() == 0


def test_feed_offset_counts_bytes_of_a_wide_memoryview(reader_module: ModuleType) -> None:
    words = array("i", [0, 0])
    raw = memoryview(words).cast("B")
    raw[4:8] = b"+a\r\n"
    reader = reader_module.Reader()
    reader.feed(memoryview(words), 4, 4)
    assert reader.gets_all() == [b"a"]


@pytest.mark.parametrize(("offset", "length"), [(-1, 2), (0, 9), (6, 1), (7, -1)])
def test_feed_rejects_out_of_range_offset_and_length(
    reader_module: ModuleType, offset: int, length: int
) -> None:
    reader = reader_module.Reader()
    with pytest.raises(ValueError, match="offset/length out of range"):
        reader.feed(b"+a\r\n:1", offset, length)
    assert reader.buffered() == 0


def test_feed_any_negative_length_means_to_the_end(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    reader.feed(b"xx+a\r\n", 2, -2)
    assert reader.gets_all() == [b"a"]


def test_reader_copies_the_fed_buffer(reader_module: ModuleType) -> None:
    reader = reader_module.Reader()
    buf = bytearray(b"$5\r\nhello\r\n$5\r\nwor")
    reader.feed(buf)
    buf[:] = b"X" * len(buf)
    assert reader.gets() == b"hello"
    buf[:] = b"..ld\r\n+ok\r\n"
    reader.feed(memoryview(buf), 2, 4)
    buf[:] = b"X" * len(buf)
    assert reader.gets() == b"world"
    assert reader.gets() is INCOMPLETE
