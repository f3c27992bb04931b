"""FIX 4.2 / 4.4 codec: messages as ordered raw fields, a stream splitter, data
dictionaries (QuickFIX's FIX42.xml/FIX44.xml) and session-level validation.

Receiving::

    splitter.feed(data)
    while (raw := splitter.gets()) is not INCOMPLETE:   # FixParseError: garbled, skip
        message = parse(raw)
        issue = validate(message, dictionary_for(message.begin_string))

Sending::

    NewOrderSingle(...).to_message("FIX.4.4")  # or Message.build(...)
    message.set(Tag.MsgSeqNum, 7) ...
    wire = message.encode()   # canonical order, BodyLength and CheckSum computed

See docs/fix.md.
"""

from trading.fix.dictionary import (
    DataDictionary,
    FieldDef,
    GroupDef,
    Layout,
    MessageDef,
    dictionary_for,
    load_dictionary,
)
from trading.fix.message import (
    SOH,
    FieldMissing,
    FieldValue,
    FieldValueError,
    Message,
    checksum,
    to_bytes,
)
from trading.fix.messages import (
    BusinessMessageReject,
    ExecType,
    ExecutionReport,
    Heartbeat,
    Logon,
    Logout,
    NewOrderSingle,
    OrderCancelReject,
    OrderCancelReplaceRequest,
    OrderCancelRequest,
    OrdStatus,
    Reject,
    ResendRequest,
    SequenceReset,
    TestRequest,
    TypedMessage,
    typed,
)
from trading.fix.parser import INCOMPLETE, Incomplete, Splitter, parse
from trading.fix.tags import DATA_FIELDS, MsgType, Tag
from trading.fix.validate import (
    SessionRejectReason,
    ValidationIssue,
    reason_supported,
    validate,
)

__all__ = [
    "DATA_FIELDS",
    "INCOMPLETE",
    "SOH",
    "BusinessMessageReject",
    "DataDictionary",
    "ExecType",
    "ExecutionReport",
    "FieldDef",
    "FieldMissing",
    "FieldValue",
    "FieldValueError",
    "GroupDef",
    "Heartbeat",
    "Incomplete",
    "Layout",
    "Logon",
    "Logout",
    "Message",
    "MessageDef",
    "MsgType",
    "NewOrderSingle",
    "OrdStatus",
    "OrderCancelReject",
    "OrderCancelReplaceRequest",
    "OrderCancelRequest",
    "Reject",
    "ResendRequest",
    "SequenceReset",
    "SessionRejectReason",
    "Splitter",
    "Tag",
    "TestRequest",
    "TypedMessage",
    "ValidationIssue",
    "checksum",
    "dictionary_for",
    "load_dictionary",
    "parse",
    "reason_supported",
    "to_bytes",
    "typed",
    "validate",
]

# -- the session layer: sessions, stores, transports (see docs/fix.md, "FIX session") --
from typing import TYPE_CHECKING, Any

from trading.fix.application import (
    Application,
    DoNotSend,
    IncorrectTagValue,
    RejectLogon,
    UnsupportedMessageType,
)
from trading.fix.session import (
    Session,
    SessionNotFound,
    lookup_session,
    send_to_target,
)
from trading.fix.session_messages import (
    Disconnect,
    LoggedOn,
    LoggedOut,
    Output,
    Received,
    SessionEvent,
)
from trading.fix.settings import (
    Schedule,
    SessionID,
    SessionSettings,
    Settings,
    load_settings,
    parse_settings,
)
from trading.fix.store import (
    FileLog,
    FileLogFactory,
    MemoryStore,
    MessageLog,
    MessageStore,
    NullLog,
    RedisStore,
    RedisStoreFactory,
)
from trading.fix.transport import Acceptor, Initiator

if TYPE_CHECKING:
    from trading.fix.oms_gateway import OmsGateway

__all__ += [
    "Acceptor",
    "Application",
    "Disconnect",
    "DoNotSend",
    "FileLog",
    "FileLogFactory",
    "IncorrectTagValue",
    "Initiator",
    "LoggedOn",
    "LoggedOut",
    "MemoryStore",
    "MessageLog",
    "MessageStore",
    "NullLog",
    "OmsGateway",
    "Output",
    "Received",
    "RedisStore",
    "RedisStoreFactory",
    "RejectLogon",
    "Schedule",
    "Session",
    "SessionEvent",
    "SessionID",
    "SessionNotFound",
    "SessionSettings",
    "Settings",
    "UnsupportedMessageType",
    "load_settings",
    "lookup_session",
    "parse_settings",
    "send_to_target",
]


def __getattr__(name: str) -> Any:
    """``OmsGateway`` is imported on first use: it pulls in the OMS, the paper venue
    and market data (numpy), which the codec and the session layer do not need."""
    if name == "OmsGateway":
        from trading.fix.oms_gateway import OmsGateway

        globals()[name] = OmsGateway
        return OmsGateway
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
