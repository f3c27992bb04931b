"""Session-level validation of a parsed message against a data dictionary.

:func:`validate` returns ``None`` for a valid message, or the *first* problem as a
:class:`ValidationIssue` carrying the SessionRejectReason(373), its standard text and
the tag to put in RefTagID(371). The session turns it into a Reject(3).

The order of checks is QuickFIX's ``DataDictionary::validate`` (1.16), so that the
same message is rejected for the same reason:

1. structure: a header field after the body started, or a body field after the
   trailer started -> 14 "Tag specified out of required order" (first such tag);
2. MsgType defined by the dictionary -> 11 "Invalid MsgType" (no RefTagID, as QuickFIX);
3. required fields: header (ascending tag), trailer, body, then each group instance
   -> 1 "Required tag missing";
4. field by field, header first (8, 9, 35, then ascending tag), then trailer, then
   body (ascending tag): a tag repeated outside a group -> 13; an empty value -> 4;
   a malformed value (int, float/qty/price/amt, char, Y/N boolean, UTCTimestamp with
   optional fraction, UTCTimeOnly, UTCDate, LocalMktDate, MonthYear) -> 6; a value
   outside its enumeration -> 5; a tag the dictionary does not know -> 0; a body tag
   the message type does not allow -> 2; a group count that differs from the number
   of instances -> 16.

Beyond QuickFIX 1.16, which leaves group members unchecked, each group member is
checked like a body field (4, 6, 5, 0), and a repeated member inside one instance or a
member before the instance's delimiter gives 15 "Repeating group fields out of order",
reported before the count (16) because a broken structure makes the count meaningless.
The ordering of fields *within* a group instance is not enforced (QuickFIX does not
either). FIX 4.2 defines reasons 0-11 only: the session leaves SessionRejectReason
out of a 4.2 Reject for higher ones (see :func:`reason_supported`), as QuickFIX does.
CompID (9) and SendingTime (10) problems need session state, so the session finds
them; :meth:`ValidationIssue.of` builds their issues with the standard text.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from trading.errors import FixError, FixParseError
from trading.fix.dictionary import DataDictionary, FieldDef, GroupDef, Layout

if TYPE_CHECKING:  # message.py imports this module's value parsers
    from trading.fix.message import Message

__all__ = [
    "FieldMissing",
    "FieldValueError",
    "SessionRejectReason",
    "ValidationIssue",
    "parse_bool",
    "parse_date",
    "parse_decimal",
    "parse_int",
    "parse_timestamp",
    "reason_supported",
    "validate",
]


class SessionRejectReason(enum.IntEnum):
    """SessionRejectReason(373) values; ``.text`` is the standard Reject text."""

    INVALID_TAG_NUMBER = 0
    REQUIRED_TAG_MISSING = 1
    TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE = 2
    UNDEFINED_TAG = 3
    TAG_SPECIFIED_WITHOUT_A_VALUE = 4
    VALUE_IS_INCORRECT = 5
    INCORRECT_DATA_FORMAT_FOR_VALUE = 6
    DECRYPTION_PROBLEM = 7
    SIGNATURE_PROBLEM = 8
    COMPID_PROBLEM = 9
    SENDINGTIME_ACCURACY_PROBLEM = 10
    INVALID_MSGTYPE = 11
    XML_VALIDATION_ERROR = 12
    TAG_APPEARS_MORE_THAN_ONCE = 13
    TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER = 14
    REPEATING_GROUP_FIELDS_OUT_OF_ORDER = 15
    INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP = 16
    NON_DATA_VALUE_INCLUDES_FIELD_DELIMITER = 17
    OTHER = 99

    @property
    def text(self) -> str:
        return _TEXTS[self]


_TEXTS = {
    0: "Invalid tag number",
    1: "Required tag missing",
    2: "Tag not defined for this message type",
    3: "Undefined Tag",
    4: "Tag specified without a value",
    5: "Value is incorrect (out of range) for this tag",
    6: "Incorrect data format for value",
    7: "Decryption problem",
    8: "Signature problem",
    9: "CompID problem",
    10: "SendingTime accuracy problem",
    11: "Invalid MsgType",
    12: "XML Validation error",
    13: "Tag appears more than once",
    14: "Tag specified out of required order",
    15: "Repeating group fields out of order",
    16: "Incorrect NumInGroup count for repeating group",
    17: 'Non "data" value includes field delimiter (SOH character)',
    99: "Other",
}


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """Why a message must be rejected: SessionRejectReason, standard text, RefTagID."""

    reason: int
    text: str
    ref_tag: int | None = None

    @classmethod
    def of(cls, reason: SessionRejectReason, ref_tag: int | None = None) -> ValidationIssue:
        return cls(int(reason), reason.text, ref_tag)


def reason_supported(dictionary: DataDictionary, reason: int) -> bool:
    """Whether this FIX version's SessionRejectReason(373) has ``reason`` (4.2: 0-11)."""
    return dictionary.has_value(373, b"%d" % reason)


