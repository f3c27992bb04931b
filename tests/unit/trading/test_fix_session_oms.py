"""Orders through FIX in memory: a client session against an acceptor session running
``OmsGateway`` (OMS without a store, risk with in-process limits, a paper venue on
ticks set by hand). Each test follows one request to the reports it must produce."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_fix_session_harness import Clock, pump

from trading.fix.message import Message
from trading.fix.oms_gateway import OmsGateway
from trading.fix.session import Session
from trading.fix.session_messages import Output, Received, SessionEvent
from trading.fix.settings import SessionSettings
from trading.market_data.ticks import FullDepth, Tick
from trading.oms import OrderManager, OrderStatus
from trading.oms.venue import StaticTickSource
from trading.risk import MemoryLimits, RiskEngine, StaticMarks, parse_config
from trading.risk.oms_hook import OmsRiskHook

LIMITS = """{
  "currency": "USD",
  "instruments": [{"symbol": "AAPL", "tick_size": "0.01"}],
  "defaults": {
    "account": {"max_gross_exposure": 10000000, "max_open_orders": 100,
                "max_orders_per_second": 1000},
    "symbol": {"max_order_quantity": 1000, "max_order_notional": 1000000,
               "max_long_position": 5000, "max_short_position": 5000,
               "price_collar_percent": 5}
  }
}"""


def tick(bid: str, ask: str) -> Tick:
    quote = FullDepth(
        bid_price=Decimal(bid), ask_price=Decimal(ask), bid_volume=500, ask_volume=500
    )
    return Tick(symbol="AAPL", timestamp_ns=1, quote=quote)


class Desk:
    """Client and gateway sessions wired together, with the reports collected."""

    def __init__(self, begin: str) -> None:
        self.begin = begin
        config = parse_config(LIMITS)
        self.marks = StaticMarks({"AAPL": Decimal("100.00")})
        self.hook = OmsRiskHook(RiskEngine(config, MemoryLimits(), self.marks))
        self.manager = OrderManager(pre_trade=self.hook)
        self.ticks = StaticTickSource([tick("99.98", "100.00")])
        self.gateway = OmsGateway(
            self.manager, self.ticks, config.instrument, on_change=self.hook.on_change
        )
        clock = Clock()
        self.client = Session(SessionSettings(begin, "DESK", "BROKER"), initiator=True, clock=clock)
        self.server = Session(SessionSettings(begin, "BROKER", "DESK"), self.gateway, clock=clock)
        self.server.connect()
        self.reports: list[Message] = []
        self._deliver(self.client.connect())
        self.server.transmit = self._deliver_from_server

    def _collect(self, events: list[SessionEvent]) -> None:
        mine = self.client.session_id
        self.reports += [
            e.message for e in events if isinstance(e, Received) and e.session_id == mine
        ]

    def _deliver(self, out: Output) -> None:
        self._collect(pump(self.client, self.server, out))

    def _deliver_from_server(self, out: Output) -> None:
        self._collect(pump(self.server, self.client, out))

    def send(self, msg_type: str, *fields: tuple[int, str]) -> list[Message]:
        before = len(self.reports)
        message = Message.build(self.begin, msg_type, [(60, "20240101-00:00:00"), *fields])
        if msg_type in ("D", "G") and self.begin == "FIX.4.2":
            message.append(21, "1")  # HandlInst: required by 4.2
        self._deliver(self.client.send(message))
        return self.reports[before:]

    def order(self, cl: str, side: str, qty: str, price: str | None = None) -> list[Message]:
        fields = [(11, cl), (54, side), (55, "AAPL"), (38, qty), (1, "acc")]
        fields.append((40, "2") if price else (40, "1"))
        if price:
            fields.append((44, price))
        return self.send("D", *fields)


def summary(reports: list[Message]) -> list[tuple[str, ...]]:
    """(MsgType, ExecType or CxlRejResponseTo, OrdStatus, ClOrdID) per report."""
    out: list[tuple[str, ...]] = []
    for m in reports:
        kind = m.get_str(150, "") if m.msg_type == b"8" else m.get_str(434, "")
        out.append((m.msg_type.decode(), kind, m.get_str(39, ""), m.get_str(11, "")))
    return out


@pytest.fixture(params=["FIX.4.4", "FIX.4.2"])
def desk(request: pytest.FixtureRequest) -> Desk:
    return Desk(str(request.param))


def test_marketable_order_is_acknowledged_then_filled(desk: Desk) -> None:
    reports = desk.order("B1", "1", "100", "100.05")
    trade = "F" if desk.begin == "FIX.4.4" else "2"
    assert summary(reports) == [("8", "0", "0", "B1"), ("8", trade, "2", "B1")]
    fill = reports[1]
    last = (fill.get(32), fill.get(31), fill.get(14), fill.get(151))
    assert last == (b"100", b"100.00", b"100", b"0")
    assert fill.get(37) == reports[0].get(37) and fill.get(17) != reports[0].get(17)
    if desk.begin == "FIX.4.2":
        assert fill.get(20) == b"0"


def test_resting_order_fills_when_the_market_comes(desk: Desk) -> None:
    assert summary(desk.order("S1", "2", "50", "100.10")) == [("8", "0", "0", "S1")]
    desk.ticks.set(tick("100.10", "100.12"))
    before = len(desk.reports)
    desk.gateway.poll()
    (fill,) = desk.reports[before:]
    assert (fill.get_str(39), fill.get(31), fill.get(6)) == ("2", b"100.10", b"100.1")


def test_cancel_goes_pending_then_canceled_with_both_ids(desk: Desk) -> None:
    desk.order("P1", "1", "10", "99.00")
    reports = desk.send("F", (41, "P1"), (11, "X1"), (54, "1"), (55, "AAPL"), (1, "acc"))
    assert summary(reports) == [("8", "6", "6", "X1"), ("8", "4", "4", "X1")]
    assert reports[1].get(41) == b"P1" and reports[1].get(151) == b"0"
    assert desk.manager.get("acc", "P1").status is OrderStatus.CANCELED  # type: ignore[union-attr]


def test_replace_moves_the_order_to_its_new_id(desk: Desk) -> None:
    first = desk.order("P1", "1", "10", "99.00")
    fields = [(41, "P1"), (11, "P2"), (54, "1"), (55, "AAPL"), (38, "20"), (40, "2"), (44, "99.50")]
    reports = desk.send("G", *fields, (1, "acc"))
    assert summary(reports) == [("8", "E", "E", "P2"), ("8", "5", "0", "P2")]
    replaced = reports[1]
    assert (replaced.get(41), replaced.get(38), replaced.get(44)) == (b"P1", b"20", b"99.50")
    assert replaced.get(37) == first[0].get(37)  # the OrderID survives the replace


def test_risk_denial_is_a_rejected_report_with_the_reason(desk: Desk) -> None:
    (report,) = desk.order("BIG", "1", "5000", "100.00")
    assert summary([report]) == [("8", "8", "8", "BIG")]
    assert report.get(103) == b"3" and report.get_str(58).startswith("max_order_quantity: ")


def test_replace_denied_by_risk_is_a_cancel_reject(desk: Desk) -> None:
    desk.order("P1", "1", "10", "99.00")
    fields = [(41, "P1"), (11, "P2"), (54, "1"), (55, "AAPL"), (38, "4000"), (40, "2"), (44, "99")]
    (reject,) = desk.send("G", *fields, (1, "acc"))
    assert summary([reject]) == [("9", "2", "0", "P2")]
    assert reject.get(102) == b"2" and b"max_order_quantity" in reject.get(58, b"")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ([(11, "U1"), (54, "1"), (55, "ZZZZ"), (38, "1"), (40, "1")], b"1"),
        ([(11, "U2"), (54, "1"), (55, "AAPL"), (38, "1.5"), (40, "1")], None),
    ],
    ids=["unknown-symbol", "off-lot"],
)
def test_orders_the_core_refuses_are_rejected_reports(
    desk: Desk, fields: list[tuple[int, str]], reason: bytes | None
) -> None:
    (report,) = desk.send("D", *fields)
    assert summary([report])[0][1:3] == ("8", "8")
    if reason is not None:
        assert report.get(103) == reason
    assert report.get(37) == b"NONE"


def test_duplicate_cl_ord_id_is_rejected(desk: Desk) -> None:
    desk.order("D1", "1", "10", "99.00")
    (report,) = desk.order("D1", "1", "10", "99.00")
    assert (report.get(150), report.get(103)) == (b"8", b"6")


@pytest.mark.parametrize(
    ("orig", "reason"), [("NOPE", b"1"), ("F1", b"0")], ids=["unknown", "filled"]
)
def test_cancel_that_cannot_be_done_is_a_cancel_reject(
    desk: Desk, orig: str, reason: bytes
) -> None:
    desk.order("F1", "1", "10", "100.05")  # filled at once
    (reject,) = desk.send("F", (41, orig), (11, "C9"), (54, "1"), (55, "AAPL"), (1, "acc"))
    assert (reject.msg_type, reject.get(434), reject.get(102)) == (b"9", b"1", reason)
