"""From bytes to FIX messages: :func:`parse` for one complete message, and
:class:`Splitter`, which finds message boundaries in a TCP byte stream.

Theory of operation
-------------------
A FIX message announces its own size: ``8=FIX.4.4|9=<n>|`` is followed by exactly
``n`` bytes of body and then ``10=<ddd>|``. The splitter buffers what it is fed, finds
the next ``8=FIX``, reads BodyLength, waits until the whole frame is buffered, and then checks
that the frame ends exactly on ``10=ddd|`` and that ``ddd`` is the checksum of the
bytes before it. It never trusts BodyLength alone, and it never needs to understand
the body, so raw data fields that contain SOH pass through untouched.

When a frame is broken (no BodyLength, a length that does not land on ``10=``, a
wrong checksum, or a frame larger than ``max_message_size``), the splitter raises
:class:`~trading.errors.FixParseError` naming the stream offset and the reason, after
moving its read position one byte past the bad frame's start. The next ``gets()``
therefore resynchronises on the next ``8=FIX``, which may lie *inside* the bad frame
when its BodyLength was corrupted upwards: no later message is swallowed. Bytes before
a message start are skipped silently and counted in ``discarded``. A corrupted
BodyLength that is larger than the bytes received so far makes the splitter wait
(``INCOMPLETE``) until that many bytes have arrived or ``max_message_size`` is passed;
the bytes are then rescanned, so nothing is lost, only delayed.

:func:`parse` checks the same framing again (it may be handed bytes from anywhere)
and splits the fields. Fields are ``tag=value|``; a raw data field (RawData(96),
XmlData(213), Signature(89), EncodedText(355)... see ``tags.DATA_FIELDS``) is instead
read as exactly as many bytes as its length field says, SOH or not.
"""

from __future__ import annotations

import enum
import re
from typing import Literal, TypeAlias
from zlib import adler32

from trading.errors import FixParseError
from trading.fix.message import SOH, Message, checksum, trailer_checksum
from trading.fix.tags import DATA_FIELDS

__all__ = ["INCOMPLETE", "Incomplete", "Splitter", "parse"]


class _Sentinel(enum.Enum):
    """``Splitter.gets()`` returns ``INCOMPLETE`` when no whole message is buffered.

    A dedicated object rather than ``None`` or ``b""``, so it can never be mistaken
    for data; it refuses to be used as a boolean.
    """

    INCOMPLETE = "INCOMPLETE"

    def __repr__(self) -> str:
        return "trading.fix.INCOMPLETE"

    __str__ = __repr__

    def __bool__(self) -> bool:
        raise TypeError("INCOMPLETE has no truth value; compare with `is INCOMPLETE`")


INCOMPLETE: Literal[_Sentinel.INCOMPLETE] = _Sentinel.INCOMPLETE
Incomplete: TypeAlias = Literal[_Sentinel.INCOMPLETE]

#: Longest BeginString value accepted ("FIXT.1.1" is 8) and BodyLength digit count.
MAX_BEGIN_STRING = 16
MAX_LENGTH_DIGITS = 9

_LENGTH_TAGS = frozenset(DATA_FIELDS.values())
# Messages holding one of these are split field by field, honouring data lengths.
_DATA_RELATED = frozenset(DATA_FIELDS) | _LENGTH_TAGS
# A plausible BeginString value: FIX.4.4, FIXT.1.1, FIX.5.0SP2...
_BEGIN = re.compile(rb"8=FIX[A-Za-z0-9.]{0,%d}" % (MAX_BEGIN_STRING - 3))
# A SOH-delimited field made of digits only (or empty): it has no '='.
_DIGITS_ONLY = re.compile(rb"\x01[0-9]*+\x01")
# Canonical tag text -> number. Doubles as the syntax check of the fast path: leading
# zeros, signs, spaces, tags above 9999 and data-related tags (whose values may hold
# SOH or '=') miss it and take the careful path.
_TAGS = {b"%d" % tag: tag for tag in range(1, 10000) if tag not in _DATA_RELATED}
_TAG = _TAGS.__getitem__


def _fail(problem: str, offset: int) -> FixParseError:
    return FixParseError(f"{problem} (at byte {offset})")


