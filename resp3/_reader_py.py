"""Pure-Python RESP2/RESP3 reader and command encoder: the executable specification.

``_reader_c.pyx`` implements exactly the same names and behaviour in Cython; the test
suite runs every reader test against both and checks them against each other on
generated and random input. When the two disagree, this file is right.

Theory of operation
-------------------
``feed()`` appends bytes to one buffer. ``gets()`` parses from a read position and
returns one complete top-level reply, or ``INCOMPLETE``. Parsing is *resumable*: every
aggregate under construction lives on an explicit stack (never the Python call stack),
so when the bytes run out half-way through a reply the finished elements are kept and
the next ``gets()`` continues from the first unparsed byte. Feeding a reply one byte at
a time therefore costs O(n), and nesting depth is bounded by ``max_depth``, not by the
interpreter's recursion limit.

A stack frame is ``[kind, container, remaining, pending_key]``:

* ``remaining`` counts the elements still expected (``-1`` for a streamed aggregate,
  which ends on ``.``);
* maps and attributes collect alternately a key (held in ``pending_key``) and a value;
* a streamed string (``$?``) collects ``;`` chunks in a list until ``;0``.

An attribute (``|``) is parsed like a map; when it completes, it is parked and the
*next* value takes its place, so attributes never shift or change replies. The
attribute map preceding a top-level reply is exposed as ``Reader.attributes``.

After a :class:`ProtocolError` the stream position is unknown, so the reader refuses
to continue: every later ``gets()`` raises the same error. Discard the connection.

Most replies never reach the loop in ``_parse``: ``gets()`` first offers the buffer to
the fast path (``_reader_py_fast``), which builds whole values of the common types from
the buffer split into lines. Where it stops (another type, bad input, a limit, the end
of the data) it leaves the stack and read position exactly as ``_parse`` would have
left them, and ``_parse`` goes on. This file alone still decides what is accepted,
what each reply is, and every error message.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ._reader_py_fast import (
    ARRAY,
    ATTR,
    HANDED_OVER,
    MAP,
    OPEN,
    PUSH,
    SET,
    STRING,
    WINDOW,
    fast_may_progress,
    fast_replies,
    gets_fast,
    hashable,
    make_fast_path,
)
from .errors import DataError, ProtocolError, error_from_reply
from .types import INCOMPLETE, Push

__all__ = ["DEFAULT_MAX_BULK_LEN", "DEFAULT_MAX_DEPTH", "Reader", "encode_command", "pack_commands"]

DEFAULT_MAX_BULK_LEN = 512 * 1024 * 1024
DEFAULT_MAX_DEPTH = 512
# A line that must hold only a length or a small number may not grow past this many
# bytes without its CRLF: garbage without line breaks fails fast instead of buffering.
MAX_NUMBER_LINE = 64

_AGGREGATE_KIND = {42: ARRAY, 37: MAP, 126: SET, 62: PUSH, 124: ATTR}  # * % ~ > |
_NUMBER_TYPES = frozenset(b"$*%~>|:#_=!;.")
_KNOWN_TYPES = frozenset(b"+-:$*%~>|_#,(=!;.")
_DOUBLE = re.compile(rb"[+-]?(?:inf|nan|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_BIGNUM = re.compile(rb"[+-]?[0-9]+")


def _type_name(byte: int) -> str:
    return repr(chr(byte))


def _container(kind: int) -> Any:
    return Push() if kind == PUSH else {} if kind in (MAP, ATTR) else set() if kind == SET else []


class Reader:
    """Incremental RESP2/RESP3 parser with the ``feed()``/``gets()`` contract of hiredis.

    Error replies are *returned* as :class:`~resp3.ResponseError` instances; the caller
    decides to raise. ``encoding`` turns simple, bulk and verbatim strings into ``str``.
    ``protocol`` is recorded for the connection's benefit; both grammars are always
    understood, since RESP2 is a subset of RESP3.
    """

    __slots__ = (
        "_attrs",
        "_buf",
        "_consumed",
        "_encoding",
        "_errors",
        "_failure",
        "_fill",
        "_line",
        "_line_pos",
        "_lines",
        "_lines_end",
        "_max_bulk_len",
        "_max_depth",
        "_pending_attr",
        "_pos",
        "_protocol",
        "_retry_len",
        "_retry_pos",
        "_stack",
        "_value",
        "_window",
    )

    def __init__(
        self,
        protocol: int = 3,
        encoding: str | None = None,
        errors: str = "strict",
        max_bulk_len: int = DEFAULT_MAX_BULK_LEN,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        if protocol not in (2, 3):
            raise ValueError(f"protocol must be 2 or 3, got {protocol!r}")
        if encoding is not None:
            codecs.lookup(encoding)
        codecs.lookup_error(errors)
        if max_bulk_len < 0:
            raise ValueError(f"max_bulk_len must be >= 0, got {max_bulk_len!r}")
        if max_depth < 1:
            raise ValueError(f"max_depth must be >= 1, got {max_depth!r}")
        self._protocol = protocol
        self._encoding = encoding
        self._errors = errors
        self._max_bulk_len = max_bulk_len
        self._max_depth = max_depth
        self._buf = bytearray()
        self._pos = 0
        self._consumed = 0
        self._stack: list[list[Any]] = []
        self._attrs: dict[Any, Any] | None = None
        self._pending_attr: dict[Any, Any] | None = None
        self._failure: ProtocolError | None = None
        self._value, self._fill = make_fast_path(encoding, errors, max_bulk_len, max_depth)
        self._lines: list[bytes] | None = None  # the fast path's: see ReaderState
        self._line = self._line_pos = self._lines_end = 0
        self._window = WINDOW
        self._retry_pos = -1
        self._retry_len = 0

    @property
    def protocol(self) -> int:
        return self._protocol

    @protocol.setter
    def protocol(self, value: int) -> None:
        if value not in (2, 3):
            raise ValueError(f"protocol must be 2 or 3, got {value!r}")
        self._protocol = value

    @property
    def encoding(self) -> str | None:
        return self._encoding

    @property
    def attributes(self) -> dict[Any, Any] | None:
        """The attribute map (``|``) that preceded the last top-level reply, if any."""
        return self._attrs

    def buffered(self) -> int:
        """Bytes fed but not yet consumed by a complete reply."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes | bytearray | memoryview, offset: int = 0, length: int = -1) -> None:
        """Append bytes (copied: the caller may reuse its buffer at once)."""
        buf = self._buf
        pos = self._pos
        self._lines = None
        if pos:
            if pos == len(buf):
                buf.clear()
                self._consumed += pos
                self._pos = 0
            elif pos > 65536 and pos * 2 > len(buf):
                del buf[:pos]
                self._consumed += pos
                self._pos = 0
        if offset or length != -1:
            view = memoryview(data).cast("B")
            end = len(view) if length < 0 else offset + length
            if offset < 0 or end > len(view) or offset > end:
                raise ValueError("offset/length out of range")
            buf += view[offset:end]
        else:
            buf += data

    def gets(self) -> Any:
        """Return the next complete reply, or ``INCOMPLETE``. Raises ProtocolError."""
        if self._failure is not None:
            raise ProtocolError(str(self._failure))
        reply = gets_fast(self)
        if reply is not HANDED_OVER:
            return reply
        try:
            return self._parse()
        except ProtocolError as exc:
            self._failure = exc
            raise

    def gets_all(self) -> list[Any]:
        """Every complete reply buffered now, in order (possibly none)."""
        out: list[Any] = []
        if (
            self._failure is None
            and not self._stack
            and self._pending_attr is None
            and fast_may_progress(self)
        ):
            out = fast_replies(self)  # as far as the fast path goes, then gets() below
        while True:
            reply = self.gets()
            if reply is INCOMPLETE:
                return out
            out.append(reply)

    # -- parsing ---------------------------------------------------------------------

    def _fail(self, what: str, at: int) -> ProtocolError:
        return ProtocolError(f"{what} at offset {self._consumed + at}")

    def _decode(self, raw: bytes, at: int) -> Any:
        if self._encoding is None:
            return raw
        try:
            return raw.decode(self._encoding, self._errors)
        except UnicodeDecodeError as exc:
            raise self._fail(
                f"cannot decode string as {self._encoding} ({exc.reason})", at
            ) from None

    def _number(self, line: bytes, type_byte: int, at: int) -> int:
        body = line[1:] if line[:1] == b"-" else line
        if not body.isdigit():
            raise self._fail(f"invalid number {line[:32]!r} for type {_type_name(type_byte)}", at)
        digits = body.lstrip(b"0")  # int() refuses over 4300 digits, even leading zeros
        if len(digits) > 19:
            raise self._fail(f"number {line[:32]!r} out of 64-bit range", at)
        n = int(digits or b"0")
        if body is not line:
            n = -n
        if not -(2**63) <= n < 2**63:
            raise self._fail(f"number {line[:32]!r} out of 64-bit range", at)
        return n

    def _length(self, line: bytes, type_byte: int, at: int) -> int:
        n = self._number(line, type_byte, at)
        if n < -1:
            raise self._fail(f"negative length {n} for type {_type_name(type_byte)}", at)
        return n

    def _parse(self) -> Any:  # one loop on purpose: every type's rules in one place
        buf = self._buf
        stack = self._stack
        end = len(buf)
        while True:
            pos = self._pos
            if pos >= end:
                return INCOMPLETE
            type_byte = buf[pos]
            if type_byte not in _KNOWN_TYPES:
                raise self._fail(f"unknown type byte {bytes([type_byte])!r}", pos)
            nl = buf.find(b"\r\n", pos + 1)
            if nl < 0:
                limit = (
                    self._max_bulk_len + 2 if type_byte not in _NUMBER_TYPES else MAX_NUMBER_LINE
                )
                if end - pos > limit:
                    raise self._fail(f"missing CRLF after type {_type_name(type_byte)}", pos)
                return INCOMPLETE
            line = bytes(buf[pos + 1 : nl])
            nxt = nl + 2
            if stack and stack[-1][0] == STRING and type_byte != 59:  # ';'
                raise self._fail(
                    f"expected ';' chunk in streamed string, got type {_type_name(type_byte)}", pos
                )
            value: Any
            if type_byte == 36 or type_byte == 61 or type_byte == 33 or type_byte == 59:
                # $ bulk string, = verbatim, ! bulk error, ; streamed-string chunk
                if line == b"?" and type_byte == 36:
                    if len(stack) >= self._max_depth:
                        raise self._fail(f"nesting deeper than max_depth={self._max_depth}", pos)
                    stack.append([STRING, [], -1, None])
                    self._pos = nxt
                    continue
                n = self._length(line, type_byte, pos)
                if n > self._max_bulk_len:
                    raise self._fail(
                        f"bulk length {n} exceeds max_bulk_len={self._max_bulk_len}", pos
                    )
                if n == -1:
                    if type_byte != 36:
                        raise self._fail(
                            f"negative length -1 for type {_type_name(type_byte)}", pos
                        )
                    value = None
                elif n == 0 and type_byte == 59:  # ';0' ends a streamed string, no payload
                    if not stack or stack[-1][0] != STRING:
                        raise self._fail("';' chunk outside a streamed string", pos)
                    value = self._decode(b"".join(stack.pop()[1]), pos)
                else:
                    if end < nxt + n + 2:
                        return INCOMPLETE
                    if buf[nxt + n] != 13 or buf[nxt + n + 1] != 10:
                        raise self._fail(
                            f"missing CRLF after {n}-byte payload of type {_type_name(type_byte)}",
                            nxt + n,
                        )
                    # One copy, where bytes(buf[a:b]) makes two; both views released at
                    # once, or the buffer could not grow.
                    with memoryview(buf) as view, view[nxt : nxt + n] as payload:
                        raw = payload.tobytes()
                    nxt += n + 2
                    if type_byte == 36:
                        value = self._decode(raw, pos)
                    elif type_byte == 61:
                        if n < 4 or raw[3] != 58:  # ':'
                            raise self._fail("verbatim string without 'fmt:' prefix", pos)
                        value = self._decode(raw[4:], pos)
                    elif type_byte == 33:
                        value = error_from_reply(raw.decode("utf-8", "replace"))
                    else:
                        if not stack or stack[-1][0] != STRING:
                            raise self._fail("';' chunk outside a streamed string", pos)
                        stack[-1][1].append(raw)
                        self._pos = nxt
                        continue
            elif type_byte == 43:  # + simple string
                value = self._decode(line, pos)
            elif type_byte == 58:  # : integer
                value = self._number(line, type_byte, pos)
            elif type_byte in _AGGREGATE_KIND:
                kind = _AGGREGATE_KIND[type_byte]
                if line == b"?" and kind != PUSH and kind != ATTR:
                    n = -2
                else:
                    n = self._length(line, type_byte, pos)
                if n == -1:
                    if type_byte != 42:
                        raise self._fail(
                            f"negative length -1 for type {_type_name(type_byte)}", pos
                        )
                    value = None
                elif n == 0:
                    value = _container(kind)
                    if kind == ATTR:
                        self._pos = nxt
                        self._park_attribute(value)
                        continue
                else:
                    if len(stack) >= self._max_depth:
                        raise self._fail(f"nesting deeper than max_depth={self._max_depth}", pos)
                    remaining = -1 if n == -2 else n * 2 if kind in (MAP, ATTR) else n
                    stack.append([kind, _container(kind), remaining, None])
                    self._pos = nxt
                    continue
            elif type_byte == 45:  # - simple error
                value = error_from_reply(line.decode("utf-8", "replace"))
            elif type_byte == 95:  # _ null
                if line:
                    raise self._fail(f"null with payload {line[:32]!r}", pos)
                value = None
            elif type_byte == 35:  # # boolean
                if line == b"t":
                    value = True
                elif line == b"f":
                    value = False
                else:
                    raise self._fail(f"invalid boolean {line[:32]!r}", pos)
            elif type_byte == 44:  # , double
                if _DOUBLE.fullmatch(line) is None:
                    raise self._fail(f"invalid double {line[:32]!r}", pos)
                value = float(line)
            elif type_byte == 40:  # ( big number
                if _BIGNUM.fullmatch(line) is None:
                    raise self._fail(f"invalid big number {line[:32]!r}", pos)
                try:
                    value = int(line)
                except ValueError:  # longer than sys.get_int_max_str_digits() allows
                    raise self._fail(
                        f"big number of {len(line.lstrip(b'+-'))} digits exceeds the "
                        "interpreter's limit (sys.set_int_max_str_digits)",
                        pos,
                    ) from None
            else:  # . end of a streamed aggregate
                if line:
                    raise self._fail(f"end marker with payload {line[:32]!r}", pos)
                if not stack or stack[-1][2] >= 0:
                    raise self._fail("'.' outside a streamed aggregate", pos)
                frame = stack[-1]
                if frame[3] is not None:
                    raise self._fail("streamed map ended between a key and its value", pos)
                stack.pop()
                self._pos = nxt
                value = frame[1]
            self._pos = nxt
            value = self._attach(value)
            if value is not OPEN:
                return value

    def _attach(self, value: Any) -> Any:
        """Put a complete value into its aggregate, closing the aggregates it completes.

        Returns the top-level reply once there is one, else OPEN.
        """
        stack = self._stack
        while True:
            if not stack:
                self._attrs = self._pending_attr
                self._pending_attr = None
                return value
            frame = stack[-1]
            kind = frame[0]
            if kind in (ARRAY, PUSH):
                frame[1].append(value)
            elif kind == SET:
                frame[1].add(hashable(value))
            else:  # MAP or ATTR
                if frame[3] is None:
                    frame[3] = (hashable(value),)
                else:
                    frame[1][frame[3][0]] = value
                    frame[3] = None
            if frame[2] < 0:
                return OPEN
            frame[2] -= 1
            if frame[2]:
                return OPEN
            stack.pop()
            value = frame[1]
            if kind == ATTR:
                self._park_attribute(value)
                return OPEN

    def _park_attribute(self, attrs: dict[Any, Any]) -> None:
        # The attribute describes the value that follows and is not an element of any
        # aggregate; only a top-level one is kept (for ``attributes``), others dropped.
        if not self._stack:
            self._pending_attr = attrs


