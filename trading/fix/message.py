"""A FIX message as an ordered list of ``(tag, value)`` fields, and its encoding.

Why a flat list of raw values: a received message must keep every field exactly as it
arrived (``38=002000.00`` stays ``b"002000.00"``), in arrival order, duplicates and
all, so that validation can report what was really sent and a resend or log shows the
original text. Typed getters (:meth:`Message.get_int`, :meth:`Message.get_decimal`...)
convert on demand; repeating groups are a view computed from a data dictionary
(:meth:`Message.groups`), not a second copy of the fields.

Building goes the other way: :meth:`Message.build` and :meth:`Message.append` accept
typed values (``int``, ``Decimal``, ``bool``, ``datetime``, ``Side``...) and store their
FIX text. :meth:`Message.encode` writes the one canonical field order the engine uses
for everything it sends (8, 9, 35, other header fields by tag, body fields by tag with
each repeating group's instances kept together in dictionary order after their count
field, then the trailer by tag, 10 last) and computes BodyLength(9) and CheckSum(10),
replacing any stale ones.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, overload
from zlib import adler32

from trading.core.orders import OrderType, Side, TimeInForce
from trading.core.values import Price, Quantity
from trading.errors import FixError, FixParseError
from trading.fix.dictionary import DataDictionary, dictionary_for
from trading.fix.tags import DATA_FIELDS

__all__ = [
    "SOH",
    "FieldMissing",
    "FieldValue",
    "FieldValueError",
    "Message",
    "checksum",
    "to_bytes",
]

SOH = b"\x01"

FieldValue = (
    bytes
    | str
    | int
    | Decimal
    | datetime
    | date
    | time
    | Price
    | Quantity
    | Side
    | OrderType
    | TimeInForce
)
"""What :meth:`Message.append` accepts; ``bool`` (an ``int``) becomes ``Y``/``N``."""

Field = tuple[int, bytes]
_D = TypeVar("_D")
_MISSING: object = object()

SIDE_CODES = {Side.BUY: b"1", Side.SELL: b"2"}
ORDER_TYPE_CODES = {
    OrderType.MARKET: b"1",
    OrderType.LIMIT: b"2",
    OrderType.STOP: b"3",
    OrderType.STOP_LIMIT: b"4",
}
TIME_IN_FORCE_CODES = {
    TimeInForce.DAY: b"0",
    TimeInForce.GTC: b"1",
    TimeInForce.IOC: b"3",
    TimeInForce.FOK: b"4",
    TimeInForce.GTD: b"6",
}
_ENUM_CODES: dict[type, Mapping[Any, bytes]] = {
    Side: SIDE_CODES,
    OrderType: ORDER_TYPE_CODES,
    TimeInForce: TIME_IN_FORCE_CODES,
}


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


def checksum(data: bytes | bytearray | memoryview) -> int:
    """Sum of all bytes modulo 256, as CheckSum(10) defines it.

    ``zlib.adler32`` started at 0 keeps the exact byte sum in its low 16 bits for up to
    256 bytes (255 * 256 < 65521), so chunks of 256 give the exact total at C speed.
    """
    if len(data) <= 256:
        return adler32(data, 0) & 0xFF
    view = memoryview(data)
    return sum([adler32(view[i : i + 256], 0) & 0xFFFF for i in range(0, len(view), 256)]) & 0xFF


def _utc(value: datetime) -> datetime:
    """Aware datetimes are converted to UTC; naive ones are taken to be UTC already."""
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    return value


def to_bytes(value: FieldValue) -> bytes:
    """The FIX text of a typed value.

    ``Decimal``/``Price``/``Quantity`` are written in plain notation (never ``1E+2``),
    ``datetime`` as UTCTimestamp with milliseconds, ``date`` as YYYYMMDD, ``time`` as
    UTCTimeOnly with milliseconds, ``Side``/``OrderType``/``TimeInForce`` as their FIX
    codes, ``str`` as UTF-8. Raises TypeError for anything else (a float is refused:
    it cannot carry a price exactly).
    """
    if isinstance(value, bytes):
        return value
    if type(value) is int:
        return b"%d" % value
    if type(value) is bool:
        return b"Y" if value else b"N"
    if isinstance(value, enum.Enum):
        codes = _ENUM_CODES.get(type(value))
        if codes is not None:
            return codes[value]
        if isinstance(value, int):
            return b"%d" % value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, Decimal):
        return format(value, "f").encode("ascii")
    if isinstance(value, Price | Quantity):
        return format(value.value, "f").encode("ascii")
    if isinstance(value, datetime):
        v = _utc(value)
        return b"%04d%02d%02d-%02d:%02d:%02d.%03d" % (
            (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond // 1000)
        )
    if isinstance(value, date):
        return b"%04d%02d%02d" % (value.year, value.month, value.day)
    if isinstance(value, time):
        return b"%02d:%02d:%02d.%03d" % (
            (value.hour, value.minute, value.second, value.microsecond // 1000)
        )
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a FIX field value")


def _check_field(tag: int, raw: bytes) -> None:
    if not isinstance(tag, int) or tag <= 0:
        raise FixError(f"tag {tag!r} is not a positive integer")
    if SOH in raw and tag not in DATA_FIELDS:
        raise FixError(f"field {tag}: value {raw!r} contains SOH, which only data fields may")


# ---------------------------------------------------------------------------- parsing


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


def _digits(tag: int, raw: bytes, what: str, *spans: tuple[int, int]) -> list[int]:
    try:
        parts = [raw[a:b] for a, b in spans]
        if not all(p.isdigit() for p in parts):
            raise ValueError
        return [int(p) for p in parts]
    except ValueError:
        raise FieldValueError(tag, raw, what) from None


def _fraction_us(tag: int, raw: bytes, start: int, what: str) -> int:
    """Microseconds from ``.d{1,9}`` at ``raw[start:]``; digits past the sixth are
    dropped (truncated)."""
    if len(raw) == start:
        return 0
    digits = raw[start + 1 :]
    if raw[start : start + 1] != b"." or not digits.isdigit() or len(digits) > 9:
        raise FieldValueError(tag, raw, what)
    return int((digits + b"00000")[:6])


def parse_timestamp(tag: int, raw: bytes) -> datetime:
    """UTCTimestamp ``YYYYMMDD-HH:MM:SS[.fff...]`` as an aware UTC datetime."""
    what = "UTCTimestamp"
    if len(raw) < 17 or raw[8:9] != b"-" or raw[11:12] != b":" or raw[14:15] != b":":
        raise FieldValueError(tag, raw, what)
    y, mo, d, h, mi, s = _digits(
        tag, raw, what, (0, 4), (4, 6), (6, 8), (9, 11), (12, 14), (15, 17)
    )
    micro = _fraction_us(tag, raw, 17, what)
    try:
        return datetime(y, mo, d, h, mi, min(s, 59), micro, tzinfo=timezone.utc)
    except ValueError:
        raise FieldValueError(tag, raw, what) from None


def parse_date(tag: int, raw: bytes) -> date:
    """UTCDateOnly / LocalMktDate ``YYYYMMDD``."""
    if len(raw) != 8:
        raise FieldValueError(tag, raw, "date (YYYYMMDD)")
    y, mo, d = _digits(tag, raw, "date (YYYYMMDD)", (0, 4), (4, 6), (6, 8))
    try:
        return date(y, mo, d)
    except ValueError:
        raise FieldValueError(tag, raw, "date (YYYYMMDD)") from None


# ---------------------------------------------------------------------------- Message


class Message:
    """Ordered FIX fields. Not thread-safe; cheap to copy (:meth:`copy`)."""

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Iterable[Field] = ()) -> None:
        """Raw ``(tag, bytes)`` fields as they are, unchecked (the parser's entry point)."""
        self._fields: list[Field] = list(fields)
        self._index: dict[int, bytes] | None = None

    @classmethod
    def build(
        cls,
        begin_string: str | bytes,
        msg_type: str | bytes,
        fields: Iterable[tuple[int, FieldValue | None]] = (),
    ) -> Message:
        """A new message from typed values; ``None`` values are left out.

        Raises TypeError for a value that has no FIX text, :class:`FixError` for a
        non-positive tag or SOH inside a non-data value.
        """
        out = cls()
        out._fields = [(8, to_bytes(begin_string)), (35, to_bytes(msg_type))]
        for tag, value in fields:
            if value is not None:
                out.append(tag, value)
        return out

    # -- reading ------------------------------------------------------------------

    def __iter__(self) -> Iterator[Field]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, tag: object) -> bool:
        return tag in self._lookup()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and self._fields == other._fields

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        text = "|".join(f"{t}={v.decode('latin-1')}" for t, v in self._fields)
        return f"Message({text})"

    @property
    def fields(self) -> tuple[Field, ...]:
        """All fields in order (a snapshot; mutate with set/append/remove)."""
        return tuple(self._fields)

    def _lookup(self) -> dict[int, bytes]:
        index = self._index
        if index is None:
            # First occurrence wins: later duplicates are written first, then overwritten.
            index = self._index = dict(reversed(self._fields))
        return index

    @overload
    def get(self, tag: int) -> bytes | None: ...
    @overload
    def get(self, tag: int, default: _D) -> bytes | _D: ...
    def get(self, tag: int, default: object = None) -> object:
        """The raw value of the first occurrence of ``tag``, or ``default``."""
        return self._lookup().get(tag, default)

    def __getitem__(self, tag: int) -> bytes:
        try:
            return self._lookup()[tag]
        except KeyError:
            raise FieldMissing(tag) from None

    def get_all(self, tag: int) -> list[bytes]:
        """Every value of ``tag`` in order (group members appear once per instance)."""
        return [v for t, v in self._fields if t == tag]

    def _typed(self, tag: int, default: object, convert: object) -> object:
        raw = self._lookup().get(tag)
        if raw is None:
            if default is _MISSING:
                raise FieldMissing(tag)
            return default
        return convert(tag, raw)  # type: ignore[operator]

    @overload
    def get_str(self, tag: int) -> str: ...
    @overload
    def get_str(self, tag: int, default: _D) -> str | _D: ...
    def get_str(self, tag: int, default: object = _MISSING) -> object:
        """Text value (UTF-8, undecodable bytes replaced)."""
        return self._typed(tag, default, lambda t, raw: raw.decode("utf-8", "replace"))

    @overload
    def get_int(self, tag: int) -> int: ...
    @overload
    def get_int(self, tag: int, default: _D) -> int | _D: ...
    def get_int(self, tag: int, default: object = _MISSING) -> object:
        """Integer value; :class:`FieldValueError` if the text is not ``-?[0-9]+``."""
        return self._typed(tag, default, parse_int)

    @overload
    def get_decimal(self, tag: int) -> Decimal: ...
    @overload
    def get_decimal(self, tag: int, default: _D) -> Decimal | _D: ...
    def get_decimal(self, tag: int, default: object = _MISSING) -> object:
        """Price/Qty/Amt/Float value as an exact Decimal (``002000.00`` -> 2000.00)."""
        return self._typed(tag, default, parse_decimal)

    @overload
    def get_bool(self, tag: int) -> bool: ...
    @overload
    def get_bool(self, tag: int, default: _D) -> bool | _D: ...
    def get_bool(self, tag: int, default: object = _MISSING) -> object:
        """Boolean ``Y``/``N``."""
        return self._typed(tag, default, parse_bool)

    @overload
    def get_datetime(self, tag: int) -> datetime: ...
    @overload
    def get_datetime(self, tag: int, default: _D) -> datetime | _D: ...
    def get_datetime(self, tag: int, default: object = _MISSING) -> object:
        """UTCTimestamp as an aware UTC datetime (sub-microsecond digits truncated)."""
        return self._typed(tag, default, parse_timestamp)

    @overload
    def get_date(self, tag: int) -> date: ...
    @overload
    def get_date(self, tag: int, default: _D) -> date | _D: ...
    def get_date(self, tag: int, default: object = _MISSING) -> object:
        """UTCDateOnly or LocalMktDate ``YYYYMMDD``."""
        return self._typed(tag, default, parse_date)

    @property
    def begin_string(self) -> bytes:
        return self[8]

    @property
    def msg_type(self) -> bytes:
        return self[35]

    @property
    def seq_num(self) -> int:
        """MsgSeqNum(34); FieldMissing / FieldValueError when absent or malformed."""
        return self.get_int(34)

    def groups(
        self,
        count_tag: int,
        dictionary: DataDictionary | None = None,
        msg_type: bytes | None = None,
    ) -> list[Message]:
        """The instances of the repeating group ``count_tag`` as small messages.

        The layout comes from ``dictionary`` (default: the one for this message's
        BeginString) and ``msg_type`` (default: this message's MsgType; pass the
        parent's when reading a nested group from an instance). An absent group gives
        ``[]``. Fields are as received; the count is not checked here (``validate``
        does that). Raises :class:`FixError` when ``count_tag`` is not a group of
        this message type.
        """
        d = dictionary or dictionary_for(self.begin_string)
        kind = self.msg_type if msg_type is None else msg_type
        return [Message(part) for part in d.group_instances(self._fields, count_tag, kind)]

    # -- changing -----------------------------------------------------------------

    def append(self, tag: int, value: FieldValue) -> None:
        """Add a field at the end (groups are built by appending count, then members)."""
        raw = to_bytes(value)
        _check_field(tag, raw)
        self._fields.append((tag, raw))
        self._index = None

    def append_data(self, data_tag: int, value: bytes) -> None:
        """Add a raw data field preceded by its length field (e.g. 95 then 96)."""
        length_tag = DATA_FIELDS.get(data_tag)
        if length_tag is None:
            raise FixError(f"field {data_tag} is not a raw data field")
        self._fields += [(length_tag, b"%d" % len(value)), (data_tag, bytes(value))]
        self._index = None

    def set(self, tag: int, value: FieldValue) -> None:
        """Replace the first occurrence of ``tag``, or append it when absent."""
        raw = to_bytes(value)
        _check_field(tag, raw)
        fields = self._fields
        for i, (t, _) in enumerate(fields):
            if t == tag:
                fields[i] = (tag, raw)
                break
        else:
            fields.append((tag, raw))
        self._index = None

    def remove(self, tag: int) -> int:
        """Drop every occurrence of ``tag``; returns how many were removed."""
        before = len(self._fields)
        self._fields = [f for f in self._fields if f[0] != tag]
        self._index = None
        return before - len(self._fields)

    def copy(self) -> Message:
        return Message(self._fields)

    # -- encoding -----------------------------------------------------------------

    def encode(self, dictionary: DataDictionary | None = None) -> bytes:
        """The wire form in canonical order, with fresh BodyLength(9) and CheckSum(10).

        ``dictionary`` defaults to the shipped one for BeginString(8); it tells header
        from body fields and where repeating groups end. Raises :class:`FieldMissing`
        without BeginString or MsgType, :class:`FixError` for an unknown BeginString or
        a group instance that does not start with its delimiter.
        """
        begin = self[8]
        d = dictionary or dictionary_for(begin)
        body = b"".join([b"%d=%b\x01" % f for f in d.canonical_fields(self._fields)])
        head = b"8=%b\x019=%d\x01" % (begin, len(body))
        data = head + body
        return data + b"10=%03d\x01" % checksum(data)
