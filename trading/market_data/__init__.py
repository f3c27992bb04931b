"""Simulated market data: tick sum types (:mod:`.ticks`), a validated JSON config
(:mod:`.config`) and seeded numpy generators (:mod:`.generators`); in Redis, a versioned
stream format (:mod:`.codec`) under a key layout (:mod:`.keys`), a live publisher and a
backfill (:mod:`.publisher`), a feed, a history loader and the latest-tick cache
(:mod:`.feed`).

Needs the ``trading`` extra (numpy, msgspec). See docs/market_data.md.
"""

from trading.market_data.codec import FORMAT_VERSION, decode_tick, encode_tick
from trading.market_data.config import (
    MarketDataConfig,
    dump_config,
    load_config,
    parse_config,
    validate_config,
)
from trading.market_data.feed import Feed, latest_tick, load_history
from trading.market_data.generators import TickArrays, TickGenerator
from trading.market_data.keys import KeyLayout
from trading.market_data.publisher import (
    BackfillStats,
    Publisher,
    PublisherStats,
    backfill,
    publisher_client,
)
from trading.market_data.ticks import (
    BrownianMotion,
    FullDepth,
    GenerationStyle,
    RandomWalk,
    Simple,
    Tick,
    TickFormat,
    WithVolume,
    assert_never,
    tick_fields,
)

__all__ = [
    "FORMAT_VERSION",
    "BackfillStats",
    "BrownianMotion",
    "Feed",
    "FullDepth",
    "GenerationStyle",
    "KeyLayout",
    "MarketDataConfig",
    "Publisher",
    "PublisherStats",
    "RandomWalk",
    "Simple",
    "Tick",
    "TickArrays",
    "TickFormat",
    "TickGenerator",
    "WithVolume",
    "assert_never",
    "backfill",
    "decode_tick",
    "dump_config",
    "encode_tick",
    "latest_tick",
    "load_config",
    "load_history",
    "parse_config",
    "publisher_client",
    "tick_fields",
    "validate_config",
]
