"""Connection setup against a real server: handshake, auth, db, client name, URLs.

What can go wrong here is silent: a client that falls back to RESP2, forgets SELECT,
or authenticates as the wrong user still answers PING. So each test asks the server
(``CLIENT INFO``, ``ACL WHOAMI``) what it actually got. Auth tests use a private
``--requirepass`` server with an ACL user, so the session server stays open.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _helpers import RecordingConnection, client_for, client_info, private_server

import resp3
from resp3.testing import RedisServer

PASSWORD = "s3cret"
ALICE_PASSWORD = "p@ss:w/rd"  # needs percent-encoding in a URL


@pytest.fixture(scope="module")
def auth_server() -> Iterator[RedisServer]:
    """``--requirepass`` server with an ACL user ``alice`` allowed everything."""
    with private_server("--requirepass", PASSWORD) as srv:
        admin = resp3.Redis(host=srv.host, port=srv.port, password=PASSWORD)
        admin.execute_command(
            "ACL", "SETUSER", "alice", "on", f">{ALICE_PASSWORD}", "~*", "&*", "+@all"
        )
        admin.close()
        yield srv


# -- handshake ---------------------------------------------------------------------------


def test_resp3_is_negotiated_by_default(server: RedisServer) -> None:
    client = resp3.Redis(host=server.host, port=server.port)
    with client:
        conn = client.connection_pool.get_connection()
        try:
            assert conn.protocol == 3
            assert conn.server_info[b"proto"] == 3
            assert conn.server_info[b"id"] > 0
            info = client.info("server")
            # Valkey reports its own version in HELLO and a Redis-compatible one in INFO.
            version = info.get("valkey_version", info["redis_version"])
            assert conn.server_info[b"version"].decode() == str(version)
        finally:
            client.connection_pool.release(conn)
        assert client_info(client)["resp"] == "3"


def test_protocol_2_never_sends_hello(server: RedisServer) -> None:
    conn_class = RecordingConnection.fresh()
    client = client_for(server, conn_class, protocol=2)
    with client:
        assert client_info(client)["resp"] == "2"
        conn = client.connection_pool.get_connection()
        assert conn.protocol == 2
        assert conn.server_info == {}
        client.connection_pool.release(conn)
    # Nothing to set up: the first bytes on the socket are the first command.
    assert conn_class.sends()[0].startswith(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n")


def test_client_name_is_set(server: RedisServer, protocol: int) -> None:
    with resp3.Redis(
        host=server.host, port=server.port, protocol=protocol, client_name="worker-1"
    ) as client:
        assert client.execute_command("CLIENT", "GETNAME") == b"worker-1"
        assert client_info(client)["name"] == "worker-1"


def test_db_selection(r: resp3.Redis, server: RedisServer, protocol: int) -> None:
    with resp3.Redis(host=server.host, port=server.port, db=1, protocol=protocol) as db1:
        db1.flushdb()
        try:
            assert client_info(db1)["db"] == "1"
            db1.set("only-in-db1", "x")
            assert db1.get("only-in-db1") == b"x"
            assert r.get("only-in-db1") is None  # r is db 0
            assert r.exists("only-in-db1") == 0
        finally:
            db1.flushdb()


def test_db_out_of_range_raises_the_servers_error(server: RedisServer, protocol: int) -> None:
    client = resp3.Redis(host=server.host, port=server.port, db=100000, protocol=protocol)
    with client, pytest.raises(resp3.ResponseError, match="DB index is out of range"):
        client.ping()


def test_handshake_is_one_round_trip(auth_server: RedisServer, protocol: int) -> None:
    """AUTH, SETNAME and SELECT go in one write; nothing is written after a read."""
    conn_class = RecordingConnection.fresh()
    client = client_for(
        auth_server,
        conn_class,
        protocol=protocol,
        username="alice",
        password=ALICE_PASSWORD,
        client_name="one-trip",
        db=3,
    )
    with client:
        conn = client.connection_pool.get_connection()
        handshake = list(conn_class.events)
        client.connection_pool.release(conn)
        info = client_info(client)
    kinds = [kind for kind, _ in handshake]
    assert kinds[0] == "send"
    assert kinds.count("send") == 1, kinds
    assert all(kind == "recv" for kind in kinds[1:]), kinds
    sent = handshake[0][1]
    expected = (
        [b"HELLO", b"AUTH", b"alice", b"SETNAME", b"one-trip", b"SELECT"]
        if protocol == 3
        else [b"AUTH", b"alice", b"SETNAME", b"one-trip", b"SELECT"]
    )
    positions = [sent.find(b"\r\n" + word + b"\r\n") for word in expected]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), sent
    assert (info["name"], info["db"], info["user"], info["resp"]) == (
        "one-trip",
        "3",
        "alice",
        str(protocol),
    )


# -- authentication ----------------------------------------------------------------------


def test_password_authenticates_the_default_user(auth_server: RedisServer, protocol: int) -> None:
    with resp3.Redis(
        host=auth_server.host, port=auth_server.port, password=PASSWORD, protocol=protocol
    ) as client:
        assert client.execute_command("ACL", "WHOAMI") == b"default"
        assert client.ping() is True


def test_acl_user(auth_server: RedisServer, protocol: int) -> None:
    with resp3.Redis(
        host=auth_server.host,
        port=auth_server.port,
        username="alice",
        password=ALICE_PASSWORD,
        protocol=protocol,
    ) as client:
        assert client.execute_command("ACL", "WHOAMI") == b"alice"
        assert client_info(client)["resp"] == str(protocol)


@pytest.mark.parametrize("username", [None, "alice"])
def test_wrong_password(auth_server: RedisServer, protocol: int, username: str | None) -> None:
    """The server's WRONGPASS text reaches the caller; a bad password is never retried."""
    conn_class = RecordingConnection.fresh()
    client = client_for(
        auth_server, conn_class, protocol=protocol, username=username, password="nope"
    )
    with client, pytest.raises(resp3.AuthenticationError) as info:
        client.ping()
    assert "invalid username-password pair" in str(info.value)
    assert conn_class.connects == 1
    assert client.connection_pool._created == 0  # the failed connection freed its slot


