"""Helpers shared by the market-data server tests: a hand-driven clock, small configs."""

from __future__ import annotations

import threading
from typing import cast

import resp3
from trading.market_data.config import MarketDataConfig, parse_config

WALL0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z, in ns


class FakeClock:
    """Monotonic and wall time that move only when the test (or a sleep) moves them."""

    def __init__(self, wall: int = WALL0) -> None:
        self.mono = 5_000_000_000
        self._mono0 = self.mono
        self.wall0 = wall
        self.sleeps: list[int] = []

    def monotonic_ns(self) -> int:
        return self.mono

    def time_ns(self) -> int:
        return self.wall0 + (self.mono - self._mono0)

    def sleep(self, seconds: float, wake: threading.Event) -> None:
        ns = round(seconds * 1e9)
        self.sleeps.append(ns)
        self.mono += ns

    def advance(self, ns: int) -> None:
        self.mono += ns


def make_config(
    tick_format: str = "full_depth", frequency_ms: int = 100, **extra: object
) -> MarketDataConfig:
    """Three symbols (one with a dot), seed 11, the given format; ``extra`` config keys."""
    quotes = {
        "simple": '{"type": "simple", "price": 100.05}',
        "with_volume": '{"type": "with_volume", "price": 20.5, "volume": 300}',
        "full_depth": '{"type": "full_depth", "bid_price": 100.0, "ask_price": 100.05,'
        ' "bid_volume": 500, "ask_volume": 800}',
    }
    options = "".join(f', "{k}": {v}' for k, v in extra.items())
    return parse_config(
        '{"symbols": ["AAPL", "MSFT", "BRK.B"], "seed": 11,'
        f' "frequency_ms": {frequency_ms},'
        f' "tick_format": {quotes[tick_format]},'
        ' "generation_style": {"type": "brownian_motion", "drift": 0.001, "volatility": 0.2,'
        f' "dt": 0.1}}{options}}}'
    )


def stream_entries(client: resp3.Redis, key: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """XRANGE of the whole stream, typed as a bytes client returns it."""
    return cast("list[tuple[bytes, dict[bytes, bytes]]]", client.xrange(key) or [])
