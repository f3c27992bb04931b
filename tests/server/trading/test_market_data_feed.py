"""The live feed: typed ticks, its start positions, and the latest-tick cache reader."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from itertools import islice

import pytest
from _md_support import WALL0, make_config

import resp3
from resp3.testing import RedisServer
from trading.market_data.config import MarketDataConfig
from trading.market_data.feed import Feed, latest_tick
from trading.market_data.generators import TickGenerator
from trading.market_data.keys import KeyLayout
from trading.market_data.publisher import Publisher, backfill
from trading.market_data.ticks import FullDepth, Tick, WithVolume

PERIOD = 100_000_000


def test_feed_from_the_start_yields_typed_ticks_in_order(
    client: resp3.Redis, config: MarketDataConfig
) -> None:
    arrays = TickGenerator(config, start_ns=WALL0).generate(30)
    backfill(client, TickGenerator(config, start_ns=WALL0), 30)
    feed = Feed(client, ["MSFT", "BRK.B"], start="0", block_ms=50)
    got = list(islice(feed, 60))
    by_symbol: dict[str, list[Tick]] = {"MSFT": [], "BRK.B": []}
    for tick in got:
        by_symbol[tick.symbol].append(tick)
    assert by_symbol["MSFT"] == [batch[1] for batch in arrays]
    assert by_symbol["BRK.B"] == [batch[2] for batch in arrays]
    first = by_symbol["MSFT"][0].quote
    assert isinstance(first, FullDepth) and isinstance(first.bid_price, Decimal)
    assert feed.last_ids["MSFT"] == f"{(WALL0 + 30 * PERIOD) // 10**6}-0"


def test_feed_from_now_skips_history_and_follows_new_ticks(
    client: resp3.Redis, config: MarketDataConfig
) -> None:
    generator = TickGenerator(config, start_ns=WALL0)
    backfill(client, generator, 10)
    feed = Feed(client, config.symbols, block_ms=50)
    feed.resolve_start()
    later = TickGenerator(config, start_ns=WALL0).generate(15)
    backfill(client, generator, 5)  # steps 11..15 of the same generator
    got = list(islice(feed, 15))
    assert sorted(t.timestamp_ns for t in got) == sorted(
        [int(s) for s in later.timestamps_ns[10:]] * 3
    )


def test_feed_follows_a_live_publisher(client: resp3.Redis, server: RedisServer) -> None:
    config = make_config("with_volume", frequency_ms=10)
    feed = Feed(client, config.symbols, block_ms=50)
    feed.resolve_start()
    publisher = Publisher(resp3.Redis(host=server.host, port=server.port), config)

    def publish_then_stop_the_feed() -> None:
        publisher.run(0.3)
        time.sleep(0.2)  # several empty reads: everything published has been read
        feed.stop()

    runner = threading.Thread(target=publish_then_stop_the_feed)
    runner.start()
    got = list(feed)
    runner.join()
    publisher.client.close()
    assert len(got) == publisher.stats.published > 0
    assert {t.symbol for t in got} == set(config.symbols)
    assert all(isinstance(t.quote, WithVolume) for t in got)
    stamps = [t.timestamp_ns for t in got if t.symbol == "AAPL"]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_feed_stops_when_asked_while_waiting(client: resp3.Redis) -> None:
    feed = Feed(client, ["AAPL"], block_ms=20)
    timer = threading.Timer(0.1, feed.stop)
    timer.start()
    assert list(feed) == []
    timer.join()


def test_feed_refuses_a_block_longer_than_the_socket_timeout(server: object) -> None:
    slow = resp3.Redis(socket_timeout=0.5)
    with pytest.raises(ValueError, match=r"block_ms=1000 must be below the socket timeout"):
        Feed(slow, ["AAPL"])


def test_latest_tick_of_an_unknown_symbol_is_none(client: resp3.Redis) -> None:
    assert latest_tick(client, "NOPE", layout=KeyLayout("other")) is None


def test_key_layout_round_trips_symbols_and_refuses_bad_prefixes() -> None:
    layout = KeyLayout("sim")
    assert layout.stream("BRK.B") == "sim:{BRK.B}:ticks"
    assert layout.latest("BRK.B") == "sim:{BRK.B}:last"
    assert layout.symbol_of(b"sim:{BRK.B}:ticks") == "BRK.B"
    with pytest.raises(ValueError, match="not a tick stream"):
        layout.symbol_of("md:{BRK.B}:ticks")
    with pytest.raises(ValueError, match="without whitespace or braces"):
        KeyLayout("a{b")


def test_feed_reads_resp2_replies_too(server: RedisServer, config: MarketDataConfig) -> None:
    resp2 = resp3.Redis(host=server.host, port=server.port, protocol=2, socket_timeout=5.0)
    resp2.flushdb()
    backfill(resp2, TickGenerator(config, start_ns=WALL0), 4)
    ticks = list(islice(Feed(resp2, ["AAPL", "MSFT"], start="0", block_ms=50), 8))
    assert sorted((t.symbol, t.timestamp_ns) for t in ticks) == sorted(
        (s, WALL0 + k * PERIOD) for s in ("AAPL", "MSFT") for k in range(1, 5)
    )
    resp2.close()
