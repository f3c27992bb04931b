"""Exact positions and P&L in Redis: same result as trading.core.Position, each fill applied
once, concurrent writers serialised, marks read from the market-data cache; and the
kill switch's own reads and writes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import resp3
from resp3.testing import RedisServer
from tests.server.trading._risk_helpers import flushed_client
from trading.core import Fill, Instrument, Money, Position, Price, Quantity, Side
from trading.errors import InvalidValue, MalformedEntry
from trading.market_data.codec import encode_tick
from trading.market_data.keys import KeyLayout
from trading.market_data.ticks import FullDepth, Simple, Tick
from trading.risk import KillMode, KillSwitch, PositionBook, RedisMarks, RiskKeys, StaticMarks
from trading.risk.positions import decode_position, encode_position

AAPL = Instrument("AAPL", Decimal("0.01"))
BTC = Instrument("BTC", Decimal("0.5"), Decimal("0.001"))


@pytest.fixture
def client(server: RedisServer) -> Iterator[resp3.Redis]:
    redis = flushed_client(server)
    yield redis
    redis.close()


def fill(n: int, side: Side, qty: str, px: str, instrument: Instrument = AAPL) -> Fill:
    return Fill(f"x{n}", f"o{n}", instrument, side, Quantity(qty), Price(px))


def test_fills_build_the_core_position_and_apply_once(client: resp3.Redis) -> None:
    book = PositionBook(client)
    aapl = Instrument("AAPL", Decimal("0.01"), Decimal("0.05"))
    fills = [
        fill(1, Side.BUY, "0.1", "100.00", aapl),
        fill(2, Side.BUY, "0.2", "100.01", aapl),
        fill(3, Side.SELL, "0.25", "101.00", aapl),
        fill(4, Side.SELL, "0.15", "99.50", aapl),  # crosses to a short of 0.1
    ]
    for f in fills:
        assert book.apply("acc", f) is not None
    assert book.apply("acc", fills[0]) is None  # the same execution again
    expected = Position.flat(aapl).apply_all(fills)
    assert book.get("acc", "AAPL") == expected
    assert book.positions("acc") == {"AAPL": expected}
    assert expected.quantity == Quantity("-0.1")
    assert book.accounts() == ["acc"]
    assert book.get("acc", "MSFT") is None


def test_report_marks_to_the_market(client: resp3.Redis) -> None:
    book = PositionBook(client)
    book.apply("acc", fill(1, Side.BUY, "10", "100.00"))
    book.apply("acc", fill(2, Side.SELL, "4", "103.00"))
    book.apply("acc", fill(3, Side.BUY, "0.002", "30000.5", BTC))
    (aapl, btc) = book.report("acc", StaticMarks({"AAPL": Decimal("101.50")}))
    assert aapl.position.realized_pnl == Money("12.00", "USD")
    assert aapl.unrealized == Money("9.00", "USD")  # 6 * (101.50 - 100.00)
    assert (btc.symbol, btc.mark, btc.unrealized) == ("BTC", None, None)


def test_a_fill_in_another_grid_or_a_corrupt_record_writes_nothing(client: resp3.Redis) -> None:
    book = PositionBook(client)
    book.apply("acc", fill(1, Side.BUY, "10", "100.00"))
    other = Instrument("AAPL", Decimal("0.05"))
    with pytest.raises(InvalidValue, match="got a fill in AAPL"):
        book.apply("acc", fill(2, Side.BUY, "1", "100.05", other))
    assert not client.sismember(RiskKeys().fills("acc"), "x2")
    client.hset(RiskKeys().positions("acc"), "AAPL", "2 1 2 3 USD 0.01 1")
    with pytest.raises(InvalidValue, match=r"risk:\{acc\}:positions field AAPL: not a version-1"):
        book.get("acc", "AAPL")
    with pytest.raises(InvalidValue, match="bad position record"):
        decode_position("AAPL", b"1 x 0 0 USD 0.01 1", key="k")


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    trades=st.lists(
        st.tuples(st.sampled_from(Side), st.integers(1, 500), st.integers(9_000, 11_000)),
        min_size=1,
        max_size=20,
    )
)
def test_records_round_trip_exactly(
    client: resp3.Redis, trades: list[tuple[Side, int, int]]
) -> None:
    lot = Instrument("AAPL", Decimal("0.01"), Decimal("0.001"))
    position = Position.flat(lot)
    for n, (side, lots, ticks) in enumerate(trades):
        qty = Quantity(Decimal(lots) * lot.lot_size)
        position = position.apply(Fill(f"x{n}", "o", lot, side, qty, lot.price_from_ticks(ticks)))
        assert decode_position("AAPL", encode_position(position), key="k") == position


def test_concurrent_writers_are_serialised(client: resp3.Redis, server: RedisServer) -> None:
    fills = [
        fill(n, Side.BUY if n % 3 else Side.SELL, str(n % 7 + 1), f"{100 + n % 5}.00")
        for n in range(120)
    ]
    errors: list[BaseException] = []

    def writer(part: list[Fill]) -> None:
        own = resp3.Redis(host=server.host, port=server.port)
        try:
            for f in part:
                PositionBook(own).apply("acc", f)
        except BaseException as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=writer, args=(fills[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    position = PositionBook(client).get("acc", "AAPL")
    assert position is not None
    signed = sum((f.signed_quantity.value for f in fills), Decimal(0))
    assert position.quantity == Quantity(signed)
    mark = Price("103.00")
    paid = sum((f.signed_quantity.value * f.price.value for f in fills), Decimal(0))
    # the accounting identity holds whatever order the fills landed in
    total = position.realized_pnl + position.unrealized_pnl(mark)
    assert total == Money(mark.value * signed - paid, "USD")
    assert client.scard(RiskKeys().fills("acc")) == 120


def test_marks_come_from_the_market_data_cache(client: resp3.Redis) -> None:
    layout = KeyLayout("md")
    simple = Tick(symbol="AAPL", timestamp_ns=1_000, quote=Simple(price=Decimal("101.25")))
    depth = FullDepth(
        bid_price=Decimal("99.99"), ask_price=Decimal("100.02"), bid_volume=1, ask_volume=2
    )
    client.hset(layout.latest("AAPL"), mapping={**encode_tick(simple), b"id": b"0-1000"})
    client.hset(
        layout.latest("MSFT"),
        mapping={
            **encode_tick(Tick(symbol="MSFT", timestamp_ns=2_000, quote=depth)),
            b"id": b"0-2000",
        },
    )
    marks = RedisMarks(client, layout)
    assert marks.mark("AAPL") == Decimal("101.25")
    assert marks.mark("MSFT") == Decimal("100.005")
    assert marks.mark("TSLA") is None
    cached = RedisMarks(client, layout, max_age=60)
    assert cached.mark("AAPL") == Decimal("101.25")
    client.hset(layout.latest("AAPL"), "price", "102.00")
    assert cached.mark("AAPL") == Decimal("101.25")  # kept for max_age
    assert marks.mark("AAPL") == Decimal("102.00")
    client.hset(layout.latest("AAPL"), "price", "abc")
    with pytest.raises(MalformedEntry):
        marks.mark("AAPL")


def test_kill_switch_reads_and_writes(client: resp3.Redis) -> None:
    switch = KillSwitch(client, RiskKeys("r"))
    assert switch.get() is KillMode.OFF
    assert switch.effective("a") == (KillMode.OFF, "global")
    switch.set(KillMode.REDUCE_ONLY)
    switch.set(KillMode.ON, "a")
    switch.set(KillMode.OFF, "b")
    assert client.get("r:kill") == b"reduce_only"
    assert switch.effective("a") == (KillMode.ON, "account")
    assert switch.effective("b") == (KillMode.REDUCE_ONLY, "global")
    assert switch.accounts() == {"a": KillMode.ON, "b": KillMode.OFF}
    with pytest.raises(ValueError, match="must be a KillMode"):
        switch.set("on", "a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        switch.set(KillMode.ON, "")
