"""Generators: reproducible per-symbol streams, valid quotes, and the documented laws.

The statistical tests use about 5 standard errors: a correct generator fails them with
probability below one in a million, while the mistakes they guard against (a missing
Ito term, a wrong scale) sit tens of standard errors away.
"""

from __future__ import annotations

import math
from decimal import Decimal

import msgspec
import numpy as np
import pytest

from trading.market_data.config import MarketDataConfig, parse_config
from trading.market_data.generators import MAX_TICKS, TickArrays, TickGenerator
from trading.market_data.ticks import (
    BrownianMotion,
    FullDepth,
    GenerationStyle,
    RandomWalk,
    Simple,
    Tick,
    TickFormat,
    WithVolume,
    tick_fields,
)

GBM = BrownianMotion(drift=0.001, volatility=0.02, dt=0.1)
DEPTH = FullDepth(
    bid_price=Decimal("100.00"), ask_price=Decimal("100.05"), bid_volume=500, ask_volume=800
)


def config(
    symbols: tuple[str, ...] = ("AAPL", "GOOGL", "MSFT", "TSLA"),
    tick_format: TickFormat = DEPTH,
    style: GenerationStyle = GBM,
    seed: int | None = 42,
    tick_size: str = "0.01",
) -> MarketDataConfig:
    return MarketDataConfig(
        symbols=symbols,
        frequency_ms=100,
        tick_format=tick_format,
        generation_style=style,
        tick_size=Decimal(tick_size),
        seed=seed,
    )


def same(a: TickArrays, b: TickArrays) -> bool:
    return (
        np.array_equal(a.raw, b.raw)
        and np.array_equal(a.timestamps_ns, b.timestamps_ns)
        and a.columns.keys() == b.columns.keys()
        and all(np.array_equal(a.columns[k], b.columns[k]) for k in a.columns)
    )


def test_same_seed_same_ticks_other_seed_other_ticks() -> None:
    first = TickGenerator(config()).generate(500)
    assert same(first, TickGenerator(config()).generate(500))
    assert not same(first, TickGenerator(config(seed=43)).generate(500))


def test_streams_are_keyed_by_symbol() -> None:
    base = TickGenerator(config(symbols=("AAPL", "MSFT"))).generate(200)
    more = TickGenerator(config(symbols=("TSLA", "MSFT", "NEW", "AAPL"))).generate(200)
    for name, column in base.columns.items():
        assert np.array_equal(column[0], more.columns[name][3])  # AAPL
        assert np.array_equal(column[1], more.columns[name][1])  # MSFT
    assert not np.array_equal(base.raw[0], base.raw[1])


def test_chunking_does_not_change_the_ticks() -> None:
    whole = TickGenerator(config()).generate(20)
    parts = TickGenerator(config())
    first, second = parts.generate(7), parts.generate(13)
    for name, column in whole.columns.items():
        joined = np.concatenate([first.columns[name], second.columns[name]], axis=1)
        assert np.array_equal(column, joined)
    assert np.array_equal(whole.raw, np.concatenate([first.raw, second.raw], axis=1))
    assert parts.step == 20


def test_batches_match_generate_and_carry_exact_decimals() -> None:
    arrays = TickGenerator(config(), start_ns=1_000).generate(10)
    stream = TickGenerator(config(), start_ns=1_000).batches(chunk=3)
    from_arrays = list(arrays)
    for step in range(10):
        batch = next(stream)
        assert batch == from_arrays[step] == arrays.batch(step)
        assert [tick.symbol for tick in batch] == ["AAPL", "GOOGL", "MSFT", "TSLA"]
        assert {tick.timestamp_ns for tick in batch} == {1_000 + (step + 1) * 100_000_000}
    tick = from_arrays[0][0]
    assert isinstance(tick.quote, FullDepth)
    assert tick.quote.bid_price == Decimal(int(arrays.columns["bid_price"][0, 0])) / 100
    assert tick.quote.bid_price.as_tuple().exponent == -2  # on the 0.01 grid, as a Decimal


def test_full_depth_quotes_are_valid_on_extreme_paths() -> None:
    # a wild random walk starting one tick above the floor: reflection and the floor work
    style = RandomWalk(step_size=0.5, volatility=0.9)
    quote = FullDepth(
        bid_price=Decimal("0.01"), ask_price=Decimal("0.04"), bid_volume=1, ask_volume=3
    )
    arrays = TickGenerator(config(tick_format=quote, style=style)).generate(5_000)
    bid, ask = arrays.columns["bid_price"], arrays.columns["ask_price"]
    assert bid.dtype == np.int64 and (bid >= 1).all()
    assert ((ask - bid) == 3).all()  # the configured spread, in ticks
    for name in ("bid_volume", "ask_volume"):
        assert arrays.columns[name].dtype == np.int64 and (arrays.columns[name] >= 1).all()
    assert (arrays.raw < 0).any(), "the raw walk should have crossed zero in this setup"


def test_runaway_gbm_is_capped_not_overflowed() -> None:
    style = BrownianMotion(drift=1.0, volatility=0.1, dt=1.0)
    arrays = TickGenerator(config(tick_format=Simple(price=Decimal(1)), style=style)).generate(
        2_000
    )
    price = arrays.columns["price"]
    assert price.min() >= 1 and price.max() == MAX_TICKS
    assert np.isinf(arrays.raw).any()


