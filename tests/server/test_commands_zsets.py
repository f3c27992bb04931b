"""Sorted-set commands through resp3 and redis-py on the same server, both protocols.

Several values differ by protocol in redis-py itself (lists vs tuples); the comparison
with redis-py pins them, and the concrete assertions spell out both shapes.
"""

from __future__ import annotations

from typing import Any

from _compare import compare

import resp3


def pairs(protocol: int, *items: tuple[Any, Any]) -> list[Any]:
    """redis-py's WITHSCORES shape: [[m, s]] under RESP3, [(m, s)] under RESP2."""
    return [list(item) if protocol == 3 else item for item in items]


def test_zadd_variants(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.zadd("z", {"a": 1, "b": 2.5, "c": "3"})
        c.zadd("z", {"a": 5}, nx=True)
        c.zadd("z", {"a": 0.5, "d": 4}, ch=True, xx=True)
        c.zadd("z", {"b": 1}, gt=True, ch=True)
        c.zadd("z", {"b": 1}, lt=True, ch=True)
        c.zadd("z", {"a": 2}, incr=True)
        c.zadd("z", {"x": 2}, incr=True, xx=True)
        c.zadd("z", {"a": 1, "b": 2}, incr=True)
        c.zadd("z", {})
        c.zscore("z", "a")
        c.zscore("z", "nope")
        c.zmscore("z", ["a", "nope", "b"])
        c.zincrby("z", -1, "a")
        c.zcard("z")
        c.zcount("z", "(1", "+inf")
        c.zrem("z", "a", "nope")

    log = compare(r, redispy, script)
    assert log[:8] == [3, 0, 1, 0, 1, 2.5, None, ("error", "DataError")]
    assert log[8] == ("error", "DataError")
    assert log[9:] == [2.5, None, [2.5, None, 1.0], 1.5, 3, 2, 1]


def test_ranges(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.zadd("z", {"a": 1, "b": 2, "c": 3.5, "d": 4})
        c.zrange("z", 0, -1)
        c.zrange("z", 0, 1, withscores=True)
        c.zrange("z", 0, 1, desc=True, withscores=True)
        c.zrange("z", 0, 1, withscores=True, score_cast_func=int)
        c.zrange("z", 2, 4, byscore=True)
        c.zrange("z", 4, 2, byscore=True, desc=True, withscores=True)
        c.zrange("z", "-inf", "+inf", byscore=True, offset=1, num=2)
        c.zrange("z", "[b", "(d", bylex=True)
        c.zrange("z", 0, 1, byscore=True, bylex=True)
        c.zrangebyscore("z", "(1", 4)
        c.zrangebyscore("z", 1, 4, start=1, num=2, withscores=True)
        c.zrevrange("z", 0, 0, withscores=True)
        c.zrevrangebyscore("z", "+inf", 3, withscores=True, score_cast_func=str)
        c.zrange("missing", 0, -1, withscores=True)

    log = compare(r, redispy, script)
    p = r.config.protocol
    assert log[1] == [b"a", b"b", b"c", b"d"]
    assert log[2] == pairs(p, (b"a", 1.0), (b"b", 2.0))
    assert log[3] == pairs(p, (b"d", 4.0), (b"c", 3.5))
    assert log[4] == pairs(p, (b"a", 1), (b"b", 2))
    assert log[5:7] == [[b"b", b"c", b"d"], pairs(p, (b"d", 4.0), (b"c", 3.5), (b"b", 2.0))]
    assert log[7:10] == [[b"b", b"c"], [b"b", b"c"], ("error", "DataError")]
    assert log[10:12] == [[b"b", b"c", b"d"], pairs(p, (b"b", 2.0), (b"c", 3.5))]
    assert log[12] == pairs(p, (b"d", 4.0))
    cast = "4.0" if p == 3 else "b'4'"  # str() of a float vs of the raw RESP2 bytes
    assert log[13][0][1] == cast and log[14] == []


def test_ranks_pops_removals(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
        c.zrank("z", "c")
        c.zrevrank("z", "c")
        c.zrank("z", "nope")
        c.zrank("z", "c", withscore=True)  # Redis 7.2+; older servers refuse it alike
        c.zpopmin("z")
        c.zpopmax("z", 2)
        c.zremrangebyscore("z", "-inf", "(3")
        c.zremrangebyrank("z", 0, 0)
        c.zpopmin("z", 3)
        c.zpopmax("z")

    log = compare(r, redispy, script)
    p = r.config.protocol
    assert log[1:4] == [2, 2, None]
    assert log[4] in ([2, 3.0], [2, 3], ("error", "ResponseError"))
    assert log[5] == ([b"a", 1.0] if p == 3 else [(b"a", 1.0)])
    assert log[6] == pairs(p, (b"e", 5.0), (b"d", 4.0))
    assert log[7:10] == [1, 1, []]
    assert log[10] == []


def test_blocking_pops(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.zadd("b", {"m": 1.5, "n": 2})
        c.bzpopmin(["a", "b"], 1)
        c.bzpopmax("b", timeout=1)
        c.bzpopmin("b", 0.05)
        c.bzpopmax(["a"], 0.05)

    log = compare(r, redispy, script)
    shape = list if r.config.protocol == 3 else tuple
    assert log[1:] == [shape([b"b", b"m", 1.5]), shape([b"b", b"n", 2.0]), None, None]


def test_zscan(r: resp3.Redis, redispy: Any) -> None:
    members = {f"m{i}": i / 2 for i in range(30)}

    def script(c: Any) -> None:
        c.zadd("z", members)
        c.zscan("z", 0, count=1000)
        c.zscan("z", 0, match="m1*", count=1000, score_cast_func=int)
        c.zscan("missing")

    log = compare(r, redispy, script)
    assert dict(log[1][1]) == {k.encode(): v for k, v in members.items()}
    assert dict(log[2][1]) == {k.encode(): int(v) for k, v in members.items() if k[:2] == "m1"}
    assert log[3] == (0, [])
    assert sorted(r.zscan_iter("z", count=4)) == sorted(redispy.zscan_iter("z", count=4))
