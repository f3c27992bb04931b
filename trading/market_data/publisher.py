"""Publish generated ticks to Redis: live on a fixed schedule, or as a fast backfill.

Theory of operation
-------------------
**Wire.** Every tick batch (one tick per symbol) goes out as *one* non-transactional
pipeline: per symbol ``XADD <stream> MAXLEN ~ N <id> v 1 ts ... `` and ``HSET <latest>
v 1 ts ... id <id>``, encoded at once by resp3's ``pack_commands``, written with one
``sendall``, replies read in one pass (:func:`round_trip`). The entry ID is derived from
the tick timestamp (:func:`~.codec.entry_id`), so Redis itself refuses a second copy.

**Schedule.** Step ``k`` of the generator is stamped ``T0 + k * period`` and is due at
``M0 + (stamp - T0)`` on the monotonic clock, where ``(M0, T0)`` are read together when
``run`` starts. Due times are computed, never accumulated, so time spent publishing does
not push later ticks back (no drift). When the publisher wakes up a whole period or more
after a tick was due (a stall, a slow Redis), it **skips** to the newest due step: the
missed steps are still generated (so a given seed and start give the same price at the
same time whatever happened), counted as ``skipped``, and reported once per episode.
Catching up with a burst of stale ticks would only mislead the readers of the latest-tick
cache about when prices moved.

**Redis going away.** A batch that fails with a connection error or a timeout is sent
once more at once, on a fresh connection (a server restart closes the pooled one). That
is safe because of the explicit IDs: if the first copy did reach Redis, the second is
refused as "equal or smaller than the target stream top item", which counts as published
(``resent``), so a tick is never duplicated in a stream. If the second try fails too
(or Redis answers LOADING, still reading its data after a restart), the batch is
dropped and counted, one line says Redis is unreachable, and each later tick is tried
once until one succeeds, which is reported with the number dropped meanwhile. A tick
can therefore be *dropped* (Redis down at its due time) but never *duplicated*. The
HSET of a re-sent batch may run twice: it writes the same values.

**Conflicts.** An XADD refused on the *first* send (a stream already holding newer
entries: another publisher, or a clock set back) is counted as ``rejected`` and reported
once per distinct error; the publisher carries on.

**Backfill** (:func:`backfill`) writes ``steps`` generated steps with ``batch`` XADDs per
round trip, building each command with ``zip`` over the encoded columns (no Python code
per tick). It keeps one round trip in flight: batch ``k + 1`` is generated, encoded and
sent before the replies of batch ``k`` are read, so the client's work overlaps the
server's (Redis buffers the replies; nothing can deadlock, since it keeps reading).
Re-running it with the same seed and start writes nothing: every entry is refused as a
duplicate and counted as ``skipped``. Only entries newer than a stream's last entry can
be appended; history older than live data needs another key prefix.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Protocol

import resp3
from resp3 import (
    AuthenticationError,
    BusyLoadingError,
    Connection,
    ResponseError,
    pack_commands,
)
from trading.errors import MarketDataError
from trading.market_data.codec import ID, EncodedArrays, encode_arrays
from trading.market_data.config import MarketDataConfig, validate_config
from trading.market_data.generators import TickGenerator
from trading.market_data.keys import KeyLayout

__all__ = [
    "SYSTEM_CLOCK",
    "BackfillStats",
    "Clock",
    "Publisher",
    "PublisherStats",
    "SystemClock",
    "backfill",
    "is_duplicate",
    "publisher_client",
    "round_trip",
]

log = logging.getLogger("trading.market_data.publisher")

_NS = 1_000_000_000
_CHUNK = 64  # live steps generated and encoded at a time
_MAX_START_LAG_NS = 60 * _NS
_DUPLICATE = "equal or smaller than the target stream top item"


class Clock(Protocol):
    """Time as the publisher sees it; tests substitute a clock they advance by hand."""

    def monotonic_ns(self) -> int: ...

    def time_ns(self) -> int: ...

    def sleep(self, seconds: float, wake: threading.Event) -> None:
        """Wait ``seconds``, returning early once ``wake`` is set."""


class SystemClock:
    """``time.monotonic_ns``, ``time.time_ns``, and an Event wait (a stop wakes it)."""

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    def time_ns(self) -> int:
        return time.time_ns()

    def sleep(self, seconds: float, wake: threading.Event) -> None:
        wake.wait(seconds)


SYSTEM_CLOCK = SystemClock()


def publisher_client(url: str, **options: Any) -> resp3.Redis:
    """A client suited to publishing: 1 s socket timeout, 0.25 s connect timeout, and
    ``Retry(0)``, since the publisher decides itself when a batch is sent again."""
    settings: dict[str, Any] = {
        "socket_timeout": 1.0,
        "socket_connect_timeout": 0.25,
        "retry": resp3.Retry(0),
    }
    settings.update(options)
    return resp3.Redis.from_url(url, **settings)


def round_trip(client: resp3.Redis, commands: Sequence[Sequence[Any]]) -> list[Any]:
    """Send ``commands`` as one non-transactional pipeline; replies in order, error
    replies as ``ResponseError`` values. Connection errors and timeouts propagate (the
    connection is then closed and dropped from the pool)."""
    data = pack_commands(commands)
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        conn.send(data)
        return [conn.read_reply() for _ in range(len(commands))]
    finally:
        pool.release(conn)


def is_duplicate(reply: object) -> bool:
    """True for Redis's refusal of an entry ID not above the stream's last one."""
    return isinstance(reply, ResponseError) and _DUPLICATE in str(reply)


def _seconds(ns: int) -> float:
    return ns / _NS


@dataclass
class PublisherStats:
    """Counts in ticks (one tick = one symbol at one step) unless named otherwise."""

    symbols: int = 0
    batches: int = 0
    published: int = 0
    resent: int = 0
    dropped: int = 0
    skipped: int = 0
    rejected: int = 0
    outages: int = 0
    elapsed_s: float = 0.0
    last_id: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        rate = self.published / self.elapsed_s if self.elapsed_s > 0 else 0.0
        return (
            f"published {self.published} ticks in {self.batches} batches over "
            f"{self.elapsed_s:.1f} s ({rate:.1f} ticks/s); dropped {self.dropped}, "
            f"skipped {self.skipped}, rejected {self.rejected}, resent {self.resent}, "
            f"outages {self.outages}"
        )


class Publisher:
    """Publishes ``config``'s symbols live: one tick per symbol every ``frequency_ms``.

    ``generator`` continues an existing :class:`TickGenerator` (after a backfill);
    by default one is made at ``run`` time, stamped from the clock. ``on_batch`` is called
    after every step attempt (published, dropped or rejected). The client is the
    caller's to close (``with Publisher(...)`` closes it on exit).
    """

    def __init__(
        self,
        client: resp3.Redis,
        config: MarketDataConfig,
        *,
        generator: TickGenerator | None = None,
        layout: KeyLayout | None = None,
        clock: Clock = SYSTEM_CLOCK,
        on_batch: Callable[[Publisher], None] | None = None,
    ) -> None:
        self.client = client
        self.config = validate_config(config)
        self.layout = layout or KeyLayout()
        self.clock = clock
        self.on_batch = on_batch
        self.generator = generator
        self.stats = PublisherStats(symbols=len(self.config.symbols))
        self._period = self.config.frequency_ms * 1_000_000
        self._stop = threading.Event()
        self._streams = [self.layout.stream(s).encode() for s in self.config.symbols]
        self._latest = [self.layout.latest(s).encode() for s in self.config.symbols]
        self._encoded: EncodedArrays | None = None
        self._index = 0
        self._down_since: int | None = None
        self._dropped_at_outage = 0
        self._behind = False
        self._cleared = False
        self._errors_seen: set[str] = set()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()

    def stop(self) -> None:
        """Ask ``run`` to return after the batch in progress (safe from a signal handler)."""
        self._stop.set()

    @property
    def connected(self) -> bool:
        """False between a failed batch and the next successful one."""
        return self._down_since is None

    # -- the generated steps ---------------------------------------------------------

    def _current(self) -> tuple[EncodedArrays, int]:
        if self._encoded is None or self._index >= self._encoded.steps:
            assert self.generator is not None
            self._encoded = encode_arrays(self.generator.generate(_CHUNK))
            self._index = 0
        return self._encoded, self._index

    def _skip(self, steps: int) -> None:
        """Advance ``steps`` steps; whole chunks are generated and discarded, unencoded."""
        encoded, index = self._current()
        left = encoded.steps - index
        if steps < left:
            self._index += steps
            return
        steps -= left
        assert self.generator is not None
        while steps > _CHUNK:
            chunk = min(steps - _CHUNK, 1 << 16)
            self.generator.generate(chunk)
            steps -= chunk
        self._encoded = None
        self._current()
        self._index = steps

    # -- the loop ----------------------------------------------------------------------

    def run(self, duration: float | None = None) -> PublisherStats:
        """Publish until :meth:`stop` (or a signal handler calling it), or for ``duration``
        seconds: the steps due within ``(start, start + duration]``. Returns the stats.

        Raises :class:`MarketDataError` when a given generator's next step is more than
        a minute in the past, and ``AuthenticationError`` when Redis refuses the client.
        """
        clock = self.clock
        mono0, wall0 = clock.monotonic_ns(), clock.time_ns()
        if self.generator is None:
            self.generator = TickGenerator(self.config, start_ns=wall0)
        end = None if duration is None else mono0 + round(duration * _NS)
        encoded, index = self._current()
        lag = wall0 - encoded.stamps[index]
        if lag > _MAX_START_LAG_NS:
            raise MarketDataError(
                f"the generator's next tick is stamped {_seconds(lag):.0f} s in the past; "
                "start it closer to now"
            )
        try:
            while not self._stop.is_set():
                encoded, index = self._current()
                due = mono0 + (encoded.stamps[index] - wall0)
                if end is not None and due > end:
                    break
                now = clock.monotonic_ns()
                if now < due:
                    clock.sleep(_seconds(due - now), self._stop)
                    continue
                late_steps = (now - due) // self._period
                if late_steps:
                    self._fall_behind(late_steps, now - due)
                    continue
                self._behind = False
                self._publish(encoded, index)
                self._index += 1
                if self.on_batch is not None:
                    self.on_batch(self)
        finally:
            self.stats.elapsed_s = _seconds(clock.monotonic_ns() - mono0)
        return self.stats

    def _fall_behind(self, steps: int, late_ns: int) -> None:
        self.stats.skipped += steps * self.stats.symbols
        if not self._behind:
            log.warning(
                "behind schedule by %.0f ms: skipping %d step(s) to publish the current tick",
                late_ns / 1e6,
                steps,
            )
        self._behind = True
        self._skip(steps)

    def _commands(self, encoded: EncodedArrays, index: int) -> list[tuple[Any, ...]]:
        maxlen = self.config.stream_maxlen
        stream_id = encoded.ids[index]
        commands: list[tuple[Any, ...]] = []
        if not self._cleared:  # a previous run may have cached another format's fields
            commands.append((b"DEL", *self._latest))
        for row in range(self.stats.symbols):
            fields = encoded.fields(row, index)
            commands.append(
                (b"XADD", self._streams[row], b"MAXLEN", b"~", maxlen, stream_id, *fields)
            )
            commands.append((b"HSET", self._latest[row], *fields, ID, stream_id))
        return commands

    def _publish(self, encoded: EncodedArrays, index: int) -> None:
        commands = self._commands(encoded, index)
        tries = 2 if self._down_since is None else 1
        for attempt in range(tries):
            try:
                replies = round_trip(self.client, commands)
            except AuthenticationError:
                raise
            except (resp3.ConnectionError, resp3.TimeoutError, OSError) as exc:
                if attempt == tries - 1:
                    self._went_down(exc)
                    return
                continue
            loading = next((r for r in replies if isinstance(r, BusyLoadingError)), None)
            if loading is not None:  # restarted with persistence, still loading its data
                self._went_down(loading)
                return
            self._came_back()
            self._count(replies if self._cleared else replies[1:], encoded.ids[index], attempt > 0)
            self._cleared = True
            return

    def _count(self, replies: list[Any], stream_id: bytes, resent: bool) -> None:
        stats = self.stats
        stats.batches += 1
        for row, symbol in enumerate(self.config.symbols):
            xadd, hset = replies[2 * row], replies[2 * row + 1]
            if not isinstance(xadd, ResponseError):
                stats.published += 1
                stats.last_id[symbol] = stream_id.decode()
            elif resent and is_duplicate(xadd):
                stats.published += 1
                stats.resent += 1
                stats.last_id[symbol] = stream_id.decode()
            else:
                stats.rejected += 1
                self._report_error(self._streams[row], "XADD", xadd)
            if isinstance(hset, ResponseError):
                self._report_error(self._latest[row], "HSET", hset)

    def _report_error(self, key: bytes, command: str, error: ResponseError) -> None:
        message = f"{key.decode()}: {command} refused: {error}"
        if message not in self._errors_seen and len(self._errors_seen) < 32:
            self._errors_seen.add(message)
            log.error("%s (reported once; counted as rejected)", message)

    def _went_down(self, exc: BaseException) -> None:
        self.stats.dropped += self.stats.symbols
        if self._down_since is None:
            self._down_since = self.clock.monotonic_ns()
            self._dropped_at_outage = self.stats.dropped - self.stats.symbols
            self.stats.outages += 1
            log.warning(
                "redis at %s unreachable (%s); dropping ticks until it answers again",
                self.client.config.address,
                exc,
            )

    def _came_back(self) -> None:
        if self._down_since is None:
            return
        down = _seconds(self.clock.monotonic_ns() - self._down_since)
        dropped = self.stats.dropped - self._dropped_at_outage
        self._down_since = None
        log.warning(
            "redis at %s is back after %.1f s; %d ticks dropped meanwhile",
            self.client.config.address,
            down,
            dropped,
        )


# -- backfill ----------------------------------------------------------------------------


@dataclass
class BackfillStats:
    """``written`` entries were appended, ``skipped`` were already there (or older than
    the stream's last entry); counts in ticks."""

    steps: int = 0
    written: int = 0
    skipped: int = 0
    round_trips: int = 0
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float:
        """Ticks handled (written or skipped) per second."""
        return (self.written + self.skipped) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        return (
            f"backfilled {self.steps} steps: {self.written} ticks written, {self.skipped} "
            f"already present, {self.round_trips} round trips in {self.elapsed_s:.2f} s "
            f"({self.rate:,.0f} ticks/s)"
        )


def backfill(
    client: resp3.Redis,
    generator: TickGenerator,
    steps: int,
    *,
    layout: KeyLayout | None = None,
    batch: int = 1000,
    maxlen: int | None = None,
) -> BackfillStats:
    """Write the generator's next ``steps`` steps for every symbol, ``batch`` XADDs per
    round trip, trimming streams to about ``maxlen`` (default: the config's
    ``stream_maxlen``), then cache each symbol's newest written tick in its hash.

    Idempotent for a given seed and start (see the module doc). Raises
    :class:`MarketDataError` if Redis refuses an entry for any other reason (wrong key
    type, out of memory), after the round trip in progress; connection errors propagate,
    and re-running the same backfill then completes it.
    """
    if steps < 1 or batch < 1:
        raise ValueError(f"steps and batch must be >= 1, got {steps} and {batch}")
    layout = layout or KeyLayout()
    symbols = generator.config.symbols
    streams = [layout.stream(s).encode() for s in symbols]
    trim = generator.config.stream_maxlen if maxlen is None else maxlen
    per_round = max(1, batch // len(symbols))
    stats = BackfillStats()
    newest: dict[int, list[Any]] = {}
    started = time.perf_counter()
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        in_flight: EncodedArrays | None = None
        while stats.steps < steps:
            encoded = encode_arrays(generator.generate(min(per_round, steps - stats.steps)))
            commands: list[tuple[Any, ...]] = []
            for row, stream in enumerate(streams):
                head = (repeat(b"XADD"), repeat(stream), repeat(b"MAXLEN"), repeat(b"~"))
                fields = encoded.entry_fields(row)
                commands += zip(*head, repeat(trim), encoded.ids, *fields, strict=False)
            conn.send(pack_commands(commands))
            stats.steps += encoded.steps
            if in_flight is not None:  # read the previous trip while Redis runs this one
                _collect(conn, stats, in_flight, streams, newest)
            in_flight = encoded
        if in_flight is not None:
            _collect(conn, stats, in_flight, streams, newest)
    except BaseException:
        conn.disconnect()  # replies may be left unread: never reuse this connection
        raise
    finally:
        pool.release(conn)
    if newest:
        cache = []
        for row, fields in newest.items():
            key = layout.latest(symbols[row]).encode()
            cache += [(b"DEL", key), (b"HSET", key, *fields)]
        round_trip(client, cache)
        stats.round_trips += 1
    stats.elapsed_s = time.perf_counter() - started
    return stats


def _collect(
    conn: Connection,
    stats: BackfillStats,
    encoded: EncodedArrays,
    streams: list[bytes],
    newest: dict[int, list[Any]],
) -> None:
    """Read one batch's replies; count them; remember each symbol's newest written tick."""
    replies = [conn.read_reply() for _ in range(encoded.steps * len(streams))]
    stats.round_trips += 1
    n = encoded.steps
    for row, stream in enumerate(streams):
        last_written = -1
        for step, reply in enumerate(replies[row * n : (row + 1) * n]):
            if not isinstance(reply, ResponseError):
                stats.written += 1
                last_written = step
            elif is_duplicate(reply):
                stats.skipped += 1
            else:
                raise MarketDataError(
                    f"{stream.decode()}: XADD {encoded.ids[step].decode()} refused: {reply}"
                )
        if last_written >= 0:
            newest[row] = [*encoded.fields(row, last_written), ID, encoded.ids[last_written]]
