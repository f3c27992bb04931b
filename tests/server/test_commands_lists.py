"""List commands through resp3 and redis-py on the same server, both protocols."""

from __future__ import annotations

from typing import Any

from _compare import compare

import resp3


def test_push_pop_range(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.lpushx("l", "x")
        c.rpush("l", "a", "b", 3)
        c.lpush("l", b"z", 1.5)
        c.rpushx("l", "y")
        c.lrange("l", 0, -1)
        c.llen("l")
        c.lindex("l", -1)
        c.lindex("l", 99)
        c.lpop("l")
        c.rpop("l")
        c.lpop("l", 2)
        c.rpop("l", 5)
        c.lpop("l")
        c.lpop("l", 2)

    log = compare(r, redispy, script)
    assert log == [
        0,
        3,
        5,
        6,
        [b"1.5", b"z", b"a", b"b", b"3", b"y"],
        6,
        b"y",
        None,
        b"1.5",
        b"y",
        [b"z", b"a"],
        [b"3", b"b"],
        None,
        None,
    ]


def test_set_remove_trim_move_pos(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.rpush("l", "a", "b", "a", "c", "a")
        c.lset("l", 1, "B")
        c.lset("l", 99, "x")
        c.lpos("l", "a")
        c.lpos("l", "a", rank=-1)
        c.lpos("l", "a", count=0)
        c.lpos("l", "a", rank=2, count=2, maxlen=10)
        c.lpos("l", "nope")
        c.lrem("l", -1, "a")
        c.ltrim("l", 1, -1)
        c.lrange("l", 0, -1)
        c.lmove("l", "m")
        c.lmove("l", "m", "RIGHT", "LEFT")
        c.lrange("m", 0, -1)
        c.lmove("empty", "m")

    log = compare(r, redispy, script)
    assert log[1:3] == [True, ("error", "ResponseError")]
    assert log[3:8] == [0, 4, [0, 2, 4], [2, 4], None]
    assert log[8:11] == [1, True, [b"B", b"a", b"c"]]
    assert log[11:] == [b"B", b"c", [b"c", b"B"], None]


def test_blocking_pops_with_data_and_timeouts(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.rpush("b", "1", "2", "3")
        c.blpop(["a", "b"], 1)
        c.brpop("b", timeout=1)
        c.blpop(["a", "c"], 0.05)
        c.brpop("a", 0.05)
        c.blmove("b", "d", 1)
        c.blmove("b", "d", 0.05, "RIGHT", "LEFT")

    log = compare(r, redispy, script)
    pair = list if r.config.protocol == 3 else tuple  # redis-py: list under RESP3
    assert log[1:] == [pair([b"b", b"1"]), pair([b"b", b"3"]), None, None, b"2", None]
