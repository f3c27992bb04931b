"""Generated input: RESP3/RESP2 value trees, garbage, and commands, against both twins.

A node is ``(wire, value, attributes)``: the bytes of one RESP value (written by the
small encoder below, including attributes and the streamed ``$?``/``*?``/``%?``/``~?``
forms), the value the reader must return for it, and the attribute map a reader must
expose when the node is a top-level reply. Every twin must parse any concatenation of
nodes, cut anywhere, to the expected values. On garbage, the twins must agree with each
other exactly: the same replies, or the same exception type and message.
"""

from __future__ import annotations

import importlib
import itertools
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resp3.errors import ResponseError, error_from_reply
from resp3.types import INCOMPLETE, Push

Node = tuple[bytes, Any, Any]

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CRLF = b"\r\n"


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


def hashable(value: Any) -> Any:
    """What a map key or set member becomes: lists (and Push) tuples, maps pair tuples."""
    if isinstance(value, list):
        return tuple(hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple((hashable(k), hashable(v)) for k, v in value.items())
    if isinstance(value, set):
        return frozenset(value)
    return value


def decoded(value: Any) -> Any:
    """The expected value for ``Reader(encoding="utf-8", errors="surrogateescape")``."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, (list, tuple)):
        return type(value)(decoded(item) for item in value)
    if isinstance(value, dict):
        return {decoded(k): decoded(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return type(value)(decoded(item) for item in value)
    return value


# -- an encoder to RESP, for the tests only --------------------------------------------

line = st.binary(max_size=12).filter(lambda b: CRLF not in b)
payload = st.binary(max_size=24)
codes = st.sampled_from(["ERR", "WRONGTYPE", "NOSCRIPT", "MOVED", "NOAUTH", "OOM", "x", ""])


def simple(text: bytes) -> Node:
    return b"+" + text + CRLF, text, None


def error(code: str, text: bytes, bulk: bool) -> Node:
    message = code.encode() + (b" " + text if text else b"")
    expected = error_from_reply(message.decode("utf-8", "replace"))
    if bulk:
        return b"!%d\r\n%s\r\n" % (len(message), message), expected, None
    return b"-" + message + CRLF, expected, None


@st.composite
def bulk_string(draw: st.DrawFn) -> Node:
    data = draw(payload)
    if not draw(st.booleans()):
        return b"$%d\r\n%s\r\n" % (len(data), data), data, None
    cuts = sorted(set(draw(st.lists(st.integers(1, max(len(data) - 1, 1)), max_size=4))))
    bounds = [0, *(c for c in cuts if c < len(data)), len(data)]
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    body = b"".join(b";%d\r\n%s\r\n" % (len(c), c) for c in chunks)
    return b"$?\r\n" + body + b";0\r\n", data, None


def double(number: float, style: str) -> Node:
    text = (repr(number) if style == "repr" else f"{number:.17g}").encode()
    return b"," + text + CRLF, float(text), None


def verbatim(fmt: bytes, data: bytes) -> Node:
    return b"=%d\r\n%s:%s\r\n" % (len(data) + 4, fmt, data), data, None


resp3_scalars: st.SearchStrategy[Node] = st.one_of(
    line.map(simple),
    st.builds(error, codes, line, st.booleans()),
    st.integers(-(2**63), 2**63 - 1).map(lambda n: (b":%d\r\n" % n, n, None)),
    bulk_string(),
    st.sampled_from([b"_\r\n", b"$-1\r\n", b"*-1\r\n"]).map(lambda w: (w, None, None)),
    st.booleans().map(lambda b: (b"#t\r\n" if b else b"#f\r\n", b, None)),
    st.builds(double, st.floats(), st.sampled_from(["repr", "g"])),
    st.integers(-(10**60), 10**60).map(lambda n: (b"(%d\r\n" % n, n, None)),
    st.builds(verbatim, st.binary(min_size=3, max_size=3), payload),
)


def sequence(kind: bytes, items: list[Node], streamed: bool) -> Node:
    body = b"".join(wire for wire, _, _ in items)
    values = [value for _, value, _ in items]
    header = kind + (b"?" if streamed else b"%d" % len(items)) + CRLF
    end = b".\r\n" if streamed else b""
    if kind == b"~":
        members: set[Any] = set()
        for value in values:
            members.add(hashable(value))
        return header + body + end, members, None
    return header + body + end, Push(values) if kind == b">" else values, None


def mapping(pairs: list[tuple[Node, Node]], streamed: bool, kind: bytes = b"%") -> Node:
    body = b"".join(k[0] + v[0] for k, v in pairs)
    result: dict[Any, Any] = {}
    for key, value in pairs:
        result[hashable(key[1])] = value[1]
    header = kind + (b"?" if streamed else b"%d" % len(pairs)) + CRLF
    return header + body + (b".\r\n" if streamed else b""), result, None


def attributed(pairs: list[tuple[Node, Node]], node: Node) -> Node:
    """``|`` before a node: same value; a top-level reader reports the last attribute."""
    wire, attrs, _ = mapping(pairs, False, b"|")
    return wire + node[0], node[1], attrs if node[2] is None else node[2]


def resp3_containers(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    items = st.lists(children, max_size=4)
    pairs = st.lists(st.tuples(children, children), max_size=3)
    return st.one_of(
        st.builds(sequence, st.sampled_from([b"*", b"~"]), items, st.booleans()),
        st.builds(sequence, st.just(b">"), items, st.just(False)),
        st.builds(mapping, pairs, st.booleans()),
        st.builds(attributed, pairs, children),
    )


resp3_nodes = st.recursive(resp3_scalars, resp3_containers, max_leaves=16)

resp2_scalars: st.SearchStrategy[Node] = st.one_of(
    line.map(simple),
    st.builds(error, codes, line, st.just(False)),
    st.integers(-(2**63), 2**63 - 1).map(lambda n: (b":%d\r\n" % n, n, None)),
    payload.map(lambda d: (b"$%d\r\n%s\r\n" % (len(d), d), d, None)),
    st.sampled_from([b"$-1\r\n", b"*-1\r\n"]).map(lambda w: (w, None, None)),
)
resp2_nodes = st.recursive(
    resp2_scalars,
    lambda children: st.builds(
        sequence, st.just(b"*"), st.lists(children, max_size=4), st.just(False)
    ),
    max_leaves=16,
)


# -- driving a reader -----------------------------------------------------------------


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def replies_of(reader: Any, chunks: list[bytes]) -> list[tuple[Any, Any]]:
    out: list[tuple[Any, Any]] = []
    for chunk in chunks:
        reader.feed(chunk)
        while (reply := reader.gets()) is not INCOMPLETE:
            out.append((canon(reply), canon(reader.attributes)))
    assert reader.buffered() == 0
    return out


def check_nodes(
    mod: ModuleType, nodes: list[Node], cuts: list[int], expect: Callable[[Any], Any] = canon
) -> None:
    wire = b"".join(node[0] for node in nodes)
    expected = [(expect(value), expect(attrs)) for _, value, attrs in nodes]
    options: dict[str, Any] = {}
    if expect is not canon:
        options = {"encoding": "utf-8", "errors": "surrogateescape"}
    assert replies_of(mod.Reader(**options), split(wire, cuts)) == expected


cut_points = st.lists(st.integers(0, 4096), max_size=8)


@FUZZ
@given(nodes=st.lists(resp3_nodes, min_size=1, max_size=3), cuts=cut_points)
def test_resp3_trees_parse_to_the_expected_value(
    reader_module: ModuleType, nodes: list[Node], cuts: list[int]
) -> None:
    check_nodes(reader_module, nodes, cuts)


@FUZZ
@given(nodes=st.lists(resp3_nodes, min_size=1, max_size=2), cuts=cut_points)
def test_resp3_trees_with_encoding(
    reader_module: ModuleType, nodes: list[Node], cuts: list[int]
) -> None:
    check_nodes(reader_module, nodes, cuts, lambda value: canon(decoded(value)))


@FUZZ
@given(
    nodes=st.lists(resp2_nodes, min_size=1, max_size=3),
    cuts=cut_points,
    protocol=st.sampled_from([2, 3]),
)
def test_resp2_trees_parse_to_the_expected_value(
    reader_module: ModuleType, nodes: list[Node], cuts: list[int], protocol: int
) -> None:
    wire = b"".join(node[0] for node in nodes)
    expected = [(canon(value), canon(None)) for _, value, _ in nodes]
    assert replies_of(reader_module.Reader(protocol=protocol), split(wire, cuts)) == expected


# -- garbage: the twins must agree -----------------------------------------------------

FRAGMENTS = [
    b"*1\r\n", b"*2\r\n", b"*?\r\n", b"%1\r\n", b"%?\r\n", b"~1\r\n", b"~?\r\n", b">1\r\n",
    b">?\r\n", b"|1\r\n", b"|0\r\n", b"$?\r\n", b";3\r\nabc\r\n", b";0\r\n", b";-1\r\n",
    b".\r\n", b".x\r\n", b"+OK\r\n", b"+\xc3\r\n", b"-ERR x\r\n", b"-MOVED 1 a:1\r\n",
    b"!3\r\nOOM\r\n", b":1\r\n", b":-0\r\n", b":+1\r\n", b":99999999999999999999\r\n",
    b"$3\r\nabc\r\n", b"$3\r\nab", b"$3\r\nabcd\r\n", b"$-1\r\n", b"$-2\r\n", b"*-1\r\n",
    b"%-1\r\n", b"$0\r\n\r\n", b"*0\r\n", b"#t\r\n", b"#x\r\n", b",1.5\r\n", b",nan\r\n",
    b",-inf\r\n", b",1e\r\n", b"(12\r\n", b"(1.0\r\n", b"_\r\n", b"_x\r\n", b"=7\r\ntxt:abc\r\n",
    b"=2\r\nab\r\n", b"$2\r\n\xc3\xa9\r\n", b"\r\n", b"\r", b"\n", b"*", b"$", b"1", b"?",
    b"*1" * 40, b"$99\r\n",
]  # fmt: skip

garbage = st.one_of(
    st.binary(max_size=64),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=3)), max_size=12).map(
        b"".join
    ),
)
reader_options = st.fixed_dictionaries(
    {},
    optional={
        "encoding": st.sampled_from(["utf-8", "latin-1"]),
        "max_depth": st.integers(1, 4),
        "max_bulk_len": st.integers(0, 8),
        "protocol": st.sampled_from([2, 3]),
    },
)


def outcome(mod: ModuleType, options: dict[str, Any], chunks: list[bytes]) -> list[Any]:
    """Everything observable: replies, attributes, leftovers, and errors (twice: sticky)."""
    reader = mod.Reader(**options)
    record: list[Any] = []
    for chunk in chunks:
        reader.feed(chunk)
        try:
            while (reply := reader.gets()) is not INCOMPLETE:
                record.append(("reply", canon(reply), canon(reader.attributes)))
        except Exception as exc:
            record.append(("raise", type(exc).__name__, str(exc)))
            try:
                reader.gets()
            except Exception as again:
                record.append(("raise again", type(again).__name__, str(again)))
            return record
        record.append(("incomplete", reader.buffered()))
    return record


@FUZZ
@given(data=garbage, cuts=cut_points, options=reader_options)
def test_garbage_raises_only_protocol_error(
    reader_module: ModuleType, data: bytes, cuts: list[int], options: dict[str, Any]
) -> None:
    for event in outcome(reader_module, options, split(data, cuts)):
        if event[0] != "reply":
            assert event[0] == "incomplete" or event[1] == "ProtocolError", event


@pytest.fixture(scope="module")
def twins() -> tuple[ModuleType, ModuleType]:
    return importlib.import_module("resp3._reader_py"), importlib.import_module("resp3._reader_c")


@pytest.mark.c_extension
@FUZZ
@given(data=garbage, cuts=cut_points, options=reader_options)
def test_twins_agree_on_garbage(
    twins: tuple[ModuleType, ModuleType], data: bytes, cuts: list[int], options: dict[str, Any]
) -> None:
    py, c = twins
    chunks = split(data, cuts)
    assert outcome(c, options, chunks) == outcome(py, options, chunks)


@pytest.mark.c_extension
@FUZZ
@given(nodes=st.lists(resp3_nodes, min_size=1, max_size=3), garbage=garbage, cuts=cut_points)
def test_twins_agree_on_valid_replies_followed_by_garbage(
    twins: tuple[ModuleType, ModuleType], nodes: list[Node], garbage: bytes, cuts: list[int]
) -> None:
    py, c = twins
    chunks = split(b"".join(node[0] for node in nodes) + garbage, cuts)
    assert outcome(c, {}, chunks) == outcome(py, {}, chunks)


EDGE_BODIES = [
    b"", b"0", b"-0", b"+0", b"00", b"-01", b"1", b"-1", b"+1", b"--1", b" 1", b"1 ", b"1\x00",
    b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808",
    b"-9223372036854775809", b"0009223372036854775807", b"18446744073709551616", b"\xd9\xa1",
    b"t", b"f", b"?", b".5", b"+.5", b"-.5e-3", b"1E5", b"1.5e", b"e5", b"1..5", b"inf", b"Inf",
    b"+inf", b"-nan", b"NaN", b"1e400", b"1e-400", b"0x10", b"1_0", b"1.", b"5e+", b"\r", b"a\rb",
]  # fmt: skip


@pytest.mark.c_extension
def test_twins_agree_on_edge_lines(twins: tuple[ModuleType, ModuleType]) -> None:
    """Every type byte with every odd number/line body, alone, nested, fed whole or bytewise."""
    py, c = twins
    for type_byte, body, prefix, tail in itertools.product(
        b"+-:$*%~>|_#,(=!;.", EDGE_BODIES, [b"", b"$?\r\n", b"%?\r\n+k\r\n"], [b"\r\n", b""]
    ):
        data = prefix + bytes([type_byte]) + body + tail + b"ab\r\n;0\r\n.\r\n:1\r\n"
        for options in ({}, {"encoding": "utf-8", "max_bulk_len": 1}):
            for chunks in ([data], [data[i : i + 1] for i in range(len(data))]):
                expected = outcome(py, options, chunks)
                assert outcome(c, options, chunks) == expected, (data, options, len(chunks))


# -- the encoder ------------------------------------------------------------------------

arguments = st.one_of(
    st.binary(max_size=16),
    st.text(max_size=8),
    st.integers(),
    st.floats(),
    st.binary(max_size=8).map(bytearray),
    st.binary(max_size=8).map(lambda b: memoryview(b)),
)


def expected_bulk(arg: Any) -> bytes:
    if isinstance(arg, str):
        return arg.encode()
    if isinstance(arg, (int, float)):
        return repr(arg).encode()
    return bytes(arg)


@FUZZ
@given(commands=st.lists(st.lists(arguments, min_size=1, max_size=5), max_size=5))
def test_pack_commands_round_trips_through_the_reader(
    reader_module: ModuleType, commands: list[list[Any]]
) -> None:
    packed = reader_module.pack_commands(commands)
    assert packed == b"".join(reader_module.encode_command(*args) for args in commands)
    reader = reader_module.Reader()
    reader.feed(packed)
    assert reader.gets_all() == [[expected_bulk(arg) for arg in args] for args in commands]
    assert reader.buffered() == 0


anything = st.one_of(
    arguments,
    st.none(),
    st.booleans(),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.lists(st.integers(), max_size=2),
    st.tuples(st.binary()),
    st.complex_numbers(),
)


def encode_outcome(mod: ModuleType, commands: list[list[Any]], encoding: str, errors: str) -> Any:
    try:
        return mod.pack_commands(commands, encoding, errors)
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.c_extension
@FUZZ
@given(
    commands=st.lists(st.lists(anything, max_size=4), max_size=4),
    encoding=st.sampled_from(["utf-8", "latin-1", "ascii"]),
    errors=st.sampled_from(["strict", "replace", "surrogateescape"]),
)
def test_twins_encode_identically(
    twins: tuple[ModuleType, ModuleType], commands: list[list[Any]], encoding: str, errors: str
) -> None:
    py, c = twins
    expected = encode_outcome(py, commands, encoding, errors)
    assert encode_outcome(c, commands, encoding, errors) == expected
    for args in commands:
        try:
            expected = py.encode_command(*args, encoding=encoding, errors=errors)
        except Exception as exc:
            expected = (type(exc).__name__, str(exc))
        try:
            actual = c.encode_command(*args, encoding=encoding, errors=errors)
        except Exception as exc:
            actual = (type(exc).__name__, str(exc))
        assert actual == expected


def test_garbage_fragments_reach_both_errors_and_replies() -> None:
    """Guards the differential tests above against fragments that only make valid data."""
    py = importlib.import_module("resp3._reader_py")
    kinds = [outcome(py, {}, [fragment * 2])[0][0] for fragment in FRAGMENTS]
    assert kinds.count("raise") >= 20
    assert kinds.count("reply") >= 10
