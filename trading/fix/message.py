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
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any, TypeVar, overload
from zlib import adler32

from trading.core.orders import OrderType, Side, TimeInForce
from trading.core.values import Price, Quantity
from trading.errors import FixError
from trading.fix.dictionary import DataDictionary, dictionary_for
from trading.fix.tags import DATA_FIELDS
from trading.fix.validate import (
    FieldMissing,
    FieldValueError,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
    parse_timestamp,
)

__all__ = [
    "SOH",
    "FieldMissing",
    "FieldValue",
    "FieldValueError",
    "Message",
    "checksum",
    "to_bytes",
    "trailer_checksum",
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


def checksum(data: bytes | bytearray | memoryview) -> int:
    """Sum of all bytes modulo 256, as CheckSum(10) defines it.

    ``zlib.adler32`` started at 0 keeps the byte sum modulo 65521 in its low 16 bits,
    which is the exact sum while it stays below 65521: always for 256 bytes
    (255 * 256), and for 511 bytes of ASCII (127 * 511). Longer input is summed in
    such chunks, all at C speed.
    """
    raw = data if type(data) is bytes else bytes(data)
    size = len(raw)
    if size <= 256:
        return adler32(raw, 0) & 0xFF
    step = 511 if raw.isascii() else 256
    if size <= step:
        return adler32(raw, 0) & 0xFF
    return sum([adler32(raw[i : i + step], 0) & 0xFFFF for i in range(0, size, step)]) & 0xFF


def trailer_checksum(raw: bytes) -> int:
    """The checksum of ``raw`` without its last 7 bytes (``10=ddd|``), computed over the
    whole buffer so that no copy is made: the trailer's own bytes are subtracted."""
    d = raw[-4:-1]
    return (checksum(raw) - 159 - sum(d)) & 0xFF  # 159 = "1" + "0" + "=" + SOH


def _timestamp_text(value: datetime) -> bytes:
    """UTCTimestamp with milliseconds; aware datetimes are converted to UTC, naive ones
    are taken to be UTC already."""
    zone = value.tzinfo
    v = value if zone is None or zone is timezone.utc else value.astimezone(timezone.utc)
    return b"%04d%02d%02d-%02d:%02d:%02d.%03d" % (
        (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond // 1000)
    )


def _decimal_text(value: Decimal) -> bytes:
    text = str(value)  # plain notation unless the exponent is large: then force it
    return (format(value, "f") if "E" in text else text).encode("ascii")


def _int_text(value: int) -> bytes:
    return b"%d" % value


def _str_text(value: str) -> bytes:
    return value.encode("utf-8")


def _bool_text(value: bool) -> bytes:
    return b"Y" if value else b"N"


# Exact type -> writer: one dict lookup for the common cases of to_bytes.
_WRITERS: dict[type, Any] = {
    bytes: bytes,
    str: _str_text,
    int: _int_text,
    bool: _bool_text,
    Decimal: _decimal_text,
    datetime: _timestamp_text,
    Side: SIDE_CODES.__getitem__,
    OrderType: ORDER_TYPE_CODES.__getitem__,
    TimeInForce: TIME_IN_FORCE_CODES.__getitem__,
}


def to_bytes(value: FieldValue) -> bytes:
    """The FIX text of a typed value.

    ``Decimal``/``Price``/``Quantity`` are written in plain notation (never ``1E+2``),
    ``datetime`` as UTCTimestamp with milliseconds, ``date`` as YYYYMMDD, ``time`` as
    UTCTimeOnly with milliseconds, ``Side``/``OrderType``/``TimeInForce`` as their FIX
    codes, ``str`` as UTF-8. Raises TypeError for anything else (a float is refused:
    it cannot carry a price exactly).
    """
    if type(value) is bytes:
        return value
    writer = _WRITERS.get(type(value))
    if writer is not None:
        result: bytes = writer(value)
        return result
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, enum.Enum) and isinstance(value, int):
        return b"%d" % value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, Price | Quantity):
        return _decimal_text(value.value)
    if isinstance(value, datetime):
        return _timestamp_text(value)
    if isinstance(value, date):
        return b"%04d%02d%02d" % (value.year, value.month, value.day)
    if isinstance(value, time):
        return b"%02d:%02d:%02d.%03d" % (
            (value.hour, value.minute, value.second, value.microsecond // 1000)
        )
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a FIX field value")


def _check_fields(tags: list[int], values: list[bytes]) -> None:
    """Tags must be positive integers; SOH may only appear in raw data fields."""
    try:
        if tags and min(tags) <= 0:
            raise TypeError
    except TypeError:
        bad = next(t for t in tags if not isinstance(t, int) or t <= 0)
        raise FixError(f"tag {bad!r} is not a positive integer") from None
    if SOH in b"".join(values):
        for tag, raw in zip(tags, values, strict=True):
            _check_field(tag, raw)


def _check_field(tag: int, raw: bytes) -> None:
    if not isinstance(tag, int) or tag <= 0:
        raise FixError(f"tag {tag!r} is not a positive integer")
    if SOH in raw and tag not in DATA_FIELDS:
        raise FixError(f"field {tag}: value {raw!r} contains SOH, which only data fields may")


# ---------------------------------------------------------------------------- Message


class Message:
    """Ordered FIX fields. Not thread-safe; cheap to copy (:meth:`copy`)."""

    # Tags and values live in two parallel lists rather than a list of tuples: the
    # parser produces them that way at C speed, and ``list.index`` finds a tag.
    __slots__ = ("_index", "_tags", "_values")

    def __init__(self, fields: Iterable[Field] = ()) -> None:
        """Raw ``(tag, bytes)`` fields as they are, unchecked."""
        pairs = list(fields)
        self._tags: list[int] = [t for t, _ in pairs]
        self._values: list[bytes] = [v for _, v in pairs]
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
        tags = [8, 35]
        values = [to_bytes(begin_string), to_bytes(msg_type)]
        writer = _WRITERS.get
        for tag, value in fields:
            if value is not None:
                tags.append(tag)
                values.append(writer(type(value), to_bytes)(value))
        _check_fields(tags, values)
        out = cls.__new__(cls)
        out._tags, out._values, out._index = tags, values, None
        return out

    # -- reading ------------------------------------------------------------------

    def __iter__(self) -> Iterator[Field]:
        return zip(self._tags, self._values, strict=True)

    def __len__(self) -> int:
        return len(self._tags)

    def __contains__(self, tag: object) -> bool:
        return tag in self._lookup()

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Message)
            and self._tags == other._tags
            and self._values == other._values
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        text = "|".join(f"{t}={v.decode('latin-1')}" for t, v in self)
        return f"Message({text})"

    @property
    def fields(self) -> tuple[Field, ...]:
        """All fields in order (a snapshot; mutate with set/append/remove)."""
        return tuple(zip(self._tags, self._values, strict=True))

    def _lookup(self) -> dict[int, bytes]:
        index = self._index
        if index is None:
            # First occurrence wins: later duplicates are written first, then overwritten.
            index = self._index = dict(
                zip(reversed(self._tags), reversed(self._values), strict=True)
            )
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
        return [v for t, v in self if t == tag]

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
        return [Message(part) for part in d.group_instances(self.fields, count_tag, kind)]

    # -- changing -----------------------------------------------------------------

    def append(self, tag: int, value: FieldValue) -> None:
        """Add a field at the end (groups are built by appending count, then members)."""
        raw = to_bytes(value)
        _check_field(tag, raw)
        self._tags.append(tag)
        self._values.append(raw)
        self._index = None

    def append_data(self, data_tag: int, value: bytes) -> None:
        """Add a raw data field preceded by its length field (e.g. 95 then 96)."""
        length_tag = DATA_FIELDS.get(data_tag)
        if length_tag is None:
            raise FixError(f"field {data_tag} is not a raw data field")
        self._tags += (length_tag, data_tag)
        self._values += (b"%d" % len(value), bytes(value))
        self._index = None

    def set(self, tag: int, value: FieldValue) -> None:
        """Replace the first occurrence of ``tag``, or append it when absent."""
        raw = to_bytes(value)
        _check_field(tag, raw)
        try:
            self._values[self._tags.index(tag)] = raw
        except ValueError:
            self._tags.append(tag)
            self._values.append(raw)
        self._index = None

    def remove(self, tag: int) -> int:
        """Drop every occurrence of ``tag``; returns how many were removed."""
        kept = [(t, v) for t, v in self if t != tag]
        removed = len(self._tags) - len(kept)
        self._tags = [t for t, _ in kept]
        self._values = [v for _, v in kept]
        self._index = None
        return removed

    def copy(self) -> Message:
        out = Message()
        out._tags = self._tags.copy()
        out._values = self._values.copy()
        return out

    # -- encoding -----------------------------------------------------------------

    def encode(self, dictionary: DataDictionary | None = None) -> bytes:
        """The wire form in canonical order, with fresh BodyLength(9) and CheckSum(10).

        ``dictionary`` defaults to the shipped one for BeginString(8); it tells header
        from body fields and where repeating groups end. Raises :class:`FieldMissing`
        without BeginString or MsgType, :class:`FixError` for an unknown BeginString or
        a group instance that does not start with its delimiter.
        """
        tags, values = self._tags, self._values
        begin = values[0] if tags and tags[0] == 8 else self[8]
        d = dictionary or _DICTIONARIES.get(begin) or _remember(begin)
        msg_type = values[1] if len(tags) > 1 and tags[1] == 35 else self.msg_type
        order = d.canonical_order(tags, msg_type)
        # tag, "=", value, SOH for each field, filled in by two slice assignments
        parts = _FIELD_PATTERN * len(order)
        out_tags = list(map(tags.__getitem__, order))
        try:
            parts[0::4] = map(_TAG_TEXT.__getitem__, out_tags)
        except IndexError:
            parts[0::4] = [b"%d" % tag for tag in out_tags]
        parts[2::4] = map(values.__getitem__, order)
        body = b"".join(parts)
        data = b"8=%b\x019=%d\x01%b" % (begin, len(body), body)
        total = adler32(data, 0) & 0xFF if len(data) <= 256 else checksum(data)
        return data + b"10=%03d\x01" % total


_FIELD_PATTERN = [b"", b"=", b"", SOH]
_TAG_TEXT = [b"%d" % tag for tag in range(10000)]
_DICTIONARIES: dict[bytes, DataDictionary] = {}


def _remember(begin_string: bytes) -> DataDictionary:
    """The shipped dictionary for a BeginString, kept in a bytes-keyed cache."""
    found = _DICTIONARIES[begin_string] = dictionary_for(begin_string)
    return found
