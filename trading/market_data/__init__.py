"""Simulated market data: tick sum types (:mod:`.ticks`), a validated JSON config
(:mod:`.config`) and seeded numpy generators (:mod:`.generators`); in Redis, a versioned
stream format (:mod:`.codec`) under a key layout (:mod:`.keys`), a live publisher and a
backfill (:mod:`.publisher`), a feed, a history loader and the latest-tick cache
(:mod:`.feed`).

Needs the ``trading`` extra (numpy, msgspec). Public names are imported from their
submodules on first use, so a module that needs only :mod:`.keys`, :mod:`.ticks` or
:mod:`.config` (msgspec, no numpy) does not pull in the generators. See
docs/market_data.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trading._lazy import lazy_names

if TYPE_CHECKING:
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

#: Where each public name lives. Names are imported on first use (PEP 562), so importing
#: one submodule does not import its siblings.
_SOURCES = {
    "FORMAT_VERSION": "codec",
    "BackfillStats": "publisher",
    "BrownianMotion": "ticks",
    "Feed": "feed",
    "FullDepth": "ticks",
    "GenerationStyle": "ticks",
    "KeyLayout": "keys",
    "MarketDataConfig": "config",
    "Publisher": "publisher",
    "PublisherStats": "publisher",
    "RandomWalk": "ticks",
    "Simple": "ticks",
    "Tick": "ticks",
    "TickArrays": "generators",
    "TickFormat": "ticks",
    "TickGenerator": "generators",
    "WithVolume": "ticks",
    "assert_never": "ticks",
    "backfill": "publisher",
    "decode_tick": "codec",
    "dump_config": "config",
    "encode_tick": "codec",
    "latest_tick": "feed",
    "load_config": "config",
    "load_history": "feed",
    "parse_config": "config",
    "publisher_client": "publisher",
    "tick_fields": "ticks",
    "validate_config": "config",
}


__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals(), __all__)