def _frame(raw: bytes) -> tuple[int, int]:
    """Check the 8=/9=/10= framing and checksum of one message; returns (offset of the
    first body byte, offset of ``10=``)."""
    if not raw.startswith(b"8="):
        raise _fail(f"message must start with BeginString(8), found {raw[:8]!r}", 0)
    end8 = raw.find(SOH, 2, 2 + MAX_BEGIN_STRING + 1)
    if end8 < 0:
        raise _fail("BeginString(8) is not terminated by SOH", 2)
    if raw[end8 + 1 : end8 + 3] != b"9=":
        raise _fail("BodyLength(9) must be the second field", end8 + 1)
    end9 = raw.find(SOH, end8 + 3, end8 + 4 + MAX_LENGTH_DIGITS)
    text = raw[end8 + 3 : end9]
    if end9 < 0 or not text.isdigit():
        raise _fail(f"BodyLength(9) is not a number: {raw[end8 + 3 : end8 + 13]!r}", end8 + 3)
    body_end = end9 + 1 + int(text)
    if raw[body_end : body_end + 3] != b"10=":
        actual = raw.rfind(b"\x0110=") + 1 - (end9 + 1)
        raise _fail(
            f"BodyLength(9) says {int(text)} but CheckSum(10) is not there"
            f" (the body is {actual} bytes)",
            body_end,
        )
    declared = raw[body_end + 3 : body_end + 6]
    if len(raw) != body_end + 7 or raw[-1:] != SOH or not declared.isdigit():
        raise _fail("CheckSum(10) must be three digits and SOH, ending the message", body_end)
    computed = checksum(raw[:body_end])
    if int(declared) != computed:
        raise _fail(
            f"CheckSum(10) is {declared.decode()} but the bytes sum to {computed:03d}",
            body_end,
        )
    return end9 + 1, body_end


def parse(data: bytes | bytearray | memoryview) -> Message:
    """One complete message (as :meth:`Splitter.gets` returns it) as a :class:`Message`.

    Every field keeps its received text, 8, 9 and 10 included. Raises
    :class:`FixParseError` naming the problem and its byte offset for: a bad start,
    a BodyLength that does not point at CheckSum, a wrong CheckSum, MsgType(35) not
    being the third field, a field without ``=`` or with a non-numeric tag, and a raw
    data field whose length field is missing or wrong.
    """
    raw = data if type(data) is bytes else bytes(data)
    # Fast path, C-level all along: when every field holds exactly one '=', turning SOH
    # into '=' and splitting gives tags and values alternately. The checks below make
    # sure that reading is right; anything unusual takes the careful path.
    flat = raw.replace(SOH, b"=").split(b"=")
    if len(flat) < 9:  # 8, 9, 35 and 10 at least
        return _parse_carefully(raw)
    size, declared = flat[3], flat[-2]
    end = len(raw) - 7
    if (
        flat[0] != b"8"
        or flat[2] != b"9"
        or flat[4] != b"35"
        or flat[-3] != b"10"
        or raw[-1] != 1
        or len(declared) != 3
        or not declared.isdigit()
        or not size.isdigit()
        or int(size) != end - 6 - len(flat[1]) - len(size)
        or raw.count(SOH) * 2 + 1 != len(flat)  # as many '=' as fields
        or _DIGITS_ONLY.search(raw) is not None  # a field without '=' would misalign
        or int(declared)
        != (
            (adler32(raw, 0) - 159 - declared[0] - declared[1] - declared[2]) & 0xFF
            if end < 250  # the byte sum is exact in adler32's low half (see checksum)
            else trailer_checksum(raw)
        )
    ):
        return _parse_carefully(raw)
    try:
        tags = list(map(_TAG, flat[0:-1:2]))
    except KeyError:  # a data field, leading zeros, a sign, a tag above 9999...
        return _parse_carefully(raw)
    message = Message.__new__(Message)
    message._tags = tags
    message._values = flat[1::2]
    message._index = None
    return message


def _parse_carefully(raw: bytes) -> Message:
    """Field by field, honouring raw data lengths; raises naming what and where."""
    _, body_end = _frame(raw)
    fields = _scan(raw, body_end)
    if len(fields) < 3 or fields[2][0] != 35:
        raise _fail("MsgType(35) must be the third field", raw.find(SOH, raw.find(SOH) + 1) + 1)
    fields.append((10, raw[body_end + 3 : body_end + 6]))
    return Message(fields)


def _scan(raw: bytes, end: int) -> list[tuple[int, bytes]]:
    """Field-by-field split of ``raw[:end]`` that honours raw data lengths."""
    fields: list[tuple[int, bytes]] = []
    lengths: dict[int, bytes] = {}
    pos = 0
    while pos < end:
        soh = raw.find(SOH, pos, end)  # the framing guarantees one before 10=
        eq = raw.find(b"=", pos, soh)
        tag_text = raw[pos:eq]
        if eq < 0 or not tag_text.isdigit() or len(tag_text) > MAX_LENGTH_DIGITS:
            shown = raw[pos : soh if eq < 0 else eq]
            raise _fail(f"field {shown[:20]!r} has no numeric tag followed by '='", pos)
        tag = int(tag_text)
        length_tag = DATA_FIELDS.get(tag)
        if length_tag is not None:
            size = lengths.get(length_tag)
            if size is None or not size.isdigit():
                raise _fail(
                    f"data field {tag} needs a numeric length field {length_tag} before it", pos
                )
            value_end = eq + 1 + int(size)
            if value_end >= end or raw[value_end] != 1:
                raise _fail(
                    f"data field {tag} is not {int(size)} bytes long as field {length_tag} says",
                    eq + 1,
                )
        else:
            value_end = raw.find(SOH, eq + 1, end)
            if value_end < 0:  # pragma: no cover - the framing guarantees a SOH before 10=
                raise _fail(f"field {tag} is not terminated by SOH", eq + 1)
        value = raw[eq + 1 : value_end]
        if tag in _LENGTH_TAGS:
            lengths[tag] = value
        fields.append((tag, value))
        pos = value_end + 1
    return fields


