"""The pure reader's fast path (``_reader_py_fast``) is invisible: it changes nothing.

Each test feeds the same chunks to a ``resp3._reader_py.Reader`` as it is and to one
whose fast path is switched off, so that only the general path (the specification)
runs, and compares everything observable: replies, ``attributes``, ``buffered()``,
and the exception type and message, twice (errors are sticky). The differential tests
against the compiled twin cannot see the fast path's own machinery: lines split a
window at a time (here also 8 bytes, so elements straddle windows), payloads holding
CRLF, large payloads left to the general path, and the handovers both ways.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_reader_fuzz import FUZZ, canon, cut_points, garbage, resp2_nodes, resp3_nodes, split

import resp3._reader_py as reader_py
import resp3._reader_py_fast as fast
from resp3.types import INCOMPLETE, Push


@contextmanager
def general_path_only() -> Iterator[None]:
    """Readers created or used inside run the general path alone."""
    with (
        mock.patch.object(reader_py, "gets_fast", lambda r: fast.HANDED_OVER),
        mock.patch.object(reader_py, "fast_may_progress", lambda r: False),
    ):
        yield


@contextmanager
def window(size: int | None) -> Iterator[None]:
    """Split ``size`` bytes at a time, and treat payloads over ``size // 2`` as large."""
    if size is None:
        yield
        return
    with (
        mock.patch.object(reader_py, "WINDOW", size),
        mock.patch.object(fast, "WINDOW", size),
        mock.patch.object(fast, "BIG", size // 2),
    ):
        yield


def observe(options: dict[str, Any], chunks: list[bytes], api: str) -> list[Any]:
    """Everything a caller can see while feeding ``chunks`` and draining with ``api``."""
    reader = reader_py.Reader(**options)
    record: list[Any] = []
    for chunk in chunks:
        reader.feed(chunk)
        try:
            if api == "gets":
                while (reply := reader.gets()) is not INCOMPLETE:
                    record.append(("reply", canon(reply), canon(reader.attributes)))
                    record.append(("buffered", reader.buffered()))
            else:
                replies = reader.gets_all()
                record.append(("replies", canon(replies), canon(reader.attributes)))
        except Exception as exc:
            record.append(("raise", type(exc).__name__, str(exc)))
            try:
                reader.gets()
            except Exception as again:
                record.append(("raise again", type(again).__name__, str(again)))
            return record
        record.append(("incomplete", reader.buffered()))
    return record


def assert_invisible(
    chunks: list[bytes], options: dict[str, Any] | None = None, size: int | None = None
) -> None:
    options = options or {}
    for api in ("gets", "gets_all"):
        with window(size):
            actual = observe(options, chunks, api)
            with general_path_only():
                expected = observe(options, chunks, api)
        assert actual == expected, (api, size, chunks)


CRLF_PAYLOADS = [b"\r\n", b"a\r\nb", b"\r\n\r\n", b"a\r", b"\nb", b"a\r\r\nb\r", b"\r\r\n\n"]

STREAMS = [
    # every type the fast path takes, alone and nested
    b"$5\r\nhello\r\n$0\r\n\r\n$-1\r\n:0\r\n:-42\r\n:007\r\n:-0\r\n+OK\r\n+\r\n-ERR no\r\n",
    b",1.5\r\n,-0.25\r\n,10\r\n,.5\r\n,1.\r\n,-.5\r\n,1e3\r\n,inf\r\n,-nan\r\n_\r\n#t\r\n#f\r\n",
    b"*3\r\n$1\r\na\r\n:1\r\n*2\r\n+x\r\n_\r\n*0\r\n*-1\r\n>2\r\n$4\r\nchan\r\n#t\r\n",
    b"%2\r\n$1\r\nk\r\n:1\r\n*1\r\n:2\r\n~2\r\n:1\r\n:1\r\n%0\r\n~0\r\n>0\r\n",
    b"~3\r\n*1\r\n:1\r\n%1\r\n+k\r\n:2\r\n$1\r\nx\r\n",
    # payloads holding CRLF, lengths beyond the shortcut table, odd length spellings
    b"".join(b"*2\r\n$%d\r\n%s\r\n:1\r\n" % (len(p), p) for p in CRLF_PAYLOADS),
    b"$1500\r\n" + b"x\r\n" * 500 + b"\r\n$007\r\nabcdefg\r\n*01\r\n$1\r\n.\r\n",
    b":999999999999999999\r\n:-99999999999999999\r\n:9223372036854775807\r\n:1\r\n",
    # what the fast path leaves to the general path, between what it takes
    b"*4\r\n$1\r\na\r\n(12345\r\n=7\r\ntxt:abc\r\n$?\r\n;1\r\nz\r\n;0\r\n:5\r\n",
    b"|1\r\n+meta\r\n:1\r\n*2\r\n|1\r\n+a\r\n:2\r\n$1\r\nb\r\n:3\r\n%1\r\n+k\r\n!3\r\nERR\r\n",
    b"*?\r\n:1\r\n*2\r\n:2\r\n:3\r\n.\r\n%?\r\n+a\r\n*1\r\n:4\r\n.\r\n~?\r\n:1\r\n.\r\n",
    b"*1\r\n" * 70 + b"$2\r\nhi\r\n" + b"%1\r\n+k\r\n" * 66 + b":1\r\n",
    # errors after good replies, and inside aggregates the fast path has begun
    b"$3\r\nabc\r\n*3\r\n:1\r\n:2\r\n:x\r\n",
    b"*2\r\n$3\r\nabcde\r\n",
    b"%2\r\n+k\r\n:1\r\n+j\r\n$-2\r\n",
    b"*1\r\n\r\n",
    b"+a\r\n,1.2.3\r\n",
    b"~1\r\n" + b"_" * 80,
    # spellings that int() or float() would take but RESP does not (or only some)
    b",+1.5\r\n,-1e-3\r\n,1E5\r\n,+inf\r\n,Infinity\r\n",
    b":1\r\n:+5\r\n",
    b"*1\r\n:1_0\r\n",
    b"*2\r\n: 1\r\n:1\r\n",
    b"$+1\r\na\r\n",
    b"*+1\r\n:1\r\n",
    b"%1\r\n+k\r\n,1_0\r\n",
    b"*1\r\n:--1\r\n",
]


@pytest.mark.parametrize("data", STREAMS, ids=[repr(s[:24]) for s in STREAMS])
@pytest.mark.parametrize("size", [None, 8], ids=["window-64k", "window-8"])
def test_fast_path_is_invisible_at_every_split(data: bytes, size: int | None) -> None:
    assert_invisible([data], size=size)
    assert_invisible([data[i : i + 1] for i in range(len(data))], size=size)
    for cut in range(1, len(data), max(1, len(data) // 60)):
        assert_invisible([data[:cut], data[cut:]], size=size)


@pytest.mark.parametrize(
    "options",
    [
        {"encoding": "utf-8"},
        {"encoding": "utf-8", "errors": "replace"},
        {"max_depth": 2},
        {"max_bulk_len": 3},
        {"protocol": 2},
    ],
    ids=["utf-8", "replace", "max_depth=2", "max_bulk_len=3", "protocol=2"],
)
def test_fast_path_is_invisible_with_options(options: dict[str, Any]) -> None:
    data = (
        b"$4\r\nab\xc3\xa9\r\n+\xc3\xa9\r\n*2\r\n*1\r\n$2\r\nok\r\n:1\r\n"
        b"%1\r\n$3\r\nkey\r\n$4\r\nlong\r\n$2\r\n\xff\xfe\r\n*1\r\n*1\r\n*1\r\n:1\r\n"
    )
    for size in (None, 8):
        assert_invisible([data], options, size)
        for cut in range(1, len(data)):
            assert_invisible([data[:cut], data[cut:]], options, size)


@FUZZ
@given(
    nodes=st.lists(st.one_of(resp3_nodes, resp2_nodes), min_size=1, max_size=4),
    tail=st.one_of(st.just(b""), garbage),
    cuts=cut_points,
    size=st.sampled_from([None, 8, 32]),
)
def test_fast_path_is_invisible_on_generated_replies(
    nodes: list[Any], tail: bytes, cuts: list[int], size: int | None
) -> None:
    data = b"".join(node[0] for node in nodes) + tail
    assert_invisible(split(data, cuts), size=size)


def test_large_payloads_and_long_pipelines_across_windows() -> None:
    """A payload larger than the window, and many replies across window ends."""
    big = bytes(range(256)) * 1024 + b"\r\n" * 10
    data = b"$%d\r\n%s\r\n" % (len(big), big) + b"".join(b"*1\r\n:%d\r\n" % n for n in range(3000))
    for chunk_size in (len(data), 65536, 4096):
        chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
        assert_invisible(chunks)
        assert_invisible(chunks, size=64)


def test_the_fast_path_takes_common_replies_alone() -> None:
    """Guards the tests above against a fast path that quietly hands everything over."""
    reader = reader_py.Reader()
    data = b"*3\r\n$3\r\nfoo\r\n:1\r\n,1.5\r\n%1\r\n+k\r\n~1\r\n#t\r\n>1\r\n_\r\n-ERR x\r\n"
    reader.feed(data)
    with mock.patch.object(reader_py.Reader, "_parse", side_effect=AssertionError("general")):
        replies = [reader.gets() for _ in range(4)]
    assert canon(replies[:3]) == canon([[b"foo", 1, 1.5], {b"k": {True}}, Push([None])])
    assert type(replies[3]).__name__ == "ResponseError"
    assert reader.buffered() == 0
    assert reader.gets() is INCOMPLETE


def test_handovers_leave_no_reference_cycle() -> None:
    """A stop kept in a variable would tie the reader (and its buffer) into a cycle."""
    data = b"*2\r\n$3\r\nabc\r\n(1\r\n" + b"$5\r\nhello\r\n" * 50 + b"*3\r\n:1\r\n"
    gc.collect()
    gc.disable()
    try:
        for api in ("gets", "gets_all"):
            observe({}, [data[i : i + 7] for i in range(0, len(data), 7)], api)
        assert gc.collect() == 0
    finally:
        gc.enable()
