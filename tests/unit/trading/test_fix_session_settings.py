"""Session settings and stores without a server: value checks that list every
problem, the QuickFIX ``.cfg`` reader, schedules, MemoryStore and FileLog, and a
session resuming from a store it did not create."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from test_fix_session_harness import T0, Clock, Peer

from trading.errors import ConfigError
from trading.fix.session import Session
from trading.fix.settings import (
    Schedule,
    SessionID,
    SessionSettings,
    Settings,
    load_settings,
    parse_settings,
)
from trading.fix.store import FileLog, MemoryStore

CFG = """
# comment
[DEFAULT]
ConnectionType=initiator
HeartBtInt=20
ResetOnLogon=Y
StartTime=08:00:00
EndTime=17:30:00

[SESSION]
BeginString=FIX.4.4
SenderCompID=TW
TargetCompID=ISLD
SocketConnectHost=127.0.0.1
SocketConnectPort=5001

[SESSION]
BeginString=FIX.4.2
SenderCompID=TW
TargetCompID=ISLD
HeartBtInt=30
MaxLatency=5
"""


def test_cfg_file_sessions_inherit_defaults() -> None:
    settings, kind = parse_settings(CFG)
    assert kind == "initiator"
    first, second = settings.sessions
    assert first.session_id == SessionID("FIX.4.4", "TW", "ISLD")
    assert (first.heartbeat_interval, first.reset_on_logon, first.connect_port) == (20, True, 5001)
    assert first.schedule == Schedule(time(8, 0), time(17, 30))
    assert (second.heartbeat_interval, second.max_latency) == (30, 5.0)


def test_cfg_problems_are_all_reported_with_their_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.cfg"
    path.write_text(
        "[SESSION]\nBeginString=FIX.9.9\nSenderCompID=A\nHeartBtInt=x\nColour=blue\n"
        "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=A\nTargetCompID=B\nResetOnLogon=maybe\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    text = str(caught.value)
    assert str(path) in text
    for part in ("HeartBtInt", "Colour: unknown setting", "TargetCompID is missing", "Y or N"):
        assert part in text, part


def test_session_settings_list_every_bad_value() -> None:
    with pytest.raises(ConfigError) as caught:
        SessionSettings("FIX.5.0", "", "B", heartbeat_interval=-1, logout_timeout=0)
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 4, messages


def test_settings_refuse_duplicate_sessions() -> None:
    one = SessionSettings("FIX.4.4", "A", "B")
    with pytest.raises(ConfigError, match="defined twice"):
        Settings((one, SessionSettings("FIX.4.4", "A", "B")))


def test_schedule_over_midnight() -> None:
    day = T0 - T0 % 86400
    hours = Schedule(time(22, 0), time(6, 0))
    assert hours.in_session(day + 23 * 3600) and hours.in_session(day + 5 * 3600)
    assert not hours.in_session(day + 12 * 3600)
    assert hours.same_period(day + 23 * 3600, day + 86400 + 5 * 3600)
    assert not hours.same_period(day + 5 * 3600, day + 23 * 3600)


def test_memory_store_keeps_messages_and_numbers() -> None:
    store = MemoryStore(T0)
    store.save(1, b"one")
    store.save(3, b"three")
    store.set_next_target(7)
    assert (store.next_sender, store.next_target) == (4, 7)
    assert store.get(1, 3) == [(1, b"one"), (3, b"three")]
    assert store.get(2, 10**6) == [(3, b"three")]
    store.reset(T0 + 1)
    assert (store.next_sender, store.next_target, store.get(1, 9)) == (1, 1, [])


def test_session_resumes_numbers_from_its_store() -> None:
    clock = Clock()
    store = MemoryStore(clock())
    store.set_next_sender(12)
    store.set_next_target(30)
    settings = SessionSettings("FIX.4.4", "ISLD", "TW")
    peer = Peer(Session(settings, store=store, clock=clock), clock, "FIX.4.4")
    peer.send("35=A|34=30|49=TW|52=<T>|56=ISLD|98=0|108=30")
    peer.expect("35=A|34=12|49=ISLD|52=*|56=TW|98=0|108=30")
    assert (store.next_sender, store.next_target) == (13, 31)


def test_file_log_writes_messages_and_events_per_session(tmp_path: Path) -> None:
    clock = Clock()
    sid = SessionID("FIX.4.4", "ISLD", "TW")
    log = FileLog(tmp_path, sid, clock=clock)
    settings = SessionSettings("FIX.4.4", "ISLD", "TW")
    session = Session(settings, store=MemoryStore(clock()), log=log, clock=clock)
    peer = Peer(session, clock, "FIX.4.4")
    peer.logon()
    log.close()
    lines = log.messages_path.read_bytes().splitlines()
    assert lines[0].startswith(b"20231114-22:13:20.000000 IN  8=FIX.4.4\x01")
    assert lines[1].startswith(b"20231114-22:13:20.000000 OUT 8=FIX.4.4\x01")
    assert log.messages_path.name == "FIX.4.4-ISLD-TW.messages.log"
    assert b"logged on" in log.events_path.read_bytes()
