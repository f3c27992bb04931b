"""Follow the ticks a publisher writes, and read the latest-tick cache.

Start a publisher first, for instance::

    python -m trading market-data --config examples/market_data.json

then, in another terminal (same REDIS_HOST/REDIS_PORT)::

    python examples/follow_market_data.py AAPL MSFT

Prints each tick as it arrives until ^C, then the cached last tick of each symbol.
"""

from __future__ import annotations

import sys

import resp3
from trading.cli import default_redis_url
from trading.market_data import Feed, latest_tick


def main(symbols: list[str]) -> int:
    client = resp3.Redis.from_url(default_redis_url(), socket_timeout=5.0)
    feed = Feed(client, symbols or ["AAPL"], start="$", block_ms=1000)
    try:
        for tick in feed:
            print(tick.symbol, tick.timestamp_ns, tick.quote)
    except KeyboardInterrupt:
        pass
    finally:
        print(f"{feed.malformed} malformed entries skipped, {feed.reconnects} reconnects")
        for symbol in feed.symbols:
            print(symbol, latest_tick(client, symbol))
        client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
