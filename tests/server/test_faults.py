"""Faults against a real server, checked against the retry contract in docs/retry.md.

The rule under test: a command is sent again only when that cannot apply it twice.
So every test that breaks a connection also counts, on the socket (``RecordingConnection``)
or on the server (a counter key), how many times the command was written and applied.

Connections are broken for real: SIGKILL of a private server, ``CLIENT KILL``,
``DEBUG SLEEP`` past ``socket_timeout``, ``CLIENT PAUSE WRITE`` to hold a write on the
server while its connection is killed. ``BlindConnection`` skips the checkout probe, so
a connection killed while idle is noticed only after the next command was written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from _helpers import (
    BlindConnection,
    RecordingConnection,
    client_for,
    private_server,
    wait_until,
)

import resp3
from resp3.testing import RedisServer


class BlindRecording(BlindConnection, RecordingConnection):
    """Notices a dead connection only after writing, and logs what it wrote."""


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A server this test may kill, restart or pause."""
    with private_server() as srv:
        yield srv


@pytest.fixture
def admin(own_server: RedisServer) -> Iterator[resp3.Redis]:
    client = resp3.Redis(host=own_server.host, port=own_server.port, client_name="admin")
    yield client
    client.close()


def written(log: Any, name: bytes) -> int:
    """How many times a command named ``name`` went out on the socket."""
    marker = b"$%d\r\n%s\r\n" % (len(name), name)
    return sum(data.count(marker) for data in log.sends())


def kill_connection_of(admin: resp3.Redis, client: resp3.Redis) -> int:
    """CLIENT KILL the (single) pooled connection of ``client``; returns its id."""
    conn_id = client.client_id()
    assert admin.client_kill_filter(_id=conn_id) == 1
    return conn_id


# -- server restart ----------------------------------------------------------------------


def test_pool_recovers_after_the_server_is_killed_and_restarted(
    own_server: RedisServer, protocol: int
) -> None:
    log = RecordingConnection.fresh()
    client = client_for(own_server, log, protocol=protocol)
    # Three idle connections in the pool, all of which the crash will break.
    held = [client.connection_pool.get_connection() for _ in range(3)]
    for conn in held:
        client.connection_pool.release(conn)
    client.set("before", "crash")
    own_server.kill()
    own_server.start()  # same port, empty data set (no persistence)
    log.reset_log()
    assert client.incr("after") == 1  # a write: safe only because it was never sent twice
    assert written(log, b"INCRBY") == 1
    assert client.get("before") is None
    pipe = client.pipeline()
    pipe.incr("after").get("after")
    assert pipe.execute() == [2, b"2"]
    assert [client.echo(str(i)) for i in range(5)] == [str(i).encode() for i in range(5)]
    client.close()


def test_server_down_raises_connection_error_after_bounded_retries(
    own_server: RedisServer,
) -> None:
    log = RecordingConnection.fresh()
    retry = resp3.Retry(retries=3, backoff=resp3.ConstantBackoff(0.05))
    client = client_for(own_server, log, retry=retry)
    assert client.ping() is True
    own_server.kill()
    log.reset_log()
    start = time.monotonic()
    with pytest.raises(resp3.ConnectionError, match="error connecting"):
        client.get("k")
    elapsed = time.monotonic() - start
    assert log.connects == 4  # the first attempt and three retries
    assert 0.15 <= elapsed < 2.0  # three backoff sleeps, no more
    client.close()


def test_default_retry_gives_up_quickly_when_nothing_listens(own_server: RedisServer) -> None:
    log = RecordingConnection.fresh()
    port = own_server.port
    own_server.kill()
    client = client_for(own_server, log)
    start = time.monotonic()
    with pytest.raises(resp3.ConnectionError, match=f"127.0.0.1:{port}"):
        client.ping()
    assert time.monotonic() - start < 1.5
    assert log.connects == 4
    no_retry = client_for(own_server, log, retry=resp3.Retry(0))
    log.reset_log()
    with pytest.raises(resp3.ConnectionError):
        no_retry.ping()
    assert log.connects == 1


