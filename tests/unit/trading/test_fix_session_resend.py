"""Answering ResendRequest in memory: stored application messages again with
PossDupFlag and OrigSendingTime, everything else as SequenceReset-GapFill runs; and a
session pair healing a gap on its own."""

from __future__ import annotations

from test_fix_session_harness import acceptor, pair, pump

from trading.fix.application import Application, DoNotSend
from trading.fix.conformance import EchoApplication
from trading.fix.message import Message
from trading.fix.parser import parse
from trading.fix.session_messages import Received
from trading.fix.settings import SessionID

H = "49=TW|52=<T>|56=ISLD"
E = "49=ISLD|52=*|56=TW"


def nos(symbol: str) -> tuple[str, str]:
    return f"11=ID|21=3|40=1|54=1|55={symbol}|60=<T>", f"11=ID|21=3|40=1|54=1|55={symbol}|60=*"


def gap(seq: int, new: int) -> str:
    return f"35=4|34={seq}|43=Y|{E}|122=*|36={new}|123=Y"


def resent(seq: int, symbol: str) -> str:
    return f"35=D|34={seq}|43=Y|{E}|122=*|" + nos(symbol)[1]


def test_admin_messages_become_gap_fills_and_orders_are_resent() -> None:
    peer = acceptor(application=EchoApplication())
    peer.logon()
    for seq in (2, 3, 4):  # our 2-4: Heartbeats
        peer.send(f"35=1|34={seq}|{H}|112=HELLO")
        peer.expect(f"35=0|34={seq}|{E}|112=HELLO")
    for seq, symbol in ((5, "INTC"), (6, "CDG")):  # our 5-6: echoed orders
        peer.send(f"35=D|34={seq}|{H}|{nos(symbol)[0]}")
        peer.expect(f"35=D|34={seq}|{E}|{nos(symbol)[1]}")
    for seq in (7, 8):
        peer.send(f"35=1|34={seq}|{H}|112=HELLO")
        peer.expect(f"35=0|34={seq}|{E}|112=HELLO")
    peer.send(f"35=D|34=9|{H}|{nos('IVP')[0]}")
    peer.expect(f"35=D|34=9|{E}|{nos('IVP')[1]}")

    peer.send(f"35=2|34=10|{H}|7=2|16=4")
    peer.expect(gap(2, 5))
    peer.send(f"35=2|34=11|{H}|7=2|16=8")
    for pattern in (gap(2, 5), resent(5, "INTC"), resent(6, "CDG"), gap(7, 9)):
        peer.expect(pattern)
    peer.send(f"35=2|34=12|{H}|7=2|16=0")  # 0: up to the last one sent
    for pattern in (gap(2, 5), resent(5, "INTC"), resent(6, "CDG"), gap(7, 9), resent(9, "IVP")):
        peer.expect(pattern)
    peer.expect_nothing()
    peer.send(f"35=1|34=13|{H}|112=HELLO")  # resends did not use new numbers
    peer.expect(f"35=0|34=10|{E}|112=HELLO")


def test_resent_message_keeps_its_body_and_carries_its_first_sending_time() -> None:
    peer = acceptor(application=EchoApplication())
    peer.logon()
    peer.send(f"35=D|34=2|{H}|{nos('INTC')[0]}")
    first = parse(peer.expect(f"35=D|34=2|{E}|{nos('INTC')[1]}"))
    peer.tick(3)
    peer.send(f"35=2|34=3|{H}|7=2|16=2")
    again = parse(peer.expect(resent(2, "INTC")))
    assert again.get(122) == first.get(52)
    assert again.get(52) != first.get(52)
    body = [f for f in again if f[0] > 56 and f[0] != 122 and f[0] != 10]
    assert body == [f for f in first if f[0] > 56 and f[0] != 10]


def test_a_trailing_gap_is_filled_up_to_the_next_number() -> None:
    peer = acceptor(application=EchoApplication())
    peer.logon()
    for seq, symbol in ((2, "INTC"), (3, "CDG")):
        peer.send(f"35=D|34={seq}|{H}|{nos(symbol)[0]}")
        peer.expect(f"35=D|34={seq}|{E}|{nos(symbol)[1]}")
    peer.send(f"35=1|34=4|{H}|112=X")
    peer.expect(f"35=0|34=4|{E}|112=X")
    peer.send(f"35=2|34=5|{H}|7=1|16=0")
    for pattern in (gap(1, 2), resent(2, "INTC"), resent(3, "CDG"), gap(4, 5)):
        peer.expect(pattern)


