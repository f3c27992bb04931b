"""Pub/sub against a real server, in RESP3 (pushes) and RESP2 (arrays).

Beyond the message shapes, the tests cover what a long-lived subscriber needs: bounded
waits that return None, a worker thread that keeps reading while a handler is slow
(the server drops subscribers whose output buffer overflows, so a stalled reader
loses messages), and subscriptions renewed after the connection is killed or the
server restarts.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _helpers import client_for, private_server, wait_until

import resp3
from resp3.connection import Connection
from resp3.pubsub import PubSub
from resp3.testing import RedisServer

Message = dict[str, Any]


def collect(p: PubSub, count: int, timeout: float = 5.0) -> list[Message]:
    """The next ``count`` messages (Nones skipped); fails after ``timeout`` seconds."""
    out: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"got {len(out)} of {count} messages: {out}"
        message = p.get_message(timeout=min(remaining, 0.5))
        if message is not None:
            out.append(message)
    return out


def kinds(messages: list[Message]) -> list[str]:
    return [m["type"] for m in messages]


@pytest.fixture
def publisher(server: RedisServer) -> Iterator[resp3.Redis]:
    client = resp3.Redis(host=server.host, port=server.port)
    yield client
    client.close()


@pytest.fixture
def p(r: resp3.Redis) -> Iterator[PubSub]:
    pubsub = r.pubsub()
    yield pubsub
    pubsub.close()


def subscriber_id(admin: resp3.Redis, name: str) -> int:
    """The server-side id of the one connection named ``name``."""
    ids = [int(c["id"]) for c in admin.client_list() if c["name"] == name]
    assert len(ids) == 1, f"expected one client named {name!r}, found {ids}"
    return ids[0]


# -- messages ----------------------------------------------------------------------------


def test_subscribe_publish_unsubscribe(p: PubSub, publisher: resp3.Redis) -> None:
    p.subscribe("news", "sport")
    assert p.subscribed
    assert collect(p, 2) == [
        {"type": "subscribe", "pattern": None, "channel": b"news", "data": 1},
        {"type": "subscribe", "pattern": None, "channel": b"sport", "data": 2},
    ]
    assert publisher.publish("news", "hello") == 1
    assert publisher.publish("weather", "nobody listens") == 0
    assert collect(p, 1) == [
        {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"}
    ]
    p.unsubscribe("news")
    assert collect(p, 1)[0] == {
        "type": "unsubscribe",
        "pattern": None,
        "channel": b"news",
        "data": 1,
    }
    p.unsubscribe()
    assert kinds(collect(p, 1)) == ["unsubscribe"]
    assert not p.subscribed


def test_psubscribe_and_ssubscribe(p: PubSub, publisher: resp3.Redis) -> None:
    p.psubscribe("ticks.*")
    p.ssubscribe("orders")
    assert kinds(collect(p, 2)) == ["psubscribe", "ssubscribe"]
    publisher.publish("ticks.EURUSD", "1.0842")
    publisher.spublish("orders", "new")
    assert collect(p, 2) == [
        {"type": "pmessage", "pattern": b"ticks.*", "channel": b"ticks.EURUSD", "data": b"1.0842"},
        {"type": "smessage", "pattern": None, "channel": b"orders", "data": b"new"},
    ]
    p.punsubscribe()
    p.sunsubscribe("orders")
    assert kinds(collect(p, 2)) == ["punsubscribe", "sunsubscribe"]


def test_handlers_consume_their_messages(p: PubSub, publisher: resp3.Redis) -> None:
    got: list[Message] = []
    p.subscribe(handled=got.append)
    p.subscribe("plain")
    p.psubscribe(**{"pat.*": got.append})
    p.ssubscribe(shard=got.append)
    assert kinds(collect(p, 4)) == ["subscribe", "subscribe", "psubscribe", "ssubscribe"]
    publisher.publish("handled", "1")
    publisher.publish("pat.x", "2")
    publisher.spublish("shard", "3")
    publisher.publish("plain", "4")
    # Handled messages are not returned; the unhandled one is.
    assert collect(p, 1) == [
        {"type": "message", "pattern": None, "channel": b"plain", "data": b"4"}
    ]
    assert [(m["type"], m["data"]) for m in got] == [
        ("message", b"1"),
        ("pmessage", b"2"),
        ("smessage", b"3"),
    ]


def test_ignore_subscribe_messages_and_ping(r: resp3.Redis, publisher: resp3.Redis) -> None:
    with r.pubsub(ignore_subscribe_messages=True) as p:
        p.subscribe("quiet")
        p.ping("are you there")
        assert collect(p, 1) == [
            {"type": "pong", "pattern": None, "channel": None, "data": b"are you there"}
        ]
        p.ping()
        assert collect(p, 1) == [{"type": "pong", "pattern": None, "channel": None, "data": b""}]
        publisher.publish("quiet", "only this")
        assert kinds(collect(p, 1)) == ["message"]


@pytest.mark.parametrize("subscribed", [False, True])
def test_get_message_timeout_returns_none_in_time(p: PubSub, subscribed: bool) -> None:
    if subscribed:
        p.subscribe("silent")
        assert kinds(collect(p, 1)) == ["subscribe"]
    start = time.monotonic()
    assert p.get_message(timeout=0.2) is None
    assert 0.18 <= time.monotonic() - start < 1.0
    start = time.monotonic()
    assert p.get_message(timeout=0) is None
    assert time.monotonic() - start < 0.1


def test_listen_until_unsubscribed(p: PubSub, publisher: resp3.Redis) -> None:
    p.subscribe("feed")
    for i in range(3):
        publisher.publish("feed", f"m{i}")
    publisher.publish("feed", "stop")
    seen: list[bytes] = []
    for message in p.listen():
        if message["type"] == "message":
            seen.append(message["data"])
            if message["data"] == b"stop":
                p.unsubscribe()
    assert seen == [b"m0", b"m1", b"m2", b"stop"]
    assert not p.subscribed


# -- worker thread -----------------------------------------------------------------------


def test_run_in_thread_needs_a_handler_per_subscription(p: PubSub) -> None:
    p.subscribe("no-handler")
    with pytest.raises(resp3.RedisError, match="no-handler"):
        p.run_in_thread()


class SmallReceiveBuffer(Connection):
    """A TCP subscriber socket whose kernel buffer holds little: a stalled reader shows
    up at once as output piling up on the server instead of in the kernel.

    SO_RCVBUF is set before connecting: shrinking it on an established connection makes
    Linux drop segments already inside the advertised window and stall for seconds.
    """

    def _open_socket(self) -> socket.socket:
        cfg = self.config
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(5.0)
            sock.connect((cfg.host, cfg.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(cfg.socket_timeout)
        except BaseException:
            sock.close()
            raise
        return sock


def test_run_in_thread_with_a_slow_handler_loses_nothing(protocol: int) -> None:
    """6 MB published at 12 MB/s to a handler that takes 1 ms a message (4 MB/s), on a
    server that drops a subscriber with 256 KB pending beyond what the kernels buffer
    (about 3 MB here). A worker that stops reading while its handler runs falls 4 MB
    behind within the first half second and loses the rest; ours keeps reading.
    The publisher is paced so that the reader, not the GIL, decides the outcome.
    """
    count, rate = 1500, 3000.0
    padding = b"x" * 4096
    with private_server("--client-output-buffer-limit", "pubsub 256kb 0 0") as srv:
        sub_client = client_for(srv, SmallReceiveBuffer, protocol=protocol)
        pub_client = resp3.Redis(host=srv.host, port=srv.port)
        received: list[int] = []

        def slow(message: Message) -> None:
            time.sleep(0.001)
            received.append(int(message["data"][:8]))

        p = sub_client.pubsub()
        p.subscribe(bulk=slow)
        worker = p.run_in_thread(sleep_time=0.05)
        try:
            wait_until(lambda: pub_client.pubsub_numsub("bulk")[0][1] == 1, what="subscribe")
            start = time.monotonic()
            for i in range(count):
                ahead = start + i / rate - time.monotonic()
                if ahead > 0.002:
                    time.sleep(ahead)
                assert pub_client.publish("bulk", b"%08d" % i + padding) == 1, f"dropped at {i}"
            wait_until(lambda: len(received) >= count, timeout=20, what=f"{count} messages")
        finally:
            worker.stop()
            pub_client.close()
            sub_client.close()
        assert received == list(range(count))
        assert not worker.is_alive()


# -- reconnection ------------------------------------------------------------------------


def test_resubscribes_after_client_kill(
    server: RedisServer, protocol: int, publisher: resp3.Redis
) -> None:
    client = client_for(server, protocol=protocol, client_name="killed-sub")
    with client.pubsub() as p:
        p.subscribe("k-chan")
        p.psubscribe("k-pat.*")
        p.ssubscribe("k-shard")
        assert kinds(collect(p, 3)) == ["subscribe", "psubscribe", "ssubscribe"]
        old_id = subscriber_id(publisher, "killed-sub")
        assert publisher.client_kill_filter(_id=old_id) == 1
        # The next read notices the close, reconnects and subscribes again.
        assert kinds(collect(p, 3)) == ["subscribe", "psubscribe", "ssubscribe"]
        assert subscriber_id(publisher, "killed-sub") != old_id
        publisher.publish("k-chan", "a")
        publisher.publish("k-pat.1", "b")
        publisher.spublish("k-shard", "c")
        assert [(m["type"], m["data"]) for m in collect(p, 3)] == [
            ("message", b"a"),
            ("pmessage", b"b"),
            ("smessage", b"c"),
        ]
    client.close()


def test_resubscribes_after_server_restart(protocol: int) -> None:
    with private_server() as srv:
        client = resp3.Redis(host=srv.host, port=srv.port, protocol=protocol)
        p = client.pubsub()
        p.subscribe("r-chan")
        p.psubscribe("r-pat.*")
        assert kinds(collect(p, 2)) == ["subscribe", "psubscribe"]
        srv.kill()
        srv.start()
        assert kinds(collect(p, 2)) == ["subscribe", "psubscribe"]
        publisher = resp3.Redis(host=srv.host, port=srv.port)
        publisher.publish("r-chan", "after")
        publisher.publish("r-pat.x", "restart")
        assert [m["data"] for m in collect(p, 2)] == [b"after", b"restart"]
        p.close()
        publisher.close()
        client.close()


def test_worker_survives_kills_and_a_restart(protocol: int) -> None:
    """The worker thread renews its subscription after each break, also with a pool
    of one connection (a broken connection must give its slot back)."""
    with private_server() as srv:
        client = client_for(srv, protocol=protocol, client_name="worker", max_connections=1)
        admin = resp3.Redis(host=srv.host, port=srv.port)
        got: list[bytes] = []
        p = client.pubsub()
        p.subscribe(jobs=lambda m: got.append(m["data"]))
        worker = p.run_in_thread(sleep_time=0.02)

        def deliver(payload: bytes) -> None:
            """Publish until the worker handled it: messages sent while it was not
            subscribed are lost, as Redis pub/sub has no history."""

            def delivered() -> bool:
                if payload not in got:
                    admin.publish("jobs", payload)
                    time.sleep(0.01)
                return payload in got

            wait_until(delivered, timeout=10, what=f"delivery of {payload!r}")

        try:
            deliver(b"first")
            for i in range(2):
                wait_until(lambda: any(c["name"] == "worker" for c in admin.client_list()))
                admin.client_kill_filter(_id=subscriber_id(admin, "worker"))
                deliver(b"after kill %d" % i)
            srv.kill()
            srv.start()
            deliver(b"after restart")
        finally:
            worker.stop()
        assert not worker.is_alive()
        assert got[0] == b"first" and got[-1] == b"after restart"
        client.close()
        admin.close()


def test_worker_stop_handles_what_it_read_then_closes(
    r: resp3.Redis, publisher: resp3.Redis
) -> None:
    """``stop()`` lets queued messages reach their handler before the worker exits."""
    done = threading.Event()
    got: list[bytes] = []

    def handler(message: Message) -> None:
        got.append(message["data"])
        if len(got) == 50:
            done.set()

    p = r.pubsub()
    p.subscribe(drain=handler)
    worker = p.run_in_thread(sleep_time=0.02)
    wait_until(lambda: publisher.pubsub_numsub("drain")[0][1] == 1, what="subscribe")
    for i in range(50):
        publisher.publish("drain", str(i))
    assert done.wait(10)
    worker.stop()
    assert got == [str(i).encode() for i in range(50)]
    assert p.connection is None and not p.subscribed
