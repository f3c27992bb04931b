"""Operator commands against a live server: tables and --json for orders, positions, the
kill switch and limit usage; exit statuses for unknown orders and bad files."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import resp3
from resp3.testing import RedisServer
from tests.server.trading._risk_helpers import MARKS, flushed_client, limits_json, make_order
from trading import cli_ops
from trading.core import Fill, Instrument, Price, Quantity, Side
from trading.market_data.codec import encode_tick
from trading.market_data.keys import KeyLayout
from trading.market_data.ticks import Simple, Tick
from trading.oms import Accept, OrderManager
from trading.oms.store import RedisOrderStore
from trading.risk import (
    KillMode,
    KillSwitch,
    PositionBook,
    RedisLimits,
    RiskEngine,
    StaticMarks,
    parse_config,
)

AAPL = Instrument("AAPL", Decimal("0.01"))


@pytest.fixture
def client(server: RedisServer) -> Iterator[resp3.Redis]:
    redis = flushed_client(server)
    yield redis
    redis.close()


def run(server: RedisServer, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = cli_ops.main([*argv, "--redis-url", server.url])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def as_json(server: RedisServer, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    status, out = run(server, capsys, *argv, "--json")
    assert status == 0, out
    return json.loads(out)


def test_kill_switch_set_and_show(server: RedisServer, client: resp3.Redis, capsys: Any) -> None:
    status, out = run(server, capsys, "risk", "kill-switch", "reduce-only", "--account", "a1")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["scope", "mode", "effective"]
    assert lines[2].split() == ["global", "off", "off"]
    assert lines[3].split() == ["account", "a1", "reduce_only", "reduce_only"]
    data = as_json(server, capsys, "risk", "kill-switch", "on")
    assert data == {"global": "on", "accounts": {"a1": {"own": "reduce_only", "effective": "on"}}}
    assert KillSwitch(client).get() is KillMode.ON
    assert as_json(server, capsys, "risk", "kill-switch", "--account", "a2") == {
        "global": "on",
        "accounts": {"a2": {"own": "off", "effective": "on"}},
    }


def test_limits_usage(
    server: RedisServer, client: resp3.Redis, capsys: Any, tmp_path: Path
) -> None:
    text = limits_json(
        {"max_open_orders": 5, "max_gross_exposure": 10000}, {"max_long_position": 50}
    )
    path = tmp_path / "limits.json"
    path.write_text(text)
    risk = RiskEngine(parse_config(text), RedisLimits(client), StaticMarks(MARKS))
    assert risk.check(make_order("a", qty=20, account="a1")) is None
    assert risk.check(make_order("b", side=Side.SELL, qty=5, account="a1")) is None
    risk.on_fill("a1", Fill("x1", "a", AAPL, Side.BUY, Quantity(8), Price("99.00")))
    rows = as_json(server, capsys, "risk", "limits", "--config", str(path))
    by_check = {row["check"]: row for row in rows if row["account"] == "a1"}
    assert by_check["open_orders"] == {
        "account": "a1", "check": "open_orders", "used": 2, "limit": 5, "headroom": 3,
    }  # fmt: skip
    assert by_check["AAPL long"]["used"] == "20"  # filled 8 + open buys 12
    assert by_check["AAPL long"]["headroom"] == "30"
    assert by_check["AAPL short"]["used"] == "-3"  # open sells 5 - filled 8
    assert by_check["gross_exposure (USD)"]["used"] == "1980.00"  # worst 20 lots at 99.00
    assert by_check["orders_per_second"]["limit"] is None
    status, out = run(server, capsys, "risk", "limits", "--config", str(path), "--account", "a1")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["account", "check", "used", "limit", "headroom"]
    table = [line.split() for line in lines]
    assert ["a1", "gross_exposure", "(USD)", "1980.00", "10000", "8020.00"] in table
    assert ["a1", "orders_per_second", "2", "-", "-"] in table
    status, out = run(server, capsys, "risk", "limits", "--config", str(tmp_path / "nope.json"))
    assert status == 2 and "cannot read file" in out


def test_positions(server: RedisServer, client: resp3.Redis, capsys: Any) -> None:
    book = PositionBook(client)
    book.apply("a1", Fill("x1", "o1", AAPL, Side.BUY, Quantity(10), Price("100.00")))
    book.apply("a1", Fill("x2", "o1", AAPL, Side.SELL, Quantity(4), Price("101.00")))
    tick = Tick(symbol="AAPL", timestamp_ns=5, quote=Simple(price=Decimal("102.50")))
    client.hset(KeyLayout().latest("AAPL"), mapping={**encode_tick(tick), b"id": b"0-5"})
    (row,) = as_json(server, capsys, "positions")
    assert row == {
        "account": "a1", "symbol": "AAPL", "quantity": "6", "avg_price": "100.00",
        "cost": "600.00", "realized": "4.00", "mark": "102.50", "unrealized": "15.00",
        "currency": "USD",
    }  # fmt: skip
    status, out = run(server, capsys, "positions", "--account", "nobody")
    assert (status, out.strip()) == (0, "(none)")


def test_orders_list_show_cancel(server: RedisServer, client: resp3.Redis, capsys: Any) -> None:
    manager = OrderManager(RedisOrderStore(client))
    manager.submit(make_order("o1", account="a1"))
    manager.apply(Accept("a1", "o1"))
    manager.submit(make_order("o2", side=Side.SELL, qty=3, account="a2"))
    rows = as_json(server, capsys, "orders", "list")
    assert [(r["account"], r["id"], r["status"]) for r in rows] == [
        ("a1", "o1", "new"),
        ("a2", "o2", "pending_new"),
    ]
    rows = as_json(server, capsys, "orders", "list", "--status", "new")
    assert [r["id"] for r in rows] == ["o1"]
    status, out = run(server, capsys, "orders", "list", "--account", "a2")
    assert status == 0 and "pending_new" in out and "o1" not in out
    shown = as_json(server, capsys, "orders", "show", "o1")
    assert [e["kind"] for e in shown["history"]] == ["submit", "accept"]
    status, out = run(server, capsys, "orders", "cancel", "o1")
    assert (status, out.strip()) == (0, "a1/o1: cancel requested, status pending_cancel")
    stored = RedisOrderStore(client).load("a1", "o1")
    assert stored is not None and stored.state.status.value == "pending_cancel"
    status, out = run(server, capsys, "orders", "show", "missing")
    assert status == 1 and "order 'missing' not found in any account" in out
    manager.submit(make_order("o1", account="a2"))
    status, out = run(server, capsys, "orders", "show", "o1")
    assert status == 1 and "exists in several accounts (a1, a2): use --account" in out
    status, out = run(server, capsys, "orders", "cancel", "o1", "--account", "a1")
    assert status == 1 and out.startswith("ocamlot: InvalidTransition:"), out
    assert "pending_cancel" in out


def test_register_adds_the_commands_to_another_parser() -> None:
    parser = argparse.ArgumentParser(prog="ocamlot")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("market-data")
    cli_ops.register(commands)
    args = parser.parse_args(["risk", "kill-switch", "off", "--json"])
    assert (args.handler, args.mode, args.json) == (cli_ops.kill_switch, "off", True)
    with pytest.raises(SystemExit):
        parser.parse_args(["risk", "kill-switch", "maybe"])
