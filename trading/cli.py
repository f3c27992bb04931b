"""The ``ocamlot`` console command (also ``python -m trading``).

``ocamlot market-data --config FILE [--redis-url URL] [--seed N] [--duration S] [--backfill N]``
publishes simulated ticks to Redis until SIGINT/SIGTERM or for ``--duration`` seconds,
optionally writing ``--backfill N`` steps of history first. ``REDIS_HOST`` and
``REDIS_PORT`` give the default URL. ``ocamlot demo`` starts a throw-away server,
publishes the example config for a few seconds, reads the history back and stops it.

Exit status: 0 on success (a signal is a normal way to stop a publishing run), 1 when
Redis refused or could not be reached where that is fatal (backfill, demo), 2 for bad
arguments or a bad configuration file, 130 for ^C outside a publishing run.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import msgspec

import resp3
from trading.errors import ConfigError, TradingError
from trading.market_data.codec import decode_latest
from trading.market_data.config import MarketDataConfig, load_config, parse_config
from trading.market_data.feed import load_history
from trading.market_data.generators import TickGenerator
from trading.market_data.keys import DEFAULT_PREFIX, KeyLayout
from trading.market_data.publisher import Publisher, backfill, publisher_client
from trading.market_data.ticks import FullDepth, Simple, Tick, WithVolume, assert_never

__all__ = ["build_parser", "default_redis_url", "main"]

log = logging.getLogger("trading.cli")

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "examples" / "market_data.json"
#: The example config, for an installed package that has no examples/ folder.
BUILTIN_CONFIG = (
    b'{"symbols": ["AAPL", "GOOGL", "MSFT", "TSLA"], "frequency_ms": 100,'
    b' "tick_format": {"type": "full_depth", "bid_price": 100.0, "ask_price": 100.05,'
    b' "bid_volume": 500, "ask_volume": 800},'
    b' "generation_style": {"type": "brownian_motion", "drift": 0.001,'
    b' "volatility": 0.02, "dt": 0.1}}'
)


def default_redis_url(env: dict[str, str] | None = None) -> str:
    """``redis://$REDIS_HOST:$REDIS_PORT/0`` (defaults localhost and 6379)."""
    env = dict(os.environ) if env is None else env
    host = env.get("REDIS_HOST") or "localhost"
    port = env.get("REDIS_PORT") or "6379"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"REDIS_PORT must be a port number, got {port!r}")
    return f"redis://{host}:{port}/0"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocamlot", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    md = commands.add_parser("market-data", help="publish simulated ticks to Redis")
    md.add_argument("--config", required=True, type=Path, help="market-data JSON config")
    md.add_argument("--redis-url", help="default: redis://$REDIS_HOST:$REDIS_PORT/0")
    md.add_argument("--seed", type=int, help="override the config's seed")
    md.add_argument("--duration", type=_non_negative_float, help="seconds (default: until ^C)")
    md.add_argument("--backfill", type=_positive_int, metavar="N", help="write N steps first")
    md.add_argument("--prefix", default=DEFAULT_PREFIX, help="key prefix (default: md)")
    md.add_argument("--status-interval", type=_non_negative_float, default=5.0, metavar="S")
    md.set_defaults(handler=_market_data)
    demo = commands.add_parser("demo", help="publish to a throw-away server and read back")
    demo.add_argument("--duration", type=_non_negative_float, default=5.0)
    demo.add_argument("--config", type=Path, help=f"default: {EXAMPLE_CONFIG.name}")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(handler=_demo)
    from .cli_ops import register  # operator commands: orders, positions, risk

    register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``ocamlot`` and ``python -m trading``; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S"
    )
    try:
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except ConfigError as exc:
        print(f"ocamlot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside a publishing run (backfill, server start)
        print("ocamlot: interrupted", file=sys.stderr)
        return 130
    except (TradingError, resp3.RedisError, OSError, RuntimeError) as exc:
        print(f"ocamlot: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


# -- shared pieces ---------------------------------------------------------------------


@contextlib.contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGINT/SIGTERM call ``stop`` (the publisher ends after its current batch)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: object) -> None:
        log.info("%s received: finishing the current batch", signal.Signals(signum).name)
        stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _quote_text(tick: Tick) -> str:
    quote = tick.quote
    match quote:
        case Simple(price=price) | WithVolume(price=price):
            return f"{tick.symbol} {price}"
        case FullDepth():
            return f"{tick.symbol} {quote.bid_price}/{quote.ask_price}"
        case _:
            assert_never(quote)


class StatusLine:
    """``on_batch`` hook printing one line every ``interval`` s: rate and the last quote
    of each symbol, read back from the latest-tick hashes (what other components see)."""

    def __init__(self, interval: float, layout: KeyLayout, out: TextIO = sys.stdout) -> None:
        self.interval = interval
        self.layout = layout
        self.out = out
        self._last = time.monotonic()
        self._published = 0

    def __call__(self, publisher: Publisher) -> None:
        now = time.monotonic()
        if self.interval <= 0 or now - self._last < self.interval:
            return
        stats = publisher.stats
        rate = (stats.published - self._published) / (now - self._last)
        self._last, self._published = now, stats.published
        if not publisher.connected:
            print(f"{rate:6.1f} ticks/s  redis down, {stats.dropped} dropped", file=self.out)
            return
        print(f"{rate:6.1f} ticks/s  {self._quotes(publisher)}", file=self.out, flush=True)

    def _quotes(self, publisher: Publisher) -> str:
        symbols = publisher.config.symbols
        try:
            with publisher.client.pipeline(transaction=False) as pipe:
                for symbol in symbols:
                    pipe.hgetall(self.layout.latest(symbol))
                hashes = pipe.execute()
            parts = [
                _quote_text(decode_latest(s, h, key=self.layout.latest(s))[0])
                for s, h in zip(symbols, hashes, strict=True)
                if h
            ]
        except (resp3.RedisError, OSError, TradingError) as exc:
            return f"(latest ticks unavailable: {exc})"
        return "  ".join(parts)


def _with_seed(config: MarketDataConfig, seed: int | None) -> MarketDataConfig:
    return config if seed is None else msgspec.structs.replace(config, seed=seed)


# -- market-data -----------------------------------------------------------------------


def _market_data(args: argparse.Namespace) -> int:
    config = _with_seed(load_config(args.config), args.seed)
    try:
        url = args.redis_url or default_redis_url()
    except ValueError as exc:
        print(f"ocamlot: {exc}", file=sys.stderr)
        return 2
    layout = KeyLayout(args.prefix)
    client = publisher_client(url)
    generator = None
    try:
        if args.backfill:
            period = config.frequency_ms * 1_000_000
            generator = TickGenerator(config, start_ns=time.time_ns() - args.backfill * period)
            log.info("backfilling %d steps to %s (seed %d)", args.backfill, url, generator.seed)
            if args.backfill > config.stream_maxlen:
                log.info("note: streams are trimmed to about %d entries", config.stream_maxlen)
            print(backfill(client, generator, args.backfill, layout=layout).summary())
        if args.duration == 0:
            return 0
        publisher = Publisher(
            client,
            config,
            generator=generator,
            layout=layout,
            on_batch=StatusLine(args.status_interval, layout),
        )
        log.info(
            "publishing %d symbols every %d ms to %s (%s)",
            len(config.symbols),
            config.frequency_ms,
            url,
            "until ^C" if args.duration is None else f"for {args.duration:g} s",
        )
        with _stop_on_signals(publisher.stop):
            stats = publisher.run(args.duration)
        print(stats.summary())
        return 0
    finally:
        client.close()


# -- demo --------------------------------------------------------------------------------


def _demo_config(path: Path | None) -> MarketDataConfig:
    if path is not None:
        return load_config(path)
    if EXAMPLE_CONFIG.is_file():
        return load_config(EXAMPLE_CONFIG)
    return parse_config(BUILTIN_CONFIG, source="built-in example")


def _demo(args: argparse.Namespace) -> int:
    from resp3.testing import RedisServer  # only the demo needs a server binary

    config = _with_seed(_demo_config(args.config), args.seed)
    layout = KeyLayout()
    with RedisServer() as server:
        print(f"server: {Path(server.binary).name} pid {server.pid} on {server.url}")
        client = publisher_client(server.url)
        try:
            publisher = Publisher(client, config, layout=layout, on_batch=StatusLine(1.0, layout))
            print(
                f"publishing {', '.join(config.symbols)} every {config.frequency_ms} ms "
                f"for {args.duration:g} s (seed {config.seed})"
            )
            with _stop_on_signals(publisher.stop):
                stats = publisher.run(args.duration)
            print(stats.summary())
            print(_history_report(client, config, layout))
        finally:
            client.close()
    print("server stopped")
    return 0


def _history_report(client: resp3.Redis, config: MarketDataConfig, layout: KeyLayout) -> str:
    full_depth = isinstance(config.tick_format, FullDepth)
    label = "mid" if full_depth else "price"
    lines = [
        f"history read back with load_history ({label} prices):",
        f"  {'symbol':<8}{'ticks':>7}{'first':>10}{'last':>10}{'min':>10}{'max':>10}  span",
    ]
    for symbol in config.symbols:
        rows = load_history(client, symbol, None, None, layout=layout)
        if not len(rows):
            lines.append(f"  {symbol:<8}{0:>7}")
            continue
        prices: Any = (rows["bid_price"] + rows["ask_price"]) / 2 if full_depth else rows["price"]
        first, last = int(rows["timestamp_ns"][0]), int(rows["timestamp_ns"][-1])
        span = f"{_clock(first)} .. {_clock(last)} ({(last - first) / 1e9:.1f} s)"
        lines.append(
            f"  {symbol:<8}{len(rows):>7}{prices[0]:>10.3f}{prices[-1]:>10.3f}"
            f"{prices.min():>10.3f}{prices.max():>10.3f}  {span}"
        )
    return "\n".join(lines)


def _clock(stamp_ns: int) -> str:
    moment = datetime.fromtimestamp(stamp_ns / 1e9, tz=timezone.utc)
    return moment.strftime("%H:%M:%S.%f")[:-3]