def _encode_arg(arg: Any, encoding: str, errors: str) -> bytes | bytearray | memoryview:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode(encoding, errors)
    if isinstance(arg, int) and not isinstance(arg, bool):
        return int.__repr__(arg).encode()
    if isinstance(arg, float):
        return float.__repr__(arg).encode()
    if isinstance(arg, bytearray):
        return arg
    if isinstance(arg, memoryview):
        if not arg.c_contiguous:  # a strided view (mv[::2]): send its logical bytes
            return arg.tobytes()
        return arg if arg.format == "B" and arg.ndim == 1 else arg.cast("B")
    raise TypeError


def _append_command(
    out: bytearray, args: Sequence[Any], encoding: str, errors: str, where: str
) -> None:
    if not args:
        raise DataError(f"{where}empty command: the server would never answer it")
    out += b"*%d\r\n" % len(args)
    for index, arg in enumerate(args):
        try:
            data = _encode_arg(arg, encoding, errors)
        except TypeError:
            raise DataError(
                f"{where}argument {index}: invalid type {type(arg).__name__}; "
                "expected bytes, bytearray, memoryview, str, int or float"
            ) from None
        except UnicodeEncodeError as exc:
            raise DataError(
                f"{where}argument {index}: cannot encode str as {encoding}: {exc}"
            ) from None
        except ValueError as exc:  # int past sys.get_int_max_str_digits(), released memoryview
            what = type(arg).__name__
            raise DataError(f"{where}argument {index}: cannot encode {what}: {exc}") from None
        out += b"$%d\r\n" % len(data)
        out += data
        out += b"\r\n"


def encode_command(*args: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """Encode one command as a RESP array of bulk strings.

    Raises DataError (naming the argument's position and type) for anything but bytes,
    bytearray, memoryview, str, int or float; bool is refused, since ``True`` is not a
    value Redis knows. Nothing is returned unless every argument encoded.
    """
    out = bytearray()
    _append_command(out, args, encoding, errors, "")
    return bytes(out)


def pack_commands(
    commands: Iterable[Sequence[Any]], encoding: str = "utf-8", errors: str = "strict"
) -> bytes:
    """Encode many commands into one buffer, for one write. All or nothing."""
    out = bytearray()
    for number, args in enumerate(commands):
        _append_command(out, args, encoding, errors, f"command {number}: ")
    return bytes(out)