@pytest.mark.parametrize(
    "quote",
    [
        Simple(price=Decimal("10.00")),
        WithVolume(price=Decimal("10.00"), volume=3),
        DEPTH,
    ],
)
@pytest.mark.parametrize("style", [GBM, RandomWalk(step_size=0.05, volatility=1.0)])
def test_every_format_and_style_yields_ticks_on_the_grid(
    quote: TickFormat, style: GenerationStyle
) -> None:
    arrays = TickGenerator(config(tick_format=quote, style=style, tick_size="0.05")).generate(50)
    assert set(arrays.columns) == set(quote.__struct_fields__)
    for batch in arrays:
        for tick in batch:
            assert type(tick.quote) is type(quote)
            fields = tick_fields(tick)
            for name, text in fields.items():
                if name.endswith("price"):
                    value = Decimal(text)
                    assert value > 0 and value % Decimal("0.05") == 0
                elif name.endswith("volume"):
                    assert int(text) >= 1
            encoded = msgspec.json.encode(tick)
            assert msgspec.json.decode(encoded, type=Tick) == tick


def test_fresh_entropy_is_reported_for_reproduction() -> None:
    unseeded = TickGenerator(config(seed=None))
    again = TickGenerator(config(seed=unseeded.seed))
    assert same(unseeded.generate(30), again.generate(30))


def test_invalid_hand_built_config_and_bad_step_count() -> None:
    from trading.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\$\.symbols\[1\]: duplicate"):
        TickGenerator(config(symbols=("A", "A")))
    with pytest.raises(ValueError, match="steps must be >= 1"):
        TickGenerator(config()).generate(0)


def test_example_config_generates() -> None:
    text = (
        '{"symbols": ["AAPL", "GOOGL", "MSFT", "TSLA"], "frequency_ms": 100, "tick_format":'
        ' {"type": "full_depth", "bid_price": 100.0, "ask_price": 100.05, "bid_volume": 500,'
        ' "ask_volume": 800}, "generation_style": {"type": "brownian_motion", "drift": 0.001,'
        ' "volatility": 0.02, "dt": 0.1}, "seed": 7}'
    )
    arrays = TickGenerator(parse_config(text)).generate(1_000)
    assert arrays.columns["bid_price"].shape == (4, 1_000)
    assert ((arrays.columns["ask_price"] - arrays.columns["bid_price"]) == 5).all()


# --- the documented laws --------------------------------------------------------------


def within(sample: float, expected: float, standard_error: float) -> bool:
    return abs(sample - expected) <= 5 * standard_error


@pytest.mark.parametrize(
    "style",
    [
        BrownianMotion(drift=0.02, volatility=0.2, dt=1.0),
        BrownianMotion(drift=0.5, volatility=0.3, dt=0.25),
    ],
)
def test_gbm_log_returns_have_the_documented_mean_and_std(style: BrownianMotion) -> None:
    # 100 symbols x 1000 steps = 100k log returns, computed from the raw (unrounded) path
    symbols = tuple(f"S{i}" for i in range(100))
    start = 50.0
    gen = TickGenerator(config(symbols, Simple(price=Decimal(50)), style, seed=2024))
    arrays = gen.generate(1_000)
    log_path = np.log(np.column_stack([np.full(100, start), arrays.raw]))
    returns = np.diff(log_path, axis=1).ravel()
    assert np.allclose(returns, arrays.increments.ravel(), atol=1e-9)
    n = returns.size
    mean = (style.drift - style.volatility**2 / 2) * style.dt
    std = style.volatility * math.sqrt(style.dt)
    assert within(float(returns.mean()), mean, std / math.sqrt(n))
    assert within(float(returns.std(ddof=1)), std, std / math.sqrt(2 * n))
    # the test can fail: forgetting the Ito term -sigma^2/2 would be caught
    assert not within(float(returns.mean()), style.drift * style.dt, std / math.sqrt(n))


def test_random_walk_increments_have_the_documented_mean_and_std() -> None:
    style = RandomWalk(step_size=0.05, volatility=3.0)
    symbols = tuple(f"S{i}" for i in range(10))
    arrays = TickGenerator(config(symbols, Simple(price=Decimal(1000)), style, seed=99)).generate(
        10_000
    )
    steps = np.diff(np.column_stack([np.full(10, 1000.0), arrays.raw]), axis=1).ravel()
    assert np.allclose(steps, arrays.increments.ravel(), atol=1e-9)
    n = steps.size
    std = style.step_size * style.volatility
    assert within(float(steps.mean()), 0.0, std / math.sqrt(n))
    assert within(float(steps.std(ddof=1)), std, std / math.sqrt(2 * n))
    assert not within(float(steps.std(ddof=1)), style.step_size, std / math.sqrt(2 * n))
    # published prices are the walk reflected at one tick, rounded to the grid
    reflected = 0.01 + np.abs(arrays.raw - 0.01)
    assert np.array_equal(arrays.columns["price"], np.maximum(np.rint(reflected / 0.01), 1))
