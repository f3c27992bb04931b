"""What a FIX engine user implements: :class:`Application`, with QuickFIX's callbacks.

The session calls these synchronously, in the order messages arrive and leave, from
inside its own processing. A callback may therefore send (``send_to_target``) and the
message leaves after whatever the session was already answering, with the next
sequence number; nothing is reordered.

==================  =========================================================
callback            when, and what raising from it does
==================  =========================================================
``on_create``       a session object exists (once, before any connection)
``on_logon``        the Logon handshake completed (both sides sent Logon)
``on_logout``       a logged-on (or logging-on) session ended, for any reason:
                    Logout exchange, disconnect, timeout
``to_admin``        an admin message (Logon, Heartbeat...) is about to be sent;
                    the message may be modified (credentials on the Logon)
``from_admin``      an admin message was received and accepted by the session;
                    raise :class:`RejectLogon` on a Logon to refuse it (the
                    session sends Logout with the text and disconnects)
``to_app``          an application message is about to be sent (also when it is
                    resent after a ResendRequest); raise :class:`DoNotSend` to
                    drop it (a resend then becomes a gap fill)
``from_app``        an application message was received in sequence; raise
                    :class:`UnsupportedMessageType` for BusinessMessageReject
                    reason 3, ``FieldMissing`` for reason 5 (conditionally
                    required field missing), :class:`IncorrectTagValue` or a
                    ``FieldValueError`` for a session Reject (5 or 6)
==================  =========================================================

Any other exception from ``from_app`` is logged as a session event and answered with
BusinessMessageReject reason 4 (application not available): the message counts as
received, so one faulty handler cannot stall the session in resend loops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trading.errors import FixError

if TYPE_CHECKING:
    from trading.fix.message import Message
    from trading.fix.settings import SessionID

__all__ = [
    "Application",
    "DoNotSend",
    "IncorrectTagValue",
    "RejectLogon",
    "UnsupportedMessageType",
]


class DoNotSend(FixError):
    """Raised from ``to_app`` to keep a message from being sent (or resent)."""


class RejectLogon(FixError):
    """Raised from ``from_admin`` on a Logon: the session answers Logout with ``str()``
    of this error as Text, then disconnects."""


class UnsupportedMessageType(FixError):
    """Raised from ``from_app``: the session answers BusinessMessageReject(j) with
    BusinessRejectReason 3 (Unsupported Message Type)."""


class IncorrectTagValue(FixError):
    """Raised from ``from_app`` for a value the application cannot accept: the session
    answers Reject(3) with SessionRejectReason 5 and RefTagID ``tag``."""

    def __init__(self, tag: int, message: str = "") -> None:
        self.tag = tag
        super().__init__(message or f"field {tag}: value is incorrect (out of range)")


class Application:
    """Base class with empty callbacks; override the ones you need (see the module
    docstring). The same instance may serve many sessions: every callback names its
    session."""

    def on_create(self, session_id: SessionID) -> None:
        """A session was created (before it connects)."""

    def on_logon(self, session_id: SessionID) -> None:
        """The session is logged on."""

    def on_logout(self, session_id: SessionID) -> None:
        """The session stopped being logged on (Logout, disconnect or timeout)."""

    def to_admin(self, message: Message, session_id: SessionID) -> None:
        """An admin message is about to leave; modify it in place if needed."""

    def from_admin(self, message: Message, session_id: SessionID) -> None:
        """An admin message arrived; raise :class:`RejectLogon` to refuse a Logon."""

    def to_app(self, message: Message, session_id: SessionID) -> None:
        """An application message is about to leave; raise :class:`DoNotSend` to drop it."""

    def from_app(self, message: Message, session_id: SessionID) -> None:
        """An application message arrived in sequence."""
