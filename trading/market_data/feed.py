"""Read ticks back: a live feed over ``XREAD BLOCK``, a history loader over ``XRANGE``,
and the latest-tick cache.

Theory of operation
-------------------
:class:`Feed` keeps one position per stream (the last entry ID it handed out) and asks
for anything newer with ``XREAD BLOCK``. A start of ``$`` ("only new ticks") is resolved
to each stream's current last ID on the first read, because re-sending ``$`` after an
empty wait would skip entries added between two reads. When Redis goes away (or answers
LOADING after a restart) the feed reports it once, waits, reconnects and carries on
from the positions it had. Nothing written after the restart is missed: publishers
stamp IDs with the tick time, which keeps increasing across the restart. A malformed
entry is reported to ``on_malformed`` (default: a log warning), counted, and skipped;
it never ends the iteration.

:func:`load_history` pages through ``XRANGE`` (``COUNT page``) between two times (the
entry IDs are tick times, see :mod:`.codec`) and returns a numpy structured array. Prices
are **float64**: the array is for analysis, the loader needs no tick size, and a decimal
of up to 15 significant digits is the nearest float64 and comes back from ``repr``
unchanged. Integer ticks are ``np.rint(prices / float(tick_size))``, exact while a price
is below 2**52 ticks. (The exact decimals stay in Redis and in :class:`Tick` objects.)
Entries in the page are checked column-wise with numpy string ufuncs; only entries that
fail the quick check go through the per-entry decoder, which either names the problem
or accepts a rarer but valid spelling (a negative value, a 19-digit integer).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import numpy.typing as npt

import resp3
from resp3 import AuthenticationError, BusyLoadingError
from trading.errors import MalformedEntry
from trading.market_data.codec import (
    FORMAT_FIELDS,
    PRICE_FIELDS,
    decode_latest,
    decode_tick,
    encode_tick,
    entry_id,
)
from trading.market_data.keys import KeyLayout
from trading.market_data.ticks import Tick, TickFormat

__all__ = ["Feed", "history_dtype", "latest_tick", "load_history"]

log = logging.getLogger("trading.market_data.feed")

MalformedHandler = Callable[[MalformedEntry], None]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _warn(error: MalformedEntry) -> None:
    log.warning("skipping malformed tick: %s", error)


def _entries(reply: Any) -> Iterator[tuple[Any, Any]]:
    """(stream key, entries) pairs of an XREAD reply, RESP3 map or RESP2 list."""
    if isinstance(reply, dict):
        for key, wrapped in reply.items():
            for entries in wrapped:
                yield key, entries
    else:
        for key, entries in reply or ():
            yield key, entries


class Feed:
    """An endless iterator of :class:`Tick` from the streams of ``symbols``.

    ``start`` is ``"$"`` (ticks published from now on), ``"0"`` (everything kept), an
    entry ID, or a mapping of symbol to ID. ``block_ms`` bounds how long one read waits,
    and so how soon :meth:`stop` takes effect; it must be shorter than the client's
    ``socket_timeout``. ``last_ids`` holds the position per symbol, for resuming later.
    """

    def __init__(
        self,
        client: resp3.Redis,
        symbols: Iterable[str],
        *,
        layout: KeyLayout | None = None,
        start: str | Mapping[str, str] = "$",
        block_ms: int = 1000,
        count: int = 1000,
        on_malformed: MalformedHandler | None = None,
        retry_delay: float = 0.2,
    ) -> None:
        self.client = client
        self.symbols = tuple(symbols)
        if not self.symbols:
            raise ValueError("a feed needs at least one symbol")
        timeout = client.config.socket_timeout
        if timeout is not None and block_ms / 1000 >= timeout:
            raise ValueError(f"block_ms={block_ms} must be below the socket timeout ({timeout} s)")
        self.layout = layout or KeyLayout()
        self.block_ms = block_ms
        self.count = count
        self.on_malformed = on_malformed or _warn
        self.retry_delay = retry_delay
        self.malformed = 0
        self.reconnects = 0
        starts = start if isinstance(start, Mapping) else dict.fromkeys(self.symbols, start)
        self.last_ids: dict[str, str] = {s: starts.get(s, "$") for s in self.symbols}
        self._keys = {s: self.layout.stream(s) for s in self.symbols}
        self._stop = threading.Event()
        self._lost = False

    def stop(self) -> None:
        """End the iteration after the current read (at most ``block_ms`` later)."""
        self._stop.set()

    def resolve_start(self) -> None:
        """Pin a ``$`` start to each stream's current last ID (``0-0`` if it has none).

        Done by the first read; call it earlier to fix "from now on" to this moment.
        """
        pending = [s for s, position in self.last_ids.items() if position == "$"]
        if not pending:
            return
        with self.client.pipeline(transaction=False) as pipe:
            for symbol in pending:
                pipe.xrevrange(self._keys[symbol], count=1)
            replies = pipe.execute()
        for symbol, newest in zip(pending, replies, strict=True):
            self.last_ids[symbol] = _text(newest[0][0]) if newest else "0-0"

    def _read(self) -> Any:
        self.resolve_start()
        streams = {self._keys[s]: self.last_ids[s] for s in self.symbols}
        return self.client.xread(streams, count=self.count, block=self.block_ms)

    def __iter__(self) -> Iterator[Tick]:
        while not self._stop.is_set():
            try:
                reply = self._read()
            except AuthenticationError:
                raise
            except (resp3.ConnectionError, resp3.TimeoutError, BusyLoadingError, OSError) as exc:
                if not self._lost:
                    self._lost = True
                    log.warning(
                        "feed lost redis at %s (%s); retrying", self.client.config.address, exc
                    )
                self._stop.wait(self.retry_delay)
                continue
            if self._lost:
                self._lost = False
                self.reconnects += 1
                log.warning("feed reconnected to %s", self.client.config.address)
            for key, entries in _entries(reply):
                yield from self._ticks(_text(key), entries)

    def _ticks(self, key: str, entries: Iterable[Any]) -> Iterator[Tick]:
        symbol = self.layout.symbol_of(key)
        for raw_id, fields in entries:
            stream_id = _text(raw_id)
            self.last_ids[symbol] = stream_id
            try:
                tick = decode_tick(symbol, fields or {}, key=key, entry_id=stream_id)
            except MalformedEntry as error:
                self.malformed += 1
                self.on_malformed(error)
                continue
            yield tick


def latest_tick(
    client: resp3.Redis, symbol: str, *, layout: KeyLayout | None = None
) -> tuple[Tick, str] | None:
    """The cached newest tick of ``symbol`` and its stream entry ID, or None if no hash.

    Raises :class:`MalformedEntry` (naming the hash key) for a hash not in the format.
    """
    key = (layout or KeyLayout()).latest(symbol)
    fields = client.hgetall(key)
    if not fields:
        return None
    return decode_latest(symbol, fields, key=key)


# -- history -----------------------------------------------------------------------------


def history_dtype(tick_format: type[TickFormat]) -> np.dtype[Any]:
    """``timestamp_ns`` int64, then the format's fields: prices float64, volumes int64."""
    fields: list[tuple[str, type[np.generic]]] = [("timestamp_ns", np.int64)]
    for name in FORMAT_FIELDS[tick_format]:
        fields.append((name, np.float64 if name in PRICE_FIELDS else np.int64))
    return np.dtype(fields)


