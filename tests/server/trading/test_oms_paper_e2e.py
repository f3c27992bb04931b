"""End to end: latest tick in Redis -> paper venue -> manager -> Redis order store.

The tick is written exactly as the market-data publisher writes its cache (codec fields
plus the stream entry ``id``, under ``KeyLayout.latest``), and read back through
``RedisTickSource``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from _oms_support import check_order, oms_client_fixture, store_fixture  # noqa: F401

import resp3
from tests.unit.trading._oms_cases import ACC, make_order
from trading.core import Price, Quantity, Side
from trading.market_data.codec import encode_tick, entry_id
from trading.market_data.keys import KeyLayout
from trading.market_data.ticks import FullDepth, Tick
from trading.oms import CancelRequest, EventKind, OrderManager, OrderStatus, ReplaceRequest
from trading.oms.store import RedisOrderStore
from trading.oms.venue import PaperVenue, RedisTickSource

S = OrderStatus


@pytest.fixture
def layout(oms_client: resp3.Redis) -> Iterator[KeyLayout]:
    layout = KeyLayout(prefix=f"mdt-{uuid.uuid4().hex[:8]}")
    yield layout
    oms_client.delete(layout.latest("AAPL"))


def publish(client: resp3.Redis, layout: KeyLayout, bid: str, ask: str, ts: int) -> None:
    quote = FullDepth(bid_price=Decimal(bid), ask_price=Decimal(ask), bid_volume=50, ask_volume=50)
    fields = encode_tick(Tick(symbol="AAPL", timestamp_ns=ts, quote=quote))
    client.hset(layout.latest("AAPL"), mapping={**fields, b"id": entry_id(ts)})


def test_orders_flow_from_tick_to_redis(
    oms_client: resp3.Redis, store: RedisOrderStore, layout: KeyLayout
) -> None:
    manager = OrderManager(store)
    venue = PaperVenue(RedisTickSource(oms_client, layout), manager.apply)

    rejected = make_order("r1", 5, "100.00")
    manager.submit(rejected)
    venue.new_order(rejected)  # no tick yet
    assert check_order(store, ACC, "r1").reason == "no market data for AAPL"

    publish(oms_client, layout, "99.98", "100.00", ts=1_000)
    taker = make_order("t1", 80, "100.02")
    manager.submit(taker, check=lambda order: None)
    venue.new_order(taker)
    state = check_order(store, ACC, "t1")
    assert (state.status, state.cum_qty, state.avg_px) == (
        S.PARTIALLY_FILLED,
        Quantity(50),
        Price("100.00"),
    )
    publish(oms_client, layout, "99.99", "100.01", ts=2_000)
    venue.poll()
    state = check_order(store, ACC, "t1")
    assert (state.status, state.avg_px) == (S.FILLED, Price("100.00375"))
    assert store.kinds(ACC, "t1") == [
        EventKind.SUBMIT,
        EventKind.ACCEPT,
        EventKind.FILL_PARTIAL,
        EventKind.FILL_COMPLETE,
    ]
    fills = [e for e in store.history(ACC, "t1") if e["kind"].startswith("fill")]
    assert [e["ts"] for e in fills] == ["1000", "2000"]  # the ticks' times

    maker = make_order("m1", 10, "100.10", side=Side.SELL)
    manager.submit(maker)
    venue.new_order(maker)
    assert check_order(store, ACC, "m1").status is S.NEW  # rests above the bid
    manager.apply(ReplaceRequest(ACC, "m1", "m2", Quantity(12), Price("99.99")))
    venue.replace_order(manager.get(ACC, "m1"))  # type: ignore[arg-type]
    assert check_order(store, ACC, "m1").status is S.REPLACED
    replacement = check_order(store, ACC, "m2")  # now marketable: sells at the bid
    assert (replacement.status, replacement.avg_px) == (S.FILLED, Price("99.99"))
    denied = manager.submit(make_order("d1", 1000), check=lambda order: "size limit").after
    assert check_order(store, ACC, "d1") == denied and denied.status is S.DENIED

    resting = make_order("x1", 3, "90.00")
    manager.submit(resting)
    venue.new_order(resting)
    venue.cancel_order(manager.apply(CancelRequest(ACC, "x1")).after)
    assert check_order(store, ACC, "x1").status is S.CANCELED
    assert store.open_ids(ACC) == set()
