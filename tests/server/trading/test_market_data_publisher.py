"""The live publisher (schedule, cache, outages) and the backfill, on real servers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import numpy as np
import pytest
from _md_support import WALL0, FakeClock, make_config, stream_entries

import resp3
from resp3.testing import RedisServer, find_free_port
from trading.errors import MarketDataError
from trading.market_data import publisher as publisher_module
from trading.market_data.codec import decode_tick, entry_id, timestamp_of
from trading.market_data.config import MarketDataConfig
from trading.market_data.feed import Feed, latest_tick, load_history
from trading.market_data.generators import TickGenerator
from trading.market_data.keys import KeyLayout
from trading.market_data.publisher import Publisher, backfill, publisher_client

LAYOUT = KeyLayout()
PERIOD = 100_000_000  # the configs' frequency_ms, in ns


def _stream(client: resp3.Redis, symbol: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
    return stream_entries(client, LAYOUT.stream(symbol))


def test_one_entry_per_symbol_per_period_and_the_cache_matches(
    client: resp3.Redis, config: MarketDataConfig, clock: FakeClock
) -> None:
    publisher = Publisher(client, config, clock=clock)
    stats = publisher.run(duration=1.0)
    assert (stats.batches, stats.published, stats.dropped, stats.skipped) == (10, 30, 0, 0)
    stamps = [WALL0 + k * PERIOD for k in range(1, 11)]
    expected = TickGenerator(config, start_ns=WALL0).generate(10)
    for row, symbol in enumerate(config.symbols):
        entries = _stream(client, symbol)
        assert [e[0] for e in entries] == [entry_id(s) for s in stamps]
        ticks = [decode_tick(symbol, f, key="k", entry_id=None) for _, f in entries]
        assert [t.timestamp_ns for t in ticks] == stamps
        assert ticks == [batch[row] for batch in expected]  # the seeded generator's ticks
        cached = latest_tick(client, symbol)
        assert cached == (ticks[-1], entries[-1][0].decode())
    assert stats.last_id == dict.fromkeys(config.symbols, entry_id(stamps[-1]).decode())


def test_schedule_does_not_drift_when_publishing_takes_time(
    client: resp3.Redis, config: MarketDataConfig, clock: FakeClock
) -> None:
    """Each batch 'costs' 30 ms of clock time: ticks still go out at start + k * period."""
    published_at: list[int] = []

    def work(publisher: Publisher) -> None:
        published_at.append(clock.monotonic_ns())
        clock.advance(30_000_000)

    start = clock.monotonic_ns()
    Publisher(client, config, clock=clock, on_batch=work).run(duration=2.0)
    assert published_at == [start + k * PERIOD for k in range(1, 21)]
    assert clock.sleeps == [PERIOD] + [PERIOD - 30_000_000] * 19


def test_a_stall_skips_to_the_current_tick_and_keeps_the_grid(
    client: resp3.Redis,
    config: MarketDataConfig,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    published_at: list[int] = []
    start = clock.monotonic_ns()

    def stall_once(publisher: Publisher) -> None:
        published_at.append(clock.monotonic_ns() - start)
        if len(published_at) == 3:
            clock.advance(250_000_000)  # due next: 400 ms (skipped), 500 ms (late, published)

    with caplog.at_level(logging.WARNING, "trading.market_data.publisher"):
        stats = Publisher(client, config, clock=clock, on_batch=stall_once).run(duration=1.0)
    ms = [t // 1_000_000 for t in published_at]
    assert ms == [100, 200, 300, 550, 600, 700, 800, 900, 1000]
    assert (stats.skipped, stats.published) == (3, 27)
    assert [r.getMessage() for r in caplog.records] == [
        "behind schedule by 150 ms: skipping 1 step(s) to publish the current tick"
    ]
    steps = [k for k in range(1, 11) if k != 4]
    expected = TickGenerator(config, start_ns=WALL0).generate(10)
    entries = _stream(client, "AAPL")
    assert [e[0] for e in entries] == [entry_id(WALL0 + k * PERIOD) for k in steps]
    ticks = [decode_tick("AAPL", f, key="k") for _, f in entries]
    assert ticks == [expected.batch(k - 1)[0] for k in steps]  # skipping changes no price


def test_stop_ends_the_run_after_the_current_batch(
    client: resp3.Redis, config: MarketDataConfig, clock: FakeClock
) -> None:
    publisher = Publisher(client, config, clock=clock)
    publisher.on_batch = lambda p: p.stop() if p.stats.batches == 4 else None
    stats = publisher.run()
    assert stats.batches == 4 and len(_stream(client, "MSFT")) == 4


def test_refused_entries_are_counted_and_reported_once(
    client: resp3.Redis,
    config: MarketDataConfig,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client.xadd(LAYOUT.stream("MSFT"), {"x": "1"}, id="99999999999999-0")  # newer than any tick
    with caplog.at_level(logging.ERROR, "trading.market_data.publisher"):
        stats = Publisher(client, config, clock=clock).run(duration=0.5)
    assert (stats.published, stats.rejected) == (10, 5)
    [record] = caplog.records
    assert record.getMessage().startswith("md:{MSFT}:ticks: XADD refused: ")
    assert "equal or smaller" in record.getMessage()


def test_a_generator_far_in_the_past_is_refused(
    client: resp3.Redis, config: MarketDataConfig, clock: FakeClock
) -> None:
    old = TickGenerator(config, start_ns=WALL0 - 3600 * 10**9)
    with pytest.raises(MarketDataError, match="stamped 3600 s in the past"):
        Publisher(client, config, generator=old, clock=clock).run(duration=1)


def test_redis_down_from_the_start_drops_ticks_without_raising(
    config: MarketDataConfig, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    dead = publisher_client(f"redis://127.0.0.1:{find_free_port()}/0")
    with caplog.at_level(logging.WARNING, "trading.market_data.publisher"), dead:
        stats = Publisher(dead, config, clock=clock).run(duration=0.5)
    assert (stats.published, stats.dropped, stats.outages) == (0, 15, 1)
    [record] = caplog.records
    assert "unreachable" in record.getMessage() and record.exc_info is None


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    with RedisServer(unix_socket=False) as server:
        yield server


def test_publisher_and_feed_survive_a_redis_restart(
    own_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(frequency_ms=20)
    publisher = Publisher(publisher_client(own_server.url), config)
    feed_client = resp3.Redis(host=own_server.host, port=own_server.port, socket_timeout=2.0)
    feed = Feed(feed_client, config.symbols, block_ms=100, retry_delay=0.05)
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.extend(t.timestamp_ns for t in feed))
    runner = threading.Thread(target=publisher.run, args=(3.0,))
    with caplog.at_level(logging.WARNING, "trading.market_data"):
        reader.start()
        runner.start()
        time.sleep(0.8)
        own_server.kill()
        killed_at = time.time_ns()
        time.sleep(0.6)
        own_server.start()
        runner.join(timeout=10)
        time.sleep(0.3)
        feed.stop()
        reader.join(timeout=5)
    assert not runner.is_alive() and not reader.is_alive()
    stats = publisher.stats
    steps = 3000 // 20
    assert stats.outages == 1 and stats.dropped >= 3 * 3
    assert stats.published + stats.dropped + stats.skipped == steps * 3
    after = _stream(publisher.client, "AAPL")  # the restarted server kept nothing
    assert after and all(timestamp_of(e[0]) > killed_at for e in after)
    assert stats.published >= 3 * len(after)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unreachable" in m for m in messages) == 1
    assert sum("is back after" in m for m in messages) == 1
    assert feed.reconnects >= 1 and any(stamp > killed_at for stamp in seen)
    publisher.client.close()
    feed_client.close()


def test_backfill_writes_every_step_and_a_rerun_writes_nothing(
    client: resp3.Redis, config: MarketDataConfig
) -> None:
    first = backfill(client, TickGenerator(config, start_ns=WALL0), 700, batch=300)
    assert (first.steps, first.written, first.skipped) == (700, 2100, 0)
    assert first.round_trips == 7 + 1  # 100 steps x 3 symbols per trip, then the cache
    again = backfill(client, TickGenerator(config, start_ns=WALL0), 700, batch=300)
    assert (again.written, again.skipped) == (0, 2100)
    for symbol in config.symbols:
        entries = _stream(client, symbol)
        assert len(entries) == 700
        assert latest_tick(client, symbol) == (
            decode_tick(symbol, entries[-1][1], key="k"),
            entries[-1][0].decode(),
        )


def test_backfill_trims_streams_to_about_stream_maxlen(client: resp3.Redis) -> None:
    config = make_config("simple", stream_maxlen=100)
    backfill(client, TickGenerator(config, start_ns=WALL0), 2000)
    assert 100 <= client.xlen(LAYOUT.stream("AAPL")) < 300


@pytest.mark.parametrize("tick_format", ["simple", "with_volume", "full_depth"])
def test_loader_returns_the_requested_slice(client: resp3.Redis, tick_format: str) -> None:
    config = make_config(tick_format)
    arrays = TickGenerator(config, start_ns=WALL0).generate(500)
    backfill(client, TickGenerator(config, start_ns=WALL0), 500)
    start, end = WALL0 + 120 * PERIOD, WALL0 + 345 * PERIOD  # steps 120..345 inclusive
    rows = load_history(client, "BRK.B", start, end, page=64)
    assert rows["timestamp_ns"].tolist() == arrays.timestamps_ns[119:345].tolist()
    for name, column in arrays.columns.items():
        got = rows[name]
        if name.endswith("price"):
            assert got.dtype == np.float64
            got = np.rint(got / 0.01).astype(np.int64)
        assert got.tolist() == column[2, 119:345].tolist()
    assert len(load_history(client, "BRK.B", end + 1, None)) == 500 - 345
    moment = datetime.fromtimestamp(start // 10**9, tz=timezone.utc)  # whole seconds
    assert load_history(client, "BRK.B", moment, end).tolist() == rows.tolist()
    with pytest.raises(ValueError, match="naive datetime"):
        load_history(client, "BRK.B", moment.replace(tzinfo=None), end)
    empty = load_history(client, "NOPE", None, None)
    assert empty.dtype.names == ("timestamp_ns",) and len(empty) == 0


def test_a_lost_reply_is_resent_without_duplicating_ticks(
    client: resp3.Redis,
    config: MarketDataConfig,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch reached Redis but its reply was lost: the re-send is refused as a
    duplicate, counted as published, and the stream holds each tick once."""
    real = publisher_module.round_trip
    calls = 0

    def lose_third_reply(redis: resp3.Redis, commands: list[tuple[object, ...]]) -> list[object]:
        nonlocal calls
        calls += 1
        replies = real(redis, commands)
        if calls == 3:
            raise resp3.ConnectionError("connection reset after the batch was written")
        return replies

    monkeypatch.setattr(publisher_module, "round_trip", lose_third_reply)
    stats = Publisher(client, config, clock=clock).run(duration=0.5)
    assert (stats.published, stats.resent, stats.dropped, stats.outages) == (15, 3, 0, 0)
    for symbol in config.symbols:
        ids = [e[0] for e in _stream(client, symbol)]
        assert ids == [entry_id(WALL0 + k * PERIOD) for k in range(1, 6)]