def _bound(value: int | datetime | None, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value} is ambiguous; give it a timezone")
        value = (value - _EPOCH) // timedelta(microseconds=1) * 1000
    return entry_id(max(value, 1)).decode()


def _successor(stream_id: str) -> str:
    ms, _, seq = stream_id.partition("-")
    if int(seq) >= 2**64 - 1:
        return f"{int(ms) + 1}-0"
    return f"{ms}-{int(seq) + 1}"


def load_history(
    client: resp3.Redis,
    symbol: str,
    start: int | datetime | None,
    end: int | datetime | None,
    *,
    layout: KeyLayout | None = None,
    tick_format: type[TickFormat] | None = None,
    page: int = 10_000,
    on_malformed: MalformedHandler | None = None,
) -> npt.NDArray[Any]:
    """``symbol``'s ticks stamped in ``[start, end]`` (ns since the epoch, aware datetimes,
    or None for unbounded) as a structured array of :func:`history_dtype`.

    The format is ``tick_format`` if given, else the first valid entry's. An entry that
    is malformed or of another format raises :class:`MalformedEntry` (naming the stream
    and entry ID), unless ``on_malformed`` is given: it is then called and the entry
    skipped. With no entries and no ``tick_format`` the array has only ``timestamp_ns``.
    """
    if page < 1:
        raise ValueError(f"page must be >= 1, got {page}")
    key = (layout or KeyLayout()).stream(symbol)
    low, high = _bound(start, "-"), _bound(end, "+")
    builder = _HistoryBuilder(symbol, key, tick_format, on_malformed)
    while True:
        entries = client.xrange(key, low, high, count=page) or []
        builder.add(entries)
        if len(entries) < page:
            return builder.array()
        last_id = entries[-1][0]
        assert last_id is not None  # only XREADGROUP returns null entries
        low = _successor(_text(last_id))


