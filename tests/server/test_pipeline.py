"""Pipelines, transactions and scripts against a real server.

The contract under test: one write per ``execute()``; every reply read, in order, even
when some are errors (so the connection stays in sync); errors reported at their own
position; WATCH conflicts retried by ``transaction()``; scripts that survive
``SCRIPT FLUSH`` both alone and inside pipelines.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _helpers import RecordingConnection, client_for

import resp3
from resp3.testing import RedisServer


@pytest.fixture
def recorded(server: RedisServer, protocol: int) -> Iterator[tuple[resp3.Redis, Any]]:
    """A client whose socket writes are logged, and its connection class (the log)."""
    conn_class = RecordingConnection.fresh()
    client = client_for(server, conn_class, protocol=protocol)
    client.flushdb()
    conn_class.reset_log()
    yield client, conn_class
    client.close()


def sends(conn_class: Any) -> list[bytes]:
    result: list[bytes] = conn_class.sends()
    return result


# -- batching ----------------------------------------------------------------------------


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_execute_is_one_write_and_replies_come_in_order(
    recorded: tuple[resp3.Redis, Any], transaction: bool
) -> None:
    client, log = recorded
    pipe = client.pipeline(transaction=transaction)
    pipe.set("a", "1").incr("a").get("a").echo("tail")
    pipe.hset("h", mapping={"f": "v"}).hgetall("h")
    assert len(pipe) == 6
    assert sends(log) == []  # buffered, nothing written yet
    assert pipe.execute() == [True, 2, b"2", b"tail", 1, {b"f": b"v"}]
    assert len(sends(log)) == 1
    sent = sends(log)[0]
    assert sent.startswith(b"*1\r\n$5\r\nMULTI\r\n") is transaction
    assert sent.endswith(b"*1\r\n$4\r\nEXEC\r\n") is transaction
    assert len(pipe) == 0 and pipe.execute() == []  # reset after execute
    assert len(sends(log)) == 1  # an empty execute writes nothing
    assert not client.connection_pool._in_use  # the connection went back to the pool


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_ten_thousand_commands(recorded: tuple[resp3.Redis, Any], transaction: bool) -> None:
    client, log = recorded
    with client.pipeline(transaction=transaction) as pipe:
        for i in range(5000):
            pipe.incr("big")
            pipe.set(f"k{i}", f"v{i}" * 3)
        assert pipe.execute() == [x for i in range(5000) for x in (i + 1, True)]
    assert len(sends(log)) == 1
    with client.pipeline(transaction=False) as pipe:
        for i in range(0, 5000, 7):
            pipe.get(f"k{i}")
        assert pipe.execute() == [f"v{i}".encode() * 3 for i in range(0, 5000, 7)]
    assert client.echo("in sync") == b"in sync"


# -- errors per position -----------------------------------------------------------------


def queue_mixed(pipe: resp3.Redis | Any) -> None:
    """Five commands; positions 2 and 4 (1-based) fail when run."""
    pipe.set("s", "text")
    pipe.lpush("s", "x")  # WRONGTYPE
    pipe.get("s")
    pipe.incr("s")  # not an integer
    pipe.echo("last")


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_raise_on_error_false_keeps_errors_in_place(r: resp3.Redis, transaction: bool) -> None:
    pipe = r.pipeline(transaction=transaction)
    queue_mixed(pipe)
    results = pipe.execute(raise_on_error=False)
    assert [type(x) for x in results] == [
        bool,
        resp3.ResponseError,
        bytes,
        resp3.ResponseError,
        bytes,
    ]
    assert results[0] is True and results[2] == b"text" and results[4] == b"last"
    assert results[1].code == "WRONGTYPE"
    assert str(results[1]).startswith("Command # 2 (")
    assert str(results[3]).startswith("Command # 4 (") and "not an integer" in str(results[3])
    assert r.echo("next") == b"next"


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_raise_on_error_raises_the_first_error_after_reading_all(
    r: resp3.Redis, transaction: bool
) -> None:
    pipe = r.pipeline(transaction=transaction)
    queue_mixed(pipe)
    with pytest.raises(resp3.ResponseError, match=r"^Command # 2 \(") as info:
        pipe.execute()
    assert info.value.code == "WRONGTYPE"
    assert r.get("s") == b"text"  # the commands around the error did run
    # Every reply was consumed: the next commands on the pooled connection are in sync.
    assert [r.echo(f"n{i}") for i in range(3)] == [b"n0", b"n1", b"n2"]


def queue_with_syntax_error(pipe: Any) -> None:
    """Position 2 (1-based) is rejected when queued: EXEC then aborts everything."""
    pipe.set("t1", "a")
    pipe.execute_command("SET", "t2")  # wrong number of arguments
    pipe.set("t3", "c")


def test_execabort_reports_each_position(r: resp3.Redis) -> None:
    pipe = r.pipeline(transaction=True)
    queue_with_syntax_error(pipe)
    results = pipe.execute(raise_on_error=False)
    assert isinstance(results[0], resp3.ExecAbortError)
    assert isinstance(results[2], resp3.ExecAbortError)
    assert type(results[1]) is resp3.ResponseError
    assert str(results[1]).startswith("Command # 2 (") and "wrong number" in str(results[1])
    assert "EXECABORT" in str(results[0]) or "discarded" in str(results[0])
    assert r.exists("t1", "t3") == 0  # nothing was applied


def test_execabort_raises_the_rejected_command(r: resp3.Redis) -> None:
    pipe = r.pipeline(transaction=True)
    queue_with_syntax_error(pipe)
    with pytest.raises(resp3.ResponseError, match=r"^Command # 2 \(.*wrong number"):
        pipe.execute()
    assert r.exists("t1", "t3") == 0
    assert r.echo("after abort") == b"after abort"


def test_same_errors_outside_a_transaction_do_not_abort(r: resp3.Redis) -> None:
    pipe = r.pipeline(transaction=False)
    queue_with_syntax_error(pipe)
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], resp3.ResponseError)
    assert r.exists("t1", "t3") == 2


# -- WATCH -------------------------------------------------------------------------------


def test_transaction_retries_when_a_watched_key_changes(
    r: resp3.Redis, server: RedisServer
) -> None:
    other = resp3.Redis(host=server.host, port=server.port)
    r.set("watched", 1)
    seen: list[int] = []

    def add_ten(pipe: Any) -> int:
        value = int(pipe.get("watched"))  # runs at once: the pipeline is watching
        seen.append(value)
        if len(seen) == 1:
            other.incr("watched")  # a concurrent writer invalidates the first attempt
        pipe.multi()
        pipe.set("watched", value + 10)
        return value

    assert r.transaction(add_ten, "watched", value_from_callable=True) == 2
    assert seen == [1, 2]
    assert r.get("watched") == b"12"
    assert r.transaction(add_ten, "watched") == [True]  # the EXEC results by default
    assert r.get("watched") == b"22"
    other.close()


def test_explicit_watch_conflict_raises_watch_error(r: resp3.Redis, server: RedisServer) -> None:
    other = resp3.Redis(host=server.host, port=server.port)
    r.set("w", "before")
    with r.pipeline() as pipe:
        pipe.watch("w")
        watched: Any = pipe.get("w")  # immediate while watching (typed as the pipeline)
        assert watched == b"before"
        other.set("w", "changed")
        pipe.multi()
        pipe.set("w", "mine")
        with pytest.raises(resp3.WatchError):
            pipe.execute()
    assert r.get("w") == b"changed"
    # Unchanged watched key: the same sequence goes through.
    with r.pipeline() as pipe:
        pipe.watch("w")
        pipe.multi()
        pipe.set("w", "mine")
        assert pipe.execute() == [True]
    assert r.get("w") == b"mine"
    assert not r.connection_pool._in_use
    other.close()


# -- scripts -----------------------------------------------------------------------------

LUA = "redis.call('INCRBY', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])"


def test_script_survives_script_flush(r: resp3.Redis) -> None:
    script = r.register_script(LUA)
    assert script(keys=["sk"], args=[5]) == b"5"  # EVALSHA fails, EVAL runs and caches
    assert r.script_exists(script.sha) == [True]
    assert script(keys=["sk"], args=[1]) == b"6"
    r.script_flush()
    assert r.script_exists(script.sha) == [False]
    assert script(keys=["sk"], args=[1]) == b"7"  # NoScriptError, then EVAL
    assert r.get("sk") == b"7"  # each call applied exactly once


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_script_in_pipeline_after_script_flush(r: resp3.Redis, transaction: bool) -> None:
    script = r.register_script(LUA)
    other = r.register_script("return ARGV[1]")
    r.script_flush()
    pipe = r.pipeline(transaction=transaction)
    script(keys=["pk"], args=[2], client=pipe)
    other(args=["x"], client=pipe)
    pipe.get("pk")
    script(keys=["pk"], args=[3], client=pipe)
    assert pipe.execute() == [b"2", b"x", b"2", b"5"]
    assert r.script_exists(script.sha, other.sha) == [True, True]
