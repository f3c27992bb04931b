"""RiskConfig: the example loads; limits resolve through their layers; a bad file gives one
ConfigError listing every problem with its JSON path, and never another exception."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.core import Instrument
from trading.errors import ConfigError
from trading.risk.config import (
    MAX_EXACT,
    RiskConfig,
    dump_config,
    load_config,
    parse_config,
    validate_config,
)

EXAMPLE = Path(__file__).parents[3] / "examples" / "risk_limits.json"


def valid() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return data


def problems_of(data: str | bytes | dict[str, Any]) -> list[str]:
    text = json.dumps(data) if isinstance(data, dict) else data
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return [str(problem) for problem in info.value.problems]


def test_example_loads_with_exact_decimals() -> None:
    config = load_config(EXAMPLE)
    assert config.currency == "USD"
    assert [i.symbol for i in config.instruments] == ["AAPL", "GOOGL", "MSFT", "TSLA"]
    assert config.instruments[0].tick_size == Decimal("0.01")
    assert config.instrument("AAPL") == Instrument("AAPL", Decimal("0.01"), Decimal(1), "USD")
    assert config.instrument("NOPE") is None
    assert config.notional_unit == Decimal("0.01")
    assert parse_config(dump_config(config)) == config
    assert validate_config(config) is config


def test_limits_resolve_defaults_then_symbol_then_account_then_account_symbol() -> None:
    config = load_config(EXAMPLE)
    anyone = config.symbol_rules("someone", "AAPL")
    assert anyone is not None
    assert (anyone.max_order_quantity, anyone.max_long_position) == (Decimal(1000), Decimal(5000))
    assert anyone.price_collar_percent == Decimal(5)
    tsla = config.symbol_rules("someone", "TSLA")
    assert tsla is not None
    assert (tsla.max_order_quantity, tsla.price_collar_percent) == (Decimal(200), Decimal(3))
    desk = config.symbol_rules("desk-1", "AAPL")
    assert desk is not None
    assert (desk.max_long_position, desk.max_short_position) == (Decimal(20000), Decimal(5000))
    assert (desk.max_long_lots, desk.max_short_lots) == (20000, 5000)
    assert config.symbol_rules("desk-1", "NOPE") is None
    assert config.account_rules("desk-1").max_open_orders == 200
    assert config.account_rules("desk-1").max_orders_per_second == 20  # inherited
    intern = config.account_rules("intern")
    assert (intern.max_gross_exposure, intern.max_gross_units) == (Decimal(50000), 5_000_000)
    assert config.account_rules("someone").max_open_orders == 50


def test_null_in_defaults_means_no_limit_and_in_overrides_inherits() -> None:
    data = valid()
    data["defaults"]["symbol"]["max_long_position"] = None
    data["defaults"]["account"]["max_gross_exposure"] = None
    data["symbols"] = [{"symbol": "TSLA", "max_order_quantity": None}]
    config = parse_config(json.dumps(data))
    rules = config.symbol_rules("x", "TSLA")
    assert rules is not None
    assert (rules.max_long_position, rules.max_long_lots) == (None, -1)
    assert rules.max_order_quantity == Decimal(1000)  # null override: the default stays
    assert config.account_rules("x").max_gross_units == -1


def test_position_limits_in_lots_round_down() -> None:
    data = valid()
    data["instruments"] = [{"symbol": "BTC", "tick_size": "0.5", "lot_size": "0.001"}]
    data["symbols"], data["accounts"] = [], []
    data["defaults"]["symbol"]["max_long_position"] = "1.2345"
    config = parse_config(json.dumps(data))
    rules = config.symbol_rules("a", "BTC")
    assert rules is not None and rules.max_long_lots == 1234
    assert config.notional_unit == Decimal("0.0001")


@pytest.mark.parametrize(
    ("sizes", "unit"),
    [
        ([("0.01", "1")], "0.01"),
        ([("0.25", "1")], "0.01"),
        ([("5", "1")], "1"),
        ([("5", "10"), ("0.0001", "100")], "0.01"),
        ([("0.01", "1"), ("0.001", "0.1")], "0.0001"),
    ],
)
def test_notional_unit_makes_every_tick_times_lot_whole(
    sizes: list[tuple[str, str]], unit: str
) -> None:
    data = valid()
    data["instruments"] = [
        {"symbol": f"S{i}", "tick_size": tick, "lot_size": lot}
        for i, (tick, lot) in enumerate(sizes)
    ]
    data["symbols"], data["accounts"] = [], []
    config = parse_config(json.dumps(data))
    assert config.notional_unit == Decimal(unit)
    for spec in config.instruments:
        assert (spec.tick_size * spec.lot_size / config.notional_unit) % 1 == 0


def test_every_problem_at_once_with_paths_in_document_order() -> None:
    bad = valid()
    bad["instruments"][1]["symbol"] = "AAPL"
    bad["instruments"][2]["tick_size"] = -1
    bad["instruments"][3]["status"] = "paused"
    bad["defaults"]["symbol"]["max_order_quantity"] = -5
    del bad["defaults"]["symbol"]["max_long_position"]
    bad["defaults"]["account"]["max_open_orders"] = 1.5
    bad["bogus"] = 1
    bad["accounts"][0]["symbols"].append({"symbol": "NOPE", "max_long_position": "x"})
    bad["accounts"][1]["max_gross_exposure"] = 10**20
    bad["accounts"].append({"account": "desk-1", "max_open_orders": True})
    assert problems_of(bad) == [
        '$.instruments[1].symbol: duplicate symbol "AAPL" (also at $.instruments[0])',
        "$.instruments[2].tick_size: must be > 0, got -1",
        "$.instruments[3].status: unknown 'paused', expected one of tradable, halted",
        "$.defaults.account.max_open_orders: expected integer, got number 1.5",
        "$.defaults.symbol.max_order_quantity: must be >= 0, got -5",
        "$.defaults.symbol.max_long_position: required field missing",
        '$.accounts[0].symbols[1].symbol: unknown symbol "NOPE", not in $.instruments',
        '$.accounts[0].symbols[1].max_long_position: expected a decimal number, got string "x"',
        "$.accounts[1].max_gross_exposure: too large to count exactly in units of 0.01 "
        "(must be < 90071992547409.92)",
        '$.accounts[2].account: duplicate account "desk-1" (also at $.accounts[0])',
        "$.accounts[2].max_open_orders: expected integer, got boolean true",
        "$.bogus: unknown field, expected one of instruments, defaults, currency, symbols, "
        "accounts",
    ]


def test_str_names_the_source_file(tmp_path: Path) -> None:
    path = tmp_path / "limits.json"
    data = valid()
    data["currency"] = "usd"
    data["defaults"]["symbol"]["price_collar_percent"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert text.splitlines()[0] == f"2 configuration problems in {path}:"
    assert "$.defaults.symbol.price_collar_percent: must be > 0, got 0" in text
    assert "$.currency: must match '^[A-Z]{3}$', got \"usd\"" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "{",
            "$: invalid JSON at line 1 column 2: Expecting property name enclosed in double quotes",
        ),
        ("[]", "$: expected object, got array"),
        ('{"instruments": []}', "$.instruments: must have at least 1 item(s)"),
        (b"\xff", "$: not UTF-8 text: invalid start byte"),
    ],
)
def test_unusable_documents(text: str | bytes, expected: str) -> None:
    assert problems_of(text)[0] == expected


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "missing.json")


def test_position_limit_too_large_for_exact_lots() -> None:
    data = valid()
    data["symbols"] = [{"symbol": "AAPL", "max_short_position": MAX_EXACT}]
    assert problems_of(data) == [
        "$.symbols[0].max_short_position: too large: must be < 2**53 lots of 1"
    ]


def test_hand_built_config_is_checked_by_validate_config() -> None:
    config = load_config(EXAMPLE)
    broken = RiskConfig(
        instruments=config.instruments + config.instruments[:1],
        defaults=config.defaults,
    )
    with pytest.raises(ConfigError, match="duplicate symbol"):
        validate_config(broken)


# -- fuzzing: any mutation gives a config or a ConfigError with $ paths -----------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*path, index))
    return out


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutations_give_a_config_or_a_config_error(data: st.DataObject) -> None:
    doc = valid()
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JSON_VALUES)
    text = json.dumps(copy.deepcopy(doc))
    try:
        config = parse_config(text)
    except ConfigError as exc:
        assert exc.problems
        assert all(p.path.startswith("$") for p in exc.problems)
    else:
        for spec in config.instruments:
            assert config.symbol_rules("any", spec.symbol) is not None