def test_a_message_the_application_will_not_resend_is_gap_filled() -> None:
    class NoResend(EchoApplication):
        def to_app(self, message: Message, session_id: SessionID) -> None:
            if message.get(43) == b"Y":
                raise DoNotSend("stale")

    peer = acceptor(application=NoResend())
    peer.logon()
    peer.send(f"35=D|34=2|{H}|{nos('INTC')[0]}")
    peer.expect(f"35=D|34=2|{E}|{nos('INTC')[1]}")
    peer.send(f"35=2|34=3|{H}|7=2|16=0")
    peer.expect(gap(2, 3))


def test_resend_request_ahead_of_a_gap_is_answered_at_once() -> None:
    """Both sides asking at the same time: the ResendRequest is answered even though
    its own number is beyond the gap, and the gap is still filled afterwards."""
    peer = acceptor(application=EchoApplication())
    peer.logon()
    for seq in (2, 3):
        peer.send(f"35=D|34={seq}|{H}|{nos('INTC')[0]}")
        peer.expect(f"35=D|34={seq}|{E}|{nos('INTC')[1]}")
    peer.send(f"35=0|34=7|{H}")
    peer.expect(f"35=2|34=4|{E}|7=4|16=0")
    peer.send(f"35=2|34=8|{H}|7=2|16=3")
    peer.expect(resent(2, "INTC"))
    peer.expect(resent(3, "INTC"))
    for seq in (4, 5, 6):
        peer.send(f"35=0|34={seq}|43=Y|49=TW|52=<T>|122=<T>|56=ISLD")
    assert peer.session.next_target_seq == 8
    peer.logout(7, 5)


def test_pair_heals_a_gap_by_itself() -> None:
    received: list[str] = []

    class Collect(Application):
        def from_app(self, message: Message, session_id: SessionID) -> None:
            received.append(message.get_str(11))

    initiator, acceptor_side, _ = pair()
    acceptor_side.application = Collect()
    acceptor_side.connect()
    pump(initiator, acceptor_side, initiator.connect())

    def order(cl: str) -> Message:
        fields = [(11, cl), (54, "1"), (60, "20240101-00:00:00"), (40, "1"), (55, "X"), (38, "1")]
        return Message.build("FIX.4.4", "D", fields)

    pump(initiator, acceptor_side, initiator.send(order("A")))
    lost = initiator.send(order("B"))  # stored, but never delivered
    assert lost.data
    events = pump(initiator, acceptor_side, initiator.send(order("C")))
    assert received == ["A", "B", "C"]
    assert [e.message.get_str(11) for e in events if isinstance(e, Received)] == ["B", "C"]
    assert acceptor_side.next_target_seq == initiator.next_sender_seq


def test_orders_sent_while_disconnected_are_resent_after_logon() -> None:
    received: list[str] = []

    class Collect(Application):
        def from_app(self, message: Message, session_id: SessionID) -> None:
            received.append(message.get_str(11))

    initiator, acceptor_side, _ = pair()
    acceptor_side.application = Collect()
    acceptor_side.connect()
    pump(initiator, acceptor_side, initiator.connect())
    pump(initiator, acceptor_side, initiator.logout())
    fields = [(11, "away"), (54, "1"), (60, "20240101-00:00:00"), (40, "1"), (55, "X"), (38, "1")]
    out = initiator.send(Message.build("FIX.4.4", "D", fields))
    assert out.accepted and not out.data  # stored and numbered, not written
    acceptor_side.connect()
    pump(initiator, acceptor_side, initiator.connect())  # Logon too high: resend request
    assert received == ["away"]


def test_sending_while_logged_out_is_refused_when_the_next_logon_resets() -> None:
    initiator, _, _ = pair(reset_on_logon=True)
    fields = [(11, "lost"), (54, "1"), (60, "20240101-00:00:00"), (40, "1"), (55, "X"), (38, "1")]
    out = initiator.send(Message.build("FIX.4.4", "D", fields))
    assert not out.accepted and initiator.next_sender_seq == 1
