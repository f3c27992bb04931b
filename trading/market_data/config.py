"""``MarketDataConfig``: which symbols to simulate, how often, in which format and style.

Theory of operation
-------------------
The schema is declared once, as msgspec Structs (here and in :mod:`.ticks`), with
``msgspec.Meta`` constraints on numbers and strings. msgspec alone would stop at the
first problem, which makes fixing a file a loop of edit-and-retry. So parsing runs in
three passes, and only the last one builds objects:

1. **JSON**: the standard library parses the text, with exact ``Decimal`` numbers,
   NaN/Infinity turned into markers instead of floats, and duplicate keys recorded.
   Invalid JSON is the only case that stops here (there is no tree to walk).
2. **Structure**: :func:`~trading._validation.check` walks the raw tree against
   ``msgspec.inspect.type_info(MarketDataConfig)``: object shapes, unknown and missing
   keys, tags of unions, types, ``Meta`` bounds, finiteness. It never stops early; each
   problem is a :class:`~trading.errors.ConfigProblem` with its JSON path.
3. **Meaning**: rules a type cannot say (unique symbols, positive Decimal prices,
   ``bid < ask``, prices on the ``tick_size`` grid, sane GBM step sizes). Each rule
   runs as soon as the raw fields *it* needs passed pass 2, so a bad volume does not
   hide a crossed quote next to it.

If anything was found, one :class:`~trading.errors.ConfigError` lists it all; otherwise
``msgspec.convert`` builds the frozen config (a failure there would be a checker bug,
and is still reported as a ``ConfigError``, never as a raw traceback).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any, cast

import msgspec
import msgspec.inspect as mi

from trading._validation import (
    encode_document,
    is_clean,
    key_path,
    parse_document,
    read_document,
)
from trading.core.instruments import on_grid
from trading.errors import ConfigProblem
from trading.market_data.ticks import (
    GenerationStyle,
    TickFormat,
)

__all__ = [
    "DEFAULT_STREAM_MAXLEN",
    "DEFAULT_TICK_SIZE",
    "MarketDataConfig",
    "dump_config",
    "load_config",
    "parse_config",
    "validate_config",
]

DEFAULT_TICK_SIZE = Decimal("0.01")
DEFAULT_STREAM_MAXLEN = 100_000

Symbol = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^\S+$")]


class MarketDataConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A validated market-data simulation setup. Build it with :func:`parse_config` or
    :func:`load_config`; a hand-built instance can be checked with :func:`validate_config`.

    ``tick_size`` is the price grid of every symbol; ``seed`` makes the generated data
    reproducible (None: fresh entropy, reported by the generator); ``stream_maxlen`` is
    the approximate length a publisher trims each stream to.
    """

    symbols: Annotated[tuple[Symbol, ...], msgspec.Meta(min_length=1)]
    frequency_ms: Annotated[int, msgspec.Meta(gt=0)]
    tick_format: TickFormat
    generation_style: GenerationStyle
    tick_size: Decimal = DEFAULT_TICK_SIZE
    seed: Annotated[int, msgspec.Meta(ge=0)] | None = None
    stream_maxlen: Annotated[int, msgspec.Meta(gt=0)] = DEFAULT_STREAM_MAXLEN


_SCHEMA = mi.type_info(MarketDataConfig)
#: Decimal (price) fields of each tick-format variant, read from the schema.
_DECIMAL_FIELDS = {
    str(variant.tag): tuple(
        f.encode_name for f in variant.fields if isinstance(f.type, mi.DecimalType)
    )
    for variant in cast(mi.UnionType, mi.type_info(TickFormat)).types
    if isinstance(variant, mi.StructType)
}
# -- pass 3: meaning ---------------------------------------------------------------------


def _semantic(raw: dict[str, Any], problems: list[ConfigProblem]) -> Iterator[ConfigProblem]:
    """Rules beyond types. Each rule runs when the raw values it needs passed pass 2
    (per field, not per object), so one bad field does not hide another's problem."""
    symbols = raw.get("symbols")
    if isinstance(symbols, list):
        first: dict[str, int] = {}
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str):
                continue
            if symbol in first:
                yield ConfigProblem(
                    f"$.symbols[{index}]",
                    f"duplicate symbol {json.dumps(symbol)} (also at $.symbols[{first[symbol]}])",
                )
            first.setdefault(symbol, index)
    tick: Decimal | None = DEFAULT_TICK_SIZE
    if "tick_size" in raw:
        tick = _clean_decimal(raw, "$", "tick_size", problems)
        if tick is not None and tick <= 0:
            yield ConfigProblem("$.tick_size", f"must be > 0, got {tick}")
            tick = None
    quote = raw.get("tick_format")
    if isinstance(quote, dict):
        yield from _quote_problems(quote, tick, problems)
    style = raw.get("generation_style")
    if isinstance(style, dict) and style.get("type") == "brownian_motion":
        yield from _gbm_problems(style, problems)


