"""String commands through resp3 and redis-py on the same server, both protocols."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from _compare import compare

import resp3


def test_get_set_and_options(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.get("k")
        c.set("k", "v")
        c.get("k")
        c.set("k", "w", nx=True)
        c.set("k", "w", xx=True, get=True)
        c.set("k", b"x", ex=100)
        c.ttl("k")
        c.set("k", 1.5, px=datetime.timedelta(seconds=50), keepttl=False)
        c.set("k", "y", keepttl=True)
        c.set("n", "v", xx=True)
        c.set("k", "z", exat=4102444800)
        c.set("k", "z", pxat=datetime.datetime(2100, 1, 1))
        c.get("k")
        c.set("k", "v", ex=1, px=2)

    log = compare(r, redispy, script)
    assert log[:5] == [None, True, b"v", None, b"v"]
    assert log[5] is True and 95 <= log[6] <= 100
    assert log[7:10] == [True, True, None]
    assert log[12] == b"z"
    assert log[13] == ("error", "DataError")


def test_getex_getdel_mget_mset(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.mset({"a": 1, "b": b"2", "c": 3.5})
        c.mget(["a", "b", "x"])
        c.mget("a", "c")
        c.msetnx({"a": 1, "z": 2})
        c.msetnx({"y": 1, "z": 2})
        c.getex("a", persist=True)
        c.getex("a", ex=datetime.timedelta(seconds=30))
        c.getex("a", ex=1, persist=True)
        c.getdel("b")
        c.getdel("b")

    log = compare(r, redispy, script)
    assert log == [
        True,
        [b"1", b"2", None],
        [b"1", b"3.5"],
        False,
        True,
        b"1",
        b"1",
        ("error", "DataError"),
        b"2",
        None,
    ]


def test_counters_and_ranges(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.incr("n")
        c.incr("n", 10)
        c.incrby("n", -3)
        c.decr("n")
        c.decrby("n", 2)
        c.incrbyfloat("f", 1.25)
        c.incrbyfloat("f")
        c.set("s", "hello")
        c.incr("s")
        c.append("s", " world")
        c.strlen("s")
        c.getrange("s", 0, 4)
        c.getrange("s", -5, -1)
        c.setrange("s", 0, "J")
        c.get("s")
        c.setnx("s", "x")
        c.setnx("t", "x")

    log = compare(r, redispy, script)
    assert log[:7] == [1, 11, 8, 7, 5, 1.25, 2.25]
    assert log[8] == ("error", "ResponseError")
    assert log[9:] == [11, 11, b"hello", b"world", 11, b"Jello world", False, True]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # redis-py deprecates setex
def test_setex_psetex(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.setex("a", 100, "v")
        c.setex("b", datetime.timedelta(minutes=2), "v")
        c.psetex("c", 100000, "v")
        c.psetex("d", datetime.timedelta(seconds=100), "v")
        c.setex("e", 0, "v")

    log = compare(r, redispy, script)
    assert log == [True, True, True, True, ("error", "ResponseError")]
    assert 110 <= r.ttl("b") <= 120 and 90_000 <= r.pttl("d") <= 100_000


def test_decode_responses_strings(server: Any, protocol: int) -> None:
    import redis

    ours = resp3.Redis(host=server.host, port=server.port, protocol=protocol, decode_responses=True)
    theirs = redis.Redis(
        host=server.host, port=server.port, protocol=protocol, decode_responses=True
    )
    try:

        def script(c: Any) -> None:
            c.set("k", "é")
            c.get("k")
            c.mget(["k", "x"])
            c.set("k", "v", get=True)
            c.incrbyfloat("f", 0.5)

        log = compare(ours, theirs, script)
        assert log == [True, "é", ["é", None], "é", 0.5]
    finally:
        ours.close()
        theirs.close()
