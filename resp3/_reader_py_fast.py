"""Fast path of the pure reader: whole values of the common types, parsed recursively.

``Reader.gets()`` in ``_reader_py`` offers the buffered bytes to the functions built
here first, and runs its general, resumable stack machine only from where they stop.
They are an optimisation, not a second grammar: for every byte they consume they build
exactly the value the general path would build, and they never raise ProtocolError.

Theory of operation
-------------------
``value(s, pos, depth)`` parses one value at ``pos`` of ``s`` (a ``bytes`` snapshot of
the reader's buffer, whose offsets are the buffer's) and returns it with the position
after it. ``fill(frame, s, pos, depth, keep)`` parses elements of an open aggregate,
given as a general-path stack frame ``[kind, container, remaining, pending_key]``, until
only ``keep`` elements are left, updating the frame as the general path would.

On anything they do not handle (a rare type, a streamed aggregate, an attribute, input
the general path rejects, a limit, data not buffered yet) they raise :class:`Handover`
*before* consuming that element. It carries the position and the aggregates opened
since the call, as stack frames, innermost first: pushing them leaves the reader in the
state the general path would have reached by itself, so the general path continues
from there and, on bad input, raises its own error with its own offset.

Handled: ``$`` bulk strings (and ``$-1``), ``:`` integers, ``+`` simple strings, ``-``
simple errors, ``,`` doubles, ``_`` null, ``#`` booleans, and counted ``*`` (and
``*-1``), ``%``, ``~`` and ``>`` aggregates of these, nested up to ``FAST_DEPTH`` (this
path uses the Python stack; the general one has no recursion limit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import error_from_reply
from .types import Push

__all__ = ["FAST_DEPTH", "Fill", "Handover", "Value", "make_fast_path"]

ARRAY, MAP, SET, PUSH, ATTR, STRING = range(6)  # the kinds of general-path stack frames
FAST_DEPTH = 64
CRLF = b"\r\n"
NEVER = 1 << 62  # a Handover ``need`` that no buffer reaches

# The canonical text of small lengths, and -1, mapped to their value: one dict lookup
# where the general path checks the digits and calls int(). Other spellings of the same
# numbers ("007", "-0") are not keys, so they take the checked path or the general one.
SMALL_LENGTHS = {b"%d" % n: n for n in range(-1, 1024)}
BULK_SIZES = {b"$%d" % n: n for n in range(1024)}  # the same, with the type byte of "$"

Value = Callable[[bytes, int, int, int], tuple[Any, int]]
Fill = Callable[[list[Any], bytes, int, int, int], int]


class Handover(Exception):  # not an error: control returns to the general path
    """The fast path stops at ``pos``; the general path takes over from there.

    ``frames`` are the aggregates opened and partly filled since the fast path was
    called, innermost first. ``need`` is the buffer length below which trying the fast
    path again at ``pos`` is pointless (``NEVER``: only once the general path has moved
    past this element).
    """

    def __init__(self, pos: int, need: int = NEVER) -> None:
        self.pos = pos
        self.need = need
        self.frames: list[list[Any]] = []


def hashable(value: Any) -> Any:
    """Map keys and set members must be hashable: lists become tuples, recursively."""
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((hashable(k), hashable(v)) for k, v in value.items())
    if isinstance(value, set):
        return frozenset(value)
    return value


def make_fast_path(
    encoding: str | None, errors: str, max_bulk_len: int, max_depth: int
) -> tuple[Value, Fill]:
    """Build ``value`` and ``fill`` for one reader's options (closures: no attribute loads)."""
    depth_limit = min(max_depth, FAST_DEPTH)
    # The "$<n>" headers the aggregate loops handle inline: within max_bulk_len, and
    # only while strings stay bytes (value() does the decoding).
    bulk_sizes = BULK_SIZES
    if encoding is not None or max_bulk_len < len(BULK_SIZES):
        bulk_sizes = {h: n for h, n in BULK_SIZES.items() if n <= max_bulk_len and not encoding}

    def checked_length(line: bytes, pos: int) -> int:
        # Not a canonical small length: the general path accepts an optional '-' then
        # digits; without the sign, up to 18 digits are always in range.
        if len(line) > 18 or not line.isdigit():
            raise Handover(pos)
        return int(line)

    def decode(raw: bytes, pos: int) -> Any:
        try:
            return raw.decode(encoding, errors)  # type: ignore[arg-type]
        except Exception:  # the general path raises its own error (or the same one)
            raise Handover(pos) from None

    def value(s: bytes, pos: int, nl: int, depth: int) -> tuple[Any, int]:
        if nl < 0:
            raise Handover(pos, len(s) + 1)
        t = s[pos]
        if t == 36:  # $ bulk string
            line = s[pos + 1 : nl]
            n = SMALL_LENGTHS.get(line)
            if n is None:
                n = checked_length(line, pos)
            if n < 0:
                return None, nl + 2
            if n > max_bulk_len:
                raise Handover(pos)
            start = nl + 2
            end = start + n
            if not s.startswith(CRLF, end):  # payload not buffered yet, or no CRLF after it
                raise Handover(pos, end + 2 if end + 2 > len(s) else NEVER)
            if encoding is None:
                return s[start:end], end + 2
            return decode(s[start:end], pos), end + 2
        if t == 58:  # : integer; up to 18 characters it cannot leave the 64-bit range
            line = s[pos + 1 : nl]
            if len(line) > 18 or not (line.isdigit() or (line[:1] == b"-" and line[1:].isdigit())):
                raise Handover(pos)
            return int(line), nl + 2
        if t == 43:  # + simple string
            if encoding is None:
                return s[pos + 1 : nl], nl + 2
            return decode(s[pos + 1 : nl], pos), nl + 2
        if t == 42 or t == 37 or t == 62 or t == 126:  # * % > ~
            return aggregate(s, pos, nl, t, depth)
        if t == 44:  # , double
            # On '-', digits and one '.', float() accepts exactly what the general
            # path's pattern accepts ('--1' is refused by both); other text goes there.
            line = s[pos + 1 : nl]
            if not line.lstrip(b"-").replace(b".", b"", 1).isdigit():
                raise Handover(pos)
            try:
                return float(line), nl + 2
            except ValueError:
                raise Handover(pos) from None
        if t == 45:  # - simple error
            return error_from_reply(s[pos + 1 : nl].decode("utf-8", "replace")), nl + 2
        if t == 95 and nl == pos + 1:  # _ null
            return None, nl + 2
        if t == 35 and nl == pos + 2:  # # boolean
            if s[pos + 1] == 116:
                return True, nl + 2
            if s[pos + 1] == 102:
                return False, nl + 2
        raise Handover(pos)

    def aggregate(s: bytes, pos: int, nl: int, t: int, depth: int) -> tuple[Any, int]:
        line = s[pos + 1 : nl]
        n = SMALL_LENGTHS.get(line)
        if n is None:
            n = checked_length(line, pos)
        if n <= 0:
            if n == 0:
                return (Push() if t == 62 else {} if t == 37 else set() if t == 126 else []), nl + 2
            if t == 42:  # *-1 null array; the general path refuses -1 for other types
                return None, nl + 2
            raise Handover(pos)
        if depth >= depth_limit:
            raise Handover(pos)
        # The frame the general path would push here (see Reader._parse).
        if t == 42:
            frame: list[Any] = [ARRAY, [], n, None]
        elif t == 37:
            frame = [MAP, {}, 2 * n, None]
        elif t == 62:
            frame = [PUSH, Push(), n, None]
        else:
            frame = [SET, set(), n, None]
        try:
            pos = fill(frame, s, nl + 2, depth + 1, 0)
        except Handover as stop:
            stop.frames.append(frame)
            raise
        return frame[1], pos

    def fill(frame: list[Any], s: bytes, pos: int, depth: int, keep: int) -> int:
        # Each loop has an inline shortcut for a bulk string: a "$<n>" header from
        # bulk_sizes with its payload and CRLF buffered gives what value() would give.
        kind, container, remaining, pending = frame
        find = s.find
        startswith = s.startswith
        if kind in (ARRAY, PUSH):
            append = container.append
            before = len(container)
            try:
                for _ in range(remaining - keep):
                    nl = find(CRLF, pos)
                    size = bulk_sizes.get(s[pos:nl])
                    if size is None or nl < 0 or not startswith(CRLF, nl + 2 + size):
                        item, pos = value(s, pos, nl, depth)
                    else:
                        item = s[nl + 2 : nl + 2 + size]
                        pos = nl + 4 + size
                    append(item)
            finally:  # on a Handover too: the frame says how far it got
                frame[2] = remaining - (len(container) - before)
            return pos
        try:
            if kind == SET:
                add = container.add
                while remaining > keep:
                    item, pos = value(s, pos, find(CRLF, pos), depth)
                    add(hashable(item))
                    remaining -= 1
            else:  # MAP or ATTR: keys and values alternate; a key waits in ``pending``
                while remaining > keep:
                    nl = find(CRLF, pos)
                    size = bulk_sizes.get(s[pos:nl])
                    if size is None or nl < 0 or not startswith(CRLF, nl + 2 + size):
                        item, pos = value(s, pos, nl, depth)
                        if pending is None:
                            item = hashable(item)
                    else:  # bytes: hashable already
                        item = s[nl + 2 : nl + 2 + size]
                        pos = nl + 4 + size
                    if pending is None:
                        pending = (item,)
                    else:
                        container[pending[0]] = item
                        pending = None
                    remaining -= 1
        finally:
            frame[2] = remaining
            frame[3] = pending
        return pos

    return value, fill