def test_missing_password(auth_server: RedisServer, protocol: int) -> None:
    """HELLO without AUTH (RESP3) or the first command (RESP2) gets NOAUTH."""
    client = resp3.Redis(host=auth_server.host, port=auth_server.port, protocol=protocol)
    with client, pytest.raises(resp3.AuthenticationError) as info:
        client.ping()
    expected = (
        "must be called with the client already authenticated"
        if protocol == 3
        else "Authentication required"
    )
    assert expected in str(info.value)


# -- URLs --------------------------------------------------------------------------------


def test_from_url_with_user_password_db_and_protocol(auth_server: RedisServer) -> None:
    url = (
        f"redis://alice:p%40ss%3Aw%2Frd@{auth_server.host}:{auth_server.port}/2"
        "?protocol=2&client_name=from-url"
    )
    with resp3.Redis.from_url(url) as client:
        cfg = client.config
        assert (cfg.username, cfg.password, cfg.db, cfg.protocol) == (
            "alice",
            ALICE_PASSWORD,
            2,
            2,
        )
        info = client_info(client)
        assert (info["user"], info["db"], info["resp"], info["name"]) == (
            "alice",
            "2",
            "2",
            "from-url",
        )


def test_module_from_url_and_pool_from_url(server: RedisServer) -> None:
    with resp3.from_url(f"redis://{server.host}:{server.port}/4") as client:
        assert client_info(client)["db"] == "4"
    pool = resp3.ConnectionPool.from_url(f"redis://{server.host}:{server.port}/5?protocol=2")
    with resp3.Redis.from_pool(pool) as client:
        info = client_info(client)
        assert (info["db"], info["resp"]) == ("5", "2")


def test_from_url_unix_socket(server: RedisServer, protocol: int) -> None:
    assert server.unix_path is not None
    url = f"unix://{server.unix_path}?db=3&protocol={protocol}"
    with resp3.Redis.from_url(url) as client:
        assert client.config.unix_socket_path == server.unix_path
        info = client_info(client)
        assert info["addr"].startswith(server.unix_path)
        assert (info["db"], info["resp"]) == ("3", str(protocol))
        client.set("unix-key", "v")
        try:
            assert client.get("unix-key") == b"v"
        finally:
            client.flushdb()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://localhost:6379/0", "scheme"),
        ("localhost:6379", "scheme"),
        ("redis://localhost:6379/zero", "database number"),
        ("redis://localhost:6379/0?bogus=1", "unknown URL option"),
        ("redis://localhost:6379/0?decode_responses=maybe", "not a boolean"),
        ("redis://localhost:6379/0?protocol=4", "protocol must be 2 or 3"),
        ("redis://localhost:6379/0?socket_timeout=-1", "socket_timeout"),
        ("redis://localhost:99999/0", "out of range"),
        ("redis://localhost:port/0", "port"),
        ("unix://", "without a socket path"),
    ],
)
def test_bad_urls_raise_value_error(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resp3.Redis.from_url(url)


# -- replies larger than the read buffer -------------------------------------------------


def test_replies_larger_than_the_read_buffer(r: resp3.Redis) -> None:
    """A 3 MB value arrives over many 64 KiB reads; the replies around it stay in place."""
    big = bytes(range(256)) * (3 * 4096)
    r.set("big", big)
    assert r.get("big") == big
    pipe = r.pipeline(transaction=False)
    pipe.echo("before").get("big").echo("after").strlen("big")
    assert pipe.execute() == [b"before", big, b"after", len(big)]