class Splitter:
    """Cuts a byte stream into raw FIX messages: ``feed()`` bytes, then call ``gets()``
    until it returns :data:`INCOMPLETE`. See the module docstring for resynchronisation.

    ``max_message_size`` bounds the bytes one message may span (default 1 MiB); a
    larger BodyLength is treated as corruption instead of being waited for.
    """

    def __init__(self, max_message_size: int = 1 << 20) -> None:
        self.max_message_size = max_message_size
        self.discarded = 0
        self._buffer = bytearray()
        self._pos = 0
        self._offset = 0  # stream offset of _buffer[0], for error messages

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned or discarded."""
        return len(self._buffer) - self._pos

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes from the transport; cheap, parses nothing."""
        buffer = self._buffer
        if self._pos and self._pos >= len(buffer) >> 1:
            del buffer[: self._pos]
            self._offset += self._pos
            self._pos = 0
        buffer += data

    def gets(self) -> bytes | Incomplete:
        """The next complete message (checksum verified) or :data:`INCOMPLETE`.

        Raises :class:`FixParseError` for a broken frame; the splitter has already
        skipped it, so calling ``gets()`` again continues with the following bytes.
        """
        buffer = self._buffer
        end8 = self._find_start()
        if end8 < 0:
            return INCOMPLETE
        start = self._pos
        size = len(buffer)
        if buffer[end8 + 1 : end8 + 3] != b"9=":
            return self._need(start, end8 + 3, "BodyLength(9) must follow BeginString(8)")
        end9 = buffer.find(SOH, end8 + 3, end8 + 4 + MAX_LENGTH_DIGITS)
        text = buffer[end8 + 3 : end9]
        if end9 < 0:
            partial = buffer[end8 + 3 : end8 + 3 + MAX_LENGTH_DIGITS]
            if partial.isdigit() or not partial:
                return self._need(start, end8 + 4 + MAX_LENGTH_DIGITS, "BodyLength(9) too long")
        if end9 < 0 or not text.isdigit():
            raise self._skip(start, "BodyLength(9) is not a number")
        body_end = end9 + 1 + int(text)
        total = body_end + 7
        if total - start > self.max_message_size:
            raise self._skip(start, f"BodyLength(9) {int(text)} exceeds the size limit")
        if size < total:
            return INCOMPLETE
        if (
            buffer[body_end : body_end + 3] != b"10="
            or buffer[total - 1] != 1
            or not buffer[body_end + 3 : total - 1].isdigit()
        ):
            raise self._skip(start, f"BodyLength(9) {int(text)} does not end on CheckSum(10)")
        raw = bytes(buffer[start:total])
        computed = trailer_checksum(raw)
        if int(raw[-4:-1]) != computed:
            raise self._skip(start, f"CheckSum(10) does not match the computed {computed:03d}")
        self._pos = total
        return raw

    def _find_start(self) -> int:
        """Offset of the SOH that ends the next plausible BeginString (``8=FIX``, then
        letters, digits and dots), with ``_pos`` moved to its start; or -1 when none is
        complete yet (keeping a tail that may be the beginning of one)."""
        buffer = self._buffer
        pos = self._pos
        while True:
            start = buffer.find(b"8=FIX", pos)
            if start < 0:
                keep = max(self._pos, len(buffer) - 4)  # b"8=FI" may continue
                self.discarded += keep - self._pos
                self._pos = keep
                return -1
            self.discarded += start - self._pos
            self._pos = start
            match = _BEGIN.match(buffer, start)
            end = match.end() if match else start
            if end < len(buffer) and buffer[end] == 1:
                return end
            if end == len(buffer) and end - start - 2 < MAX_BEGIN_STRING:
                return -1
            pos = start + 1

    def _need(self, start: int, limit: int, problem: str) -> Incomplete:
        """INCOMPLETE while the header may still arrive, else a framing error."""
        if len(self._buffer) < limit:
            return INCOMPLETE
        raise self._skip(start, problem)

    def _skip(self, start: int, problem: str) -> FixParseError:
        self._pos = start + 1
        self.discarded += 1
        return FixParseError(
            f"discarded a frame at stream offset {self._offset + start}: {problem}"
        )
