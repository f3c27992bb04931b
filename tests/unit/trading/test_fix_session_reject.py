"""Rejecting, in memory: session Reject for invalid messages (the dictionary's first
problem, standard text, RefTagID, SessionRejectReason omitted where FIX 4.2 lacks it,
routing reversed), CompID and SendingTime problems, a wrong BeginString, and
BusinessMessageReject for what the application does not take."""

from __future__ import annotations

import pytest
from test_fix_session_harness import acceptor

from trading.fix.application import Application, IncorrectTagValue, UnsupportedMessageType
from trading.fix.conformance import EchoApplication
from trading.fix.message import Message
from trading.fix.settings import SessionID
from trading.fix.validate import FieldMissing

H = "49=TW|52=<T>|56=ISLD"
E = "49=ISLD|52=*|56=TW"


@pytest.mark.parametrize("begin", ["FIX.4.2", "FIX.4.4"])
@pytest.mark.parametrize("tag", ["999", "0", "-1", "5000"])
def test_invalid_tag_number(begin: str, tag: str) -> None:
    peer = acceptor(begin)
    peer.logon(2)
    peer.send(f"35=0|34=2|{H}|{tag}=HI")
    peer.expect(f"35=3|34=2|{E}|45=2|58=Invalid tag number|371={tag}|372=0|373=0")
    peer.logout(3, 3)


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("35=0|34=2|49=TW|52=<T>", "45=2|58=Required tag missing|371=56|372=0|373=1"),
        (
            "35=D|49=TW|34=2|56=ISLD|52=<T>|40=1|60=<T>|54=1|21=3|11=id",
            "45=2|58=Required tag missing|371=55|372=D|373=1",
        ),
        (
            f"35=0|34=2|{H}|55=MSFT",
            "45=2|58=Tag not defined for this message type|371=55|372=0|373=2",
        ),
        ("35=0|34=2|49=TW|52=<T>|56=", "45=2|58=Tag specified without a value|371=56|372=0|373=4"),
        (
            f"35=D|34=2|{H}|11=ID|21=4|40=1|54=1|38=002000.00|55=INTC|60=<T>",
            "45=2|58=Value is incorrect (out of range) for this tag|371=21|372=D|373=5",
        ),
        (
            f"35=D|34=2|{H}|11=ID|21=1|40=1|54=1|38=+200.00|55=INTC|60=<T>",
            "45=2|58=Incorrect data format for value|371=38|372=D|373=6",
        ),
        (f"35=*|34=2|{H}", "45=2|58=Invalid MsgType|372=*|373=11"),  # no RefTagID
    ],
    ids=["header-required", "body-required", "not-for-type", "no-value", "enum", "format", "type"],
)
def test_validation_reject_carries_reason_text_and_tag(body: str, reply: str) -> None:
    peer = acceptor("FIX.4.2")
    peer.logon(2)
    peer.send(body)
    peer.expect(f"35=3|34=2|{E}|{reply}")
    peer.send(f"35=1|34=3|{H}|112=NEXT")  # the rejected message was counted
    peer.expect(f"35=0|34=3|{E}|112=NEXT")


@pytest.mark.parametrize(("begin", "with_reason"), [("FIX.4.2", False), ("FIX.4.4", True)])
def test_reasons_above_11_are_left_out_on_fix42(begin: str, with_reason: bool) -> None:
    peer = acceptor(begin)
    peer.logon(2)
    cases = [
        (
            "35=D|11=id|21=3|40=1|54=1|55=MSFT|60=<T>|34=2|49=TW|52=<T>|56=ISLD",
            "Tag specified out of required order|371=34",
            14,
        ),
        (
            f"35=D|34=3|{H}|11=ID|21=1|40=1|40=2|54=1|38=200|55=INTC|60=<T>",
            "Tag appears more than once|371=40",
            13,
        ),
        (
            f"35=D|34=4|{H}|11=ID|21=1|40=1|54=1|38=200|55=INTC|386=3|336=A|336=B|60=<T>",
            "Incorrect NumInGroup count for repeating group|371=386",
            16,
        ),
    ]
    for seq, (body, text, reason) in enumerate(cases, 2):
        peer.send(body)
        tail = f"|373={reason}" if with_reason else ""
        peer.expect(f"35=3|34={seq}|{E}|45={seq}|58={text}|372=D{tail}")


def test_routing_fields_are_reversed_on_a_reject_unless_empty() -> None:
    peer = acceptor()
    peer.logon()
    bad = "11=ID|21=3|38=100|40=w|54=1|55=INTC|60=<T>"
    text = "58=Value is incorrect (out of range) for this tag|371=40|372=D|373=5"
    peer.send(f"35=D|34=2|{H}|115=JCD|116=CS|144=CHI|{bad}")
    peer.expect(f"35=3|34=2|{E}|128=JCD|129=CS|145=CHI|45=2|{text}")
    peer.send(f"35=D|34=3|{H}|128=JCD|129=CS|145=CHI|{bad}")
    peer.expect(f"35=3|34=3|{E}|115=JCD|116=CS|144=CHI|45=3|{text}")
    peer.send(f"35=D|34=4|{H}|115=JCD|116=|11=ID|21=3|38=100|40=1|54=1|55=INTC|60=<T>")
    peer.expect(f"35=3|34=4|{E}|128=JCD|45=4|58=Tag specified without a value|371=116|372=D|373=4")