# ------------------------------------------------------------------ value formats

_INT = re.compile(rb"-?[0-9]{1,10}")
_UINT = re.compile(rb"[0-9]{1,20}")
_FLOAT = re.compile(rb"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_TIMESTAMP = re.compile(
    rb"([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
)
_TIME_ONLY = re.compile(rb"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{1,9})?")
_DATE = re.compile(rb"([0-9]{4})([0-9]{2})([0-9]{2})")
_MONTH_YEAR = re.compile(rb"([0-9]{4})([0-9]{2})(?:([0-9]{2})|w[1-5])?")


def _int(value: bytes) -> bool:
    return _INT.fullmatch(value) is not None and -(2**31) <= int(value) < 2**31


def _seq_num(value: bytes) -> bool:
    return _UINT.fullmatch(value) is not None and int(value) < 2**64


def _float(value: bytes) -> bool:
    return _FLOAT.fullmatch(value) is not None


def _char(value: bytes) -> bool:
    return len(value) == 1


def _boolean(value: bytes) -> bool:
    return value in (b"Y", b"N")


def _month_day(month: bytes, day: bytes | None) -> bool:
    return 1 <= int(month) <= 12 and (day is None or 1 <= int(day) <= 31)


def _clock(hour: bytes, minute: bytes, second: bytes) -> bool:
    return int(hour) <= 23 and int(minute) <= 59 and int(second) <= 60


def _timestamp(value: bytes) -> bool:
    m = _TIMESTAMP.fullmatch(value)
    return m is not None and _month_day(m[2], m[3]) and _clock(m[4], m[5], m[6])


def _time_only(value: bytes) -> bool:
    m = _TIME_ONLY.fullmatch(value)
    return m is not None and _clock(m[1], m[2], m[3])


def _date(value: bytes) -> bool:
    m = _DATE.fullmatch(value)
    return m is not None and _month_day(m[2], m[3])


def _month_year(value: bytes) -> bool:
    m = _MONTH_YEAR.fullmatch(value)
    return m is not None and _month_day(m[2], m[3])


_FORMATS: dict[str, Callable[[bytes], bool]] = {
    "INT": _int,
    "LENGTH": _int,
    "NUMINGROUP": _int,
    "TAGNUM": _int,
    "SEQNUM": _seq_num,
    "FLOAT": _float,
    "PRICE": _float,
    "QTY": _float,
    "AMT": _float,
    "PRICEOFFSET": _float,
    "PERCENTAGE": _float,
    "CHAR": _char,
    "BOOLEAN": _boolean,
    "UTCTIMESTAMP": _timestamp,
    "UTCTIMEONLY": _time_only,
    "UTCDATE": _date,
    "UTCDATEONLY": _date,
    "LOCALMKTDATE": _date,
    "MONTHYEAR": _month_year,
}


# ------------------------------------------------------------------ typed values


class FieldMissing(FixError, LookupError):
    """A field that a getter or typed message needs is absent (``tag`` names it)."""

    def __init__(self, tag: int, where: str = "message") -> None:
        self.tag = tag
        super().__init__(f"{where}: required field {tag} is missing")


class FieldValueError(FixParseError, ValueError):
    """A field whose text is not a valid value of the asked type (``tag``, ``value``)."""

    def __init__(self, tag: int, value: bytes, expected: str) -> None:
        self.tag = tag
        self.value = value
        super().__init__(f"field {tag}: {value!r} is not a valid {expected}")


def parse_int(tag: int, raw: bytes) -> int:
    if not raw or not (raw.isdigit() or (raw[:1] == b"-" and raw[1:].isdigit())):
        raise FieldValueError(tag, raw, "integer")
    return int(raw)


def parse_decimal(tag: int, raw: bytes) -> Decimal:
    body = raw[1:] if raw[:1] == b"-" else raw
    if not body.replace(b".", b"", 1).isdigit() or body in (b"", b"."):
        raise FieldValueError(tag, raw, "decimal number")
    try:
        return Decimal(raw.decode("ascii"))
    except InvalidOperation:  # pragma: no cover - the check above rules it out
        raise FieldValueError(tag, raw, "decimal number") from None


