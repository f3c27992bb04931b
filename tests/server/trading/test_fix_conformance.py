"""``python -m trading.fix.conformance`` as a subprocess, driven over TCP by a scripted
counterparty that writes raw bytes: routing by BeginString and CompIDs on one port,
connections that must be dropped without a byte, framing across TCP writes, real-time
heartbeats and TestRequest, resends, rejects, the Redis store option and a clean
shutdown. The session rules themselves are covered one by one in memory
(``tests/unit/trading/test_fix_session_*``); these check the same engine end to end.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import resp3
from resp3.testing import RedisServer
from tests.unit.trading.test_fix_session_harness import frame, matches, show, stamp
from trading.fix.session_wire import Framer

ROOT = Path(__file__).resolve().parents[3]
H = "49=TW|52=<T>|56=ISLD"
E = "49=ISLD|52=*|56=TW"


def start_server(*extra: str) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "trading.fix.conformance", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    line = proc.stdout.readline() if ready else ""
    found = re.search(r":(\d+) \(", line)
    if found is None:
        proc.kill()
        pytest.fail(f"conformance server did not start: {line!r}")
    return proc, int(found.group(1))


def stop_server(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail("conformance server ignored SIGTERM")
    return out


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    proc, number = start_server()
    yield number
    stop_server(proc)


_OPEN: list[socket.socket] = []


@pytest.fixture(autouse=True)
def close_sockets() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    _OPEN.append(sock)
    return sock


class Wire:
    """A scripted counterparty on a real socket (closed after the test)."""

    def __init__(self, port: int, begin: str = "FIX.4.2") -> None:
        self.sock = connect(port)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.begin = begin
        self.framer = Framer()

    def send(self, body: str, begin: str | None = None) -> None:
        self.sock.sendall(frame(begin or self.begin, body, time.time()))

    def read(self, timeout: float = 5.0) -> bytes | None:
        self.sock.settimeout(timeout)
        while (raw := self.framer.next()) is None:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.framer.feed(data)
        return raw

    def expect(self, pattern: str, timeout: float = 5.0) -> bytes:
        raw = self.read(timeout)
        assert raw is not None, f"disconnected, expected {pattern}"
        assert matches(raw, self.begin, pattern), f"\nexpected {pattern}\n     got {show(raw)}"
        return raw

    def expect_disconnect(self, timeout: float = 5.0) -> None:
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        assert data == b"", f"expected a disconnect, got {data!r}"

    def logon(self, heartbeat: int = 30) -> None:
        self.send(f"35=A|34=1|{H}|98=0|108={heartbeat}")
        self.expect(f"35=A|34=1|{E}|98=0|108={heartbeat}")

    def logout(self, seq: int, ours: int) -> None:
        self.send(f"35=5|34={seq}|{H}")
        self.expect(f"35=5|34={ours}|{E}")
        self.expect_disconnect()


def test_bare_connect_and_close_leaves_the_acceptor_serving(port: int) -> None:
    for _ in range(3):
        connect(port).close()
    wire = Wire(port)
    wire.logon()
    wire.logout(2, 2)


def test_one_port_serves_each_begin_string_at_once(port: int) -> None:
    old, new = Wire(port, "FIX.4.2"), Wire(port, "FIX.4.4")
    old.logon()
    new.logon()
    for wire in (old, new):
        wire.send(f"35=1|34=2|{H}|112={wire.begin}")
        wire.expect(f"35=0|34=2|{E}|112={wire.begin}")
    old.logout(3, 3)
    new.logout(3, 3)


@pytest.mark.parametrize(
    ("begin", "body"),
    [
        ("FIX.4.2", "35=A|34=1|49=WT|52=<T>|56=ISLD|98=0|108=30"),
        ("FIX.4.2", "35=A|34=1|49=TW|52=<T>|56=DLSI|98=0|108=30"),
        ("FIX.3.9", "35=A|34=1|49=TW|52=<T>|56=ISLD|98=0|108=30"),
        ("FIX.4.2", "35=0|34=1|49=TW|52=<T>|56=ISLD"),
        ("FIX.4.2", "9=40|35=A|34=1|49=TW|52=<T>|56=ISLD|98=0|108=30"),
        ("FIX.4.4", "35=A|34=1|49=TW|52=20010101-00:00:00|56=ISLD|98=0|108=30"),
    ],
    ids=["sender", "target", "version", "not-logon", "garbled", "sending-time"],
)
def test_bad_first_message_is_dropped_without_a_byte(port: int, begin: str, body: str) -> None:
    wire = Wire(port, begin)
    wire.send(body)
    wire.expect_disconnect()


def test_second_connection_to_a_logged_on_session_is_dropped(port: int) -> None:
    first = Wire(port)
    first.logon()
    second = Wire(port)
    second.send(f"35=A|34=1|{H}|98=0|108=30")
    second.expect_disconnect()
    first.send(f"35=1|34=2|{H}|112=STILL")
    first.expect(f"35=0|34=2|{E}|112=STILL")
    first.logout(3, 3)


def test_too_long_body_length_swallows_the_next_message_across_writes(port: int) -> None:
    wire = Wire(port)
    wire.logon()
    nos = "11=ID|21=3|40=1|54=1|55=INTC|60=<T>"
    echo = "11=ID|21=3|40=1|54=1|55=INTC|60=*"
    now = stamp(time.time())
    body = f"35=D|34=2|49=TW|52={now}|56=ISLD|11=ID|21=3|40=1|54=1|55=INTC|60={now}|"
    wire.sock.sendall(frame("FIX.4.2", f"9={len(body) + 16}|{body[:-1]}", time.time()))
    time.sleep(0.05)
    wire.send(f"35=D|34=3|{H}|{nos}")
    wire.send(f"35=D|34=2|{H}|{nos}")
    wire.expect(f"35=D|34=2|{E}|{echo}")  # nothing before: both were dropped
    wire.send(f"35=D|34=3|{H}|{nos}")
    wire.expect(f"35=D|34=3|{E}|{echo}")
    wire.logout(4, 4)


def test_heartbeat_test_request_and_timeout_in_real_time(port: int) -> None:
    wire = Wire(port)
    wire.logon(heartbeat=1)
    start = time.monotonic()
    wire.expect(f"35=0|34=2|{E}")
    wire.expect(f"35=1|34=3|{E}|112=TEST")
    wire.expect_disconnect(timeout=5)
    elapsed = time.monotonic() - start
    assert 2.0 < elapsed < 4.0, elapsed  # 2.4 x HeartBtInt, timer granularity 0.2 s


def test_resend_request_is_served_from_the_store(port: int) -> None:
    wire = Wire(port, "FIX.4.4")
    wire.logon()
    nos = "11=A|40=1|54=1|55=INTC|60=<T>"
    wire.send(f"35=D|34=2|{H}|{nos}")
    wire.expect(f"35=D|34=2|{E}|11=A|40=1|54=1|55=INTC|60=*")
    wire.send(f"35=1|34=3|{H}|112=X")
    wire.expect(f"35=0|34=3|{E}|112=X")
    wire.send(f"35=2|34=4|{H}|7=1|16=0")
    wire.expect(f"35=4|34=1|43=Y|{E}|122=*|36=2|123=Y")
    wire.expect(f"35=D|34=2|43=Y|{E}|122=*|11=A|40=1|54=1|55=INTC|60=*")
    wire.expect(f"35=4|34=3|43=Y|{E}|122=*|36=4|123=Y")
    wire.logout(5, 4)


def test_rejects_over_the_wire(port: int) -> None:
    wire = Wire(port, "FIX.4.4")
    wire.logon(2)
    wire.send(f"35=0|34=2|{H}|-1=HI")
    wire.expect(f"35=3|34=2|{E}|45=2|58=Invalid tag number|371=-1|372=0|373=0")
    wire.send(f"35=D|34=3|{H}|115=JCD|11=ID|21=3|38=100|40=w|54=1|55=INTC|60=<T>")
    text = "58=Value is incorrect (out of range) for this tag|371=40|372=D|373=5"
    wire.expect(f"35=3|34=3|{E}|128=JCD|45=3|{text}")
    wire.send(f"35=8|34=4|{H}|37=id|17=id|150=0|39=0|55=W|54=1|151=100|14=0|6=0.0")
    wire.expect(f"35=j|34=4|{E}|45=4|58=Unsupported Message Type|372=8|380=3")
    wire.logout(5, 5)


def test_sigterm_logs_out_connected_sessions() -> None:
    proc, number = start_server()
    try:
        wire = Wire(number)
        wire.logon()
    finally:
        out = stop_server(proc)
    wire.expect(f"35=5|34=2|{E}")
    assert proc.returncode == 0, out


def test_redis_store_option_keeps_sequence_numbers_in_redis(server: RedisServer) -> None:
    client = resp3.Redis(host=server.host, port=server.port, socket_timeout=5)
    client.delete("fix:{FIX.4.4:ISLD->TW}:seq", "fix:{FIX.4.4:ISLD->TW}:msgs")
    proc, number = start_server("--redis-url", server.url, "--begin-strings", "FIX.4.4")
    try:
        wire = Wire(number, "FIX.4.4")
        wire.logon()
        wire.send(f"35=D|34=2|{H}|11=A|40=1|54=1|55=INTC|60=<T>")
        wire.expect(f"35=D|34=2|{E}|11=A|40=1|54=1|55=INTC|60=*")
        numbers = client.hgetall("fix:{FIX.4.4:ISLD->TW}:seq")
        assert numbers[b"sender"] == b"3" and numbers[b"target"] == b"3"
        stored = client.hget("fix:{FIX.4.4:ISLD->TW}:msgs", "2")
        assert stored is not None and b"\x0111=A\x01" in stored
        wire.logout(3, 3)
    finally:
        stop_server(proc)
        client.close()
