"""RedisStore on a real server: its keys, write buffering until ``flush``, reset; and
sessions that restart (new engine objects, same Redis) resuming their sequence
numbers, with a resend after the restart served from what Redis kept."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

import resp3
from resp3.testing import RedisServer
from trading.fix import (
    Acceptor,
    Application,
    Initiator,
    Message,
    RedisStore,
    RedisStoreFactory,
    SessionID,
    SessionSettings,
    Settings,
    send_to_target,
)

SID = SessionID("FIX.4.4", "ISLD", "TW")


@pytest.fixture
def client(server: RedisServer) -> Iterator[resp3.Redis]:
    redis = resp3.Redis(host=server.host, port=server.port, socket_timeout=5.0)
    yield redis
    redis.close()


@pytest.fixture
def prefix(client: resp3.Redis) -> Iterator[str]:
    name = f"fixt-{uuid.uuid4().hex[:8]}"
    yield name
    keys = list(client.scan_iter(match=f"{name}*", count=1000))
    if keys:
        client.delete(*keys)


def test_keys_are_hash_tagged_per_session(client: resp3.Redis, prefix: str) -> None:
    store = RedisStore(client, SID, prefix=prefix, now=1.5)
    assert store.seq_key == f"{prefix}:{{FIX.4.4:ISLD->TW}}:seq"
    assert store.messages_key == f"{prefix}:{{FIX.4.4:ISLD->TW}}:msgs"
    created = client.hgetall(store.seq_key)
    assert created == {b"sender": b"1", b"target": b"1", b"created": b"1.5"}


def test_writes_wait_for_flush_and_survive_a_new_store(client: resp3.Redis, prefix: str) -> None:
    store = RedisStore(client, SID, prefix=prefix)
    store.save(1, b"first")
    store.save(2, b"second")
    store.set_next_target(9)
    assert client.hget(store.seq_key, "sender") == b"1"  # buffered
    store.flush()
    again = RedisStore(client, SID, prefix=prefix)
    assert (again.next_sender, again.next_target) == (3, 9)
    assert again.get(1, 10) == [(1, b"first"), (2, b"second")]
    assert again.get(2, 2) == [(2, b"second")]


def test_reset_drops_messages_and_pending_writes(client: resp3.Redis, prefix: str) -> None:
    store = RedisStore(client, SID, prefix=prefix)
    store.save(1, b"first")
    store.flush()
    store.save(2, b"pending")
    store.reset(100.0)
    store.flush()
    again = RedisStore(client, SID, prefix=prefix)
    assert (again.next_sender, again.next_target, again.creation_time) == (1, 1, 100.0)
    assert again.get(1, 5) == [] and not client.exists(store.messages_key)


class Echo(Application):
    def __init__(self) -> None:
        self.received: asyncio.Queue[Message] = asyncio.Queue()

    def from_app(self, message: Message, session_id: SessionID) -> None:
        self.received.put_nowait(message)
        if session_id.sender_comp_id == "ISLD":
            send_to_target(message.copy(), session_id)


def order(cl: str) -> Message:
    fields = [(11, cl), (54, "1"), (60, "20240101-00:00:00"), (40, "1"), (55, "AAPL"), (38, "1")]
    return Message.build("FIX.4.4", "D", fields)


def test_restarted_sessions_resume_and_resend_from_redis(client: resp3.Redis, prefix: str) -> None:
    stores_a = RedisStoreFactory(client, prefix=f"{prefix}-a")
    stores_i = RedisStoreFactory(client, prefix=f"{prefix}-i")
    ours = SessionID("FIX.4.4", "TW", "ISLD")

    def server(port: int) -> Acceptor:
        settings = Settings((SessionSettings("FIX.4.4", "ISLD", "TW"),), accept_port=port)
        return Acceptor(settings, Echo(), store_factory=stores_a)

    def client_of(port: int, app: Application) -> Initiator:
        settings = SessionSettings(
            "FIX.4.4", "TW", "ISLD", connect_host="127.0.0.1", connect_port=port,
            reconnect_interval=0.2,
        )  # fmt: skip
        return Initiator(Settings((settings,)), app, store_factory=stores_i)

    async def first_run() -> int:
        acceptor = server(0)
        await acceptor.start()
        port = acceptor.port
        app_i = Echo()
        initiator = client_of(port, app_i)
        await initiator.start()
        await initiator.wait_for_logon()
        send_to_target(order("A"), ours)
        assert (await asyncio.wait_for(app_i.received.get(), 5)).get(11) == b"A"
        await initiator.stop(force=True)  # the client "crashes"
        for late in ("late-1", "late-2"):  # numbered and stored while it is away
            send_to_target(order(late), SID)
        await acceptor.stop(force=True)  # and the server restarts too
        return port

    async def second_run(port: int) -> list[Message]:
        app_i = Echo()
        acceptor, initiator = server(port), client_of(port, app_i)
        assert acceptor.session().next_sender_seq == 5  # Logon 1, echo 2, late 3 and 4
        assert initiator.session().next_target_seq == 3
        await acceptor.start()
        await initiator.start()
        await initiator.wait_for_logon()
        got = [await asyncio.wait_for(app_i.received.get(), 5) for _ in range(2)]
        assert initiator.session().next_target_seq == 6
        await initiator.stop()
        await acceptor.stop()
        return got

    port = asyncio.run(asyncio.wait_for(first_run(), 20))
    resent = asyncio.run(asyncio.wait_for(second_run(port), 20))
    assert [m.get(11) for m in resent] == [b"late-1", b"late-2"]
    assert [m.get(43) for m in resent] == [b"Y", b"Y"]
    assert all(122 in m for m in resent)
