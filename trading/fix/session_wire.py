"""Wire helpers of the session layer: framing as QuickFIX frames, a lenient parse for
messages the strict codec refuses but QuickFIX answers, and SendingTime text.

Why not the codec's ``Splitter``: it resynchronises *inside* a frame whose BodyLength
is too large, so the message that follows is recovered. QuickFIX instead cuts a frame
at the first ``<SOH>10=...<SOH>`` at or after BodyLength, so a too-long BodyLength
swallows the next message and both are dropped as one garbled frame; counterparties
(and the QuickFIX acceptance tests) expect that, since the follow-up is then
re-requested in order. :class:`Framer` does exactly that and leaves every check
(BodyLength, CheckSum, field syntax) to :func:`parse_message`, so a garbled frame is
one unit the session can ignore without counting it.
"""

from __future__ import annotations

import re
import time

from trading.errors import FixParseError
from trading.fix.message import SOH, Message, checksum
from trading.fix.parser import parse

__all__ = ["Framer", "parse_message", "sending_time"]

_LENGTH = re.compile(rb"8=[^\x01]{1,16}\x019=([0-9]{1,9})\x01")
_START = b"8=FIX"
# What the buffer may hold while a header is still arriving: 8=..., then |9=digits.
_PARTIAL = re.compile(rb"8=[^\x01]{0,16}(?:\x01(?:9(?:=[0-9]{0,9})?)?)?\Z")


class Framer:
    """Cuts a byte stream into candidate frames, QuickFIX's way (module docstring).

    ``feed(data)``, then call ``next()`` until it returns None. A frame is returned
    whole even when it is broken; ``parse_message`` decides. A frame larger than
    ``max_message_size`` (or whose header is not ``8=...|9=<digits>|``) is returned
    as the bytes up to the next ``8=FIX`` so that it, too, counts as one garbled frame.
    """

    def __init__(self, max_message_size: int = 1 << 20) -> None:
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        self._pos = 0

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        buffer = self._buffer
        if self._pos and self._pos >= len(buffer) >> 1:
            del buffer[: self._pos]
            self._pos = 0
        buffer += data

    def clear(self) -> None:
        self._buffer.clear()
        self._pos = 0

    @property
    def buffered(self) -> int:
        return len(self._buffer) - self._pos

    def next(self) -> bytes | None:
        buffer = self._buffer
        start = buffer.find(_START, self._pos)
        if start < 0:
            self._pos = max(self._pos, len(buffer) - 4)  # b"8=FI" may continue
            return None
        self._pos = start
        header = _LENGTH.match(buffer, start)
        if header is None:
            if _PARTIAL.match(buffer, start) is not None:
                return None  # the header is still arriving
            return self._cut_garbled(start)
        body_end = header.end() + int(header[1])
        if body_end - start > self.max_message_size:
            return self._cut_garbled(start)
        if len(buffer) < body_end:
            return None
        marker = buffer.find(b"\x0110=", body_end - 1)
        if marker < 0:
            return self._wait_or_cut(start)
        end = buffer.find(SOH, marker + 4)
        if end < 0:
            return self._wait_or_cut(start)
        self._pos = end + 1
        return bytes(buffer[start : end + 1])

    def _wait_or_cut(self, start: int) -> bytes | None:
        if len(self._buffer) - start > self.max_message_size:
            return self._cut_garbled(start)
        return None

    def _cut_garbled(self, start: int) -> bytes:
        buffer = self._buffer
        following = buffer.find(_START, start + 2)
        end = following if following >= 0 else len(buffer)
        self._pos = end
        return bytes(buffer[start:end])


def parse_message(raw: bytes) -> Message:
    """``parse(raw)``, or, when only the field syntax is unusual, a lenient reading.

    QuickFIX reads a tag written ``-1`` or ``0`` as that number and rejects the
    message for an invalid tag (Reject reason 0, RefTagID -1); the codec refuses it as
    garbled. The lenient reading accepts tags matching ``-?[0-9]+`` after the framing
    (BeginString, BodyLength, CheckSum, MsgType third) checked out, so the session can
    answer the same Reject. Anything else raises :class:`FixParseError` (garbled).
    """
    try:
        return parse(raw)
    except FixParseError as exc:
        problem = exc
    lenient = _parse_lenient(raw)
    if lenient is None:
        raise problem
    return lenient


_TAG = re.compile(rb"-?[0-9]{1,9}")


def _parse_lenient(raw: bytes) -> Message | None:
    if not raw.endswith(SOH) or raw.count(b"\x0110=") < 1:
        return None
    parts = raw[:-1].split(SOH)
    if len(parts) < 4 or not parts[0].startswith(b"8=") or not parts[1].startswith(b"9="):
        return None
    trailer = parts[-1]
    if not trailer.startswith(b"10=") or len(trailer) != 6 or not trailer[3:].isdigit():
        return None
    body_start = len(parts[0]) + len(parts[1]) + 2
    body_end = len(raw) - 7
    length = parts[1][2:]
    if not length.isdigit() or int(length) != body_end - body_start:
        return None
    if int(trailer[3:]) != checksum(raw[:body_end]):
        return None
    fields: list[tuple[int, bytes]] = []
    for part in parts:
        tag, sep, value = part.partition(b"=")
        if not sep or _TAG.fullmatch(tag) is None:
            return None
        fields.append((int(tag), value))
    if fields[2][0] != 35:
        return None
    return Message(fields)


_last_second = -1
_last_text = b""


def sending_time(now: float) -> bytes:
    """UTCTimestamp with milliseconds for epoch seconds ``now``
    (``20240131-23:59:59.123``); the date-and-second part is cached per second."""
    global _last_second, _last_text
    second = int(now)
    if second != _last_second:
        _last_text = b"%04d%02d%02d-%02d:%02d:%02d" % time.gmtime(second)[:6]
        _last_second = second
    return b"%b.%03d" % (_last_text, int((now - second) * 1000))