def test_retries_reach_a_server_that_comes_back(own_server: RedisServer) -> None:
    retry = resp3.Retry(retries=100, backoff=resp3.ConstantBackoff(0.05))
    client = client_for(own_server, retry=retry)
    client.set("k", "v")
    own_server.kill()
    restarter = threading.Timer(0.2, own_server.start)
    restarter.start()
    try:
        assert client.incr("counter") == 1  # never written while the server was down
    finally:
        restarter.join()
    assert client.get("counter") == b"1"
    client.close()


# -- CLIENT KILL of an idle connection ---------------------------------------------------


def test_killed_idle_connection_is_replaced_before_writing(
    own_server: RedisServer, admin: resp3.Redis, protocol: int
) -> None:
    log = RecordingConnection.fresh()
    client = client_for(own_server, log, protocol=protocol)
    client.set("k", "v")
    old_id = kill_connection_of(admin, client)
    log.reset_log()
    assert client.get("k") == b"v"
    assert (log.connects, written(log, b"GET")) == (1, 1)
    kill_connection_of(admin, client)
    log.reset_log()
    assert client.incr("n") == 1  # exactly once
    assert (log.connects, written(log, b"INCRBY")) == (1, 1)
    assert admin.get("n") == b"1"
    assert client.client_id() != old_id
    client.close()


def test_readonly_and_idempotent_commands_are_resent_after_a_break(
    own_server: RedisServer, admin: resp3.Redis
) -> None:
    log = BlindRecording.fresh()
    client = client_for(own_server, log)
    client.set("k", "v")
    kill_connection_of(admin, client)
    log.reset_log()
    assert client.get("k") == b"v"
    assert written(log, b"GET") == 2  # on the dead connection, then on a new one
    kill_connection_of(admin, client)
    log.reset_log()
    assert client.set("k", "w") is True
    assert written(log, b"SET") == 2
    assert admin.get("k") == b"w"
    kill_connection_of(admin, client)
    log.reset_log()
    pipe = client.pipeline(transaction=False)
    pipe.get("k").exists("k").set("k2", "x")
    assert pipe.execute() == [b"w", 1, True]
    assert written(log, b"GET") == 2
    client.close()


def test_writes_are_not_resent_after_a_break(own_server: RedisServer, admin: resp3.Redis) -> None:
    log = BlindRecording.fresh()
    client = client_for(own_server, log)
    client.set("n", 10)
    kill_connection_of(admin, client)
    log.reset_log()
    with pytest.raises(resp3.ConnectionError):
        client.incr("n")
    assert written(log, b"INCRBY") == 1
    assert admin.get("n") == b"10"  # the dead connection never delivered it
    # A pipeline with one write in it, and a transaction even of reads only.
    for transaction, names in ((False, ("get", "incr")), (True, ("get", "exists"))):
        kill_connection_of(admin, client)
        pipe = client.pipeline(transaction=transaction)
        for name in names:
            getattr(pipe, name)("n")
        log.reset_log()
        with pytest.raises(resp3.ConnectionError):
            pipe.execute()
        assert len(log.sends()) == 1
    kill_connection_of(admin, client)
    with pytest.raises(resp3.ConnectionError):
        client.execute_command("GET", "n")  # raw commands have unknown effects
    assert client.get("n") == b"10"
    client.close()


def test_retry_zero_never_resends(own_server: RedisServer, admin: resp3.Redis) -> None:
    log = BlindRecording.fresh()
    client = client_for(own_server, log, retry=resp3.Retry(0))
    client.set("k", "v")
    kill_connection_of(admin, client)
    log.reset_log()
    with pytest.raises(resp3.ConnectionError):
        client.get("k")
    assert written(log, b"GET") == 1
    assert client.get("k") == b"v"  # the next call opens a new connection
    client.close()


def test_rejected_credentials_on_reconnect_are_not_retried() -> None:
    """After a password change, the reconnect fails once with the server's reason."""
    with private_server("--requirepass", "old") as srv:
        log = RecordingConnection.fresh()
        client = client_for(srv, log, password="old")
        admin = resp3.Redis(host=srv.host, port=srv.port, password="old")
        assert client.ping() is True
        admin.config_set("requirepass", "new")
        kill_connection_of(admin, client)
        log.reset_log()
        with pytest.raises(resp3.AuthenticationError, match="invalid username-password"):
            client.ping()
        assert log.connects == 1
        client.close()
        admin.close()


