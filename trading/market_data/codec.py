"""A tick as a Redis stream entry and latest-tick hash: format version 1.

Theory of operation
-------------------
One tick is one stream entry whose fields are, in this order::

    v   1                       format version (this module reads and writes 1)
    ts  1700000000123000000     tick timestamp, integer nanoseconds since the epoch
    <the quote's fields>        price | price volume | bid_price ask_price bid_volume ask_volume

The symbol is not repeated: the key names it (:mod:`.keys`). The quote's variant is
told by its field names, which are exactly those of :data:`~.ticks.TickFormat`'s
variants, so no ``type`` field is spent on every entry. Prices are plain decimal
strings (``-?[0-9]+(\\.[0-9]+)?``, never an exponent) written from exact ``Decimal``s or
integer ticks, never through a float; volumes and ``ts`` are integers (``-?[0-9]+``,
``ts`` within int64). Decoding is strict: a missing, unknown or non-numeric field, or
another version, raises :class:`~trading.errors.MalformedEntry` naming the key, the
entry ID and every problem found.

The entry ID is derived from the timestamp, ``<ts // 10**6>-<ts % 10**6>`` (milliseconds,
then the nanoseconds within that millisecond), so that

* an ID *is* the tick time: ``XRANGE`` between two times needs no scan of ``ts``;
* writing the same tick twice is refused by Redis ("equal or smaller than the target
  stream top item"), which makes re-sending a batch, or re-running a backfill, safe.

The latest-tick hash holds the same fields plus ``id``, the entry's stream ID.

Two encoders produce identical bytes: :func:`encode_tick` for one :class:`Tick`, and
:func:`encode_arrays` for :class:`~.generators.TickArrays` (the backfill path), which
formats whole numpy columns at once and hands out plain lists, so building a command
costs no per-tick Python code (see ``publisher``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from trading.errors import MalformedEntry, MarketDataError
from trading.market_data.generators import TickArrays
from trading.market_data.ticks import FullDepth, Simple, Tick, TickFormat, WithVolume, assert_never

__all__ = [
    "FORMAT_FIELDS",
    "FORMAT_VERSION",
    "EncodedArrays",
    "decode_latest",
    "decode_tick",
    "encode_arrays",
    "encode_tick",
    "entry_id",
    "format_fields",
    "format_prices",
    "infer_format",
    "timestamp_of",
]

FORMAT_VERSION = 1
VERSION = b"1"
V, TS, ID = b"v", b"ts", b"id"

#: The quote fields of each tick-format variant, in entry order.
FORMAT_FIELDS: dict[type[TickFormat], tuple[str, ...]] = {
    Simple: ("price",),
    WithVolume: ("price", "volume"),
    FullDepth: ("bid_price", "ask_price", "bid_volume", "ask_volume"),
}
PRICE_FIELDS = frozenset({"price", "bid_price", "ask_price"})
_DEPTH_ONLY = frozenset(FORMAT_FIELDS[FullDepth])

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NS_PER_MS = 1_000_000
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

IntArray = npt.NDArray[np.int64]


def format_fields(tick_format: TickFormat | type[TickFormat]) -> tuple[str, ...]:
    """The quote field names of a tick format (an instance or a variant class)."""
    cls = tick_format if isinstance(tick_format, type) else type(tick_format)
    return FORMAT_FIELDS[cls]


# -- entry IDs ---------------------------------------------------------------------------


def entry_id(timestamp_ns: int) -> bytes:
    """The stream entry ID of a tick stamped ``timestamp_ns``: ``ms-nanoseconds``.

    Raises :class:`MarketDataError` for a timestamp below 1 ns (stream IDs are unsigned,
    and ``0-0`` is reserved by Redis).
    """
    if timestamp_ns < 1:
        raise MarketDataError(
            f"timestamp {timestamp_ns} ns cannot be a stream entry ID (must be >= 1 ns)"
        )
    ms, ns = divmod(timestamp_ns, _NS_PER_MS)
    return b"%d-%d" % (ms, ns)


def timestamp_of(stream_id: bytes | str) -> int:
    """The inverse of :func:`entry_id`; ``ValueError`` if ``stream_id`` is not ``ms-seq``."""
    text = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    ms, sep, seq = text.partition("-")
    if not sep or not ms.isdigit() or not seq.isdigit():
        raise ValueError(f"{text!r} is not a stream entry ID")
    return int(ms) * _NS_PER_MS + int(seq)


# -- encoding ----------------------------------------------------------------------------


def _plain(value: Decimal, what: str) -> bytes:
    if not value.is_finite():
        raise MarketDataError(f"{what} {value} is not a finite decimal")
    return format(value, "f").encode()


def encode_tick(tick: Tick) -> dict[bytes, bytes]:
    """The entry fields of ``tick`` (insertion-ordered: ``v``, ``ts``, quote fields).

    Raises :class:`MarketDataError` for a non-finite price or a timestamp outside int64.
    """
    stamp = tick.timestamp_ns
    if not _INT64_MIN <= stamp <= _INT64_MAX:
        raise MarketDataError(f"{tick.symbol}: timestamp {stamp} does not fit in int64")
    fields = {V: VERSION, TS: b"%d" % stamp}
    quote = tick.quote
    match quote:
        case Simple(price=price):
            fields[b"price"] = _plain(price, f"{tick.symbol}: price")
        case WithVolume(price=price, volume=volume):
            fields[b"price"] = _plain(price, f"{tick.symbol}: price")
            fields[b"volume"] = b"%d" % volume
        case FullDepth():
            fields[b"bid_price"] = _plain(quote.bid_price, f"{tick.symbol}: bid_price")
            fields[b"ask_price"] = _plain(quote.ask_price, f"{tick.symbol}: ask_price")
            fields[b"bid_volume"] = b"%d" % quote.bid_volume
            fields[b"ask_volume"] = b"%d" % quote.ask_volume
        case _:
            assert_never(quote)
    return fields


def format_prices(ticks: IntArray, tick_size: Decimal) -> list[Any]:
    """``ticks * tick_size`` as plain decimal strings, exactly, for a whole column.

    The result has as many decimals as ``tick_size`` (``0.01`` -> ``b"100.00"``), which is
    what ``format(Decimal(t) * tick_size, "f")`` gives, so both encoders agree byte for
    byte. A 2-D array gives a list of lists. Vectorised with numpy (the fraction comes
    from a lookup table up to 4 decimals); falls back to ``Decimal`` for products that
    would overflow int64.
    """
    exponent = tick_size.as_tuple().exponent
    if not isinstance(exponent, int) or tick_size <= 0:
        raise MarketDataError(f"tick size {tick_size} must be a positive finite decimal")
    decimals = max(0, -exponent)
    mantissa = int(tick_size.scaleb(decimals))
    flat = np.asarray(ticks, dtype=np.int64)
    biggest = int(np.abs(flat).max()) if flat.size else 0
    if biggest > _INT64_MAX // mantissa:
        exact = [format(Decimal(t) * tick_size, "f").encode() for t in flat.ravel().tolist()]
        return np.array(exact, dtype=object).reshape(flat.shape).tolist()  # type: ignore[no-any-return]
    units = flat * mantissa
    negative = units < 0
    magnitude = np.abs(units)
    if decimals == 0:
        text = magnitude.astype("S")
    else:
        whole, frac = np.divmod(magnitude, 10**decimals)
        text = np.strings.add(whole.astype("S"), _fractions(decimals, frac))
    if negative.any():
        text = np.where(negative, np.strings.add(b"-", text), text)
    return text.tolist()  # type: ignore[no-any-return]


_FRACTION_TABLES: dict[int, npt.NDArray[np.bytes_]] = {}


def _fractions(decimals: int, frac: IntArray) -> npt.NDArray[np.bytes_]:
    """``b".05"``-style fractions: a table lookup (fast) up to 4 decimals, else zfill."""
    if decimals > 4:
        digits = np.strings.zfill(frac.astype("S"), decimals)
        return np.asarray(np.strings.add(b".", digits))
    table = _FRACTION_TABLES.get(decimals)
    if table is None:
        table = np.array([b".%0*d" % (decimals, i) for i in range(10**decimals)])
        _FRACTION_TABLES[decimals] = table
    return table[frac]


@dataclass(frozen=True, eq=False)
class EncodedArrays:
    """Entry IDs and field values of every tick in a :class:`TickArrays`, as lists.

    ``ids[step]`` and ``stamps[step]`` are shared by all symbols; ``values[row]`` holds one
    list per quote field (prices as bytes, volumes as ints). Build commands with
    :meth:`entry_fields` (a row's fields as zip-ready iterables) or :meth:`fields`.
    """

    symbols: tuple[str, ...]
    names: tuple[bytes, ...]
    ids: list[bytes]
    stamps: list[int]
    values: list[list[list[Any]]]

    @property
    def steps(self) -> int:
        return len(self.ids)

    def entry_fields(self, row: int) -> list[Iterable[Any]]:
        """Alternating names and values for ``zip``: ``zip(*entry_fields(row))`` yields each
        step's flat ``(b"v", b"1", b"ts", ts, name, value, ...)`` without Python code per tick."""
        out: list[Iterable[Any]] = [repeat(V), repeat(VERSION), repeat(TS), self.stamps]
        for name, column in zip(self.names, self.values[row], strict=True):
            out += (repeat(name), column)
        return out

    def fields(self, row: int, step: int) -> list[Any]:
        """One tick's flat field list, e.g. for HSET."""
        flat: list[Any] = [V, VERSION, TS, self.stamps[step]]
        for name, column in zip(self.names, self.values[row], strict=True):
            flat += (name, column[step])
        return flat


def encode_arrays(arrays: TickArrays) -> EncodedArrays:
    """Encode every tick of ``arrays`` (see :class:`EncodedArrays`).

    Raises :class:`MarketDataError` when a timestamp cannot be an entry ID (below 1 ns).
    """
    stamps = np.asarray(arrays.timestamps_ns, dtype=np.int64)
    if stamps.size and int(stamps.min()) < 1:
        raise MarketDataError(f"timestamp {int(stamps.min())} ns cannot be a stream entry ID")
    ms, ns = np.divmod(stamps, _NS_PER_MS)
    ids: list[bytes] = np.strings.add(np.strings.add(ms.astype("S"), b"-"), ns.astype("S")).tolist()
    names = format_fields(arrays.tick_format)
    values: list[list[list[Any]]] = [[] for _ in arrays.symbols]
    for name in names:
        column = arrays.columns[name]  # (symbols, steps): one numpy pass for all rows
        rows = format_prices(column, arrays.tick_size) if name in PRICE_FIELDS else column.tolist()
        for row, items in enumerate(rows):
            values[row].append(items)
    return EncodedArrays(
        symbols=arrays.symbols,
        names=tuple(name.encode() for name in names),
        ids=ids,
        stamps=stamps.tolist(),
        values=values,
    )


# -- decoding (the specification: one entry at a time) ----------------------------------


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _texts(fields: Mapping[Any, Any]) -> tuple[dict[str, str], list[str]]:
    """Field names and values as str (they may come as bytes or str), plus problems."""
    out: dict[str, str] = {}
    problems: list[str] = []
    for raw_name, raw_value in fields.items():
        try:
            name = raw_name.decode("ascii") if isinstance(raw_name, bytes) else str(raw_name)
        except UnicodeDecodeError:
            problems.append(f"field name {raw_name!r} is not ASCII")
            continue
        if isinstance(raw_value, bytes):
            try:
                value = raw_value.decode("ascii")
            except UnicodeDecodeError:
                problems.append(f"field {name!r} is not ASCII: {raw_value[:40]!r}")
                continue
        elif isinstance(raw_value, str):
            value = raw_value
        else:
            problems.append(f"field {name!r} is not a string: {type(raw_value).__name__}")
            continue
        out[name] = value
    return out, problems


def infer_format(names: Iterable[str]) -> type[TickFormat] | None:
    """The variant a set of quote field names stands for (None: no quote field at all).

    Any depth field means ``full_depth``; else ``volume`` means ``with_volume``; else
    ``price`` means ``simple``. Missing or extra fields are then reported against it.
    """
    present = set(names)
    if present & _DEPTH_ONLY:
        return FullDepth
    if "volume" in present:
        return WithVolume
    if "price" in present:
        return Simple
    return None


def _integer(name: str, text: str, problems: list[str]) -> int:
    if not _INTEGER.fullmatch(text):
        problems.append(f"field {name!r} is not an integer: {_show(text)}")
        return 0
    value = int(text)
    if not _INT64_MIN <= value <= _INT64_MAX:
        problems.append(f"field {name!r} does not fit in int64: {_show(text)}")
    return value


def _decimal(name: str, text: str, problems: list[str]) -> Decimal:
    if not _DECIMAL.fullmatch(text):
        problems.append(f"field {name!r} is not a plain decimal number: {_show(text)}")
        return Decimal(0)
    return Decimal(text)


def _quote(cls: type[TickFormat], text: Mapping[str, str], problems: list[str]) -> TickFormat:
    def price(name: str) -> Decimal:
        return _decimal(name, text[name], problems)

    def size(name: str) -> int:
        return _integer(name, text[name], problems)

    if cls is Simple:
        return Simple(price=price("price"))
    if cls is WithVolume:
        return WithVolume(price=price("price"), volume=size("volume"))
    return FullDepth(
        bid_price=price("bid_price"),
        ask_price=price("ask_price"),
        bid_volume=size("bid_volume"),
        ask_volume=size("ask_volume"),
    )


def _decode(
    symbol: str, text: dict[str, str], problems: list[str], key: str, entry: str | None
) -> Tick:
    version = text.pop("v", None)
    if version is None:
        problems.append("missing field 'v' (format version)")
    elif version != str(FORMAT_VERSION):
        problems.append(f"unsupported format version {_show(version)} (this reader knows 1)")
        raise MalformedEntry(key, entry, "; ".join(problems))
    stamp_text = text.pop("ts", None)
    stamp = 0
    if stamp_text is None:
        problems.append("missing field 'ts' (timestamp in ns)")
    else:
        stamp = _integer("ts", stamp_text, problems)
    cls = infer_format(text)
    if cls is None:
        extra = f", found {', '.join(map(repr, sorted(text)))}" if text else ""
        problems.append(
            "no quote fields: expected price, price and volume, or "
            f"bid_price/ask_price/bid_volume/ask_volume{extra}"
        )
        raise MalformedEntry(key, entry, "; ".join(problems))
    expected = FORMAT_FIELDS[cls]
    tag = cls.__struct_config__.tag
    missing = [name for name in expected if name not in text]
    unknown = sorted(set(text) - set(expected))
    if missing:
        problems.append(f"missing field(s) {', '.join(map(repr, missing))} of format {tag}")
    if unknown:
        problems.append(f"unexpected field(s) {', '.join(map(repr, unknown))} for format {tag}")
    if missing:
        raise MalformedEntry(key, entry, "; ".join(problems))
    quote = _quote(cls, text, problems)
    if problems:
        raise MalformedEntry(key, entry, "; ".join(problems))
    return Tick(symbol=symbol, timestamp_ns=stamp, quote=quote)


def decode_tick(
    symbol: str, fields: Mapping[Any, Any], *, key: str, entry_id: str | None = None
) -> Tick:
    """The tick stored in one stream entry's ``fields`` (bytes or str names and values).

    Raises :class:`MalformedEntry` naming ``key``, ``entry_id`` and every problem: a
    missing or unknown field, another format version, a non-numeric value.
    """
    text, problems = _texts(fields)
    return _decode(symbol, text, problems, key, entry_id)


def decode_latest(symbol: str, fields: Mapping[Any, Any], *, key: str) -> tuple[Tick, str]:
    """The tick cached in a latest-tick hash and its stream entry ID.

    Raises :class:`MalformedEntry` as :func:`decode_tick` does, also for a missing ``id``.
    """
    text, problems = _texts(fields)
    stream_id = text.pop("id", None)
    if stream_id is None:
        problems.append("missing field 'id' (stream entry ID)")
    tick = _decode(symbol, text, problems, key, stream_id)
    assert stream_id is not None  # _decode raised otherwise
    return tick, stream_id


def flat_fields(fields: Mapping[bytes, bytes]) -> Sequence[bytes]:
    """``{name: value}`` as ``[name, value, ...]`` (for HSET or XADD argument lists)."""
    return [part for pair in fields.items() for part in pair]
