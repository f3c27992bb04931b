"""The FIX session as a sans-I/O state machine.

Theory of operation
-------------------
A :class:`Session` owns one conversation with one counterparty (one SessionID) across
connections. It never touches a socket or a clock of its own: the driver (the asyncio
transport, or a test) calls one of its inputs and gets an :class:`Output` back:

==========================  ================================================
input                       meaning
==========================  ================================================
``connect(now)``            a connection was made (an initiator sends Logon)
``receive(data, now)``      bytes from the connection (framed here)
``receive_message(raw)``    one framed message
``tick(now)``               time passed: heartbeats, TestRequest, timeouts
``send(message, now)``      the application sends a message
``logout(text, now)``       start an orderly Logout
``disconnected(now)``       the connection was lost
==========================  ================================================

``Output.data`` holds the encoded messages to write, in order; ``Output.events``
says what happened (:class:`LoggedOn`, :class:`LoggedOut`, :class:`Received`, and
:class:`Disconnect`, after which the driver writes the data and closes). The
:class:`~trading.fix.application.Application` callbacks run synchronously inside the
inputs; a callback may send, and its message is appended to the same output.

Every input ends with ``store.flush()`` and ``log.flush()``, *before* the output is
returned, so a message is stored before it can reach the wire. ``now`` defaults to
``clock()`` (``time.time``; tests inject their own).

Receiving follows QuickFIX 1.16 ``Session::next``, so a counterparty sees QuickFIX's
reactions: a garbled frame (BodyLength, CheckSum, field syntax) is ignored without
counting it, or ends the connection before Logon; a message missing SenderCompID or
TargetCompID is rejected; a wrong BeginString gets Logout "Incorrect BeginString"; the
data dictionary validates (Reject with the first problem); then per type the checks
of ``verify`` (logon state, SendingTime within ``max_latency``, CompIDs, then sequence
number: too high is queued behind a ResendRequest, too low without PossDupFlag ends
the session with Logout "MsgSeqNum too low, expecting X but received Y", too low with
PossDupFlag is ignored once OrigSendingTime checks out). Logout and ResendRequest are
handled whatever their sequence number, SequenceReset-Reset too (GapFill is checked).
Queued messages are processed as soon as the gap closes.

What the session keeps between connections lives in its store (sequence numbers and
sent application messages); everything else (queue, logon flags, resend range) is
per connection. Not thread-safe: drive one session from one thread (the event loop).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable

from trading.errors import FixError, FixParseError
from trading.fix.application import (
    Application,
    IncorrectTagValue,
    RejectLogon,
    UnsupportedMessageType,
)
from trading.fix.dictionary import DataDictionary
from trading.fix.message import Message
from trading.fix.session_base import SessionBase, seq_of
from trading.fix.session_messages import ADMIN_TYPES, LoggedOn, Output, Received, build
from trading.fix.session_wire import parse_message
from trading.fix.settings import SessionID, SessionSettings
from trading.fix.store import MessageLog, MessageStore
from trading.fix.validate import FieldMissing, FieldValueError, SessionRejectReason, validate

__all__ = ["Session", "SessionNotFound", "lookup_session", "send_to_target"]

_R = SessionRejectReason


class SessionNotFound(FixError):
    """``send_to_target`` found no session with that ID in this process."""


class _AppFailed(Exception):
    """An application callback raised something the session has no FIX answer for."""


class Session(SessionBase):
    """One FIX session (see the module docstring). ``initiator`` sessions send Logon
    on ``connect``; acceptor sessions answer one. Keyword arguments: ``store``
    (default :class:`~trading.fix.store.MemoryStore`), ``log``, ``clock``,
    ``dictionary`` (default: the shipped one, or the settings' file),
    ``max_message_size``."""

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
        super().__init__(
            settings,
            application,
            store=store,
            log=log,
            initiator=initiator,
            clock=clock,
            dictionary=dictionary,
            max_message_size=max_message_size,
        )
        _REGISTRY[self.session_id] = self
        self.application.on_create(self.session_id)

    def connect(self, now: float | None = None) -> Output:
        """A connection was made. An initiator sends Logon (with ResetSeqNumFlag when
        its settings reset and both numbers are at 1)."""
        self._enter(now)
        try:
            now = self._now
            self._clear_connection_state()
            self.heartbeat_interval = self.settings.heartbeat_interval
            self.connected = True
            self.connected_at = self.last_sent = self.last_received = now
            self.framer.clear()
            self.log.event(f"connected ({'initiator' if self.initiator else 'acceptor'})")
            self._check_period(now)
            if self.initiator:
                self._send_logon()
        except BaseException:
            self._abandon()
            raise
        return self._leave()

    def receive(self, data: bytes | bytearray | memoryview, now: float | None = None) -> Output:
        """Bytes from the connection; complete messages are processed in order."""
        self._enter(now)
        try:
            self.framer.feed(data)
            while self.connected and (frame := self.framer.next()) is not None:
                self._receive_raw(frame)
        except BaseException:
            self._abandon()
            raise
        return self._leave()

    def receive_message(self, raw: bytes, now: float | None = None) -> Output:
        """One framed message (as the transport's framer cut it)."""
        self._enter(now)
        try:
            if self.connected:
                self._receive_raw(raw)
        except BaseException:
            self._abandon()
            raise
        return self._leave()

    def tick(self, now: float | None = None) -> Output:
        """Time passed: heartbeat after HeartBtInt of sending silence, TestRequest after
        1.2 x HeartBtInt of receiving silence, disconnect after 2.4 x; logon and logout
        timeouts; the end of the scheduled session hours."""
        self._enter(now)
        try:
            if self.connected:
                self._on_timer(self._now)
        except BaseException:
            self._abandon()
            raise
        return self._leave()

    def send(self, message: Message, now: float | None = None) -> Output:
        """Send an application (or admin) message: the header is filled (BeginString,
        CompIDs, MsgSeqNum, SendingTime; PossDupFlag and OrigSendingTime removed), the
        message is stored and, when logged on, written. ``message`` is modified in
        place. ``Output.accepted`` is False when ``to_app`` raised DoNotSend."""
        self._enter(now)
        try:
            if 43 in message:
                message.remove(43)
            if 122 in message:
                message.remove(122)
            accepted = self._send_raw(message)
        except BaseException:
            self._abandon()
            raise
        return self._leave(accepted)

    def logout(self, text: str = "", now: float | None = None) -> Output:
        """Start an orderly Logout: send Logout and wait ``logout_timeout`` for the
        answer. Not logged on: just disconnect."""
        self._enter(now)
        try:
            if self.connected:
                if self.received_logon or self.sent_logon:
                    if not self.sent_logout:
                        self._send_logout(text)
                else:
                    self._disconnect(text or "logout requested")
        except BaseException:
            self._abandon()
            raise
        return self._leave()

    def disconnected(self, now: float | None = None) -> Output:
        """The transport lost the connection."""
        self._enter(now)
        try:
            self._disconnect("connection lost")
        except BaseException:
            self._abandon()
            raise
        return self._leave()

    def reset(self, now: float | None = None) -> Output:
        """Both sequence numbers back to 1 and sent messages dropped (after logging
        out, when logged on)."""
        self._enter(now)
        try:
            if self.is_logged_on and not self.sent_logout:
                self._send_logout("")
            self._disconnect("reset")
            self._reset_sequence()
        except BaseException:
            self._abandon()
            raise
        return self._leave()

    # -- receiving ----------------------------------------------------------------------

    def _receive_raw(self, raw: bytes) -> None:
        self.log.incoming(raw)
        try:
            message = parse_message(raw)
        except FixParseError as exc:
            self.log.event(f"garbled message ignored: {exc}")
            if not self.received_logon:
                self._disconnect("garbled message before Logon")
            return
        self._next(message, queued=False)

    def _next(self, message: Message, queued: bool) -> None:
        msg_type = message.get(35, b"")
        try:
            if not self._accepts_type(msg_type):
                return
            if 49 not in message or 56 not in message:
                self._reject(message, _R.REQUIRED_TAG_MISSING, 49 if 49 not in message else 56)
            elif message.get(8) != self.begin_string:
                self._wrong_begin_string(message)
            elif not self._validate(message):
                pass
            else:
                self._dispatch(msg_type, message)
        except UnsupportedMessageType:
            self._business_reject(message, 3)
        except FieldMissing as exc:
            self._business_reject(message, 5, exc.tag)
        except IncorrectTagValue as exc:
            self._reject(message, _R.VALUE_IS_INCORRECT, exc.tag)
        except FieldValueError as exc:
            self._reject(message, _R.INCORRECT_DATA_FORMAT_FOR_VALUE, exc.tag)
        except RejectLogon as exc:
            self.log.event(f"logon rejected by the application: {exc}")
            self._send_logout(str(exc))
            self._disconnect(f"logon rejected: {exc}")
        except _AppFailed as exc:
            self.log.event(f"from_app raised {exc}")
            self._business_reject(message, 4, text=f"Application not available: {exc}")
        if not queued:
            self._next_queued()

    def _accepts_type(self, msg_type: bytes) -> bool:
        """Before a Logon arrived only Logon is acceptable (and Logout, to an
        initiator whose Logon is refused); anything else ends the connection."""
        if self.received_logon or msg_type == b"A":
            return True
        if msg_type == b"5" and self.initiator and self.sent_logon:
            return True
        self._disconnect(f"first message is not a Logon (MsgType {msg_type!r})")
        return False

    def _wrong_begin_string(self, message: Message) -> None:
        if not self.received_logon:
            self._disconnect(f"Logon with BeginString {message.get(8)!r}")
        elif message.get(35) == b"5":
            self._on_logout(message)
        else:
            self._send_logout("Incorrect BeginString")
            self._increment_if_expected(message)

    def _validate(self, message: Message) -> bool:
        settings = self.settings
        if not settings.validate:
            return True
        issue = validate(
            message,
            self.dictionary,
            check_fields_out_of_order=settings.validate_fields_out_of_order,
            check_fields_have_values=settings.validate_fields_have_values,
            check_user_defined_fields=settings.validate_user_defined_fields,
            allow_unknown_message_fields=settings.allow_unknown_message_fields,
        )
        if issue is None:
            return True
        ref_tag = None if issue.reason == _R.INVALID_MSGTYPE else issue.ref_tag
        self._reject(message, issue.reason, ref_tag, issue.text)
        return False

    def _dispatch(self, msg_type: bytes, message: Message) -> None:
        handler = _HANDLERS.get(msg_type)
        if handler is not None:
            handler(self, message)
        elif self._verify(message):
            self._increment_target()

    def _next_queued(self) -> None:
        queue = self.queue
        while queue and self.connected:
            message = queue.pop(self.store.next_target, None)
            if message is None:
                stale = [seq for seq in queue if seq < self.store.next_target]
                for seq in stale:
                    del queue[seq]
                return
            self.log.event(f"processing queued message {self.store.next_target}")
            if message.get(35) in (b"A", b"2"):
                self._increment_target()
            else:
                self._next(message, queued=True)

    # -- verify -------------------------------------------------------------------------

    def _verify(self, message: Message, check_high: bool = True, check_low: bool = True) -> bool:
        """QuickFIX's ``Session::verify``: logon state, SendingTime, CompIDs, sequence
        number; then the ``from_*`` callback. False: already answered or ignored."""
        sending, sender, target = message.get(52), message.get(49), message.get(56)
        msg_type = message.get(35, b"")
        seq = seq_of(message)
        if sending is None or sender is None or target is None or seq is None:
            self._disconnect(f"{msg_type!r} lacks a readable MsgSeqNum, SendingTime or CompID")
            return False
        if not self._valid_logon_state(msg_type):
            self._disconnect(f"logon state is not valid for MsgType {msg_type!r}")
            return False
        settings = self.settings
        if settings.check_latency and not self._good_time(sending):
            self._reject(message, _R.SENDINGTIME_ACCURACY_PROBLEM)
            self._send_logout("")
            return False
        if settings.check_comp_id and (sender != self._target or target != self._sender):
            self._reject(message, _R.COMPID_PROBLEM)
            self._send_logout("")
            return False
        expected = self.store.next_target
        if check_high and seq > expected:
            self._target_too_high(message, seq)
            return False
        if check_low and seq < expected:
            self._target_too_low(message, seq)
            return False
        if (check_high or check_low) and self.resend_range and seq >= self.resend_range[1]:
            self.log.event(f"resend of {self.resend_range[0]} to {self.resend_range[1]} satisfied")
            self.resend_range = None
        self.last_received = self._now
        self.test_requests = 0
        self._from_callback(msg_type, message)
        return True

    def _from_callback(self, msg_type: bytes, message: Message) -> None:
        app, sid = self.application, self.session_id
        if msg_type in ADMIN_TYPES:
            try:
                app.from_admin(message, sid)
            except RejectLogon:
                raise
            except Exception as exc:  # an application bug must not break the session
                self.log.event(f"from_admin raised {type(exc).__name__}: {exc}")
            return
        try:
            app.from_app(message, sid)
        except (UnsupportedMessageType, FieldMissing, IncorrectTagValue, FieldValueError):
            raise
        except Exception as exc:
            raise _AppFailed(f"{type(exc).__name__}: {exc}") from exc
        self._events.append(Received(sid, message))

    # -- handlers (QuickFIX's nextLogon, nextHeartbeat...) ------------------------------

    def _on_logon(self, message: Message) -> None:
        now = self._now
        schedule = self.settings.schedule
        if schedule is not None and not schedule.in_session(now):
            self._disconnect("Logon outside the session hours")
            return
        reset_flag = message.get(141) == b"Y"
        self.received_reset = reset_flag
        if reset_flag:
            self.log.event("Logon has ResetSeqNumFlag=Y: sequence numbers reset to 1")
            if not self.sent_reset:
                self._reset_sequence()
        if self.initiator and not self.sent_logon and not reset_flag:
            self._disconnect("received Logon response before sending a Logon")
            return
        if not self.initiator and self.settings.reset_on_logon:
            self._reset_sequence()
        self._check_period(now)
        if not self._verify(message, check_high=False, check_low=True):
            return
        self.received_logon = True
        if not self.initiator or (self.received_reset and not self.sent_reset):
            self.heartbeat_interval = message.get_int(108, self.heartbeat_interval)
            self._send_logon(response=True)
        self.sent_reset = self.received_reset = False
        seq = message.seq_num
        if seq > self.store.next_target and not reset_flag:
            self._target_too_high(message, seq)
        else:
            self._increment_target()
        if self.is_logged_on:
            self.log.event("logged on")
            self.application.on_logon(self.session_id)
            self._events.append(LoggedOn(self.session_id))

    def _on_heartbeat(self, message: Message) -> None:
        if self._verify(message):
            self._increment_target()

    def _on_test_request(self, message: Message) -> None:
        if self._verify(message):
            self._send_raw(build(self.begin_string, b"0", (112, message.get(112))))
            self._increment_target()

    def _on_sequence_reset(self, message: Message) -> None:
        gap_fill_flag = message.get(123) == b"Y"
        if not self._verify(message, gap_fill_flag, gap_fill_flag):
            return
        raw = message.get(36)
        if raw is None or not raw.isdigit():
            return
        new_seq, expected = int(raw), self.store.next_target
        self.log.event(f"SequenceReset from {expected} to {new_seq}")
        if new_seq > expected:
            self.store.set_next_target(new_seq)
        elif new_seq < expected:
            self._reject(message, _R.VALUE_IS_INCORRECT)

    def _on_logout(self, message: Message) -> None:
        if not self._verify(message, check_high=False, check_low=False):
            return
        if self.sent_logout:
            reason = "Logout answered"
        else:
            reason = "Logout received: " + message.get_str(58, "")
            self._send_logout("")
        self._increment_if_expected(message)
        if self.settings.reset_on_logout:
            self._reset_sequence()
        self._disconnect(reason)

    def _on_resend_request(self, message: Message) -> None:
        if not self._verify(message, check_high=False, check_low=False):
            return
        begin = message.get_int(7, 0)
        end = message.get_int(16, 0)
        self._resend(begin, end)
        self._increment_if_expected(message)

    def _on_reject(self, message: Message) -> None:
        if self._verify(message):
            self._increment_target()


_HANDLERS: dict[bytes, Callable[[Session, Message], None]] = {
    b"A": Session._on_logon,
    b"0": Session._on_heartbeat,
    b"1": Session._on_test_request,
    b"4": Session._on_sequence_reset,
    b"5": Session._on_logout,
    b"2": Session._on_resend_request,
    b"3": Session._on_reject,
}

_REGISTRY: weakref.WeakValueDictionary[SessionID, Session] = weakref.WeakValueDictionary()


def lookup_session(session_id: SessionID) -> Session | None:
    """The live session with this ID in this process (the latest one created)."""
    return _REGISTRY.get(session_id)


def send_to_target(message: Message, session_id: SessionID | None = None) -> bool:
    """Send ``message`` through the session ``session_id`` (by default the one its
    BeginString, SenderCompID and TargetCompID name), and hand the output to the
    session's transport. Returns False when ``to_app`` vetoed it.

    Raises :class:`SessionNotFound` when no such session exists in this process. Call
    it from the thread that runs the session (the event loop).
    """
    if session_id is None:
        try:
            session_id = SessionID(message.get_str(8), message.get_str(49), message.get_str(56))
        except FieldMissing as exc:
            raise SessionNotFound(
                f"no session_id given and the message lacks field {exc.tag} to find one"
            ) from None
    session = _REGISTRY.get(session_id)
    if session is None:
        raise SessionNotFound(f"no session {session_id} in this process")
    out = session.send(message)
    transmit = session.transmit
    if transmit is not None and (out.data or out.events):
        transmit(out)
    return out.accepted
