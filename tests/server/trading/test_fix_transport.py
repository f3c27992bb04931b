"""The asyncio Acceptor and Initiator over real TCP on port 0: logon, application
messages both ways through ``send_to_target``, reconnecting after a Logout, an
orderly ``stop``, an unreachable acceptor, and TLS."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

from trading.fix import (
    Acceptor,
    Application,
    Initiator,
    Message,
    SessionID,
    SessionSettings,
    Settings,
    send_to_target,
)

# A self-signed certificate for localhost / 127.0.0.1, valid 2000-2099 (test only).
CERT = """-----BEGIN CERTIFICATE-----
MIIBZDCCAQqgAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAlsb2NhbGhv
c3QwIBcNMDAwMTAxMDAwMDAwWhgPMjA5OTEyMzEwMDAwMDBaMBQxEjAQBgNVBAMM
CWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABB97VC6vI7xPBBJS
NfU48TEdaltJgBuIdxNtaw+Vwd7plCVf5bJLrgUW56Rf6Y0/XLejG7c7M0wp5lPE
91dnP+2jSzBJMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAMBgNVHRMEBTAD
AQH/MB0GA1UdDgQWBBSPhTl8xObw6tjMm7nz45Jj49jclTAKBggqhkjOPQQDAgNI
ADBFAiEAlyMZEpsRj1ak3C6MyOUCl0BdeQy63Buu6+5ozAdnoJgCID2TsooSR0cx
SI1ngGbm8dvjmfZhLTE2Y06O7V6JhCzR
-----END CERTIFICATE-----
"""
KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNHkOqHqN73Hn2eXC
toiSNpGrT34qvXUtIJbaw2M+A5+hRANCAAQfe1QuryO8TwQSUjX1OPExHWpbSYAb
iHcTbWsPlcHe6ZQlX+WyS64FFuekX+mNP1y3oxu3OzNMKeZTxPdXZz/t
-----END PRIVATE KEY-----
"""


class Recorder(Application):
    def __init__(self) -> None:
        self.logons = 0
        self.logouts = 0
        self.received: asyncio.Queue[Message] = asyncio.Queue()

    def on_logon(self, session_id: SessionID) -> None:
        self.logons += 1

    def on_logout(self, session_id: SessionID) -> None:
        self.logouts += 1

    def from_app(self, message: Message, session_id: SessionID) -> None:
        self.received.put_nowait(message)


def engines(
    server_app: Application, client_app: Application
) -> tuple[Acceptor, Callable[[int], Initiator]]:
    """An acceptor ISLD <- TW on a free port, and a maker of its initiator."""
    acceptor = Acceptor(Settings((SessionSettings("FIX.4.4", "ISLD", "TW"),)), server_app)

    def initiator(bound: int) -> Initiator:
        settings = SessionSettings(
            "FIX.4.4", "TW", "ISLD", connect_host="127.0.0.1", connect_port=bound,
            reconnect_interval=0.2, heartbeat_interval=5,
        )  # fmt: skip
        return Initiator(Settings((settings,), timer_interval=0.1), client_app)

    return acceptor, initiator


def order(cl: str) -> Message:
    fields = [(11, cl), (54, "1"), (60, "20240101-00:00:00"), (40, "1"), (55, "AAPL"), (38, "10")]
    return Message.build("FIX.4.4", "D", fields)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 20))


def test_logon_and_application_messages_both_ways() -> None:
    async def test() -> None:
        server, client = Recorder(), Recorder()
        acceptor, make = engines(server, client)
        await acceptor.start()
        initiator = make(acceptor.port)
        await initiator.start()
        await initiator.wait_for_logon()
        await acceptor.wait_for_logon()
        assert send_to_target(order("C1"), SessionID("FIX.4.4", "TW", "ISLD"))
        got = await asyncio.wait_for(server.received.get(), 5)
        assert got.get(11) == b"C1" and got.seq_num == 2
        send_to_target(order("back"), SessionID("FIX.4.4", "ISLD", "TW"))
        assert (await asyncio.wait_for(client.received.get(), 5)).get(11) == b"back"
        await initiator.stop()
        await acceptor.stop()
        assert (server.logons, server.logouts, client.logons, client.logouts) == (1, 1, 1, 1)

    run(test)


def test_initiator_reconnects_after_a_logout_and_resumes_numbers() -> None:
    async def test() -> None:
        server, client = Recorder(), Recorder()
        acceptor, make = engines(server, client)
        await acceptor.start()
        initiator = make(acceptor.port)
        await initiator.start()
        await initiator.wait_for_logon()
        send_to_target(order("first"), SessionID("FIX.4.4", "TW", "ISLD"))
        await asyncio.wait_for(server.received.get(), 5)
        acceptor.logout(text="maintenance")
        while client.logons < 2:  # reconnected after reconnect_interval
            await asyncio.sleep(0.05)
        await initiator.wait_for_logon()
        session = initiator.session()
        assert session.next_sender_seq == 5  # Logon, order, Logout, Logon: no reset
        await initiator.stop()
        await acceptor.stop()

    run(test)


def test_stop_logs_out_the_counterparty() -> None:
    async def test() -> None:
        server, client = Recorder(), Recorder()
        acceptor, make = engines(server, client)
        await acceptor.start()
        initiator = make(acceptor.port)
        await initiator.start()
        await initiator.wait_for_logon()
        await acceptor.stop()
        assert client.logouts == 1 and not initiator.session().is_logged_on
        await initiator.stop()

    run(test)


def test_initiator_keeps_trying_an_unreachable_acceptor() -> None:
    async def test() -> None:
        probe = Acceptor(Settings((SessionSettings("FIX.4.4", "X", "Y"),)))
        await probe.start()
        port = probe.port
        await probe.stop()  # nobody listens there now
        client = Recorder()
        _, make = engines(Recorder(), client)
        initiator = make(port)
        await initiator.start()
        await asyncio.sleep(0.5)
        assert client.logons == 0 and not initiator.connections
        await initiator.stop()

    run(test)


def test_tls_between_initiator_and_acceptor(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text(CERT)
    key.write_text(KEY)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))

    async def test() -> None:
        server, client = Recorder(), Recorder()
        acceptor = Acceptor(
            Settings((SessionSettings("FIX.4.4", "ISLD", "TW"),)), server, ssl=server_context
        )
        await acceptor.start()
        settings = SessionSettings(
            "FIX.4.4", "TW", "ISLD", connect_host="127.0.0.1", connect_port=acceptor.port
        )
        initiator = Initiator(
            Settings((settings,)), client, ssl=client_context, server_hostname="localhost"
        )
        await initiator.start()
        await initiator.wait_for_logon()
        send_to_target(order("secret"), settings.session_id)
        assert (await asyncio.wait_for(server.received.get(), 5)).get(11) == b"secret"
        transport = next(iter(acceptor.connections)).transport
        assert transport is not None and transport.get_extra_info("ssl_object") is not None
        await initiator.stop()
        await acceptor.stop()

    run(test)