def parse_bool(tag: int, raw: bytes) -> bool:
    if raw == b"Y":
        return True
    if raw == b"N":
        return False
    raise FieldValueError(tag, raw, "boolean (Y or N)")


def parse_timestamp(tag: int, raw: bytes) -> datetime:
    """UTCTimestamp ``YYYYMMDD-HH:MM:SS[.fff...]`` as an aware UTC datetime; digits past
    microseconds are truncated and a leap second reads as :59."""
    m = _TIMESTAMP.fullmatch(raw)
    try:
        if m is None:
            raise ValueError
        y, mo, d, h, mi, sec = map(int, m.groups()[:6])
        micro = int((m[7] + b"00000")[:6]) if m[7] else 0
        return datetime(y, mo, d, h, mi, min(sec, 59), micro, tzinfo=timezone.utc)
    except ValueError:
        raise FieldValueError(tag, raw, "UTCTimestamp") from None


def parse_date(tag: int, raw: bytes) -> date:
    """UTCDateOnly / LocalMktDate ``YYYYMMDD``."""
    m = _DATE.fullmatch(raw)
    try:
        if m is None:
            raise ValueError
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise FieldValueError(tag, raw, "date (YYYYMMDD)") from None


# ------------------------------------------------------------------ structure

Field = tuple[int, bytes]


@dataclass(slots=True)
class _Group:
    """One group occurrence: its definition, instances and the first ordering problem."""

    definition: GroupDef
    instances: list[list[_Entry]]
    disorder: int | None = None


_Entry = tuple[int, bytes, "_Group | None"]


def _take_group(fields: Sequence[Field], i: int, definition: GroupDef) -> tuple[_Group, int]:
    group = _Group(definition, [])
    current: list[_Entry] | None = None
    seen: set[int] = set()
    while i < len(fields):
        tag, value = fields[i]
        if tag not in definition.field_set:
            break
        i += 1
        if tag == definition.delimiter:
            current = []
            group.instances.append(current)
            seen = set()
        elif current is None or tag in seen:
            if group.disorder is None:
                group.disorder = tag
            if current is None:
                current = []
                group.instances.append(current)
        seen.add(tag)
        nested: _Group | None = None
        if tag in definition.groups:
            nested, i = _take_group(fields, i, definition.groups[tag])
        current.append((tag, value, nested))
    return group, i


@dataclass(slots=True)
class _Sections:
    header: list[_Entry]
    body: list[_Entry]
    trailer: list[_Entry]
    out_of_order: int | None


def _split(message: Message, d: DataDictionary, body_layout: Layout) -> _Sections:
    """Header/body/trailer entries with groups resolved, and the first field found
    out of its section's order (QuickFIX's Message::setString bookkeeping)."""
    fields = message.fields
    sections = _Sections([], [], [], None)
    header_tags, trailer_tags = d.header_tags, d.trailer_tags
    state = 0
    i = 0
    while i < len(fields):
        tag, value = fields[i]
        i += 1
        if tag in header_tags:
            target, groups = sections.header, d.header.groups
            misplaced = state != 0
        elif tag in trailer_tags:
            target, groups, state, misplaced = sections.trailer, d.trailer.groups, 2, False
        else:
            target, groups = sections.body, body_layout.groups
            misplaced, state = state == 2, 1
        if misplaced and sections.out_of_order is None:
            sections.out_of_order = tag
        nested: _Group | None = None
        if tag in groups:
            nested, i = _take_group(fields, i, groups[tag])
        target.append((tag, value, nested))
    return sections


# ------------------------------------------------------------------ checks


@dataclass(frozen=True, slots=True)
class _Options:
    have_values: bool
    user_defined: bool
    unknown_allowed: bool


def _issue(reason: SessionRejectReason, tag: int | None) -> ValidationIssue:
    return ValidationIssue(int(reason), reason.text, tag)


def _missing(required: Sequence[int], entries: list[_Entry]) -> int | None:
    present = {e[0] for e in entries}
    return next((tag for tag in required if tag not in present), None)


def _missing_in_groups(entries: list[_Entry]) -> int | None:
    for _, _, group in sorted(entries, key=_by_tag):
        if group is None:
            continue
        for instance in group.instances:
            tag = _missing(group.definition.required, instance)
            if tag is None:
                tag = _missing_in_groups(instance)
            if tag is not None:
                return tag
    return None