# -- a write in flight when its connection dies ------------------------------------------


def test_incr_killed_while_the_server_holds_it_is_not_applied_twice(
    own_server: RedisServer, admin: resp3.Redis, protocol: int
) -> None:
    client = resp3.Redis(
        host=own_server.host, port=own_server.port, protocol=protocol, client_name="victim"
    )
    client.set("counter", 5)
    conn_id = client.client_id()
    outcome: list[Any] = []

    def incr() -> None:
        try:
            outcome.append(client.incr("counter"))
        except resp3.RedisError as exc:
            outcome.append(exc)

    admin.client_pause(10_000, all=False)  # holds writes; CLIENT commands still run
    try:
        thread = threading.Thread(target=incr)
        thread.start()

        def incr_is_waiting() -> bool:
            listing = admin.execute_command("CLIENT", "LIST", "ID", conn_id)
            return b"cmd=incrby" in listing

        wait_until(incr_is_waiting, what="the INCR to reach the server")
        assert admin.client_kill_filter(_id=conn_id) == 1
        thread.join(5)
    finally:
        admin.client_unpause()
    assert len(outcome) == 1 and isinstance(outcome[0], resp3.ConnectionError), outcome
    # A retry would have been held too, then applied at UNPAUSE and returned 6.
    assert admin.get("counter") == b"5"
    assert client.incr("counter") == 6
    client.close()


def test_timeout_is_not_retried_and_the_next_reply_is_our_own(
    own_server: RedisServer, admin: resp3.Redis, protocol: int
) -> None:
    client = resp3.Redis(
        host=own_server.host, port=own_server.port, protocol=protocol, socket_timeout=0.3
    )
    start = time.monotonic()
    with pytest.raises(resp3.TimeoutError, match=r"after 0\.3s"):
        client.execute_command("DEBUG", "SLEEP", "1")
    assert 0.25 <= time.monotonic() - start < 0.95
    admin.ping()  # blocks until the server woke up and sent its late OK
    assert client.echo("mine") == b"mine"
    assert [client.echo(str(i)) for i in range(3)] == [b"0", b"1", b"2"]
    client.close()


def test_single_connection_client_survives_a_timeout(
    own_server: RedisServer, admin: resp3.Redis
) -> None:
    client = resp3.Redis(
        host=own_server.host,
        port=own_server.port,
        socket_timeout=0.3,
        single_connection_client=True,
    )
    with pytest.raises(resp3.TimeoutError):
        client.execute_command("DEBUG", "SLEEP", "0.6")
    admin.ping()
    assert client.echo("own") == b"own"
    client.close()


@contextmanager
def server_asleep(server: RedisServer, seconds: float) -> Iterator[None]:
    """Run ``DEBUG SLEEP seconds`` from another thread; enter once the server sleeps.

    A probe PING that gets no answer within 50 ms proves the sleep has begun, so a
    command written inside the block really waits (the order of two connections'
    commands is otherwise up to the server's event loop).
    """
    sleeper_client = resp3.Redis(host=server.host, port=server.port)
    sleeper = threading.Thread(
        target=sleeper_client.execute_command, args=("DEBUG", "SLEEP", str(seconds))
    )
    sleeper.start()
    probe = resp3.Redis(
        host=server.host, port=server.port, socket_timeout=0.05, retry=resp3.Retry(0)
    )

    def asleep() -> bool:
        try:
            probe.ping()
        except resp3.TimeoutError:
            return True
        return False

    try:
        wait_until(asleep, what="DEBUG SLEEP to start")
        yield
    finally:
        sleeper.join(10)
        probe.close()
        sleeper_client.close()


