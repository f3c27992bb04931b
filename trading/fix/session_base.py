"""State and sending half of the FIX session (:class:`SessionBase`); the receiving
half and the public inputs are in :mod:`trading.fix.session`, which explains the
whole. Split for size only: nothing here is meant to be used on its own.

Sending follows QuickFIX's ``sendRaw``: the header is filled (BeginString, CompIDs,
MsgSeqNum, SendingTime with milliseconds), ``to_admin``/``to_app`` run, application
messages are stored under their sequence number (admin messages only advance it:
a resend replaces them by a gap fill anyway), and the bytes are queued for the wire
when logged on (Logon, Logout, ResendRequest and SequenceReset also before).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from trading.fix.application import Application, DoNotSend
from trading.fix.dictionary import DataDictionary, dictionary_for, load_dictionary
from trading.fix.message import Message
from trading.fix.parser import parse
from trading.fix.session_messages import (
    ADMIN_TYPES,
    Disconnect,
    LoggedOut,
    Output,
    SessionEvent,
    build,
    business_reject,
    gap_fill,
    reject,
)
from trading.fix.session_wire import Framer, sending_time
from trading.fix.settings import SessionSettings
from trading.fix.store import MemoryStore, MessageLog, MessageStore, NullLog
from trading.fix.validate import FieldValueError, SessionRejectReason, parse_timestamp

__all__ = ["SessionBase"]

_R = SessionRejectReason
_ROUTING_DONE = (b"A", b"5", b"2", b"4")  # admin types sent even before logon


def seq_of(message: Message) -> int | None:
    """MsgSeqNum(34) as an int, None when absent or not digits."""
    raw = message.get(34)
    return int(raw) if raw is not None and raw.isdigit() else None


class SessionBase:
    """Session state, sending, resending, timers (see :class:`~trading.fix.session.Session`)."""

    def __init__(
        self,
        settings: SessionSettings,
        application: Application | None = None,
        *,
        store: MessageStore | None = None,
        log: MessageLog | None = None,
        initiator: bool = False,
        clock: Callable[[], float] = time.time,
        dictionary: DataDictionary | None = None,
        max_message_size: int = 1 << 20,
    ) -> None:
        self.settings = settings
        self.session_id = settings.session_id
        self.application = application or Application()
        self.clock = clock
        self.store: MessageStore = store if store is not None else MemoryStore(clock())
        self.log: MessageLog = log or NullLog()
        self.initiator = initiator
        if dictionary is None:
            path = settings.data_dictionary
            dictionary = load_dictionary(path) if path else dictionary_for(settings.begin_string)
        self.dictionary = dictionary
        self.begin_string = settings.begin_string.encode()
        self._sender = settings.sender_comp_id.encode()
        self._target = settings.target_comp_id.encode()
        self.framer = Framer(max_message_size)
        #: set by a transport: where ``send_to_target`` hands this session's output
        self.transmit: Callable[[Output], object] | None = None
        self.heartbeat_interval = settings.heartbeat_interval
        self.connected = False
        self._clear_connection_state()
        self.connected_at = self.last_sent = self.last_received = 0.0
        self._now = 0.0
        self._out: list[bytes] = []
        self._events: list[SessionEvent] = []
        self._depth = 0

    def __repr__(self) -> str:
        state = "logged on" if self.is_logged_on else "connected" if self.connected else "idle"
        numbers = f"next out {self.next_sender_seq} in {self.next_target_seq}"
        return f"<Session {self.session_id} {state} {numbers}>"

    def _clear_connection_state(self) -> None:
        self.received_logon = self.sent_logon = self.sent_logout = False
        self.received_reset = self.sent_reset = False
        self.test_requests = 0
        self.logon_sent_at = self.logout_sent_at = 0.0
        self.queue: dict[int, Message] = {}
        self.resend_range: tuple[int, int] | None = None

    # -- state --------------------------------------------------------------------------

    @property
    def is_logged_on(self) -> bool:
        return self.received_logon and self.sent_logon

    @property
    def next_sender_seq(self) -> int:
        return self.store.next_sender

    @property
    def next_target_seq(self) -> int:
        return self.store.next_target

    # -- inputs -------------------------------------------------------------------------

    def _enter(self, now: float | None) -> None:
        if self._depth == 0:
            self._now = self.clock() if now is None else now
        self._depth += 1

    def _leave(self, accepted: bool = True) -> Output:
        self._depth -= 1
        if self._depth:
            return Output(accepted=accepted)
        out, events = self._out, self._events
        self._out, self._events = [], []
        self.store.flush()
        self.log.flush()
        return Output(out, events, accepted)

    def _abandon(self) -> None:
        """An input raised: drop what it produced (it was not stored)."""
        self._depth -= 1
        if not self._depth:
            self._out, self._events = [], []

    # -- verify helpers -------------------------------------------------------------------

    def _valid_logon_state(self, msg_type: bytes) -> bool:
        if (msg_type == b"A" and self.sent_reset) or self.received_reset:
            return True
        if (msg_type == b"A") != self.received_logon:
            return True
        if msg_type == b"5" and self.sent_logon:
            return True
        if msg_type != b"5" and self.sent_logout:
            return True
        return msg_type in (b"4", b"3")

    def _good_time(self, sending: bytes) -> bool:
        try:
            stamp = parse_timestamp(52, sending).timestamp()
        except FieldValueError:
            return False
        return abs(self._now - stamp) <= self.settings.max_latency

    def _target_too_high(self, message: Message, seq: int) -> None:
        expected = self.store.next_target
        self.log.event(f"MsgSeqNum too high, expecting {expected} but received {seq}")
        self.queue[seq] = message
        span = self.resend_range
        if span is not None and not self.settings.send_redundant_resend_requests and seq >= span[0]:
            self.log.event(f"ResendRequest {span[0]} to {span[1]} already sent, not another")
            return
        end = 0 if self.begin_string >= b"FIX.4.2" else 999999
        self._send_raw(build(self.begin_string, b"2", (7, expected), (16, end)))
        self.resend_range = (expected, seq - 1)

    def _target_too_low(self, message: Message, seq: int) -> None:
        if message.get(43) != b"Y":
            text = f"MsgSeqNum too low, expecting {self.store.next_target} but received {seq}"
            self._send_logout(text)
            self._disconnect(text)
            return
        if message.get(35) == b"4":
            return
        original = message.get(122)
        if original is None:
            self._reject(message, _R.REQUIRED_TAG_MISSING, 122)
            return
        try:
            late = parse_timestamp(122, original) > parse_timestamp(52, message[52])
        except FieldValueError:
            late = False  # the dictionary reports malformed timestamps
        if late:
            self._reject(message, _R.SENDINGTIME_ACCURACY_PROBLEM)
            self._send_logout("")

    # -- resending ----------------------------------------------------------------------

    def _resend(self, begin: int, end: int) -> None:
        """Answer ResendRequest(begin, end): stored application messages again with
        PossDupFlag=Y and OrigSendingTime, everything else (admin messages, messages not
        stored, ``to_app`` vetoes) as SequenceReset-GapFill runs."""
        next_sender = self.store.next_sender
        self.log.event(f"received ResendRequest from {begin} to {end}")
        if end == 0 or end == 999999 or end >= next_sender:
            end = next_sender - 1
        if begin < 1 or begin > end:
            self.log.event(f"nothing to resend from {begin} to {end}")
            return
        gap_start: int | None = None
        current = begin
        if self.settings.persist_messages:
            for seq, raw in self.store.get(begin, end):
                if gap_start is None and seq != current:
                    gap_start = current
                message = parse(raw)
                if message.get(35) not in ADMIN_TYPES and self._resend_one(message):
                    if gap_start is not None:
                        self._send_gap_fill(gap_start, seq)
                    self._send_resent(message)
                    gap_start = None
                elif gap_start is None:
                    gap_start = seq
                current = seq + 1
        if current <= end:
            if gap_start is None:
                gap_start = current
            current = end + 1
        if gap_start is not None:
            self._send_gap_fill(gap_start, min(current, next_sender))

    def _resend_one(self, message: Message) -> bool:
        original = message.get(52)
        if original is not None:
            message.set(122, original)
        message.set(43, b"Y")
        message.set(52, sending_time(self._now))
        try:
            self.application.to_app(message, self.session_id)
        except DoNotSend:
            return False
        return True

    def _send_resent(self, message: Message) -> None:
        raw = message.encode(self.dictionary)
        self._write(raw)

    def _send_gap_fill(self, seq: int, new_seq: int) -> None:
        message = gap_fill(self.begin_string, new_seq)
        stamp = sending_time(self._now)
        message.set(43, b"Y")
        message.set(122, stamp)
        self._send_raw(message, seq=seq, stamp=stamp)
        self.log.event(f"sent SequenceReset-GapFill {seq} to {new_seq}")

    # -- sending ------------------------------------------------------------------------

    def _send_raw(
        self, message: Message, seq: int | None = None, stamp: bytes | None = None
    ) -> bool:
        """Fill the header, run to_admin/to_app, store (fresh messages) and queue the
        bytes. Admin messages are dropped while disconnected; application messages are
        stored and numbered anyway, for a later resend, unless the next Logon resets
        the sequence (then False, as for DoNotSend)."""
        msg_type = message.get(35, b"")
        admin = msg_type in ADMIN_TYPES
        if admin and not self.connected:
            return True
        if not admin and not self.is_logged_on and self._should_send_reset():
            return False  # the next Logon resets the sequence: it would never be resent
        store = self.store
        message.set(8, self.begin_string)
        message.set(49, self._sender)
        message.set(56, self._target)
        message.set(34, store.next_sender if seq is None else seq)
        message.set(52, stamp or sending_time(self._now))
        if admin:
            self._to_admin(message)
            if msg_type == b"A" and not self.received_reset:
                self.sent_reset = message.get(141) == b"Y"
                if self.sent_reset:
                    self._reset_sequence()
                    message.set(34, store.next_sender)
        else:
            try:
                self.application.to_app(message, self.session_id)
            except DoNotSend:
                return False
        raw = message.encode(self.dictionary)
        if seq is None:
            number = store.next_sender
            if admin or not self.settings.persist_messages:
                store.set_next_sender(number + 1)
            else:
                store.save(number, raw)
        if self.connected and (self.is_logged_on or msg_type in _ROUTING_DONE):
            self._write(raw)
        return True

    def _to_admin(self, message: Message) -> None:
        try:
            self.application.to_admin(message, self.session_id)
        except Exception as exc:  # an application bug must not break the session
            self.log.event(f"to_admin raised {type(exc).__name__}: {exc}")

    def _write(self, raw: bytes) -> None:
        self._out.append(raw)
        self.log.outgoing(raw)
        self.last_sent = self._now

    def _send_logon(self, response: bool = False) -> None:
        if not response and self.settings.reset_on_logon:
            self._reset_sequence()
        reset = self.received_reset if response else self._should_send_reset()
        message = build(
            self.begin_string,
            b"A",
            (98, 0),
            (108, self.heartbeat_interval),
            (141, b"Y" if reset else None),
        )
        self.sent_logon = True
        self.logon_sent_at = self.last_received = self._now
        self._send_raw(message)

    def _should_send_reset(self) -> bool:
        s = self.settings
        return (
            (s.reset_on_logon or s.reset_on_logout or s.reset_on_disconnect)
            and self.store.next_sender == 1
            and self.store.next_target == 1
        )

    def _send_logout(self, text: str) -> None:
        if not self.connected:
            return
        self._send_raw(build(self.begin_string, b"5", (58, text or None)))
        self.sent_logout = True
        self.logout_sent_at = self._now

    def _reject(
        self, message: Message, reason: int, ref_tag: int | None = None, text: str | None = None
    ) -> None:
        if not self.received_logon:
            self._disconnect(f"cannot reject before Logon (reason {reason}), disconnecting")
            return
        words = text or SessionRejectReason(reason).text
        self.log.event(f"message {message.get_str(34, '?')} rejected: {words} ({ref_tag})")
        msg_type = message.get(35)
        if msg_type not in (b"A", b"4"):
            self._increment_if_expected(message)
        body = reject(self.begin_string, self.dictionary, message, reason, words, ref_tag)
        self._send_raw(body)

    def _business_reject(
        self, message: Message, reason: int, ref_tag: int | None = None, text: str = ""
    ) -> None:
        self._increment_target()
        self._send_raw(business_reject(self.begin_string, message, reason, ref_tag, text))

    # -- sequence numbers, timers, disconnect ------------------------------------------

    def _increment_target(self) -> None:
        store = self.store
        store.set_next_target(store.next_target + 1)

    def _increment_if_expected(self, message: Message) -> None:
        if seq_of(message) == self.store.next_target:
            self._increment_target()

    def _reset_sequence(self) -> None:
        self.store.reset(self._now)
        self.queue.clear()
        self.resend_range = None

    def _check_period(self, now: float) -> None:
        """A new scheduled session period starts with fresh sequence numbers."""
        schedule = self.settings.schedule
        if (
            schedule is not None
            and schedule.in_session(now)
            and not schedule.same_period(self.store.creation_time, now)
        ):
            self.log.event("new session period: sequence numbers reset")
            self._reset_sequence()

    def _on_timer(self, now: float) -> None:
        settings = self.settings
        schedule = settings.schedule
        if schedule is not None and not schedule.in_session(now):
            if self.is_logged_on and not self.sent_logout:
                self._send_logout("Session end")
            elif not self.is_logged_on:
                self._disconnect("outside the session hours")
                return
        if not self.received_logon:
            waited = now - (self.logon_sent_at if self.sent_logon else self.connected_at)
            if waited >= settings.logon_timeout:
                self._disconnect("timed out waiting for Logon")
            return
        if self.sent_logout:
            if now - self.logout_sent_at >= settings.logout_timeout:
                self._disconnect("timed out waiting for Logout response")
            return
        interval = self.heartbeat_interval
        if interval <= 0:
            return
        since_sent, since_received = now - self.last_sent, now - self.last_received
        if since_sent < interval and since_received < interval:
            return
        if since_received >= 2.4 * interval:
            self._disconnect("timed out waiting for heartbeat")
        elif since_received >= 1.2 * (self.test_requests + 1) * interval:
            self._send_raw(build(self.begin_string, b"1", (112, b"TEST")))
            self.test_requests += 1
            self.log.event("sent TestRequest TEST")
        elif since_sent >= interval and not self.test_requests:
            self._send_raw(build(self.begin_string, b"0"))

    def _disconnect(self, reason: str) -> None:
        if not self.connected:
            return
        self.connected = False
        self.log.event(f"disconnecting: {reason}")
        if self.received_logon or self.sent_logon:
            self.application.on_logout(self.session_id)
            self._events.append(LoggedOut(self.session_id, reason))
        self._events.append(Disconnect(self.session_id, reason))
        self._clear_connection_state()
        self.heartbeat_interval = self.settings.heartbeat_interval
        self.framer.clear()
        if self.settings.reset_on_disconnect:
            self._reset_sequence()
