"""Seeded, vectorised tick generation with numpy.

Theory of operation
-------------------
Each symbol follows a one-dimensional *level* process (the price for ``simple`` and
``with_volume``, the mid price for ``full_depth``), started from the configured quote:

* ``brownian_motion`` (GBM): ``log S_{t+1} = log S_t + (drift - volatility**2 / 2) * dt
  + volatility * sqrt(dt) * Z``. The log-return increments are normal with mean
  ``(drift - volatility**2 / 2) * dt`` and standard deviation ``volatility * sqrt(dt)``.
  Prices are positive by construction.
* ``random_walk``: ``X_{t+1} = X_t + step_size * volatility * Z``: increments are normal
  with mean 0 and standard deviation ``step_size * volatility``. An arithmetic walk can
  cross zero, so the published level is the walk *reflected* at one tick,
  ``tick + |X_t - tick|`` (a reflected random walk: same step sizes, never below a tick).

``Z`` is standard normal. :class:`TickArrays` exposes the raw draws (``increments``)
and the raw path (``raw``, before reflection and rounding) so these laws can be tested.

From the level to a quote: prices are rounded to the nearest tick, with a floor of one
tick (and a cap of :data:`MAX_TICKS`, which only a runaway GBM reaches). A full-depth
quote keeps the configured spread, in whole ticks (at least one):
``bid = round(mid / tick - spread / 2)``, ``ask = bid + spread``, so ``bid < ask`` always.
Volumes are ``max(1, Poisson(configured volume))``: positive integers around the
configured size. Steps are numbered from 1; the configured quote is step 0 and is not
emitted. Step ``k`` is stamped ``start_ns + k * frequency_ms * 1_000_000``.

Reproducibility: every symbol has its own random streams, derived from
``SeedSequence(seed, spawn_key=(blake2b-64(symbol),))`` and spawned into three children
(level, first volume, second volume). Streams are therefore *keyed by symbol*: adding,
removing or reordering symbols never changes another symbol's ticks. The path is a
running sum that continues from the exact last value, so ``generate(7)`` then
``generate(13)`` gives bit-for-bit the same ticks as ``generate(20)``. (numpy documents
that its distributions may change between feature releases; same seed, same numpy.)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from trading.market_data.config import MarketDataConfig, validate_config
from trading.market_data.ticks import (
    BrownianMotion,
    FullDepth,
    RandomWalk,
    Simple,
    Tick,
    TickFormat,
    WithVolume,
    assert_never,
)

__all__ = ["MAX_TICKS", "TickArrays", "TickGenerator", "symbol_seed_sequence"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_NS_PER_MS = 1_000_000

#: Largest price in ticks (2**53: beyond it float64 no longer holds every integer).
MAX_TICKS = 2**53


def symbol_seed_sequence(seed: int, symbol: str) -> np.random.SeedSequence:
    """The root seed sequence of ``symbol``'s streams: independent of every other symbol,
    and stable across processes (blake2b, not Python's salted ``hash``)."""
    digest = hashlib.blake2b(symbol.encode(), digest_size=8).digest()
    return np.random.SeedSequence(seed, spawn_key=(int.from_bytes(digest, "big"),))


@dataclass(frozen=True, eq=False)
class TickArrays:
    """``steps`` generated steps for every symbol, as arrays (the backfill fast path).

    Arrays are shaped ``(len(symbols), steps)`` except ``timestamps_ns`` (``(steps,)``).
    ``columns`` holds the quote fields of ``tick_format`` by name: ``*_price`` columns
    are prices in whole ticks (multiply by ``tick_size``; exact as integers),
    ``*volume`` columns are sizes. ``increments`` and ``raw`` are the unrounded process
    (see the module doc). Iterating yields one list of :class:`Tick` per step.
    """

    symbols: tuple[str, ...]
    tick_size: Decimal
    tick_format: TickFormat
    timestamps_ns: IntArray
    increments: FloatArray
    raw: FloatArray
    columns: Mapping[str, IntArray]

    @property
    def steps(self) -> int:
        return int(self.timestamps_ns.shape[0])

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[list[Tick]]:
        lists = {name: column.tolist() for name, column in self.columns.items()}
        stamps = self.timestamps_ns.tolist()
        for step, stamp in enumerate(stamps):
            yield [
                Tick(symbol, stamp, self._quote(lists, row, step))
                for row, symbol in enumerate(self.symbols)
            ]

    def batch(self, step: int) -> list[Tick]:
        """The ticks of every symbol at ``step`` (0-based within these arrays)."""
        stamp = int(self.timestamps_ns[step])
        lists = {name: column[:, step : step + 1].tolist() for name, column in self.columns.items()}
        return [
            Tick(symbol, stamp, self._quote(lists, row, 0))
            for row, symbol in enumerate(self.symbols)
        ]

    def _price(self, ticks: int) -> Decimal:
        return Decimal(ticks) * self.tick_size

    def _quote(self, lists: dict[str, list[list[int]]], row: int, step: int) -> TickFormat:
        template = self.tick_format
        match template:
            case Simple():
                return Simple(price=self._price(lists["price"][row][step]))
            case WithVolume():
                return WithVolume(
                    price=self._price(lists["price"][row][step]),
                    volume=lists["volume"][row][step],
                )
            case FullDepth():
                return FullDepth(
                    bid_price=self._price(lists["bid_price"][row][step]),
                    ask_price=self._price(lists["ask_price"][row][step]),
                    bid_volume=lists["bid_volume"][row][step],
                    ask_volume=lists["ask_volume"][row][step],
                )
            case _:
                assert_never(template)


class TickGenerator:
    """Stateful generator for one :class:`MarketDataConfig`.

    ``generate(n)`` returns the next ``n`` steps as :class:`TickArrays`;
    :meth:`batches` yields lists of :class:`Tick` forever, for live publishing.
    ``seed`` is the config's seed, or fresh entropy when it has none (read it back from
    :attr:`seed` to reproduce a run). Raises :class:`~trading.errors.ConfigError` for an
    invalid config built in code.
    """

    def __init__(self, config: MarketDataConfig, *, start_ns: int = 0) -> None:
        self.config = validate_config(config)
        self.seed: int = config.seed if config.seed is not None else _fresh_entropy()
        self.start_ns = start_ns
        self.symbols = config.symbols
        self.tick_size = config.tick_size
        self._tick = float(config.tick_size)
        self._step = 0
        self._price_rngs: list[np.random.Generator] = []
        self._volume_rngs: list[tuple[np.random.Generator, np.random.Generator]] = []
        for symbol in self.symbols:
            level, first, second = symbol_seed_sequence(self.seed, symbol).spawn(3)
            self._price_rngs.append(np.random.default_rng(level))
            self._volume_rngs.append((np.random.default_rng(first), np.random.default_rng(second)))
        start = self._initial_level(config.tick_format)
        # GBM evolves log S, the random walk X itself; both continue from the exact last value.
        self._state: FloatArray = np.full(
            len(self.symbols), np.log(start) if self._is_gbm() else start, dtype=np.float64
        )

    @property
    def step(self) -> int:
        """Number of steps generated so far."""
        return self._step

    def _is_gbm(self) -> bool:
        style = self.config.generation_style
        match style:
            case BrownianMotion():
                return True
            case RandomWalk():
                return False
            case _:
                assert_never(style)

    @staticmethod
    def _initial_level(quote: TickFormat) -> float:
        match quote:
            case Simple() | WithVolume():
                return float(quote.price)
            case FullDepth():
                return float((quote.bid_price + quote.ask_price) / 2)
            case _:
                assert_never(quote)

    def _increments(self, steps: int) -> FloatArray:
        normals = np.empty((len(self.symbols), steps), dtype=np.float64)
        for row, rng in enumerate(self._price_rngs):
            normals[row] = rng.standard_normal(steps)
        style = self.config.generation_style
        match style:
            case BrownianMotion(drift=mu, volatility=sigma, dt=dt):
                return (mu - sigma * sigma / 2) * dt + sigma * math.sqrt(dt) * normals
            case RandomWalk(step_size=size, volatility=vol):
                return size * vol * normals
            case _:
                assert_never(style)

    def generate(self, steps: int) -> TickArrays:
        """The next ``steps`` steps for all symbols. Raises ``ValueError`` for ``steps < 1``."""
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        increments = self._increments(steps)
        # A sequential running sum seeded with the state: chunking never changes results.
        path = np.cumsum(np.column_stack([self._state, increments]), axis=1)[:, 1:]
        self._state = path[:, -1].copy()
        if self._is_gbm():
            with np.errstate(over="ignore", under="ignore"):  # extreme paths: inf/0, capped below
                raw = np.exp(path)
            level = raw
        else:
            raw = path
            level = self._tick + np.abs(path - self._tick)
        first = self._step + 1
        self._step += steps
        stamps = self.start_ns + np.arange(first, first + steps, dtype=np.int64) * (
            self.config.frequency_ms * _NS_PER_MS
        )
        return TickArrays(
            symbols=self.symbols,
            tick_size=self.tick_size,
            tick_format=self.config.tick_format,
            timestamps_ns=stamps,
            increments=increments,
            raw=raw,
            columns=MappingProxyType(self._columns(level, steps)),
        )

    def _columns(self, level: FloatArray, steps: int) -> dict[str, IntArray]:
        scaled = np.minimum(level, MAX_TICKS * self._tick) / self._tick  # inf -> the cap
        quote = self.config.tick_format
        match quote:
            case Simple():
                return {"price": _at_least_one(np.rint(scaled))}
            case WithVolume():
                return {
                    "price": _at_least_one(np.rint(scaled)),
                    "volume": self._volumes(quote.volume, 0, steps),
                }
            case FullDepth():
                spread = max(1, int((quote.ask_price - quote.bid_price) / self.tick_size))
                bid = _at_least_one(np.rint(scaled - spread / 2))
                return {
                    "bid_price": bid,
                    "ask_price": bid + spread,
                    "bid_volume": self._volumes(quote.bid_volume, 0, steps),
                    "ask_volume": self._volumes(quote.ask_volume, 1, steps),
                }
            case _:
                assert_never(quote)

    def _volumes(self, mean: int, stream: int, steps: int) -> IntArray:
        out = np.empty((len(self.symbols), steps), dtype=np.int64)
        for row, rngs in enumerate(self._volume_rngs):
            out[row] = rngs[stream].poisson(mean, steps)
        return np.maximum(out, 1)

    def batches(self, chunk: int = 1024) -> Iterator[list[Tick]]:
        """Endless lists of one :class:`Tick` per symbol, one list per step, generated
        ``chunk`` steps at a time (same ticks as :meth:`generate`, whatever ``chunk``)."""
        while True:
            yield from self.generate(chunk)


def _at_least_one(ticks: FloatArray) -> IntArray:
    """Whole ticks as int64, floored at one tick so no price is zero or negative, and
    capped at :data:`MAX_TICKS` so a runaway GBM path cannot overflow int64."""
    return np.clip(ticks, 1.0, float(MAX_TICKS)).astype(np.int64)


def _fresh_entropy() -> int:
    """128 bits from the OS, as numpy's SeedSequence draws them."""
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)
    return entropy
