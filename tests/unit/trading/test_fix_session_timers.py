"""Time, in memory with a hand-moved clock: heartbeats, TestRequest on silence and the
disconnect after it, answering TestRequest, logout timeout, session hours."""

from __future__ import annotations

from datetime import time

from test_fix_session_harness import T0, Clock, Peer, acceptor, pair, pump

from trading.fix.session import Session
from trading.fix.settings import Schedule, SessionSettings
from trading.fix.store import MemoryStore

H = "49=TW|52=<T>|56=ISLD"
E = "49=ISLD|52=*|56=TW"


def test_heartbeat_after_heart_bt_int_of_sending_silence() -> None:
    peer = acceptor()
    peer.logon(6)
    peer.tick(5.9)
    peer.expect_nothing()
    peer.tick(0.1)
    peer.expect(f"35=0|34=2|{E}")
    peer.send(f"35=0|34=2|{H}")
    peer.tick(6.0)
    peer.expect(f"35=0|34=3|{E}")


def test_test_request_after_silence_then_disconnect_without_answer() -> None:
    peer = acceptor()
    peer.logon(6)
    peer.tick(6.0)
    peer.expect(f"35=0|34=2|{E}")
    peer.tick(1.1)  # 7.1 s of silence: not yet 1.2 x 6
    peer.expect_nothing()
    peer.tick(0.11)
    peer.expect(f"35=1|34=3|{E}|112=TEST")
    peer.tick(6.0)  # no heartbeats while a TestRequest is outstanding
    peer.expect_nothing()
    assert not peer.disconnected
    peer.tick(1.2)  # 14.41 s: past 2.4 x HeartBtInt
    d = peer.expect_disconnect()
    assert d.reason == "timed out waiting for heartbeat"


def test_answer_to_test_request_resets_the_silence() -> None:
    peer = acceptor()
    peer.logon(6)
    peer.tick(7.21)
    peer.expect(f"35=1|34=2|{E}|112=TEST")
    peer.send(f"35=0|34=2|{H}|112=TEST")
    peer.tick(6.0)
    peer.expect(f"35=0|34=3|{E}")
    assert peer.session.test_requests == 0 and not peer.disconnected


def test_test_request_is_answered_with_its_id() -> None:
    peer = acceptor()
    peer.logon()
    peer.send(f"35=1|34=2|{H}|112=HELLO")
    peer.expect(f"35=0|34=2|{E}|112=HELLO")


def test_heart_bt_int_zero_means_no_heartbeats() -> None:
    peer = acceptor()
    peer.logon(0)
    peer.tick(3600)
    peer.expect_nothing()
    assert not peer.disconnected


def test_our_logout_without_answer_times_out() -> None:
    peer = acceptor(logout_timeout=2.0)
    peer.logon()
    peer.take(peer.session.logout("closing"))
    peer.expect(f"35=5|34=2|{E}|58=closing")
    peer.tick(1.9)
    assert not peer.disconnected
    peer.tick(0.11)
    peer.expect_disconnect()


def test_messages_after_our_logout_are_still_processed() -> None:
    peer = acceptor()
    peer.logon()
    peer.take(peer.session.logout())
    peer.expect(f"35=5|34=2|{E}")
    peer.send(f"35=1|34=2|{H}|112=LATE")
    peer.expect(f"35=0|34=3|{E}|112=LATE")
    peer.send(f"35=5|34=3|{H}")
    peer.expect_disconnect()


def _scheduled(clock: Clock, store: MemoryStore) -> Peer:
    hours = Schedule(time(8, 0), time(17, 0))
    settings = SessionSettings("FIX.4.4", "ISLD", "TW", schedule=hours)
    return Peer(Session(settings, store=store, clock=clock), clock, "FIX.4.4")


def test_logon_outside_the_session_hours_is_refused() -> None:
    day = T0 - T0 % 86400
    clock = Clock(day + 7 * 3600)
    peer = _scheduled(clock, MemoryStore(clock()))
    peer.send(f"35=A|34=1|{H}|98=0|108=30")
    peer.expect_disconnect()


def test_a_new_session_period_starts_at_one_and_its_end_logs_out() -> None:
    day = T0 - T0 % 86400
    clock = Clock(day - 86400 + 9 * 3600)  # yesterday, in hours
    store = MemoryStore(clock())
    store.set_next_sender(40)
    store.set_next_target(40)
    clock.now = day + 9 * 3600  # today
    peer = _scheduled(clock, store)
    peer.logon()  # sequence numbers were reset for the new day: Logon 1 is expected
    assert store.next_target == 2
    peer.tick(8 * 3600 + 1)  # 17:00:01
    peer.expect(f"35=5|34=2|{E}|58=Session end")


def test_pair_exchanges_heartbeats_and_stays_up() -> None:
    initiator, acceptor_side, clock = pair(heartbeat_interval=5)
    acceptor_side.connect()
    pump(initiator, acceptor_side, initiator.connect())
    for _ in range(20):
        clock.advance(1.0)
        pump(initiator, acceptor_side, initiator.tick())
        pump(acceptor_side, initiator, acceptor_side.tick())
    assert initiator.is_logged_on and acceptor_side.is_logged_on
    assert initiator.next_sender_seq > 2
    assert acceptor_side.next_target_seq == initiator.next_sender_seq
