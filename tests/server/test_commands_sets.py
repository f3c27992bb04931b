"""Set commands through resp3 and redis-py on the same server, both protocols."""

from __future__ import annotations

from typing import Any

from _compare import compare

import resp3


def test_members_and_algebra(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.sadd("a", 1, 2, 3, "x")
        c.sadd("b", 2, 3, 4)
        c.srem("a", "x", "nope")
        c.smembers("a")
        c.smembers("missing")
        c.sismember("a", 1)
        c.sismember("a", 9)
        c.smismember("a", [1, 9])
        c.smismember("a", 2, 3)
        c.scard("a")
        c.sinter(["a", "b"])
        c.sunion("a", "b")
        c.sdiff(["a", "b"])
        c.sdiff("missing")
        c.sinterstore("i", ["a", "b"])
        c.sunionstore("u", "a", "b")
        c.sdiffstore("d", ["a"], "b")
        c.smembers("d")
        c.smove("a", "b", 1)
        c.smove("a", "b", 1)

    log = compare(r, redispy, script)
    assert log[:3] == [4, 3, 1]
    assert log[3:5] == [{b"1", b"2", b"3"}, set()]
    assert log[5:10] == [1, 0, [1, 0], [1, 1], 3]
    assert log[10:14] == [{b"2", b"3"}, {b"1", b"2", b"3", b"4"}, {b"1"}, set()]
    assert log[14:] == [2, 4, 1, {b"1"}, True, False]


def test_pop_and_random_members(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.sadd("s", "only")
        c.srandmember("s")
        c.srandmember("s", 2)
        c.srandmember("s", -2)
        c.spop("s", 5)
        c.spop("s")
        c.spop("s", 2)
        c.sadd("s", "again")
        c.spop("s")

    log = compare(r, redispy, script)
    assert log == [1, b"only", [b"only"], [b"only", b"only"], [b"only"], None, [], 1, b"again"]
    r.sadd("many", *range(10))
    popped = r.spop("many", 4)
    assert isinstance(popped, list) and len(popped) == 4 and r.scard("many") == 6


def test_sscan(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.sadd("s", *range(50))
        c.sscan("s", 0, count=1000)
        c.sscan("s", 0, match="4*", count=1000)
        c.sscan("missing")

    log = compare(r, redispy, script)
    assert log[1][0] == 0 and sorted(log[1][1], key=int) == [str(i).encode() for i in range(50)]
    assert sorted(log[2][1]) == sorted(str(i).encode() for i in range(50) if str(i)[0] == "4")
    assert log[3] == (0, [])
    assert sorted(r.sscan_iter("s", count=5)) == sorted(redispy.sscan_iter("s", count=5))
