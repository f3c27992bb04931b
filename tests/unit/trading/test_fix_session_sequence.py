"""Sequence numbers in memory: gaps and the queue, too-low numbers, PossDup,
SequenceReset (gap fill and reset), garbled messages. One rule per test."""

from __future__ import annotations

from test_fix_session_harness import T0, acceptor, frame, stamp

H = "49=TW|52=<T>|56=ISLD"
E = "49=ISLD|52=*|56=TW"
NOS = "11=ID|21=3|40=1|54=1|55=INTC|60=<T>"
NOS_ECHO = "11=ID|21=3|40=1|54=1|55=INTC|60=*"


def test_seq_num_too_high_requests_resend_and_queues_until_the_gap_closes() -> None:
    peer = acceptor()
    peer.logon()
    for seq in (2, 3, 4):
        peer.send(f"35=0|34={seq}|{H}")
    peer.send(f"35=1|34=10|{H}|112=LATER")
    peer.expect(f"35=2|34=2|{E}|7=5|16=0")
    assert set(peer.session.queue) == {10}
    for seq in range(5, 10):
        peer.expect_nothing()
        peer.send(f"35=0|34={seq}|{H}")
    peer.expect(f"35=0|34=3|{E}|112=LATER")  # the queued TestRequest, answered in order
    assert peer.session.next_target_seq == 11 and not peer.session.queue
    peer.logout(11, 4)


def test_only_one_resend_request_per_gap() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=0|34=5|{H}")
    peer.expect(f"35=2|34=2|{E}|7=2|16=0")
    peer.send(f"35=0|34=6|{H}")
    peer.send(f"35=0|34=9|{H}")
    peer.expect_nothing()
    assert set(peer.session.queue) == {5, 6, 9}


def test_seq_num_too_low_without_poss_dup_ends_the_session_with_the_numbers() -> None:
    peer = acceptor()
    peer.logon()
    for seq in (2, 3, 4):
        peer.send(f"35=0|34={seq}|{H}")
    peer.send(f"35=0|34=2|{H}")
    peer.expect(f"35=5|34=2|{E}|58=MsgSeqNum too low, expecting 5 but received 2")
    peer.expect_disconnect()


def test_poss_dup_already_received_is_ignored() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=0|34=2|{H}")
    peer.send(f"35=1|34=2|43=Y|{H}|122=<T-1>|112=AGAIN")
    peer.expect_nothing()
    peer.send(f"35=0|34=3|43=Y|{H}|122=<T-1>")  # PossDup not yet received: processed
    assert peer.session.next_target_seq == 4
    peer.logout(4, 2)


def test_poss_dup_without_orig_sending_time_is_rejected_and_not_counted() -> None:
    peer = acceptor()
    peer.logon()
    for seq in (2, 3):
        peer.send(f"35=D|34={seq}|{H}|{NOS}")
    peer.send(f"35=D|34=2|43=Y|{H}|{NOS}")
    peer.expect(f"35=3|34=2|{E}|45=2|58=Required tag missing|371=122|372=D|373=1")
    peer.send(f"35=1|34=4|{H}|112=HELLO")
    peer.expect(f"35=0|34=3|{E}|112=HELLO")


def test_orig_sending_time_after_sending_time_is_a_sending_time_problem() -> None:
    peer = acceptor()
    peer.logon()
    for seq in (2, 3):
        peer.send(f"35=D|34={seq}|{H}|{NOS}")
    peer.send(f"35=D|34=2|43=Y|{H}|122=<T+10>|{NOS}")
    peer.expect(f"35=3|34=2|{E}|45=2|58=SendingTime accuracy problem|372=D|373=10")
    peer.expect(f"35=5|34=3|{E}")
    peer.send(f"35=5|34=4|{H}")
    peer.expect_disconnect()


def test_gap_fill_at_the_expected_number_moves_it() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=4|34=2|{H}|36=20|123=Y")
    peer.send(f"35=1|34=20|{H}|112=HELLO")
    peer.expect(f"35=0|34=2|{E}|112=HELLO")
    peer.logout(21, 3)


