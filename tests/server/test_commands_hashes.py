"""Hash commands through resp3 and redis-py on the same server, both protocols."""

from __future__ import annotations

from typing import Any

import pytest
from _compare import compare

import resp3


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # redis-py deprecates hmset
def test_hash_roundtrip(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.hset("h", "a", 1)
        c.hset("h", mapping={"a": 2, "b": b"x"}, items=["c", 3.5])
        c.hset("h", "d", "e", mapping={"f": "g"})
        c.hset("h")
        c.hget("h", "a")
        c.hget("h", "zz")
        c.hmset("h", {"m": 1})
        c.hmget("h", ["a", "b", "zz"])
        c.hmget("h", "c", "d")
        c.hgetall("h")
        c.hgetall("missing")
        c.hexists("h", "a")
        c.hexists("h", "zz")
        c.hlen("h")
        c.hkeys("h")
        c.hvals("h")
        c.hstrlen("h", "c")
        c.hsetnx("h", "a", 9)
        c.hsetnx("h", "n", 9)
        c.hdel("h", "a", "zz")

    log = compare(r, redispy, script)
    assert log[:4] == [1, 2, 2, ("error", "DataError")]
    assert log[4:7] == [b"2", None, True]
    assert log[7:9] == [[b"2", b"x", None], [b"3.5", b"e"]]
    assert log[9] == {b"a": b"2", b"b": b"x", b"c": b"3.5", b"d": b"e", b"f": b"g", b"m": b"1"}
    assert log[10:14] == [{}, True, False, 6]
    assert log[14] == [b"a", b"c", b"b", b"d", b"f", b"m"]  # items go before the mapping
    assert log[15] == [b"2", b"3.5", b"x", b"e", b"g", b"1"]
    assert log[16:] == [3, 0, 1, 1]


def test_hash_counters(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.hincrby("h", "n")
        c.hincrby("h", "n", 41)
        c.hincrbyfloat("h", "f")
        c.hincrbyfloat("h", "f", 0.25)
        c.hset("h", "s", "text")
        c.hincrby("h", "s")

    log = compare(r, redispy, script)
    assert log == [1, 42, 1.0, 1.25, 1, ("error", "ResponseError")]


def test_hscan(r: resp3.Redis, redispy: Any) -> None:
    fields = {f"f{i}": i for i in range(40)}

    def script(c: Any) -> None:
        c.hset("h", mapping=fields)
        c.hscan("h", 0, count=1000)
        c.hscan("h", 0, match="f1*", count=1000)
        c.hscan("missing")

    log = compare(r, redispy, script)
    assert log[1] == (0, {k.encode(): str(v).encode() for k, v in fields.items()})
    assert sorted(log[2][1]) == sorted(k.encode() for k in fields if k.startswith("f1"))
    assert log[3] == (0, {})
    assert dict(r.hscan_iter("h", count=3)) == dict(redispy.hscan_iter("h", count=3))
    assert len(dict(r.hscan_iter("h", match="f2*"))) == 11