def _by_tag(entry: _Entry) -> int:
    return entry[0]


def _check_value(
    tag: int, value: bytes, definition: FieldDef | None, o: _Options
) -> ValidationIssue | None:
    if o.have_values and not value:
        return _issue(SessionRejectReason.TAG_SPECIFIED_WITHOUT_A_VALUE, tag)
    if definition is not None:
        check = _FORMATS.get(definition.type)
        if check is not None and not check(value):
            return _issue(SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE, tag)
        values = definition.values
        if values:
            parts = value.split(b" ") if definition.is_multiple_value else (value,)
            if not all(part in values for part in parts):
                return _issue(SessionRejectReason.VALUE_IS_INCORRECT, tag)
    elif _should_check(tag, o):
        return _issue(SessionRejectReason.INVALID_TAG_NUMBER, tag)
    return None


def _should_check(tag: int, o: _Options) -> bool:
    """QuickFIX's shouldCheckTag: whether tag number and message membership are checked."""
    return not o.unknown_allowed if tag < 5000 else o.user_defined


def _check_entries(
    entries: list[_Entry], d: DataDictionary, allowed: Layout | None, o: _Options
) -> ValidationIssue | None:
    """Field checks in QuickFIX's order over one section or group instance. ``allowed``
    is the body layout (for check 2), None for header, trailer and group instances."""
    previous = None
    for tag, value, group in entries:
        if tag == previous:
            return _issue(SessionRejectReason.TAG_APPEARS_MORE_THAN_ONCE, tag)
        previous = tag
        issue = _check_value(tag, value, d.fields.get(tag), o)
        if issue is not None:
            return issue
        if allowed is not None and tag not in allowed.field_set and _should_check(tag, o):
            return _issue(SessionRejectReason.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE, tag)
        if group is not None:
            issue = _check_group(tag, value, group, d, o)
            if issue is not None:
                return issue
    return None


def _check_group(
    tag: int, value: bytes, group: _Group, d: DataDictionary, o: _Options
) -> ValidationIssue | None:
    if group.disorder is not None:
        return _issue(SessionRejectReason.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, group.disorder)
    if not value.lstrip(b"-").isdigit() or int(value) != len(group.instances):
        return _issue(SessionRejectReason.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP, tag)
    for instance in group.instances:
        issue = _check_entries(instance, d, None, o)
        if issue is not None:
            return issue
    return None


def _header_key(d: DataDictionary) -> Callable[[_Entry], int]:
    rank = d.rank
    return lambda entry: rank.get(entry[0], entry[0])


def validate(
    message: Message,
    dictionary: DataDictionary,
    *,
    check_fields_out_of_order: bool = True,
    check_fields_have_values: bool = True,
    check_user_defined_fields: bool = True,
    allow_unknown_message_fields: bool = False,
) -> ValidationIssue | None:
    """The first reason to reject ``message`` under ``dictionary``, or None.

    The keyword options are QuickFIX's ValidateFieldsOutOfOrder,
    ValidateFieldsHaveValues, ValidateUserDefinedFields (tags 5000 and up) and
    AllowUnknownMsgFields (unknown tags below 5000), with the same defaults.
    ``message`` must come from :func:`~trading.fix.parser.parse` (framing, BodyLength
    and CheckSum are the parser's job). Never raises for bad content.
    """
    o = _Options(check_fields_have_values, check_user_defined_fields, allow_unknown_message_fields)
    msg_type = message.get(35, b"")
    body_layout = dictionary.messages.get(msg_type)
    sections = _split(message, dictionary, body_layout or dictionary.layout_of(msg_type)[1])
    if check_fields_out_of_order and sections.out_of_order is not None:
        return _issue(
            SessionRejectReason.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, sections.out_of_order
        )
    if body_layout is None:
        return _issue(SessionRejectReason.INVALID_MSGTYPE, None)  # QuickFIX sends no RefTagID
    tag = (
        _missing(dictionary.header.required, sections.header)
        or _missing(dictionary.trailer.required, sections.trailer)
        or _missing(body_layout.required, sections.body)
        or _missing_in_groups(sections.body)
    )
    if tag is not None:
        return _issue(SessionRejectReason.REQUIRED_TAG_MISSING, tag)
    key = _header_key(dictionary)
    return (
        _check_entries(sorted(sections.header, key=key), dictionary, None, o)
        or _check_entries(sorted(sections.trailer, key=key), dictionary, None, o)
        or _check_entries(sorted(sections.body, key=_by_tag), dictionary, body_layout, o)
    )