def test_gap_fill_above_the_expected_number_is_a_gap() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=4|34=10|{H}|36=20|123=Y")
    peer.send(f"35=1|34=20|{H}|112=HELLO")
    peer.expect(f"35=2|34=2|{E}|7=2|16=0")
    peer.expect_nothing()
    peer.logout(2, 3)


def test_gap_fill_below_the_expected_number_needs_poss_dup() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=4|34=1|43=Y|{H}|122=<T-1>|36=20|123=Y")  # duplicate: ignored
    peer.send(f"35=1|34=2|{H}|112=HELLO")
    peer.expect(f"35=0|34=2|{E}|112=HELLO")
    peer.send(f"35=4|34=1|{H}|36=20|123=Y")
    peer.expect(f"35=5|34=3|{E}|58=MsgSeqNum too low, expecting 3 but received 1")
    peer.expect_disconnect()


def test_sequence_reset_moves_forward_whatever_its_own_number() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=4|34=0|{H}|36=25")
    peer.send(f"35=1|34=25|{H}|112=A")
    peer.expect(f"35=0|34=2|{E}|112=A")
    peer.send(f"35=4|34=0|{H}|36=50|123=N")
    peer.send(f"35=1|34=50|{H}|112=B")
    peer.expect(f"35=0|34=3|{E}|112=B")
    peer.send(f"35=4|34=0|{H}|36=51")  # equal: nothing to do
    peer.expect_nothing()
    peer.logout(51, 4)


def test_sequence_reset_backwards_is_rejected_as_incorrect_value() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=4|34=0|{H}|36=1")
    peer.expect(f"35=3|34=2|{E}|45=0|58=Value is incorrect (out of range) for this tag|372=4|373=5")
    peer.send(f"35=1|34=2|{H}|112=HELLO")
    peer.expect(f"35=0|34=3|{E}|112=HELLO")


def test_garbled_messages_are_ignored_and_not_counted() -> None:
    peer = acceptor()
    peer.logon()
    peer.send("9=52|35=0|34=2|4garbled9=TW|52=<T>|56=ISLD|10=0")  # field syntax
    peer.send(f"35=0|34=2|{H}|10=256")  # CheckSum
    peer.send(f"9=30|35=D|34=2|{H}|{NOS}")  # BodyLength too short
    peer.expect_nothing()
    assert peer.session.next_target_seq == 2 and not peer.disconnected
    peer.send(f"35=D|34=2|{H}|{NOS}")
    assert peer.session.next_target_seq == 3


def test_a_too_long_body_length_takes_the_next_message_down_with_it() -> None:
    peer = acceptor()
    peer.logon()
    body = f"35=0|34=2|49=TW|52={stamp(T0)}|56=ISLD|"
    long = frame("FIX.4.2", f"9={len(body) + 12}|{body[:-1]}", T0)
    peer.raw(long)
    peer.send(f"35=0|34=3|{H}")  # completes the long frame: both dropped
    peer.expect_nothing()
    assert peer.session.next_target_seq == 2
    peer.send(f"35=1|34=2|{H}|112=X")
    peer.expect(f"35=0|34=2|{E}|112=X")


def test_messages_out_of_framing_order_are_garbled() -> None:
    peer = acceptor()
    peer.logon()
    peer.raw(
        b"35=0\x018=FIX.4.2\x019=29\x0134=2\x0149=TW\x0152=20240101-00:00:00\x0156=ISLD\x0110=121\x01"
    )
    peer.send(f"34=2|35=0|{H}")  # MsgType not third
    peer.expect_nothing()
    peer.send(f"35=1|34=2|{H}|112=HELLO")
    peer.expect(f"35=0|34=2|{E}|112=HELLO")


def test_reject_received_is_counted() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=3|34=2|{H}|45=1")
    assert peer.session.next_target_seq == 3
    peer.logout(3, 2)