def _clean_decimal(
    obj: dict[str, Any], path: str, key: str, problems: list[ConfigProblem]
) -> Decimal | None:
    """``obj[key]`` as a Decimal if present and free of structural problems, else None."""
    if key not in obj or not is_clean(problems, key_path(path, key)):
        return None
    return Decimal(obj[key])


def _quote_problems(
    quote: dict[str, Any], tick: Decimal | None, problems: list[ConfigProblem]
) -> Iterator[ConfigProblem]:
    path = "$.tick_format"
    tag = quote.get("type")
    if not isinstance(tag, str) or tag not in _DECIMAL_FIELDS:
        return  # an unknown variant's fields were never checked: nothing to build on
    prices = {name: _clean_decimal(quote, path, name, problems) for name in _DECIMAL_FIELDS[tag]}
    for name, price in prices.items():
        if price is None:
            continue
        if price <= 0:
            yield ConfigProblem(f"{path}.{name}", f"must be > 0, got {price}")
        elif tick is not None and not on_grid(price, tick):
            yield ConfigProblem(f"{path}.{name}", f"{price} is not a multiple of tick_size {tick}")
    bid, ask = prices.get("bid_price"), prices.get("ask_price")
    if tag == "full_depth" and bid is not None and ask is not None and bid >= ask:
        yield ConfigProblem(f"{path}.ask_price", f"must be > bid_price {bid}, got {ask}")


def _gbm_problems(style: dict[str, Any], problems: list[ConfigProblem]) -> Iterator[ConfigProblem]:
    """Refuse steps so large that exp() of a few of them overflows or the model is
    meaningless: |drift| * dt and volatility^2 * dt must each stay <= 1."""
    path = "$.generation_style"
    values = {
        name: _clean_decimal(style, path, name, problems) for name in ("drift", "volatility", "dt")
    }
    drift, volatility, dt = values["drift"], values["volatility"], values["dt"]
    if dt is None:
        return
    if drift is not None and abs(drift) * dt > 1:
        yield ConfigProblem(f"{path}.drift", f"|drift| * dt must be <= 1, got {abs(drift) * dt}")
    if volatility is not None and volatility**2 * dt > 1:
        yield ConfigProblem(
            f"{path}.volatility", f"volatility^2 * dt must be <= 1, got {volatility**2 * dt}"
        )


_TOP_KEY = re.compile(r'^\$(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[("(?:[^"\\]|\\.)*")\])')


def _in_document_order(problems: list[ConfigProblem], raw: dict[str, Any]) -> list[ConfigProblem]:
    """Stable-sort problems by the position of their top-level key in the file."""
    keys = list(raw)

    def position(problem: ConfigProblem) -> int:
        match = _TOP_KEY.match(problem.path)
        if match is None:
            return -1
        key = match.group(1) if match.group(1) is not None else json.loads(match.group(2))
        return keys.index(key) if key in keys else len(keys)

    return sorted(problems, key=position)


# -- public API --------------------------------------------------------------------------


def parse_config(data: bytes | str, *, source: str | None = None) -> MarketDataConfig:
    """Parse and validate JSON text. Raises :class:`ConfigError` listing every problem,
    each as ``$.path: what was expected, got what``; ``source`` names the file in it."""
    return parse_document(data, source, MarketDataConfig, _SCHEMA, _semantic, _in_document_order)


def load_config(path: str | os.PathLike[str]) -> MarketDataConfig:
    """Read and parse a JSON file; unreadable files raise :class:`ConfigError` too."""
    data, name = read_document(path)
    return parse_config(data, source=name)


def dump_config(config: MarketDataConfig) -> bytes:
    """JSON for ``config``, with Decimals written as plain numbers (exactly as stored)."""
    return encode_document(config)


def validate_config(config: MarketDataConfig) -> MarketDataConfig:
    """Check a config built in code (Struct constructors do not validate) with the same
    rules as :func:`parse_config`; returns it or raises :class:`ConfigError`."""
    parse_config(dump_config(config))
    return config
