"""Simulated market data: tick sum types (:mod:`.ticks`), a validated JSON config
(:mod:`.config`) and seeded numpy generators (:mod:`.generators`).

Needs the ``trading`` extra (numpy, msgspec). See docs/market_data.md.
"""

from trading.market_data.config import (
    MarketDataConfig,
    dump_config,
    load_config,
    parse_config,
    validate_config,
)
from trading.market_data.generators import TickArrays, TickGenerator
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
    "BrownianMotion",
    "FullDepth",
    "GenerationStyle",
    "MarketDataConfig",
    "RandomWalk",
    "Simple",
    "Tick",
    "TickArrays",
    "TickFormat",
    "TickGenerator",
    "WithVolume",
    "assert_never",
    "dump_config",
    "load_config",
    "parse_config",
    "tick_fields",
    "validate_config",
]
