"""Logon and Logout, in memory: one rule per test, against a scripted counterparty
(acceptor side) or a session pair (initiator side)."""

from __future__ import annotations

import pytest
from test_fix_session_harness import Clock, Peer, acceptor, pair, pump

from trading.fix.application import Application, RejectLogon
from trading.fix.message import Message
from trading.fix.session import Session
from trading.fix.session_messages import LoggedOn, LoggedOut
from trading.fix.settings import SessionID, SessionSettings
from trading.fix.store import MemoryStore

H = "49=TW|52=<T>|56=ISLD"
E = "49=ISLD|52=*|56=TW"


class Recorder(Application):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def on_create(self, session_id: SessionID) -> None:
        self.calls.append("create")

    def on_logon(self, session_id: SessionID) -> None:
        self.calls.append("logon")

    def on_logout(self, session_id: SessionID) -> None:
        self.calls.append("logout")

    def from_admin(self, message: Message, session_id: SessionID) -> None:
        self.calls.append(f"admin {message.msg_type.decode()}")


@pytest.mark.parametrize("begin", ["FIX.4.2", "FIX.4.4"])
def test_valid_logon_is_answered_with_logon_and_their_heartbeat_interval(begin: str) -> None:
    app = Recorder()
    peer = acceptor(begin, app)
    peer.send(f"35=A|34=1|{H}|98=0|108=17")
    peer.expect(f"35=A|34=1|{E}|98=0|108=17")
    assert peer.session.is_logged_on and peer.session.heartbeat_interval == 17
    assert app.calls == ["create", "admin A", "logon"]
    assert any(isinstance(e, LoggedOn) for e in peer.events)
    peer.logout(2, 2)
    assert app.calls[-1] == "logout"


@pytest.mark.parametrize(
    "body",
    [
        f"35=0|34=1|{H}",  # anything but Logon first
        "35=A|34=1|49=TW|52=<T>|56=DLSI|98=0|108=30",  # wrong TargetCompID
        "35=A|34=1|49=WT|52=<T>|56=ISLD|98=0|108=30",  # wrong SenderCompID
        "35=A|34=1|49=TW|52=20010101-00:00:00|56=ISLD|98=0|108=30",  # SendingTime far off
        "35=A|34=1|49=TW|52=<T>|56=ISLD|98=0",  # HeartBtInt missing (invalid Logon)
        "9=40|35=A|34=1|49=TW|52=<T>|56=ISLD|98=0|108=30",  # garbled (BodyLength)
    ],
    ids=["not-logon", "target", "sender", "sending-time", "invalid", "garbled"],
)
def test_bad_first_message_disconnects_without_a_word(body: str) -> None:
    peer = acceptor()
    peer.send(body)
    peer.expect_disconnect()
    assert not peer.session.is_logged_on


def test_logon_with_a_wrong_begin_string_disconnects() -> None:
    peer = acceptor("FIX.4.2")
    peer.send(f"35=A|34=1|{H}|98=0|108=30", begin="FIX.3.9")
    peer.expect_disconnect()


def test_logon_with_seq_num_too_high_is_answered_then_resend_is_requested() -> None:
    peer = acceptor()
    peer.send(f"35=A|34=5|{H}|98=0|108=30")
    peer.expect(f"35=A|34=1|{E}|98=0|108=30")
    peer.expect(f"35=2|34=2|{E}|7=1|16=0")
    for seq in range(1, 5):  # the gap: the queued Logon (5) is then counted, not re-run
        peer.send(f"35=4|34={seq}|43=Y|{H}|122=<T>|36={seq + 1}|123=Y")
    assert peer.session.next_target_seq == 6
    peer.logout(6, 3)


def test_logout_with_seq_num_too_high_is_still_answered() -> None:
    """Logout is processed whatever its MsgSeqNum (QuickFIX's nextLogout)."""
    peer = acceptor()
    peer.send(f"35=A|34=5|{H}|98=0|108=30")
    peer.expect(f"35=A|34=1|{E}|98=0|108=30")
    peer.expect(f"35=2|34=2|{E}|7=1|16=0")
    peer.logout(6, 3)


