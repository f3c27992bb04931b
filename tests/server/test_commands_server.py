"""Connection, server and pub/sub commands through resp3 and redis-py, both protocols.

Values tied to one connection (CLIENT ID, CLIENT LIST) are compared by shape.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from _compare import compare

import resp3


def test_connection_commands(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.ping()
        c.echo("hello")
        c.echo(42)
        c.lastsave()
        c.dbsize()
        c.object("encoding", "missing")
        c.set("k", "v")
        c.object("encoding", "k")
        c.object("refcount", "k")
        c.exists("k")
        c.memory_usage("k")
        c.memory_usage("missing", samples=0)

    log = compare(r, redispy, script)
    assert log[:3] == [True, b"hello", b"42"]
    assert isinstance(log[3], datetime.datetime) and log[4] == 0
    assert log[5] == ("error", "ResponseError") or log[5] is None
    assert log[7:10] == [b"embstr", 1, 1]
    assert isinstance(log[10], int) and log[10] > 0 and log[11] is None
    seconds, micros = r.time()
    theirs = redispy.time()
    assert isinstance(seconds, int) and isinstance(micros, int) and 0 <= micros < 1_000_000
    assert abs(theirs[0] - seconds) <= 1
    # No password configured: the server refuses AUTH (redis-py maps this message to
    # its AuthenticationError, resp3 to a ResponseError subclass of RedisError).
    with pytest.raises(resp3.RedisError):
        r.auth("wrong")


def test_info_and_config(r: resp3.Redis, redispy: Any) -> None:
    ours, theirs = r.info(), redispy.info()
    assert ours.keys() == theirs.keys()
    assert ours["redis_version"] == theirs["redis_version"]
    assert isinstance(ours["tcp_port"], int) and isinstance(ours["mem_fragmentation_ratio"], float)
    keyspace = {"db0": {"keys": 0, "expires": 0, "avg_ttl": 0}} if "db0" in ours else {}
    r.set("k", 1)
    assert r.info("keyspace") == redispy.info("keyspace") != keyspace
    assert r.info("server", "clients").keys() == redispy.info("server", "clients").keys()

    def script(c: Any) -> None:
        c.config_get("maxmemory")
        c.config_get("maxmemory*", "port")
        c.config_get("no-such-option")
        c.config_set("maxmemory-samples", 6)
        c.config_get("maxmemory-samples")
        c.config_set("maxmemory-samples", 5, "lfu-log-factor", 10)
        c.config_set("no-such-option", 1)

    log = compare(r, redispy, script)
    assert log[0] == {"maxmemory": "0"} and log[2] == {}
    assert log[1]["port"] == str(r.config.port) and "maxmemory-policy" in log[1]
    assert log[3:] == [True, {"maxmemory-samples": "6"}, True, ("error", "ResponseError")]


def test_client_commands(r: resp3.Redis, redispy: Any) -> None:
    single = resp3.Redis(
        host=r.config.host,
        port=r.config.port,
        protocol=r.config.protocol,
        single_connection_client=True,
    )
    try:
        assert single.client_getname() is None
        assert single.client_setname("resp3-test") is True
        name = single.client_getname()
        assert name == (b"resp3-test" if r.config.protocol == 3 else "resp3-test")
        own_id = single.client_id()
        assert isinstance(own_id, int)
        clients = single.client_list(client_id=[own_id])
        assert [c["name"] for c in clients] == ["resp3-test"]
        assert clients[0]["id"] == str(own_id)
        assert single.client_list(_type="normal")[0].keys() == redispy.client_list()[0].keys()
        assert single.client_kill_filter(_id=own_id + 10_000) == 0
        assert single.client_pause(1, all=False) is True
        assert single.client_unpause() == b"OK"
        assert redispy.client_unpause() == b"OK"
    finally:
        single.close()

    def script(c: Any) -> None:
        c.client_kill("127.0.0.1:1")
        c.client_kill_filter(addr="127.0.0.1:1", skipme=True)
        c.client_list(_type="bogus")
        c.wait(0, 10)
        c.swapdb(0, 0)
        c.select(0)

    log = compare(r, redispy, script)
    assert log == [("error", "ResponseError"), 0, ("error", "DataError"), 0, True, True]


def test_pubsub_introspection(r: resp3.Redis, redispy: Any) -> None:
    sub = r.pubsub()
    sub.subscribe("news", "sport")
    sub.psubscribe("p*")
    try:
        for _ in range(3):
            sub.get_message(timeout=1.0)

        def script(c: Any) -> None:
            c.publish("news", "hello")
            c.spublish("shard", "x")
            c.pubsub_numsub("news", "nobody")
            c.pubsub_numpat()
            c.pubsub_channels("n*")
            c.pubsub_shardchannels()

        log = compare(r, redispy, script)
        assert log == [1, 0, [(b"news", 1), (b"nobody", 0)], 1, [b"news"], []]
        assert sorted(r.pubsub_channels()) == [b"news", b"sport"]
    finally:
        sub.close()
