"""The stream format: exact round trips through a real server, both encoders agreeing,
and malformed entries reported with their key and ID without stopping a reader."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from _md_support import make_config, stream_entries
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import resp3
from trading.errors import MalformedEntry, MarketDataError
from trading.market_data.codec import (
    decode_latest,
    decode_tick,
    encode_arrays,
    encode_tick,
    entry_id,
    format_prices,
    timestamp_of,
)
from trading.market_data.feed import Feed, load_history
from trading.market_data.generators import TickGenerator
from trading.market_data.keys import KeyLayout
from trading.market_data.ticks import FullDepth, Simple, Tick, WithVolume

LAYOUT = KeyLayout()

prices: st.SearchStrategy[Decimal] = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=None
).filter(lambda d: abs(d.as_tuple().exponent) <= 20)  # type: ignore[arg-type]
volumes = st.integers(min_value=-(2**63), max_value=2**63 - 1)
quotes = st.one_of(
    st.builds(Simple, price=prices),
    st.builds(WithVolume, price=prices, volume=volumes),
    st.builds(
        FullDepth, bid_price=prices, ask_price=prices, bid_volume=volumes, ask_volume=volumes
    ),
)
ticks = st.builds(
    Tick,
    symbol=st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=1, max_size=8),
    timestamp_ns=st.integers(min_value=1, max_value=2**63 - 1),
    quote=quotes,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tick=ticks)
def test_any_tick_round_trips_exactly_through_a_stream(client: resp3.Redis, tick: Tick) -> None:
    key = LAYOUT.stream(tick.symbol)
    client.delete(key)
    fields = encode_tick(tick)
    stream_id = client.xadd(key, fields, id=entry_id(tick.timestamp_ns))
    [(read_id, read_fields)] = stream_entries(client, key)
    assert read_id == stream_id
    assert timestamp_of(read_id) == tick.timestamp_ns
    back = decode_tick(tick.symbol, read_fields, key=key, entry_id=read_id.decode())
    assert back == tick
    for name in ("price", "bid_price", "ask_price"):  # same digits, not just equal values
        if hasattr(tick.quote, name):
            written, read = getattr(tick.quote, name), getattr(back.quote, name)
            assert format(read, "f") == format(written, "f")


@given(
    tick_size=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("500"), places=4),
    values=st.lists(st.integers(min_value=-(2**53), max_value=2**53), min_size=1, max_size=20),
)
def test_vectorised_prices_equal_decimal_arithmetic(tick_size: Decimal, values: list[int]) -> None:
    expected = [format(Decimal(v) * tick_size, "f").encode() for v in values]
    assert format_prices(np.array(values, dtype=np.int64), tick_size) == expected


@pytest.mark.parametrize("tick_format", ["simple", "with_volume", "full_depth"])
def test_array_encoder_writes_the_same_bytes_as_the_tick_encoder(tick_format: str) -> None:
    arrays = TickGenerator(make_config(tick_format), start_ns=10**18).generate(50)
    encoded = encode_arrays(arrays)
    for step, batch in enumerate(arrays):
        for row, tick in enumerate(batch):
            flat = [v if isinstance(v, bytes) else b"%d" % v for v in encoded.fields(row, step)]
            assert dict(zip(flat[::2], flat[1::2], strict=True)) == encode_tick(tick)
            assert encoded.ids[step] == entry_id(tick.timestamp_ns)


def test_entry_ids_are_the_tick_time() -> None:
    assert entry_id(1_700_000_000_123_456_789) == b"1700000000123-456789"
    assert timestamp_of("1700000000123-456789") == 1_700_000_000_123_456_789
    with pytest.raises(MarketDataError, match="timestamp 0 ns cannot be a stream entry ID"):
        entry_id(0)
    with pytest.raises(ValueError, match="not a stream entry ID"):
        timestamp_of("12")


def test_encoding_refuses_a_non_finite_price() -> None:
    with pytest.raises(MarketDataError, match="AAPL: price NaN is not a finite decimal"):
        encode_tick(Tick("AAPL", 1, Simple(price=Decimal("NaN"))))


GOOD = {"v": "1", "ts": "1000", "price": "10.5"}
MALFORMED: list[tuple[dict[str, Any], str]] = [
    ({"ts": "1000", "price": "1"}, "missing field 'v' (format version)"),
    ({"v": "2", "ts": "1000", "price": "1"}, "unsupported format version '2'"),
    ({"v": "1", "price": "1"}, "missing field 'ts'"),
    ({"v": "1", "ts": "10.5", "price": "1"}, "field 'ts' is not an integer: '10.5'"),
    ({"v": "1", "ts": "99999999999999999999", "price": "1"}, "field 'ts' does not fit in int64"),
    ({"v": "1", "ts": "1000", "price": "abc"}, "field 'price' is not a plain decimal number"),
    ({"v": "1", "ts": "1000", "price": "1e5"}, "field 'price' is not a plain decimal number"),
    ({"v": "1", "ts": "1000", "price": "NaN"}, "field 'price' is not a plain decimal number"),
    ({"v": "1", "ts": "1000", "price": "1", "volume": "x"}, "field 'volume' is not an integer"),
    ({"v": "1", "ts": "1000", "bid_price": "1"}, "missing field(s) 'ask_price', 'bid_volume'"),
    ({"v": "1", "ts": "1000", "price": "1", "color": "red"}, "unexpected field(s) 'color'"),
    ({"v": "1", "ts": "1000", "what": "1"}, "no quote fields: expected price"),
    ({"v": "1", "ts": "1000", "price": b"\xff"}, "field 'price' is not ASCII"),
]


@pytest.mark.parametrize(("fields", "problem"), MALFORMED)
def test_malformed_entry_names_key_id_and_problem(
    client: resp3.Redis, fields: dict[str, Any], problem: str
) -> None:
    key = LAYOUT.stream("AAPL")
    client.xadd(key, fields, id="5-1")
    [(stream_id, stored)] = stream_entries(client, key)
    with pytest.raises(MalformedEntry) as info:
        decode_tick("AAPL", stored, key=key, entry_id=stream_id.decode())
    assert info.value.key == key and info.value.entry_id == "5-1"
    assert str(info.value).startswith("md:{AAPL}:ticks entry 5-1: ")
    assert problem in str(info.value)


def test_latest_hash_needs_its_entry_id() -> None:
    tick, stream_id = decode_latest("X", {**GOOD, "id": "0-1000"}, key="h")
    assert tick == Tick("X", 1000, Simple(price=Decimal("10.5"))) and stream_id == "0-1000"
    with pytest.raises(MalformedEntry, match=r"^h: missing field 'id'"):
        decode_latest("X", GOOD, key="h")


def _write_mixed(client: resp3.Redis) -> list[str]:
    """Three good entries with two malformed ones between them; returns the bad IDs."""
    key = LAYOUT.stream("AAPL")
    client.xadd(key, {**GOOD, "ts": "1000"}, id="0-1000")
    client.xadd(key, {"v": "1", "ts": "2000"}, id="0-2000")
    client.xadd(key, {**GOOD, "ts": "3000", "price": "-2.25"}, id="0-3000")
    client.xadd(key, {**GOOD, "v": "9"}, id="0-4000")
    client.xadd(key, {**GOOD, "ts": "5000"}, id="0-5000")
    return ["0-2000", "0-4000"]


def test_feed_reports_malformed_entries_and_continues(client: resp3.Redis) -> None:
    bad = _write_mixed(client)
    errors: list[MalformedEntry] = []
    feed = Feed(client, ["AAPL"], start="0", on_malformed=errors.append, block_ms=50)
    got = []
    for tick in feed:
        got.append(tick)
        if len(got) == 3:
            feed.stop()
    assert [t.timestamp_ns for t in got] == [1000, 3000, 5000]
    assert got[1].quote == Simple(price=Decimal("-2.25"))
    assert feed.malformed == 2
    assert [(e.key, e.entry_id) for e in errors] == [("md:{AAPL}:ticks", i) for i in bad]
    assert "missing field(s) 'price'" in str(errors[0]) or "no quote fields" in str(errors[0])
    assert "unsupported format version '9'" in str(errors[1])


def test_loader_raises_on_malformed_entries_unless_told_to_skip(client: resp3.Redis) -> None:
    _write_mixed(client)
    with pytest.raises(MalformedEntry, match=r"md:\{AAPL\}:ticks entry 0-2000: "):
        load_history(client, "AAPL", None, None)
    skipped: list[MalformedEntry] = []
    rows = load_history(client, "AAPL", None, None, on_malformed=skipped.append, page=2)
    assert rows["timestamp_ns"].tolist() == [1000, 3000, 5000]
    assert rows["price"].tolist() == [10.5, -2.25, 10.5]
    assert [e.entry_id for e in skipped] == ["0-2000", "0-4000"]


def test_loader_refuses_a_second_format_in_one_stream(client: resp3.Redis) -> None:
    key = LAYOUT.stream("AAPL")
    client.xadd(key, GOOD, id="0-1000")
    client.xadd(key, {**GOOD, "ts": "2000", "volume": "3"}, id="0-2000")
    with pytest.raises(MalformedEntry, match="format with_volume, but this history is simple"):
        load_history(client, "AAPL", None, None)
