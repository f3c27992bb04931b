"""Fast path of the pure reader: whole values of the common types, parsed line by line.

``Reader.gets()`` in ``_reader_py`` offers the buffered bytes to the functions built
here first, and runs its general, resumable stack machine only from where they stop.
They are an optimisation, not a second grammar: for every byte they consume they build
exactly the value the general path would build, and they never raise ProtocolError.

Theory of operation
-------------------
RESP is a sequence of lines ending in CRLF, except that a bulk payload may contain
CRLF itself. The reader splits its unconsumed bytes at every CRLF once (``bytes.split``,
in C) and drops the unterminated rest, leaving a list of complete lines. Every RESP
element ends with CRLF, and a CRLF is always a split point (``split`` could only skip
it for an earlier CRLF overlapping it, whose ``\\n`` would have to be this ``\\r``), so
every element starts a line: a header is one line, and a bulk payload is the next line
when its length matches the header, or the next few lines joined with CRLF when the
payload contains CRLF. Working on whole lines spares the per-element ``find`` and
slicing that dominate a byte-offset parser written in Python.

``value(lines, i, depth)`` parses the value whose first line is ``lines[i]`` and
returns it with the index of the line after it; ``IndexError`` means that value is not
all buffered yet (nothing was consumed). ``fill(frame, lines, i, depth, keep)`` parses
elements of an open aggregate, given as a general-path stack frame ``[kind, container,
remaining, pending_key]``, until ``keep`` are left, and updates the frame as the
general path would.

On anything they do not handle (a rare type, a streamed aggregate, an attribute, input
the general path rejects, a limit, data not buffered yet) they raise :class:`Handover`
*before* consuming that element. It carries the line index and the aggregates opened
since the call, as stack frames, innermost first: pushing them leaves the reader in
the state the general path would have reached by itself, so the general path goes on
from there and, on bad input, raises its own error with its own offset.

Handled: ``$`` bulk strings (and ``$-1``), ``:`` integers, ``+`` simple strings, ``-``
simple errors, ``,`` doubles, ``_`` null, ``#`` booleans, and counted ``*`` (and
``*-1``), ``%``, ``~`` and ``>`` aggregates of these, nested up to ``FAST_DEPTH`` (this
path uses the Python stack; the general one has no recursion limit).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from .errors import error_from_reply
from .types import Push

__all__ = [
    "HANDED_OVER",
    "OPEN",
    "WINDOW",
    "fast_may_progress",
    "fast_replies",
    "gets_fast",
    "hashable",
    "make_fast_path",
]

ARRAY, MAP, SET, PUSH, ATTR, STRING = range(6)  # the kinds of general-path stack frames
FAST_DEPTH = 64
CRLF = b"\r\n"
NEVER = -1  # Handover.need: retry only after the general path moved past the element
MORE = -2  # Handover.need: retry once more bytes arrived
WINDOW = 64 * 1024  # bytes split into lines at a time
BIG = 16 * 1024  # a payload this long that is not split yet goes to the general path
HANDED_OVER = object()  # gets_fast(): the general path goes on from here
OPEN = object()  # Reader._attach(): the value went into an aggregate still open

# The canonical text of small lengths, and -1, mapped to their value: one dict lookup
# where the general path checks the digits and calls int(). Other spellings of the same
# numbers ("007", "-0") are not keys, so they take the checked path or the general one.
SMALL_LENGTHS = {b"%d" % n: n for n in range(-1, 1024)}
BULK_SIZES = {b"$%d" % n: n for n in range(1024)}  # whole "$<n>" header lines

Value = Callable[[list[bytes], int, int], tuple[Any, int]]
Fill = Callable[[list[Any], list[bytes], int, int, int], int]


class Handover(Exception):  # not an error: control returns to the general path
    """The fast path stops at line ``index``; the general path takes over from there.

    ``frames`` are the aggregates opened and partly filled since the fast path was
    called, innermost first. ``need`` says when trying the fast path again at this
    element can get further: ``NEVER``, ``MORE``, or once the buffer holds that many
    bytes from the element's start.
    """

    def __init__(self, index: int, need: int = NEVER) -> None:
        self.index = index
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


@functools.lru_cache(maxsize=32)
def make_fast_path(
    encoding: str | None, errors: str, max_bulk_len: int, max_depth: int
) -> tuple[Value, Fill]:
    """Build ``value`` and ``fill`` for a reader's options (closures: no attribute loads).

    The closures refer to each other, a reference cycle: they are cached and shared by
    readers with the same options rather than left to the garbage collector each time.
    """
    depth_limit = min(max_depth, FAST_DEPTH)
    # The "$<n>" headers taken as a shortcut (a payload of exactly one line, returned
    # as is): within max_bulk_len, and only while strings stay bytes.
    bulk_sizes = BULK_SIZES
    if encoding is not None or max_bulk_len < len(BULK_SIZES):
        bulk_sizes = {h: n for h, n in BULK_SIZES.items() if n <= max_bulk_len and not encoding}

    def length(line: bytes, i: int) -> int:
        n = SMALL_LENGTHS.get(line)
        if n is None:
            # The general path accepts an optional '-' then digits; without the sign,
            # up to 18 digits are always in range, so int() gives the same value.
            if len(line) > 18 or not line.isdigit():
                raise Handover(i)
            n = int(line)
        return n

    def decode(raw: bytes, i: int) -> Any:
        try:
            return raw.decode(encoding, errors)  # type: ignore[arg-type]
        except Exception:  # the general path raises its own error (or the same one)
            raise Handover(i) from None

    def payload(lines: list[bytes], i: int, n: int) -> tuple[Any, int]:
        # The n bytes after the header lines[i] and their CRLF: one line, or several
        # joined when the payload contains CRLF; their total must come out at exactly n
        # (a CRLF right after the payload is always a split point).
        k = i + 1
        try:
            total = len(lines[k])
            while total < n:
                k += 1
                total += 2 + len(lines[k])
        except IndexError:  # not all split yet (a big one is left to the general path)
            raise Handover(i, NEVER if n > BIG else len(lines[i]) + n + 4) from None
        if total != n:  # no CRLF after the payload: the general path raises
            raise Handover(i)
        raw = lines[k] if k == i + 1 else CRLF.join(lines[i + 1 : k + 1])
        return (raw if encoding is None else decode(raw, i)), k + 1

    def value(lines: list[bytes], i: int, depth: int) -> tuple[Any, int]:
        h = lines[i]
        if not h:  # CRLF where a type byte belongs: the general path rejects it
            raise Handover(i)
        t = h[0]
        if t == 36:  # $ bulk string
            n = bulk_sizes.get(h)
            if n is None:  # long, null, to be decoded, or not a canonical length
                n = length(h[1:], i)
                if n < 0:
                    return None, i + 1
                if n > max_bulk_len:
                    raise Handover(i)
            else:
                p = lines[i + 1]
                if len(p) == n:
                    return p, i + 2
            return payload(lines, i, n)
        if t == 58:  # : integer
            # The general path accepts an optional '-' then digits. On '-' and digits,
            # int() accepts the same ('--1' is refused by both), and up to 18 characters
            # stay in the 64-bit range.
            line = h[1:]
            if len(line) > 18 or not line.lstrip(b"-").isdigit():
                raise Handover(i)
            try:
                return int(line), i + 1
            except ValueError:
                raise Handover(i) from None
        if t == 44:  # , double
            # On '-', '.' and digits, float() accepts exactly what the general path's
            # pattern accepts ('--1', '1.2.3' and '.' are refused by both); other text
            # (with an exponent, inf, nan) goes there.
            line = h[1:]
            if line.lstrip(b"-.0123456789"):
                raise Handover(i)
            try:
                return float(line), i + 1
            except ValueError:
                raise Handover(i) from None
        if t == 43:  # + simple string
            return (h[1:] if encoding is None else decode(h[1:], i)), i + 1
        if t == 42 or t == 37 or t == 62 or t == 126:  # * % > ~
            return aggregate(lines, i, h, depth)
        if t == 45:  # - simple error
            return error_from_reply(h[1:].decode("utf-8", "replace")), i + 1
        if h == b"_":
            return None, i + 1
        if h == b"#t" or h == b"#f":
            return h == b"#t", i + 1
        raise Handover(i)

    def aggregate(lines: list[bytes], i: int, h: bytes, depth: int) -> tuple[Any, int]:
        t = h[0]
        line = h[1:]
        n = SMALL_LENGTHS.get(line)
        if n is None:
            n = length(line, i)
        if n <= 0:
            if n == 0:
                return (Push() if t == 62 else {} if t == 37 else set() if t == 126 else []), i + 1
            if t == 42:  # *-1 null array; the general path refuses -1 for other types
                return None, i + 1
            raise Handover(i)
        if depth >= depth_limit:
            raise Handover(i)
        # On a Handover, the frame the general path would have pushed here and updated
        # element by element (see Reader._parse).
        if t == 42 or t == 62:
            items = [] if t == 42 else Push()
            try:
                i = into_list(items, n, lines, i + 1, depth + 1)
            except Handover as stop:
                stop.frames.append([ARRAY if t == 42 else PUSH, items, n - len(items), None])
                raise
            return items, i
        frame = [MAP, {}, 2 * n, None] if t == 37 else [SET, set(), n, None]
        try:
            i = fill(frame, lines, i + 1, depth + 1, 0)
        except Handover as stop:
            stop.frames.append(frame)
            raise
        return frame[1], i

    def into_list(items: list[Any], count: int, lines: list[bytes], i: int, depth: int) -> int:
        # Append count elements to items; on a Handover, len(items) says how many were.
        # A bulk string of one line is taken inline, as value() would take it.
        get = bulk_sizes.get
        append = items.append
        try:
            for _ in range(count):
                n = get(lines[i])
                if n is not None and len(p := lines[i + 1]) == n:
                    append(p)
                    i += 2
                else:
                    item, i = value(lines, i, depth)
                    append(item)
        except IndexError:  # the element at i is not all buffered yet
            raise Handover(i, MORE) from None
        return i

    def fill(frame: list[Any], lines: list[bytes], i: int, depth: int, keep: int) -> int:
        kind, container, remaining, pending = frame
        if kind in (ARRAY, PUSH):
            before = len(container)
            try:
                return into_list(container, remaining - keep, lines, i, depth)
            finally:  # on a Handover too: the frame says how far it got
                frame[2] = remaining - (len(container) - before)
        get = bulk_sizes.get
        try:
            if kind == SET:
                add = container.add
                while remaining > keep:
                    item, i = value(lines, i, depth)
                    add(hashable(item))
                    remaining -= 1
            else:  # MAP or ATTR: keys and values alternate; a key waits in ``pending``
                while remaining > keep:
                    n = get(lines[i])
                    if n is not None and len(p := lines[i + 1]) == n:
                        item = p  # bytes: hashable as it is
                        i += 2
                    else:
                        item, i = value(lines, i, depth)
                        if pending is None:
                            item = hashable(item)
                    if pending is None:
                        pending = (item,)
                    else:
                        container[pending[0]] = item
                        pending = None
                    remaining -= 1
        except IndexError:
            raise Handover(i, MORE) from None
        finally:
            frame[2] = remaining
            frame[3] = pending
        return i

    return value, fill


class ReaderState(Protocol):
    """The part of ``Reader``'s state that the fast path reads and updates."""

    _buf: bytearray
    _pos: int
    _consumed: int
    _stack: list[list[Any]]
    _attrs: dict[Any, Any] | None
    _pending_attr: dict[Any, Any] | None
    _value: Value
    _fill: Fill
    _lines: list[bytes] | None  # complete lines from _line_pos (None: split again)
    _line: int  # the index of the line starting at _line_pos
    _line_pos: int
    _lines_end: int  # where the split bytes end
    _window: int
    _retry_pos: int  # where the fast path last stopped, counted from the stream start
    _retry_len: int  # how long the stream must be to try there again

    def _attach(self, value: Any) -> Any: ...