def test_timed_out_write_may_apply_but_never_twice(
    own_server: RedisServer, admin: resp3.Redis
) -> None:
    log = RecordingConnection.fresh()
    client = client_for(
        own_server, log, socket_timeout=0.2, retry=resp3.Retry(retry_on_timeout=True)
    )
    client.set("counter", 1)
    log.reset_log()
    with server_asleep(own_server, 1.0), pytest.raises(resp3.TimeoutError):
        client.incr("counter")  # retry_on_timeout covers reads only
    assert written(log, b"INCRBY") == 1
    assert admin.get("counter") == b"2"  # delivered before the timeout: applied once
    client.close()


def test_retry_on_timeout_resends_a_read(own_server: RedisServer) -> None:
    log = RecordingConnection.fresh()
    retry = resp3.Retry(retries=5, backoff=resp3.NoBackoff(), retry_on_timeout=True)
    client = client_for(own_server, log, socket_timeout=0.2, retry=retry)
    client.set("k", "v")
    log.reset_log()
    with server_asleep(own_server, 0.5):
        assert client.get("k") == b"v"  # the first tries time out, a later one answers
    assert written(log, b"GET") >= 2
    client.close()


# -- CLIENT KILL in the middle of a pipeline ---------------------------------------------


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_pipeline_killing_its_own_connection(
    own_server: RedisServer, admin: resp3.Redis, transaction: bool
) -> None:
    client = resp3.Redis(host=own_server.host, port=own_server.port)
    own_id = client.client_id()
    pipe = client.pipeline(transaction=transaction)
    pipe.incr("x").client_kill_filter(_id=own_id, skipme=False).incr("x").echo("lost")
    with pytest.raises(resp3.ConnectionError):
        pipe.execute()
    # Outside MULTI the server stops at the kill; inside, EXEC ran everything.
    assert admin.get("x") == (b"2" if transaction else b"1")
    assert client.echo("next") == b"next"
    assert client.client_id() != own_id
    assert not client.connection_pool._in_use
    client.close()


def test_pipeline_killed_after_a_partial_reply(own_server: RedisServer, admin: resp3.Redis) -> None:
    client = resp3.Redis(host=own_server.host, port=own_server.port, client_name="piped")
    conn_id = client.client_id()
    pipe = client.pipeline(transaction=False)
    pipe.echo("first").incr("held").echo("never")
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(pipe.execute())
        except resp3.RedisError as exc:
            outcome.append(exc)

    admin.client_pause(10_000, all=False)
    try:
        thread = threading.Thread(target=run)
        thread.start()
        wait_until(
            lambda: b"cmd=incrby" in admin.execute_command("CLIENT", "LIST", "ID", conn_id),
            what="the pipeline to reach INCR",
        )
        admin.client_kill_filter(_id=conn_id)
        thread.join(5)
    finally:
        admin.client_unpause()
    assert len(outcome) == 1 and isinstance(outcome[0], resp3.ConnectionError), outcome
    assert admin.get("held") is None
    # The reply to "first" was read, "never" was not: none of it leaks into later calls.
    assert [client.echo(f"after-{i}") for i in range(3)] == [b"after-0", b"after-1", b"after-2"]
    client.close()


# -- DataError: nothing reaches the server -----------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.set("k", None),
        lambda c: c.set("k", {"a": 1}),
        lambda c: c.set("k", True),
        lambda c: c.rpush("k", "ok", ["nested"]),
        lambda c: c.execute_command("SET", "k", object()),
    ],
    ids=["none", "dict", "bool", "list", "object"],
)
def test_data_error_is_raised_before_anything_is_sent(
    own_server: RedisServer, admin: resp3.Redis, call: Any
) -> None:
    log = RecordingConnection.fresh()
    client = client_for(own_server, log)
    assert client.ping() is True
    before = admin.info("commandstats")
    log.reset_log()
    with pytest.raises(resp3.DataError):
        call(client)
    pipe = client.pipeline(transaction=False)
    with pytest.raises(resp3.DataError):
        call(pipe.set("queued", "1"))
        pipe.execute()
    pipe.reset()
    assert log.sends() == []
    after = admin.info("commandstats")
    for name in ("cmdstat_set", "cmdstat_rpush"):
        assert before.get(name) == after.get(name)
    assert admin.exists("k", "queued") == 0
    assert client.echo("still in sync") == b"still in sync"
    client.close()
