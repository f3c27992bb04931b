"""Market data: generation rate, and backfill publishing through resp3 vs redis-py.

Run from the repository root: ``.venv/bin/python bench/bench_market_data.py``.

Generation: ``TickGenerator.generate`` on the example config (4 symbols, full depth), in
ticks per second, alone and followed by ``codec.encode_arrays`` (the field values a
backfill sends).

Backfill: every contender writes the same ``--steps`` generated steps for the 4 symbols
into empty streams of one throw-away server, ``--batch`` XADDs per round trip, each
command ``XADD md:{SYM}:ticks MAXLEN ~ 100000 <ms-ns> v 1 ts .. bid_price .. ask_price ..
bid_volume .. ask_volume ..``. Each sample includes generating and encoding the ticks,
which every contender does with the same code, so the ratio shows what the client adds:

* ``resp3 backfill()``: the library function, ``trading.market_data.publisher.backfill``
  (commands built by ``zip`` over the columns, ``pack_commands``, one ``sendall``);
* ``resp3 pipeline``: the same commands through ``resp3.Redis.pipeline(transaction=False)``
  and ``execute_command`` (the public pipeline API, one ``Command`` per XADD);
* ``redis-py pipeline``: ``redis.Redis.pipeline(transaction=False)`` and
  ``execute_command``, redis-py's cheapest path (no argument checks), with hiredis.

Samples are taken round-robin (``--repeats``) and the median is reported; the streams
are deleted between samples, untimed. The client is pinned to core 0, the server to
core 1 (bench/_harness.py). Every sample must write steps x 4 entries, or the run stops.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from itertools import repeat
from typing import Any

from _harness import (
    ROOT,
    environment,
    fmt_rate,
    fmt_ratio,
    markdown_table,
    median,
    pin_client,
    start_server,
)

import resp3
from trading.market_data.codec import encode_arrays
from trading.market_data.config import MarketDataConfig, load_config
from trading.market_data.generators import TickGenerator
from trading.market_data.keys import KeyLayout
from trading.market_data.publisher import backfill

START_NS = 1_700_000_000_000_000_000
TARGET = 2.0
LAYOUT = KeyLayout("bench")

Writer = Callable[[TickGenerator, int, int], int]


def _commands(generator: TickGenerator, steps: int, trim: int) -> list[tuple[Any, ...]]:
    encoded = encode_arrays(generator.generate(steps))
    commands: list[tuple[Any, ...]] = []
    for row, symbol in enumerate(encoded.symbols):
        key = LAYOUT.stream(symbol).encode()
        head = (repeat(b"XADD"), repeat(key), repeat(b"MAXLEN"), repeat(b"~"))
        commands += zip(*head, repeat(trim), encoded.ids, *encoded.entry_fields(row), strict=False)
    return commands


def resp3_backfill(client: resp3.Redis) -> Writer:
    def write(generator: TickGenerator, steps: int, batch: int) -> int:
        return backfill(client, generator, steps, layout=LAYOUT, batch=batch).written

    return write


def pipeline_writer(client: Any) -> Writer:
    """The same XADDs through ``client.pipeline(transaction=False)`` (resp3 or redis-py)."""

    def write(generator: TickGenerator, steps: int, batch: int) -> int:
        per_round = max(1, batch // len(generator.symbols))
        trim = generator.config.stream_maxlen
        written = done = 0
        while done < steps:
            chunk = min(per_round, steps - done)
            pipe = client.pipeline(transaction=False)
            for command in _commands(generator, chunk, trim):
                pipe.execute_command(*command)
            written += sum(not isinstance(r, Exception) for r in pipe.execute(False))
            done += chunk
        return written

    return write


def generation_rates(config: MarketDataConfig, seconds: float) -> tuple[float, float]:
    symbols = len(config.symbols)
    steps = 100_000

    def rate(work: Callable[[TickGenerator], object]) -> float:
        generator = TickGenerator(config, start_ns=START_NS)
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds or calls < 2:
            work(generator)
            calls += 1
        return calls * steps * symbols / (time.perf_counter() - start)

    return (
        rate(lambda g: g.generate(steps)),
        rate(lambda g: encode_arrays(g.generate(steps))),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=50_000, help="steps per sample (x4 ticks)")
    parser.add_argument("--batch", type=int, default=1000, help="XADDs per round trip")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import redis
    from redis.utils import HIREDIS_AVAILABLE

    if not HIREDIS_AVAILABLE:
        print("redis-py does not see hiredis; install it to compare fairly", file=sys.stderr)
        return 1
    placement = pin_client()
    config = load_config(ROOT / "examples" / "market_data.json")
    gen_rate, encode_rate = generation_rates(config, 1.0)
    server, server_placement = start_server()
    try:
        fast = resp3.Redis(host=server.host, port=server.port)
        slow = redis.Redis(host=server.host, port=server.port)
        contenders: dict[str, Writer] = {
            "resp3 backfill()": resp3_backfill(fast),
            "resp3 pipeline": pipeline_writer(fast),
            "redis-py pipeline": pipeline_writer(slow),
        }
        keys = [LAYOUT.stream(s) for s in config.symbols] + [
            LAYOUT.latest(s) for s in config.symbols
        ]
        expected = args.steps * len(config.symbols)
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.repeats):
            for name, write in contenders.items():
                fast.delete(*keys)
                generator = TickGenerator(config, start_ns=START_NS)
                start = time.perf_counter()
                written = write(generator, args.steps, args.batch)
                elapsed = time.perf_counter() - start
                if written != expected:
                    print(f"{name} wrote {written} entries, expected {expected}", file=sys.stderr)
                    return 1
                samples[name].append(expected / elapsed)
        env = environment(server, f"{placement}, {server_placement}", ["numpy", "redis", "hiredis"])
        fast.close()
        slow.close()
    finally:
        server.close()
    rates = {name: median(values) for name, values in samples.items()}
    base = rates["redis-py pipeline"]
    print(env)
    print()
    print(
        markdown_table(
            ["work", "ticks/s"],
            [
                ["generate (numpy arrays)", fmt_rate(gen_rate)],
                ["generate + encode_arrays", fmt_rate(encode_rate)],
            ],
        )
    )
    print()
    print(
        f"Backfill: {args.steps} steps x {len(config.symbols)} symbols, {args.batch} XADDs per "
        f"round trip, median of {args.repeats}"
    )
    print()
    rows = [
        [
            name,
            fmt_rate(rate),
            fmt_ratio(rate, base, TARGET if name == "resp3 backfill()" else None),
        ]
        for name, rate in rates.items()
    ]
    print(markdown_table(["client", "ticks/s", "vs redis-py"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
