"""RiskEngine on the in-process limits: every reason code end to end, reservations
released and filled, the rate window, and the OMS hook driving an OrderManager."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from trading.core import Fill, Instrument, Order, OrderType, Price, Quantity, Side
from trading.errors import RiskDenied
from trading.oms import (
    Accept,
    CancelAccept,
    Expire,
    FillReport,
    OrderManager,
    OrderStatus,
    Reject,
    ReplaceAccept,
    ReplaceReject,
    ReplaceRequest,
)
from trading.risk import MemoryLimits, OrderDenied, RiskEngine, StaticMarks, parse_config
from trading.risk.oms_hook import OmsRiskHook
from trading.risk.reasons import Denial, KillMode, Reason, parse_reason

EXAMPLE = Path(__file__).parents[3] / "examples" / "risk_limits.json"
ACC = "acc"

LIMITS: dict[str, Any] = {
    "currency": "USD",
    "instruments": [
        {"symbol": "AAPL", "tick_size": "0.01"},
        {"symbol": "MSFT", "tick_size": "0.01", "lot_size": "10"},
        {"symbol": "HALT", "tick_size": "0.01", "status": "halted"},
    ],
    "defaults": {
        "account": {"max_gross_exposure": 100000, "max_open_orders": 5, "max_orders_per_second": 4},
        "symbol": {
            "max_order_quantity": 500,
            "max_order_notional": 40000,
            "max_long_position": 600,
            "max_short_position": 300,
            "price_collar_percent": 5,
        },
    },
    "accounts": [{"account": "acc", "max_gross_exposure": 80000}],
}
AAPL = Instrument("AAPL", Decimal("0.01"))
MSFT = Instrument("MSFT", Decimal("0.01"), Decimal(10))
FINE_MSFT = Instrument("MSFT", Decimal("0.01"))  # lot 1, the config says 10
FINE_AAPL = Instrument("AAPL", Decimal("0.001"))  # tick 0.001, the config says 0.01


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now


def engine(limits: dict[str, Any] | None = None, **marks: str) -> tuple[RiskEngine, MemoryLimits]:
    config = parse_config(json.dumps(limits or LIMITS))
    memory = MemoryLimits(clock=Clock())
    prices = {"AAPL": Decimal("100"), "MSFT": Decimal("50")}
    prices.update({k: Decimal(v) for k, v in marks.items()})
    return RiskEngine(config, memory, StaticMarks(prices)), memory


def order(
    cid: str,
    side: Side = Side.BUY,
    qty: int = 10,
    px: str | None = "100.00",
    instrument: Instrument = AAPL,
    account: str = ACC,
    kind: OrderType | None = None,
) -> Order:
    kind = kind or (OrderType.LIMIT if px is not None else OrderType.MARKET)
    return Order(
        cid, account, instrument, side, kind, Quantity(qty), None if px is None else Price(px)
    )


def reason(denial: Denial | None) -> Reason | None:
    return None if denial is None else denial.reason


def test_accepts_and_reserves() -> None:
    risk, memory = engine()
    assert risk.check(order("a", qty=100)) is None
    usage = memory.usage(ACC)
    assert (usage.open_orders, usage.recent, usage.gross) == (1, 1, 1_000_000)
    (row,) = usage.symbols
    assert (row.symbol, row.position, row.open_buy, row.open_sell) == ("AAPL", 0, 100, 0)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("unknown", lambda: order("x", instrument=Instrument("IBM", Decimal("0.01")))),
        ("halted", lambda: order("x", instrument=Instrument("HALT", Decimal("0.01")))),
        ("off lot", lambda: order("x", qty=15, px="50.00", instrument=FINE_MSFT)),
        ("off tick", lambda: order("x", px="100.005", instrument=FINE_AAPL)),
        ("quantity", lambda: order("x", qty=501, px="10.00")),
        ("notional", lambda: order("x", qty=401, px="100.00")),
        ("collar", lambda: order("x", px="106.00")),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_order_checks(name: str, make: Any) -> None:
    expected = {
        "unknown": Reason.UNKNOWN_INSTRUMENT,
        "halted": Reason.INSTRUMENT_HALTED,
        "off lot": Reason.QUANTITY_OFF_LOT,
        "off tick": Reason.PRICE_OFF_TICK,
        "quantity": Reason.MAX_ORDER_QUANTITY,
        "notional": Reason.MAX_ORDER_NOTIONAL,
        "collar": Reason.PRICE_COLLAR,
    }[name]
    risk, memory = engine()
    assert reason(risk.check(make())) is expected
    assert risk.check_order(make()) == risk.check(make())
    assert memory.usage(ACC).recent == 0  # nothing reserved


def test_market_orders_are_valued_at_the_mark_or_refused() -> None:
    risk, memory = engine()
    assert risk.check(order("m1", qty=400, px=None)) is None  # 400 * 100 = 40000
    assert memory.usage(ACC).gross == 4_000_000
    assert reason(risk.check(order("m2", qty=401, px=None))) is Reason.MAX_ORDER_NOTIONAL
    config = parse_config(json.dumps(LIMITS))
    blind = RiskEngine(config, MemoryLimits())
    assert blind.check(order("m3", px=None)) == Denial(
        Reason.NO_MARKET_PRICE, "AAPL: no cached market price to value a market order"
    )
    assert reason(blind.check(order("m4"))) is Reason.NO_MARKET_PRICE  # collar needs a mark


def test_shared_limits_each_reason() -> None:
    risk, memory = engine()
    assert risk.check(order("a", qty=300)) is None
    assert reason(risk.check(order("a", qty=1))) is Reason.DUPLICATE_CLIENT_ORDER_ID
    assert risk.check(order("b", qty=300)) is None
    assert reason(risk.check(order("c", qty=1))) is Reason.MAX_LONG_POSITION  # 600 + 1
    assert reason(risk.check(order("d", Side.SELL, 301))) is Reason.MAX_SHORT_POSITION
    # gross: 600 AAPL at 100 = 60000; 50 lots (500) of MSFT at 52.00 = 26000 > 20000 left
    assert reason(risk.check(order("e", qty=500, px="52.00", instrument=MSFT))) is (
        Reason.MAX_GROSS_EXPOSURE
    )
    assert memory.usage(ACC).recent == 2
    assert risk.check(order("f", qty=10, px="50.00", instrument=MSFT)) is None
    assert risk.check(order("g", Side.SELL, 10)) is None
    assert reason(risk.check(order("h", Side.SELL, 10))) is Reason.ORDER_RATE  # 4 per second
    memory.clock.now += 1_000_000  # type: ignore[attr-defined]
    assert risk.check(order("h", Side.SELL, 10)) is None
    assert reason(risk.check(order("i", Side.SELL, 10))) is Reason.MAX_OPEN_ORDERS  # 5 open


def test_kill_switch_modes() -> None:
    risk, memory = engine()
    memory.set_kill(KillMode.ON)
    denial = risk.check(order("a"))
    assert denial == Denial(Reason.KILL_SWITCH, "global kill switch is on")
    memory.set_kill(KillMode.OFF)
    assert risk.check(order("a")) is None
    assert risk.on_fill(ACC, Fill("x1", "a", AAPL, Side.BUY, Quantity(10), Price("100.00")))
    memory.set_kill(KillMode.REDUCE_ONLY, ACC)
    assert reason(risk.check(order("b"))) is Reason.REDUCE_ONLY
    assert reason(risk.check(order("c", Side.SELL, 11))) is Reason.REDUCE_ONLY
    assert risk.check(order("d", Side.SELL, 10)) is None
    memory.set_kill(KillMode.ON, ACC)
    assert risk.check(order("e", Side.SELL, 1)) == Denial(
        Reason.KILL_SWITCH, "account kill switch is on"
    )


def test_release_and_fill_move_reservations_exactly_once() -> None:
    risk, memory = engine()
    assert risk.check(order("a", qty=100)) is None
    fill = Fill("x1", "a", AAPL, Side.BUY, Quantity(30), Price("99.00"))
    assert risk.on_fill(ACC, fill) is True
    assert risk.on_fill(ACC, fill) is False  # same execution: no-op
    (row,) = memory.usage(ACC).symbols
    assert (row.position, row.open_buy, row.price_units, row.exposure) == (30, 70, 9900, 990_000)
    assert risk.release(ACC, "a") == 70
    assert risk.release(ACC, "a") == 0
    (row,) = memory.usage(ACC).symbols
    assert (row.position, row.open_buy, row.exposure) == (30, 0, 297_000)
    assert memory.usage(ACC).open_orders == 0
    with pytest.raises(ValueError, match="not configured"):
        risk.on_fill(
            ACC,
            Fill(
                "x2", "z", Instrument("IBM", Decimal("0.01")), Side.BUY, Quantity(1), Price("1.00")
            ),
        )


def test_fill_for_another_symbol_or_side_than_reserved_is_refused() -> None:
    risk, _ = engine()
    assert risk.check(order("a")) is None
    with pytest.raises(ValueError, match="does not match order a reserved for AAPL side 1"):
        risk.on_fill(ACC, Fill("x1", "a", AAPL, Side.SELL, Quantity(1), Price("100.00")))


def test_require_raises_a_risk_denied_with_the_code() -> None:
    risk, _ = engine()
    with pytest.raises(RiskDenied) as info:
        risk.require(order("a", qty=501, px="10.00"))
    assert isinstance(info.value, OrderDenied)
    assert info.value.code is Reason.MAX_ORDER_QUANTITY
    assert str(info.value) == "max_order_quantity: AAPL: quantity 501 above the limit 500"
    risk.require(order("b"))


def test_example_config_drives_an_engine() -> None:
    config = parse_config(EXAMPLE.read_bytes())
    risk = RiskEngine(config, MemoryLimits(), StaticMarks({"TSLA": Decimal("200")}))
    tsla = Instrument("TSLA", Decimal("0.01"))
    assert reason(risk.check(order("t", qty=201, px="200.00", instrument=tsla))) is (
        Reason.MAX_ORDER_QUANTITY
    )
    assert risk.check(order("t", qty=200, px="200.00", instrument=tsla)) is None


# -- the OMS hook ------------------------------------------------------------------------


def oms() -> tuple[OrderManager, OmsRiskHook, MemoryLimits]:
    risk, memory = engine()
    return OrderManager(clock=lambda: 5), OmsRiskHook(risk), memory


def test_hook_denies_through_the_manager_with_the_code_in_the_reason() -> None:
    manager, hook, memory = oms()
    change = manager.submit(order("a", qty=501, px="10.00"), check=hook.check)
    assert change.after.status is OrderStatus.DENIED
    assert change.after.reason is not None
    assert parse_reason(change.after.reason) is Reason.MAX_ORDER_QUANTITY
    hook.on_change(change)  # a denial reserved nothing and releases nothing
    assert memory.usage(ACC).open_orders == 0


def test_hook_releases_what_a_failed_first_attempt_left_behind() -> None:
    manager, hook, memory = oms()
    assert hook.check(order("a")) is None  # reserved, then (say) the store write timed out
    assert memory.usage(ACC).open_orders == 1
    change = manager.submit(order("a"), check=hook.check)  # the retry
    assert change.after.status is OrderStatus.DENIED
    assert parse_reason(change.after.reason or "") is Reason.DUPLICATE_CLIENT_ORDER_ID
    hook.on_change(change)
    assert memory.usage(ACC).open_orders == 0
    assert memory.usage(ACC).symbols == ()


def test_hook_follows_an_order_to_its_end() -> None:
    manager, hook, memory = oms()
    events: list[Any] = [
        Accept(ACC, "a"),
        FillReport(ACC, "a", "x1", Quantity(4), Price("100.00")),
        FillReport(ACC, "a", "x1", Quantity(4), Price("100.00")),  # redelivered
        CancelAccept(ACC, "a"),
    ]
    hook.on_change(manager.submit(order("a"), check=hook.check))
    assert memory.usage(ACC).symbols[0].open_buy == 10
    for event in events:
        hook.on_change(manager.apply(event))
    usage = memory.usage(ACC)
    assert usage.open_orders == 0
    (row,) = usage.symbols
    assert (row.position, row.open_buy) == (4, 0)


@pytest.mark.parametrize("end", [Reject(ACC, "a", "no"), Expire(ACC, "a")])
def test_hook_releases_rejected_and_expired_orders(end: Any) -> None:
    manager, hook, memory = oms()
    hook.on_change(manager.submit(order("a"), check=hook.check))
    if isinstance(end, Expire):
        hook.on_change(manager.apply(Accept(ACC, "a")))
    hook.on_change(manager.apply(end))
    assert memory.usage(ACC).symbols == ()
    assert memory.usage(ACC).open_orders == 0


def test_hook_replace_reserves_the_new_terms_then_moves_or_drops_them() -> None:
    manager, hook, memory = oms()
    hook.on_change(manager.submit(order("a"), check=hook.check))
    hook.on_change(manager.apply(Accept(ACC, "a")))
    hook.on_change(manager.apply(FillReport(ACC, "a", "x1", Quantity(4), Price("100.00"))))
    request = ReplaceRequest(ACC, "a", "a2", Quantity(20))
    state = manager.get(ACC, "a")
    assert state is not None
    assert hook.check_replace(state, request) is None  # reserves 16 more under a2
    hook.on_change(manager.apply(request))
    assert memory.usage(ACC).symbols[0].open_buy == 6 + 16
    hook.on_change(manager.apply(ReplaceAccept(ACC, "a")))
    usage = memory.usage(ACC)
    assert (usage.open_orders, usage.symbols[0].open_buy, usage.symbols[0].position) == (1, 16, 4)
    request = ReplaceRequest(ACC, "a2", "a3", Quantity(25))
    state = manager.get(ACC, "a2")
    assert state is not None and hook.check_replace(state, request) is None
    hook.on_change(manager.apply(request))
    hook.on_change(manager.apply(ReplaceReject(ACC, "a2", "no")))
    assert memory.usage(ACC).symbols[0].open_buy == 16
    assert memory.usage(ACC).open_orders == 1
    too_big = ReplaceRequest(ACC, "a2", "a4", Quantity(700))
    denial = hook.check_replace(state, too_big)
    assert denial is not None and parse_reason(denial) is Reason.MAX_ORDER_QUANTITY