def test_logon_with_seq_num_too_low_gets_logout_with_the_numbers() -> None:
    clock = Clock()
    store = MemoryStore(clock())
    store.set_next_target(5)
    settings = SessionSettings("FIX.4.4", "ISLD", "TW")  # no reset on logon
    peer = Peer(Session(settings, store=store, clock=clock), clock, "FIX.4.4")
    peer.send(f"35=A|34=3|{H}|98=0|108=30")
    peer.expect(f"35=5|34=1|{E}|58=MsgSeqNum too low, expecting 5 but received 3")
    peer.expect_disconnect()


def test_reset_on_logon_restarts_both_numbers_every_time() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=1|34=2|{H}|112=X")
    peer.expect(f"35=0|34=2|{E}|112=X")
    peer.logout(3, 3)
    peer.take(peer.session.connect())
    peer.disconnected = False
    peer.logon()
    assert (peer.session.next_sender_seq, peer.session.next_target_seq) == (2, 2)


def test_reset_seq_num_flag_mid_session_resets_and_is_echoed() -> None:
    peer = acceptor("FIX.4.4")
    peer.logon()
    for seq in range(2, 10):
        peer.send(f"35=0|34={seq}|{H}")
    peer.send(f"35=1|34=10|{H}|112=1")
    peer.expect(f"35=0|34=2|{E}|112=1")
    peer.send(f"35=A|34=1|{H}|98=0|108=30|141=Y")
    peer.expect(f"35=A|34=1|{E}|98=0|108=30|141=Y")
    peer.send(f"35=1|34=2|{H}|112=2")
    peer.expect(f"35=0|34=2|{E}|112=2")


def test_second_logon_without_reset_flag_disconnects() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=A|34=2|{H}|98=0|108=30")
    peer.expect_disconnect()


def test_application_refusing_a_logon_sends_logout_with_its_text() -> None:
    class Refuse(Application):
        def from_admin(self, message: Message, session_id: SessionID) -> None:
            if message.msg_type == b"A":
                raise RejectLogon("unknown user")

    peer = acceptor(application=Refuse())
    peer.send(f"35=A|34=1|{H}|98=0|108=30")
    peer.expect(f"35=5|34=1|{E}|58=unknown user")  # refused before any Logon answer
    peer.expect_disconnect()
    assert not peer.session.is_logged_on


def test_initiator_logon_handshake_and_orderly_logout_both_ways() -> None:
    initiator, acceptor_side, _ = pair(heartbeat_interval=20)
    acceptor_side.connect()
    events = pump(initiator, acceptor_side, initiator.connect())
    assert [type(e) for e in events] == [LoggedOn, LoggedOn]
    assert acceptor_side.heartbeat_interval == 20
    events = pump(initiator, acceptor_side, initiator.logout("done"))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["LoggedOut", "Disconnect", "LoggedOut", "Disconnect"]
    reasons = [e.reason for e in events if isinstance(e, LoggedOut)]
    assert reasons == ["Logout received: done", "Logout answered"]


def test_initiator_sends_reset_flag_when_configured_to_reset() -> None:
    initiator, acceptor_side, _ = pair(reset_on_logon=True)
    out = initiator.connect()
    assert b"\x01141=Y\x01" in out.data[0]
    acceptor_side.connect()
    pump(initiator, acceptor_side, out)
    assert initiator.is_logged_on and acceptor_side.is_logged_on


def test_initiator_times_out_waiting_for_the_logon_answer() -> None:
    initiator, _, clock = pair(logon_timeout=10)
    initiator.connect()
    clock.advance(9.9)
    assert initiator.tick().disconnect is None
    clock.advance(0.2)
    assert initiator.tick().disconnect is not None


def test_initiator_takes_a_logout_answer_to_its_logon_as_refusal() -> None:
    initiator, _, clock = pair()
    peer = Peer(initiator, clock, "FIX.4.4")
    peer.expect("35=A|34=1|49=TW|52=*|56=ISLD|98=0|108=30")
    peer.raw(_wire("FIX.4.4", "35=5|34=1|49=ISLD|52=<T>|56=TW|58=not allowed", clock))
    peer.expect("35=5|34=2|49=TW|52=*|56=ISLD")
    peer.expect_disconnect()


def test_acceptor_closes_a_connection_that_never_logs_on() -> None:
    peer = acceptor(logon_timeout=5)
    peer.tick(4.9)
    assert not peer.disconnected
    peer.tick(0.2)
    peer.expect_disconnect()


def _wire(begin: str, body: str, clock: Clock) -> bytes:
    from test_fix_session_harness import frame

    return frame(begin, body, clock.now)
