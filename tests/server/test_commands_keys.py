"""Keyspace commands through resp3 and redis-py on the same server, both protocols."""

from __future__ import annotations

import datetime
from typing import Any

from _compare import compare

import resp3


def test_exists_delete_type_rename(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.mset({"a": 1, "b": 2, "c": 3})
        c.exists("a", "b", "a", "x")
        c.delete("a", "x")
        c.unlink("b")
        c.type("c")
        c.type("a")
        c.rename("c", "d")
        c.rename("nope", "e")
        c.set("e", 1)
        c.renamenx("d", "e")
        c.renamenx("d", "f")
        c.keys()
        c.keys("f*")
        c.dbsize()
        c.delete("e")
        c.randomkey()
        c.delete("f")
        c.randomkey()

    log = compare(r, redispy, script)
    assert log[1:7] == [3, 1, 1, b"string", b"none", True]
    assert log[7] == ("error", "ResponseError")
    assert log[9:11] == [False, True]
    assert sorted(log[11]) == [b"e", b"f"] and log[12] == [b"f"]
    assert log[13:] == [2, 1, b"f", 1, None]


def test_expiry(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.set("k", "v")
        c.ttl("k")
        c.expire("k", 1000)
        c.expire("k", 2000, nx=True)
        c.expire("k", datetime.timedelta(seconds=500), gt=True)
        c.expire("k", 500, lt=True)
        c.ttl("k")
        c.pexpire("k", datetime.timedelta(seconds=400), xx=True)
        c.expireat("k", datetime.datetime(2100, 1, 1))
        c.pexpireat("k", 4102444800000, lt=True)
        c.persist("k")
        c.persist("k")
        c.pttl("k")
        c.pttl("missing")
        c.expire("missing", 10)
        c.expire("k", 10, nx=True, xx=True)

    log = compare(r, redispy, script)
    assert log[1:6] == [-1, True, False, False, True]
    assert 490 <= log[6] <= 500
    assert log[7:12] == [True, True, False, True, False]
    assert log[12:15] == [-1, -2, False]
    assert log[15] == ("error", "ResponseError")


def test_scan_and_iterators(r: resp3.Redis, redispy: Any) -> None:
    r.mset({f"key:{i}": i for i in range(30)})
    r.hset("h", mapping={"x": 1})
    cursor, batch = r.scan(0, match="key:*", count=100)
    assert cursor == 0 and len(batch) == 30
    ours = sorted(r.scan_iter(match="key:*", count=7))
    theirs = sorted(redispy.scan_iter(match="key:*", count=7))
    assert ours == theirs == sorted(f"key:{i}".encode() for i in range(30))
    assert list(r.scan_iter(_type="hash")) == list(redispy.scan_iter(_type="hash")) == [b"h"]

    def script(c: Any) -> None:
        c.scan()
        c.scan(0, match="nothing*")

    log = compare(r, redispy, script)
    assert log == [(0, []), (0, [])]


def test_flush(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.set("a", 1)
        c.flushdb(asynchronous=True)
        c.dbsize()
        c.set("a", 1)
        c.flushdb()
        c.exists("a")

    assert compare(r, redispy, script) == [True, True, 0, True, True, 0]


def test_watch_unwatch(r: resp3.Redis) -> None:
    # redis-py's client-level watch()/unwatch() only warn; ours send the command.
    assert r.watch("a", "b") is True
    assert r.unwatch() is True
    with r.pipeline() as pipe:
        pipe.watch("a")
        assert pipe.get("a") is None
        pipe.multi()
        pipe.set("a", 1)
        assert pipe.execute() == [True]