@pytest.mark.parametrize(("sender", "target"), [("WT", "ISLD"), ("TW", "DLSI"), ("WT", "DLSI")])
def test_comp_id_problem_is_rejected_then_logged_out(sender: str, target: str) -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=D|34=2|49={sender}|52=<T>|56={target}|11=ID|21=3|40=1|54=1|55=INTC|60=<T>")
    peer.expect(f"35=3|34=2|{E}|45=2|58=CompID problem|372=D|373=9")
    peer.expect(f"35=5|34=3|{E}")
    peer.send(f"35=5|34=3|{H}")
    peer.expect_disconnect()


@pytest.mark.parametrize("offset", ["-121", "+121"])
def test_sending_time_beyond_120_s_is_rejected_then_logged_out(offset: str) -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=0|34=2|49=TW|52=<T{offset}>|56=ISLD")
    peer.expect(f"35=3|34=2|{E}|45=2|58=SendingTime accuracy problem|372=0|373=10")
    peer.expect(f"35=5|34=3|{E}")
    peer.send(f"35=5|34=3|{H}")
    peer.expect_disconnect()


def test_sending_time_within_120_s_is_fine() -> None:
    peer = acceptor()
    peer.logon()
    peer.send("35=0|34=2|49=TW|52=<T-119>|56=ISLD")
    peer.expect_nothing()
    assert peer.session.next_target_seq == 3


def test_wrong_begin_string_mid_session_gets_logout_then_timeout() -> None:
    peer = acceptor("FIX.4.2", logout_timeout=2.0)
    peer.logon()
    peer.send(f"35=1|34=2|{H}|112=id", begin="FIX.4.1")
    peer.expect(f"35=5|34=2|{E}|58=Incorrect BeginString")
    peer.tick(1.9)
    assert not peer.disconnected
    peer.tick(0.2)
    peer.expect_disconnect()


def test_wrong_begin_string_then_their_logout_disconnects_at_once() -> None:
    peer = acceptor("FIX.4.2")
    peer.logon()
    peer.send(f"35=1|34=2|{H}|112=id", begin="FIX.4.1")
    peer.expect(f"35=5|34=2|{E}|58=Incorrect BeginString")
    peer.send(f"35=5|34=3|{H}")
    peer.expect_disconnect()


@pytest.mark.parametrize("begin", ["FIX.4.2", "FIX.4.4"])
def test_unsupported_application_message_gets_business_reject(begin: str) -> None:
    peer = acceptor(begin, EchoApplication())
    peer.logon()
    er = "37=id|17=id|150=0|39=0|55=WLRI|54=1|151=100|14=0|6=0.0"
    if begin == "FIX.4.2":
        er += "|20=0"
    peer.send(f"35=8|34=2|{H}|{er}")
    peer.expect(f"35=j|34=2|{E}|45=2|58=Unsupported Message Type|372=8|380=3")
    peer.logout(3, 3)


class Strict(Application):
    """Raises what ``mode`` names from from_app."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def from_app(self, message: Message, session_id: SessionID) -> None:
        if self.mode == "missing":
            raise FieldMissing(38)
        if self.mode == "value":
            raise IncorrectTagValue(54)
        if self.mode == "unsupported":
            raise UnsupportedMessageType()
        raise RuntimeError("database down")


@pytest.mark.parametrize(
    ("mode", "reply"),
    [
        ("missing", "35=j|34=2|{E}|45=2|58=Conditionally Required Field Missing (38)|372=D|380=5"),
        (
            "value",
            "35=3|34=2|{E}|45=2|58=Value is incorrect (out of range) for this tag"
            "|371=54|372=D|373=5",
        ),
        (
            "broken",
            "35=j|34=2|{E}|45=2|58=Application not available: RuntimeError: database down"
            "|372=D|380=4",
        ),
    ],
)
def test_application_errors_become_the_matching_reject(mode: str, reply: str) -> None:
    peer = acceptor("FIX.4.4", Strict(mode))
    peer.logon()
    peer.send(f"35=D|34=2|{H}|11=ID|40=1|54=1|55=INTC|60=<T>")
    peer.expect(reply.format(E=E))
    peer.logout(3, 3)


def test_echo_keeps_received_text_and_poss_resend_in_canonical_order() -> None:
    peer = acceptor("FIX.4.2", EchoApplication())
    peer.logon()
    peer.send("35=D|49=TW|34=2|56=ISLD|52=<T>|97=Y|40=1|55=INTC|60=<T>|54=1|38=002000.00|21=1|11=A")
    peer.expect(f"35=D|34=2|{E}|97=Y|11=A|21=1|38=002000.00|40=1|54=1|55=INTC|60=*")
    peer.send(f"35=D|34=3|{H}|97=Y|11=A|21=1|40=1|54=1|55=INTC|60=<T>")  # seen: dropped
    peer.expect_nothing()
    peer.send(f"35=D|34=4|{H}|11=A|21=1|40=1|54=1|55=INTC|60=<T>")  # not PossResend: echoed
    peer.expect(f"35=D|34=3|{E}|11=A|21=1|40=1|54=1|55=INTC|60=*")
    peer.logout(5, 4)
