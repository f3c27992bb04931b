"""Connection pools against a real server: threads, limits, waiting, fork, broken links.

The failures a pool can cause are all about *sharing*: two threads on one socket read
each other's replies; a child process writing on its parent's socket steals replies;
a connection that broke mid-reply, put back in the pool, hands the rest of an old reply
to the next caller. Each test makes such sharing visible (own ECHO payloads, CLIENT ID)
rather than trusting the pool's bookkeeping.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _helpers import client_for

import resp3
from resp3.connection import Connection
from resp3.pool import PoolExhaustedError
from resp3.testing import RedisServer


class ExclusiveConnection(Connection):
    """Records a violation whenever two threads are inside one exchange at once."""

    violations: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._user: int | None = None

    def _enter(self) -> None:
        me = threading.get_ident()
        if self._user not in (None, me):
            self.violations.append(f"{self!r} used by {me} while {self._user} had it")
        self._user = me

    def send(self, data: bytes) -> None:
        self._enter()
        super().send(data)

    def read_reply(self) -> Any:
        self._enter()
        try:
            return super().read_reply()
        finally:
            self._user = None


def run_threads(count: int, target: Any) -> list[BaseException]:
    """Start ``count`` threads on ``target(i)``, join them, return what they raised."""
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:
            errors.append(exc)

    # Daemon threads: a deadlocked worker fails the test instead of blocking pytest's exit.
    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
        assert not t.is_alive(), "a worker thread hung"
    return errors


@pytest.fixture
def exclusive(server: RedisServer) -> Iterator[resp3.Redis]:
    ExclusiveConnection.violations = []
    client = client_for(server, ExclusiveConnection)
    client.flushdb()
    yield client
    client.close()


# -- threads -----------------------------------------------------------------------------


def test_threads_hammering_incr_get_an_exact_count(exclusive: resp3.Redis) -> None:
    threads, per_thread = 16, 250

    def work(i: int) -> None:
        for j in range(per_thread):
            exclusive.incr("hammer")
            if j % 25 == 0:  # a reply that only this thread can expect
                assert exclusive.echo(f"t{i}-{j}") == f"t{i}-{j}".encode()

    assert run_threads(threads, work) == []
    assert exclusive.get("hammer") == str(threads * per_thread).encode()
    assert ExclusiveConnection.violations == []
    pool = exclusive.connection_pool
    assert 1 <= pool._created <= threads
    assert len(pool._idle) == pool._created and not pool._in_use


def test_threads_running_pipelines_get_their_own_replies(exclusive: resp3.Redis) -> None:
    def work(i: int) -> None:
        for j in range(40):
            pipe = exclusive.pipeline(transaction=j % 2 == 0)
            pipe.incr("pipes").echo(f"p{i}-{j}").incr(f"own-{i}")
            _, echoed, own = pipe.execute()
            assert (echoed, own) == (f"p{i}-{j}".encode(), j + 1)

    assert run_threads(8, work) == []
    assert exclusive.get("pipes") == b"320"
    assert ExclusiveConnection.violations == []


def test_single_connection_client_serialises_threads(server: RedisServer) -> None:
    """One socket for all threads: without a lock two threads read each other's replies
    (or one waits forever for a reply the other consumed)."""
    client = resp3.Redis(host=server.host, port=server.port, single_connection_client=True)
    with client:
        own_id = client.client_id()

        def work(i: int) -> None:
            for j in range(150):
                assert client.echo(f"s{i}-{j}") == f"s{i}-{j}".encode()

        assert run_threads(8, work) == []
        assert client.client_id() == own_id  # still the one connection
        assert client.connection_pool._created == 1


def test_blocking_pool_shares_few_connections_among_many_threads(server: RedisServer) -> None:
    client = resp3.Redis(
        host=server.host,
        port=server.port,
        blocking_pool=True,
        max_connections=3,
        blocking_pool_timeout=10,
        client_name="few-conns",
    )
    with client:
        client.delete("blocking-hammer")

        def work(i: int) -> None:
            for _ in range(150):
                client.incr("blocking-hammer")

        assert run_threads(10, work) == []
        assert client.get("blocking-hammer") == b"1500"
        names = [c["name"] for c in client.client_list()]
        assert 1 <= names.count("few-conns") <= 3
        assert client.connection_pool._created <= 3


# -- limits ------------------------------------------------------------------------------


def test_connection_pool_raises_at_max_connections(server: RedisServer) -> None:
    pool = resp3.ConnectionPool(host=server.host, port=server.port, max_connections=2)
    first, second = pool.get_connection(), pool.get_connection()
    with pytest.raises(PoolExhaustedError, match="max_connections=2"):
        pool.get_connection()
    pool.release(first)
    assert pool.get_connection() is first  # the released slot is usable again
    client = resp3.Redis.from_pool(pool)
    with pytest.raises(resp3.ConnectionError, match="too many connections"):
        client.ping()
    pool.release(first)
    pool.release(second)
    assert client.ping() is True
    pool.disconnect()


def test_blocking_pool_times_out_with_connection_error(server: RedisServer) -> None:
    pool = resp3.BlockingConnectionPool(
        host=server.host, port=server.port, max_connections=2, timeout=0.3
    )
    held = [pool.get_connection(), pool.get_connection()]
    start = time.monotonic()
    with pytest.raises(resp3.ConnectionError, match=r"no connection available within 0\.3s"):
        pool.get_connection()
    elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 2.0
    for conn in held:
        pool.release(conn)
    pool.disconnect()


@pytest.mark.parametrize("blocking", [False, True], ids=["pool", "blocking"])
def test_client_does_not_retry_an_exhausted_pool(server: RedisServer, blocking: bool) -> None:
    """Retrying would wait for the same busy connections again: 4 x timeout in all."""
    client = resp3.Redis(
        host=server.host,
        port=server.port,
        max_connections=1,
        blocking_pool=blocking,
        blocking_pool_timeout=0.3,
        retry=resp3.Retry(retries=3, backoff=resp3.ConstantBackoff(0.1)),
    )
    held = client.connection_pool.get_connection()
    start = time.monotonic()
    with pytest.raises(PoolExhaustedError, match="max_connections=1"):
        client.ping()
    elapsed = time.monotonic() - start
    assert elapsed < (0.6 if blocking else 0.1)  # one wait, no backoff sleeps
    client.connection_pool.release(held)
    assert client.ping() is True
    client.close()


@pytest.mark.parametrize("broken", [False, True], ids=["released", "discarded"])
def test_blocking_pool_release_wakes_a_waiter(server: RedisServer, broken: bool) -> None:
    """A waiter wakes on release, and also when a broken connection frees its slot."""
    pool = resp3.BlockingConnectionPool(
        host=server.host, port=server.port, max_connections=1, timeout=10
    )
    held = pool.get_connection()
    got: list[Connection] = []
    waited: list[float] = []

    def waiter() -> None:
        start = time.monotonic()
        got.append(pool.get_connection())
        waited.append(time.monotonic() - start)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.1)
    assert not got, "the waiter did not wait for the only connection"
    if broken:
        held.disconnect()  # what a mid-reply failure leaves behind
    pool.release(held)
    thread.join(5)
    assert got and 0.05 <= waited[0] < 2.0
    assert (got[0] is held) is not broken
    assert got[0].is_connected
    client = resp3.Redis.from_pool(pool)
    pool.release(got[0])
    assert client.ping() is True
    pool.disconnect()


# -- fork --------------------------------------------------------------------------------


def test_fork_child_uses_its_own_connection(server: RedisServer) -> None:
    """Parent and child talk at the same time; each sees only its own replies."""
    client = resp3.Redis(host=server.host, port=server.port)
    client.delete("forked")
    parent_id = client.client_id()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report through the pipe, never return into pytest
        status = 1
        try:
            os.close(read_fd)
            mixed = sum(client.echo(f"child-{i}") != f"child-{i}".encode() for i in range(300))
            child_id = client.client_id()
            client.incr("forked")
            client.close()
            os.write(write_fd, f"{mixed} {child_id}".encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        for i in range(300):
            assert client.echo(f"parent-{i}") == f"parent-{i}".encode()
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        mixed, child_id = (int(x) for x in os.read(read_fd, 100).split())
    finally:
        os.close(read_fd)
    assert mixed == 0
    assert child_id != parent_id
    # The parent's connection survived the child's close() and is still in sync.
    assert client.client_id() == parent_id
    assert client.echo("after-fork") == b"after-fork"
    assert client.get("forked") == b"1"
    client.close()


# -- broken connections ------------------------------------------------------------------


def test_connection_that_timed_out_mid_reply_is_not_reused(server: RedisServer) -> None:
    client = resp3.Redis(host=server.host, port=server.port, socket_timeout=0.2)
    other = resp3.Redis(host=server.host, port=server.port)
    with client, other:
        before = client.client_id()
        broken = client.connection_pool._idle[0]
        with pytest.raises(resp3.TimeoutError):
            client.execute_command("DEBUG", "SLEEP", "0.5")
        assert not broken.is_connected
        assert broken not in client.connection_pool._idle
        assert client.connection_pool._created == 0
        other.ping()  # returns once the server is awake again
        assert client.echo("own reply") == b"own reply"
        assert client.client_id() != before


class GarbageServer:
    """A fake server: the first connection gets a malformed reply, later ones +PONG."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                if not conn.recv(1024):
                    continue
                conn.sendall(b"+PO" if self.accepted > 1 else b"?garbage\r\n")
                if self.accepted > 1:
                    conn.sendall(b"NG\r\n")  # a reply split over two segments
                    conn.recv(1024)

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.listener.close()
        self.thread.join(5)


def test_protocol_error_discards_the_connection_and_frees_its_slot() -> None:
    fake = GarbageServer()
    try:
        client = resp3.Redis(port=fake.port, protocol=2, max_connections=1)
        with pytest.raises(resp3.ProtocolError):
            client.ping()
        assert client.connection_pool._created == 0
        assert client.ping() is True  # the single slot is free again
        assert fake.accepted == 2
        client.close()
    finally:
        fake.close()