# -- driving: when to try the fast path, and the handovers both ways ---------------------
#
# The lines of the buffer are split when first needed after each feed(), at most WINDOW
# bytes at a time (more only while one element does not fit), so that a large payload
# going to the general path anyway is not split. When the general path moved on in
# between, its progress is followed line by line.


def fast_may_progress(r: ReaderState) -> bool:
    """False while the fast path would stop again where it last stopped.

    A large reply arriving in many pieces is thus not split into lines again after
    every piece, only to be found incomplete again.
    """
    consumed = r._consumed
    return r._pos < len(r._buf) and (
        consumed + r._pos != r._retry_pos or consumed + len(r._buf) >= r._retry_len
    )


def gets_fast(r: ReaderState) -> Any:
    """The next reply by the fast path, or HANDED_OVER with the general path's state.

    An aggregate left open by the general path is finished here too: ``fill`` parses all
    its elements but the last, and the last goes through ``_attach`` exactly as in
    ``Reader._parse``, which closes the aggregates it completes.

    First the commonest case, a top-level reply from lines split already: with nothing
    to split, it needs no ``fast_may_progress()`` check.
    """
    lines = r._lines
    pos = r._pos
    if lines is not None and pos == r._line_pos and not r._stack:
        i = r._line
        # Each stop is taken inside its except clause: a Handover kept in a variable
        # would form a cycle with this frame (through its traceback), holding the buffer
        # until the cyclic garbage collector runs.
        try:
            value, end = r._value(lines, i, 0)
        except IndexError:
            go_on = stopped(r, Handover(i, MORE))
        except Handover as stop:
            go_on = stopped(r, stop)
        else:
            # move_to_line(r, end), quicker for a scalar (one line) or a bulk string (two)
            if end == i + 1:
                pos += len(lines[i]) + 2
            elif end == i + 2:
                pos += len(lines[i]) + len(lines[i + 1]) + 4
            else:
                pos += sum(map(len, lines[i:end])) + 2 * (end - i)
            r._pos = r._line_pos = pos
            r._line = end
            r._attrs = r._pending_attr
            r._pending_attr = None
            return value
        if not go_on:
            return HANDED_OVER
    elif not fast_may_progress(r):
        return HANDED_OVER
    stack = r._stack
    value_of = r._value
    while True:
        if stack and (stack[-1][0] == STRING or stack[-1][2] < 0):
            return HANDED_OVER  # streamed: the general path only
        lines, i = lines_at_pos(r)
        try:
            while stack:
                frame = stack[-1]
                if frame[0] == STRING or frame[2] < 0:
                    raise Handover(i)
                i = r._fill(frame, lines, i, len(stack), 1)
                value, i = value_of(lines, i, len(stack))
                value = r._attach(value)
                if value is not OPEN:
                    move_to_line(r, i)
                    return value
            value, i = value_of(lines, i, 0)
            move_to_line(r, i)
            r._attrs = r._pending_attr
            r._pending_attr = None
            return value
        except IndexError:  # the value at line i is not all split yet
            go_on = stopped(r, Handover(i, MORE))
        except Handover as stop:
            go_on = stopped(r, stop)
        if not go_on:
            return HANDED_OVER


