"""What a session emits: its :class:`Output` (wire bytes and events) and the admin
messages it builds (Logon, Logout, Heartbeat, TestRequest, ResendRequest,
SequenceReset-GapFill, Reject, BusinessMessageReject).

Builders return bodies only (BeginString and MsgType included); the session fills
the rest of the header (SenderCompID, TargetCompID, MsgSeqNum, SendingTime) when it
sends, and ``Message.encode`` puts everything in canonical order.

Reject follows QuickFIX: RefSeqNum(45) when the rejected message had a readable
MsgSeqNum, RefMsgType(372), SessionRejectReason(373) only when the version's
dictionary knows the reason (FIX 4.2 stops at 11), the standard Text(58), RefTagID(371)
when a field is at fault, and the routing fields of the rejected message reversed
(OnBehalfOf* <-> DeliverTo*), skipping empty ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from trading.fix.dictionary import DataDictionary
from trading.fix.message import FieldValue, Message
from trading.fix.settings import SessionID
from trading.fix.validate import reason_supported

__all__ = [
    "ADMIN_TYPES",
    "BUSINESS_REJECT_TEXTS",
    "Disconnect",
    "LoggedOn",
    "LoggedOut",
    "Output",
    "Received",
    "SessionEvent",
    "business_reject",
    "gap_fill",
    "reject",
]

#: MsgTypes of the session layer (QuickFIX's isAdminMsgType).
ADMIN_TYPES = frozenset({b"0", b"1", b"2", b"3", b"4", b"5", b"A"})

BUSINESS_REJECT_TEXTS = {
    0: "Other",
    1: "Unknown ID",
    2: "Unknown Security",
    3: "Unsupported Message Type",
    4: "Application not available",
    5: "Conditionally Required Field Missing",
    6: "Not authorized",
    7: "DeliverTo firm not available at this time",
}


@dataclass(frozen=True, slots=True)
class LoggedOn:
    """The Logon handshake completed."""

    session_id: SessionID


@dataclass(frozen=True, slots=True)
class LoggedOut:
    """A logged-on (or logging-on) session ended; ``reason`` says why."""

    session_id: SessionID
    reason: str


@dataclass(frozen=True, slots=True)
class Disconnect:
    """The session is done with this connection: write the output's data, then close."""

    session_id: SessionID
    reason: str


@dataclass(frozen=True, slots=True)
class Received:
    """An application message arrived in sequence and was handed to ``from_app``."""

    session_id: SessionID
    message: Message


SessionEvent: TypeAlias = LoggedOn | LoggedOut | Disconnect | Received


@dataclass(slots=True)
class Output:
    """What one input produced: ``data``, the encoded messages to write in order, and
    ``events``. ``accepted`` is False only for a ``send`` that ``to_app`` vetoed."""

    data: list[bytes] = field(default_factory=list)
    events: list[SessionEvent] = field(default_factory=list)
    accepted: bool = True

    @property
    def disconnect(self) -> Disconnect | None:
        """The Disconnect event, when the transport must close the connection."""
        for event in self.events:
            if isinstance(event, Disconnect):
                return event
        return None


def build(begin_string: bytes, msg_type: bytes, *fields: tuple[int, FieldValue | None]) -> Message:
    return Message.build(begin_string, msg_type, fields)


def gap_fill(begin_string: bytes, new_seq_no: int) -> Message:
    """SequenceReset-GapFill; the session sets MsgSeqNum, PossDupFlag and
    OrigSendingTime (= SendingTime) when it sends it."""
    return build(begin_string, b"4", (36, new_seq_no), (123, b"Y"))


# (from, to): a routing field of the rejected message and where it goes in the reply
_REVERSED = ((115, 128), (128, 115), (116, 129), (129, 116), (144, 145), (145, 144))


def reject(
    begin_string: bytes,
    dictionary: DataDictionary,
    rejected: Message,
    reason: int,
    text: str,
    ref_tag: int | None,
) -> Message:
    """Reject(3) of ``rejected`` (see the module docstring for the fields)."""
    message = Message.build(begin_string, b"3")
    for source, target in _REVERSED:
        value = rejected.get(source)
        if value:
            message.append(target, value)
    seq = rejected.get(34)
    if seq is not None and seq.isdigit():
        message.append(45, seq)
    msg_type = rejected.get(35)
    if msg_type:
        message.append(372, msg_type)
    if reason_supported(dictionary, reason):
        message.append(373, reason)
    message.append(58, text)
    if ref_tag is not None:
        message.append(371, ref_tag)
    return message


def business_reject(
    begin_string: bytes, rejected: Message, reason: int, ref_tag: int | None = None, text: str = ""
) -> Message:
    """BusinessMessageReject(j): RefSeqNum, RefMsgType, BusinessRejectReason and the
    standard text, with ``(tag)`` appended when a field is at fault."""
    words = text or BUSINESS_REJECT_TEXTS.get(reason, "Other")
    if ref_tag is not None:
        words = f"{words} ({ref_tag})"
    seq = rejected.get(34)
    return build(
        begin_string,
        b"j",
        (45, seq if seq is not None and seq.isdigit() else None),
        (58, words),
        (372, rejected.get(35, b"")),
        (380, reason),
    )
