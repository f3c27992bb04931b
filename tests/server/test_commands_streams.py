"""Stream commands through resp3 and redis-py on the same server, both protocols.

Entry ids are explicit so both runs produce the same values.
"""

from __future__ import annotations

from typing import Any

from _compare import compare

import resp3


def fill(c: Any) -> None:
    c.xadd("s", {"f": "v"}, id="1-1")
    c.xadd("s", {"f": 2, "g": b"w"}, id="2-1")
    c.xadd("s", {"f": 3.5}, id="3-1")


def test_add_range_trim(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        fill(c)
        c.xadd("s", {"f": 1}, id="1-0")
        c.xadd("nostream", {"f": 1}, id="1-0", nomkstream=True)
        c.xadd("s", {"f": 4}, id="4-1", maxlen=3, approximate=False)
        c.xadd("s", {"f": 5}, id="5-1", minid="3-0", approximate=False)
        c.xadd("s", {"f": 1}, maxlen=1, minid="1-0")
        c.xlen("s")
        c.xrange("s")
        c.xrange("s", "3-1", "+", count=1)
        c.xrevrange("s", count=2)
        c.xrevrange("s", "4-1", "(3-1")
        c.xrange("missing")
        c.xdel("s", "3-1", "9-9")
        c.xtrim("s", maxlen=1, approximate=False)
        c.xtrim("s", minid="9-0", approximate=False)
        c.xtrim("s")

    log = compare(r, redispy, script)
    assert log[:3] == [b"1-1", b"2-1", b"3-1"]
    assert log[3] == ("error", "ResponseError")  # id not greater than the last one
    assert log[4:7] == [None, b"4-1", b"5-1"]
    assert log[7:9] == [("error", "DataError"), 3]
    entry3, entry4, entry5 = (
        (b"3-1", {b"f": b"3.5"}),
        (b"4-1", {b"f": b"4"}),
        (b"5-1", {b"f": b"5"}),
    )
    assert log[9:13] == [[entry3, entry4, entry5], [entry3], [entry5, entry4], [entry4]]
    assert log[13:] == [[], 1, 1, 1, ("error", "DataError")]


def test_xread(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        fill(c)
        c.xread({"s": 0})
        c.xread({"s": "1-1", "missing": 0}, count=1)
        c.xread({"s": "$"}, block=20)
        c.xread({"s": "3-1"})
        c.xread({})

    log = compare(r, redispy, script)
    e1, e2 = (b"1-1", {b"f": b"v"}), (b"2-1", {b"f": b"2", b"g": b"w"})
    if r.config.protocol == 3:  # redis-py's RESP3 shape: one extra list per stream
        assert log[3:6] == [{b"s": [[e1, e2, (b"3-1", {b"f": b"3.5"})]]}, {b"s": [[e2]]}, {}]
        assert log[6] == {}
    else:
        assert log[3:6] == [[[b"s", [e1, e2, (b"3-1", {b"f": b"3.5"})]]], [[b"s", [e2]]], []]
        assert log[6] == []
    assert log[7] == ("error", "DataError")


def test_consumer_groups(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        fill(c)
        c.xgroup_create("s", "g", id="0")
        c.xgroup_create("s", "g")
        c.xgroup_create("new", "g2", mkstream=True)
        c.xgroup_createconsumer("s", "g", "c1")
        c.xreadgroup("g", "c1", {"s": ">"}, count=2)
        c.xreadgroup("g", "c2", {"s": ">"}, noack=True)
        c.xreadgroup("g", "c1", {"s": "0"})
        c.xreadgroup("g", "c2", {"s": ">"}, block=20)
        c.xpending("s", "g")
        c.xpending("new", "g2")
        c.xpending_range("s", "g", "-", "+", 10, consumername="c1")
        c.xack("s", "g", "1-1", "9-9")
        c.xgroup_setid("s", "g", "0")
        c.xgroup_delconsumer("s", "g", "c2")
        c.xgroup_destroy("new", "g2")
        c.xgroup_destroy("new", "g2")

    log = compare(r, redispy, script, volatile=("time_since_delivered",))
    assert log[3:7] == [True, ("error", "ResponseError"), True, 1]
    e1, e2 = (b"1-1", {b"f": b"v"}), (b"2-1", {b"f": b"2", b"g": b"w"})
    read = log[7] if r.config.protocol == 2 else [[b"s", log[7][b"s"][0]]]
    assert read == [[b"s", [e1, e2]]]
    summary = log[11]
    assert summary == {
        "pending": 2,
        "min": b"1-1",
        "max": b"2-1",
        "consumers": [{"name": b"c1", "pending": 2}],
    }
    assert log[12] == {"pending": 0, "min": None, "max": None, "consumers": []}
    assert [d["message_id"] for d in log[13]] == [b"1-1", b"2-1"]
    assert log[13][0]["consumer"] == b"c1" and log[13][0]["times_delivered"] == 2
    assert log[14:] == [1, True, 0, True, False]


def test_claims(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        fill(c)
        c.xgroup_create("s", "g", id="0")
        c.xreadgroup("g", "c1", {"s": ">"})
        c.xclaim("s", "g", "c2", 0, ["1-1"])
        c.xclaim("s", "g", "c2", 0, ("2-1",), idle=0, retrycount=5, justid=True)
        c.xclaim("s", "g", "c2", 0, [])
        c.xautoclaim("s", "g", "c3", 0, count=1)
        c.xautoclaim("s", "g", "c3", 0, "0-0", justid=True)
        c.xdel("s", "3-1")
        c.xautoclaim("s", "g", "c4", 0)

    log = compare(r, redispy, script)
    e1 = (b"1-1", {b"f": b"v"})
    assert log[5:8] == [[e1], [b"2-1"], ("error", "DataError")]
    assert log[8] == [b"2-1", [e1], []]
    assert log[9] == [b"1-1", b"2-1", b"3-1"]
    assert log[11][1:] == [[e1, (b"2-1", {b"f": b"2", b"g": b"w"})], [b"3-1"]]


def test_xinfo(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        fill(c)
        c.xgroup_create("s", "g", id="0")
        c.xreadgroup("g", "c1", {"s": ">"}, count=1)
        c.xinfo_groups("s")
        c.xinfo_consumers("s", "g")
        c.xinfo_stream("missing")

    log = compare(r, redispy, script, volatile=("idle", "inactive"))
    assert log[5][0]["name"] == b"g" and log[5][0]["pending"] == 1
    assert log[6][0]["name"] == b"c1" and log[6][0]["pending"] == 1
    assert log[7] == ("error", "ResponseError")
    ours, theirs = r.xinfo_stream("s"), redispy.xinfo_stream("s")
    assert ours["first-entry"] == theirs["first-entry"] == (b"1-1", {b"f": b"v"})
    assert ours["last-entry"] == theirs["last-entry"] and ours["length"] == 3
    assert ours.keys() == theirs.keys()
    full, full_theirs = r.xinfo_stream("s", full=True), redispy.xinfo_stream("s", full=True)
    assert full["entries"] == full_theirs["entries"] and len(full["entries"]) == 3
    assert [g["name"] for g in full["groups"]] == [g["name"] for g in full_theirs["groups"]]
    assert type(full["groups"][0]["consumers"][0]) is type(full_theirs["groups"][0]["consumers"][0])