def fast_replies(r: ReaderState) -> list[Any]:
    """``gets()`` in a loop minus the per-reply bookkeeping, for ``gets_all()``.

    Only for a reader with no aggregate open and no attribute pending: then each reply
    just sets ``attributes`` to None.
    """
    out: list[Any] = []
    append = out.append
    value_of = r._value
    while True:
        lines, i = lines_at_pos(r)
        try:
            while True:
                reply, i = value_of(lines, i, 0)
                append(reply)
        except IndexError:
            go_on = stopped(r, Handover(i, MORE))
        except Handover as stop:
            go_on = stopped(r, stop)
        if out:
            r._attrs = None
        if not go_on or r._stack:
            return out


def lines_at_pos(r: ReaderState) -> tuple[list[bytes], int]:
    """The split lines, and the index of the one that starts at ``_pos``."""
    lines = r._lines
    pos = r._pos
    if lines is not None:
        k = r._line
        at = r._line_pos
        while at < pos and k < len(lines):  # the general path went on: follow it
            at += len(lines[k]) + 2
            k += 1
        if at == pos:
            r._line = k
            r._line_pos = pos
            return lines, k
    buf = r._buf
    end = min(len(buf), pos + r._window)
    lines = (bytes(buf) if pos == 0 and end == len(buf) else bytes(buf[pos:end])).split(CRLF)
    lines.pop()  # what follows the last CRLF is not a complete line
    r._lines = lines
    r._line = 0
    r._line_pos = pos
    r._lines_end = end
    return lines, 0


def move_to_line(r: ReaderState, i: int) -> int:
    """Set ``_pos`` to the start of line ``i`` (at or after ``_line``); return it."""
    k = r._line
    assert r._lines is not None
    pos = r._line_pos + sum(map(len, r._lines[k:i])) + 2 * (i - k)
    r._pos = r._line_pos = pos
    r._line = i
    return pos


def stopped(r: ReaderState, stop: Handover) -> bool:
    """Take a Handover; True if only the split lines ran out, so that it can go on."""
    before = r._pos
    pos = move_to_line(r, stop.index)
    r._stack.extend(reversed(stop.frames))
    end = len(r._buf)
    if stop.need != NEVER and r._lines_end < end:
        r._lines = None  # split the next stretch, a longer one if nothing fitted
        r._window = WINDOW if pos != before else 2 * r._window
        return True
    r._window = WINDOW
    consumed = r._consumed
    r._retry_pos = consumed + pos
    if stop.need == NEVER:
        r._retry_len = 1 << 63
    elif stop.need == MORE:  # at least twice the bytes waiting: O(n) splits in all
        r._retry_len = consumed + end + max(1, end - pos)
    else:
        r._retry_len = consumed + pos + stop.need
    return False
