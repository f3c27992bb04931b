"""MarketDataConfig: the example loads as is; every invalid input gives one ConfigError
that lists all problems, each with a JSON path."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading.errors import ConfigError
from trading.market_data.config import (
    DEFAULT_TICK_SIZE,
    MarketDataConfig,
    dump_config,
    load_config,
    parse_config,
    validate_config,
)
from trading.market_data.ticks import (
    BrownianMotion,
    FullDepth,
    GenerationStyle,
    RandomWalk,
    Simple,
    TickFormat,
    WithVolume,
)

EXAMPLE = Path(__file__).parents[3] / "examples" / "market_data.json"
BRIEF_JSON = (
    '{"symbols": ["AAPL", "GOOGL", "MSFT", "TSLA"], "frequency_ms": 100, "tick_format": '
    '{"type": "full_depth", "bid_price": 100.0, "ask_price": 100.05, "bid_volume": 500, '
    '"ask_volume": 800}, "generation_style": {"type": "brownian_motion", "drift": 0.001, '
    '"volatility": 0.02, "dt": 0.1}}'
)


def valid() -> dict[str, Any]:
    return json.loads(BRIEF_JSON)  # type: ignore[no-any-return]


def problems_of(data: str | bytes | dict[str, Any]) -> list[str]:
    text = json.dumps(data) if isinstance(data, dict) else data
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return [str(problem) for problem in info.value.problems]


def test_example_file_is_the_documented_json_and_loads() -> None:
    assert json.loads(EXAMPLE.read_text()) == json.loads(BRIEF_JSON)
    config = load_config(EXAMPLE)
    assert config == parse_config(BRIEF_JSON)
    assert config.symbols == ("AAPL", "GOOGL", "MSFT", "TSLA")
    assert config.frequency_ms == 100
    assert config.tick_format == FullDepth(
        bid_price=Decimal("100.0"), ask_price=Decimal("100.05"), bid_volume=500, ask_volume=800
    )
    assert config.tick_format.ask_price == Decimal("100.05")  # exact, not the float
    assert config.generation_style == BrownianMotion(drift=0.001, volatility=0.02, dt=0.1)
    assert (config.tick_size, config.seed) == (DEFAULT_TICK_SIZE, None)


def test_the_two_documented_messages_appear_together() -> None:
    data = valid()
    data["generation_style"]["volatility"] = -0.2
    data["tick_format"] = {"type": "depth", "bid_price": 1}
    assert problems_of(data) == [
        "$.tick_format.type: unknown 'depth', expected one of simple, with_volume, full_depth",
        "$.generation_style.volatility: must be > 0, got -0.2",
    ]


def test_str_lists_every_problem_and_the_source(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"symbols": [], "frequency_ms": -1}')
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    text = str(info.value)
    assert text.splitlines()[0] == f"4 configuration problems in {bad}:"
    for expected in (
        "$.symbols: must have at least 1 item(s)",
        "$.frequency_ms: must be > 0, got -1",
        "$.tick_format: required field missing",
        "$.generation_style: required field missing",
    ):
        assert f"  {expected}" in text.splitlines()


def set_path(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    target: Any = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("colour",), "red", "$.colour: unknown field, expected one of symbols, frequency_ms"),
        (("tick_format", "depth"), 3, "$.tick_format.depth: unknown field, expected one of bid_p"),
        (("symbols",), [], "$.symbols: must have at least 1 item(s)"),
        (("symbols",), "AAPL", '$.symbols: expected array, got string "AAPL"'),
        (("symbols", 1), "", '$.symbols[1]: must be non-empty without whitespace, got ""'),
        (("symbols", 1), "BR K", '$.symbols[1]: must be non-empty without whitespace, got "BR K"'),
        (("symbols", 2), "AAPL", '$.symbols[2]: duplicate symbol "AAPL" (also at $.symbols[0])'),
        (("symbols", 0), 7, "$.symbols[0]: expected string, got integer 7"),
        (("frequency_ms",), 0, "$.frequency_ms: must be > 0, got 0"),
        (("frequency_ms",), "100", '$.frequency_ms: expected integer, got string "100"'),
        (("frequency_ms",), 100.0, "$.frequency_ms: expected integer, got number 100.0"),
        (("frequency_ms",), True, "$.frequency_ms: expected integer, got boolean true"),
        (("tick_format", "bid_price"), 100.05, "$.tick_format.ask_price: must be > bid_price"),
        (("tick_format", "bid_price"), 200, "$.tick_format.ask_price: must be > bid_price 200"),
        (("tick_format", "bid_price"), -1, "$.tick_format.bid_price: must be > 0, got -1"),
        (("tick_format", "bid_price"), 99.995, "99.995 is not a multiple of tick_size 0.01"),
        (("tick_format", "bid_volume"), -5, "$.tick_format.bid_volume: must be > 0, got -5"),
        (
            ("tick_format", "ask_volume"),
            None,
            "$.tick_format.ask_volume: expected integer, got null",
        ),
        (("tick_format", "type"), 5, "$.tick_format.type: expected string, got integer 5"),
        (("tick_format",), [], "$.tick_format: expected object, got array"),
        (("generation_style", "dt"), 0, "$.generation_style.dt: must be > 0, got 0"),
        (("generation_style", "drift"), "x", "$.generation_style.drift: expected number, got str"),
        (("generation_style", "volatility"), 5, "volatility^2 * dt must be <= 1, got 2.5"),
        (("tick_size",), 0, "$.tick_size: must be > 0, got 0"),
        (("tick_size",), "abc", '$.tick_size: expected a decimal number, got string "abc"'),
        (("seed",), -1, "$.seed: must be >= 0, got -1"),
        (("stream_maxlen",), 0, "$.stream_maxlen: must be > 0, got 0"),
    ],
)
def test_each_kind_of_problem(path: tuple[str | int, ...], value: Any, expected: str) -> None:
    problems = problems_of(set_path(valid(), path, value))
    assert any(expected in problem for problem in problems), problems


def test_missing_tag_and_missing_fields() -> None:
    data = valid()
    del data["tick_format"]["type"]
    del data["generation_style"]["dt"]
    assert problems_of(data) == [
        "$.tick_format.type: required field missing, expected one of simple, with_volume, "
        "full_depth",
        "$.generation_style.dt: required field missing",
    ]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(literal: str) -> None:
    text = BRIEF_JSON.replace('"drift": 0.001', f'"drift": {literal}')
    shown = "1E+999" if literal == "1e999" else literal
    assert problems_of(text) == [f"$.generation_style.drift: must be a finite number, got {shown}"]
    text = BRIEF_JSON.replace('"bid_volume": 500', f'"bid_volume": {literal}')
    assert problems_of(text)[0].startswith("$.tick_format.bid_volume: ")


def test_duplicate_keys_are_reported_not_silently_merged() -> None:
    text = BRIEF_JSON.replace('"frequency_ms": 100', '"frequency_ms": 100, "frequency_ms": 5')
    assert problems_of(text) == ["$.frequency_ms: duplicate key (only the last would count)"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "$: invalid JSON at line 1 column 1: Expecting value"),
        ('{"symbols": [}', "$: invalid JSON at line 1 column 14"),
        ("[1, 2]", "$: expected object, got array"),
        (b"\xff\xfe\x00", "$: "),
    ],
)
def test_not_an_object(text: str | bytes, expected: str) -> None:
    assert problems_of(text)[0].startswith(expected)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\$: cannot read file"):
        load_config(tmp_path / "missing.json")


def test_problems_follow_document_order() -> None:
    text = (
        '{"generation_style": {"type": "random_walk", "step_size": -1, "volatility": 1},'
        ' "symbols": ["A", "A"], "frequency_ms": 0,'
        ' "tick_format": {"type": "simple", "price": 0}}'
    )
    paths = [problem.split(":")[0] for problem in problems_of(text)]
    assert paths == [
        "$.generation_style.step_size",
        "$.symbols[1]",
        "$.frequency_ms",
        "$.tick_format.price",
    ]


def test_validate_config_checks_hand_built_structs() -> None:
    good = parse_config(BRIEF_JSON)
    assert validate_config(good) is good
    bad = MarketDataConfig(
        symbols=("X", "X"),
        frequency_ms=-1,
        tick_format=Simple(price=Decimal("1.001")),
        generation_style=RandomWalk(step_size=0.1, volatility=float("nan")),
    )
    with pytest.raises(ConfigError) as info:
        validate_config(bad)
    assert [problem.path for problem in info.value.problems] == [
        "$.symbols[1]",
        "$.frequency_ms",
        "$.tick_format.price",
        "$.generation_style.volatility",
    ]


# --- property tests -----------------------------------------------------------------------

symbols = st.lists(
    st.text(
        st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_categories=("Cc", "Zs")),
        min_size=1,
        max_size=8,
    ),
    min_size=1,
    max_size=6,
    unique=True,
)
ticks = st.sampled_from([Decimal("0.01"), Decimal("0.05"), Decimal("1"), Decimal("0.0001")])
positive = st.floats(min_value=1e-6, max_value=0.9, allow_nan=False, allow_infinity=False)
volumes = st.integers(min_value=1, max_value=10**6)


@st.composite
def configs(draw: st.DrawFn) -> MarketDataConfig:
    tick = draw(ticks)
    bid_ticks = draw(st.integers(min_value=1, max_value=10**7))
    spread = draw(st.integers(min_value=1, max_value=50))
    formats: list[TickFormat] = [
        Simple(price=bid_ticks * tick),
        WithVolume(price=bid_ticks * tick, volume=draw(volumes)),
        FullDepth(
            bid_price=bid_ticks * tick,
            ask_price=(bid_ticks + spread) * tick,
            bid_volume=draw(volumes),
            ask_volume=draw(volumes),
        ),
    ]
    styles: list[GenerationStyle] = [
        RandomWalk(step_size=draw(positive), volatility=draw(positive)),
        BrownianMotion(
            drift=draw(st.floats(min_value=-0.5, max_value=0.5)),
            volatility=draw(positive),
            dt=draw(positive),
        ),
    ]
    return MarketDataConfig(
        symbols=tuple(draw(symbols)),
        frequency_ms=draw(st.integers(min_value=1, max_value=10**6)),
        tick_format=draw(st.sampled_from(formats)),
        generation_style=draw(st.sampled_from(styles)),
        tick_size=tick,
        seed=draw(st.none() | st.integers(min_value=0, max_value=2**64)),
        stream_maxlen=draw(st.integers(min_value=1, max_value=10**7)),
    )


@given(configs())
def test_round_trip_through_json(config: MarketDataConfig) -> None:
    assert parse_config(dump_config(config)) == config
    # msgspec's default encoding writes Decimals as strings: accepted too
    assert parse_config(msgspec.json.encode(config)) == config


JUNK = [True, [], {}, "not valid ", float("nan"), float("-inf")]


def leaf_paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return [prefix]
    out = [prefix] if prefix else []
    for key, value in items:
        out.extend(leaf_paths(value, (*prefix, key)))
    return out


@settings(max_examples=200)
@given(configs(), st.data())
def test_invalid_configs_always_give_config_error_with_paths(
    config: MarketDataConfig, data: st.DataObject
) -> None:
    raw = json.loads(dump_config(config))
    mutation = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if mutation == "replace":
        path = data.draw(st.sampled_from(leaf_paths(raw)))
        raw = set_path(raw, path, data.draw(st.sampled_from(JUNK)))
    elif mutation == "delete":
        key = data.draw(
            st.sampled_from(["symbols", "frequency_ms", "tick_format", "generation_style"])
        )
        del raw[key]
    else:
        section = data.draw(st.sampled_from([(), ("tick_format",), ("generation_style",)]))
        raw = set_path(raw, (*section, "surplus"), 1)
    with pytest.raises(ConfigError) as info:
        parse_config(json.dumps(raw))
    assert info.value.problems
    assert all(problem.path.startswith("$") for problem in info.value.problems)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["symbols", "type", "tick_format", "price", "x", "frequency_ms"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=15,
)


@given(json_values)
def test_arbitrary_json_never_escapes_as_another_exception(value: Any) -> None:
    try:
        parse_config(json.dumps(value))
    except ConfigError as exc:
        assert all(problem.path.startswith("$") for problem in exc.problems)