class _HistoryBuilder:
    """Collects raw values per column, then converts and checks them with numpy."""

    def __init__(
        self,
        symbol: str,
        key: str,
        tick_format: type[TickFormat] | None,
        on_malformed: MalformedHandler | None,
    ) -> None:
        self.symbol = symbol
        self.key = key
        self.on_malformed = on_malformed
        self.format: type[TickFormat] | None = None
        self.ids: list[str] = []
        self.raw: list[tuple[Any, Any]] = []
        self.columns: list[list[Any]] = []
        self.names: tuple[str, ...] = ()
        self.byte_names: tuple[bytes, ...] = ()
        self.expected: tuple[frozenset[bytes], frozenset[str]] = (frozenset(), frozenset())
        if tick_format is not None:
            self._set_format(tick_format)

    def _set_format(self, tick_format: type[TickFormat]) -> None:
        self.format = tick_format
        self.names = ("ts", *FORMAT_FIELDS[tick_format])
        self.byte_names = tuple(n.encode() for n in self.names)
        self.columns = [[] for _ in self.names]
        names = {"v", *self.names}
        self.expected = (frozenset(n.encode() for n in names), frozenset(names))

    def _reject(self, error: MalformedEntry) -> None:
        if self.on_malformed is None:
            raise error
        self.on_malformed(error)

    def add(self, entries: Iterable[tuple[Any, Any]]) -> None:
        for raw_id, fields in entries:
            if self.format is not None and fields:
                keys = fields.keys()
                as_bytes, as_text = self.expected
                if keys == as_bytes and fields[b"v"] == b"1":
                    self._append(raw_id, fields, [fields[n] for n in self.byte_names])
                    continue
                if keys == as_text and fields["v"] == "1":
                    self._append(raw_id, fields, [fields[n] for n in self.names])
                    continue
            tick = self._decode(_text(raw_id), fields)
            if tick is not None:
                encoded = encode_tick(tick)
                self._append(raw_id, fields, [encoded[n.encode()] for n in self.names])

    def _append(self, raw_id: Any, fields: Any, values: list[Any]) -> None:
        self.ids.append(_text(raw_id))
        self.raw.append((raw_id, fields))
        for column, value in zip(self.columns, values, strict=True):
            column.append(value)

    def _decode(self, stream_id: str, fields: Any) -> Tick | None:
        try:
            tick = decode_tick(self.symbol, fields or {}, key=self.key, entry_id=stream_id)
        except MalformedEntry as error:
            self._reject(error)
            return None
        kind = type(tick.quote)
        if self.format is None:
            self._set_format(kind)
        elif kind is not self.format:
            found, wanted = kind.__struct_config__.tag, self.format.__struct_config__.tag
            self._reject(
                MalformedEntry(self.key, stream_id, f"format {found}, but this history is {wanted}")
            )
            return None
        return tick

    def array(self) -> npt.NDArray[Any]:
        if self.format is None:
            return np.empty(0, dtype=np.dtype([("timestamp_ns", np.int64)]))
        dtype = history_dtype(self.format)
        raw = [np.array(column) if column else np.array([], dtype="S1") for column in self.columns]
        good = np.ones(len(self.ids), dtype=bool)
        for name, column in zip(self.names, raw, strict=True):
            good &= _decimal_ok(column) if name in PRICE_FIELDS else _integer_ok(column)
        keep = np.ones(len(self.ids), dtype=bool)
        fixes: dict[int, Tick] = {}
        for position in np.flatnonzero(~good).tolist():
            fields = self.raw[position][1]
            tick = self._decode(self.ids[position], fields)
            if tick is None:
                keep[position] = False
            else:
                fixes[position] = tick
        out = np.empty(len(self.ids), dtype=dtype)
        for name, column in zip(self.names, raw, strict=True):
            zero = "0" if column.dtype.kind == "U" else b"0"
            out["timestamp_ns" if name == "ts" else name] = np.where(good, column, zero).astype(
                dtype["timestamp_ns" if name == "ts" else name]
            )
        for position, tick in fixes.items():
            out[position] = _row(tick, self.names)
        return out[keep]


def _signless(column: npt.NDArray[Any]) -> npt.NDArray[Any]:
    minus = "-" if column.dtype.kind == "U" else b"-"
    return np.where(np.strings.startswith(column, minus), np.strings.slice(column, 1, None), column)


def _integer_ok(column: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    body = _signless(column)
    return np.asarray(np.strings.isdigit(body) & (np.strings.str_len(body) <= 18))


def _decimal_ok(column: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    dot = "." if column.dtype.kind == "U" else b"."
    whole, sep, frac = np.strings.partition(_signless(column), dot)
    return np.asarray(
        np.strings.isdigit(whole) & ((sep == sep.dtype.type()) | np.strings.isdigit(frac))
    )


def _row(tick: Tick, names: tuple[str, ...]) -> tuple[Any, ...]:
    values: list[Any] = [tick.timestamp_ns]
    for name in names[1:]:
        value = getattr(tick.quote, name)
        values.append(float(value) if name in PRICE_FIELDS else value)
    return tuple(values)
