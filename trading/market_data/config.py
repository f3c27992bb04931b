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
2. **Structure**: :func:`_check` walks the raw tree against
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
import math
import os
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, cast

import msgspec
import msgspec.inspect as mi

from trading.core.instruments import on_grid
from trading.errors import ConfigError, ConfigProblem
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
_PATTERN_HINTS = {r"^\S+$": "must be non-empty without whitespace"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# -- pass 1: JSON ------------------------------------------------------------------------


class _NonFinite:
    """Stands for NaN/Infinity found in the JSON text, so pass 2 can report its path."""

    def __init__(self, text: str) -> None:
        self.text = text


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers keys it saw more than once (json keeps the last)."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def _load_json(data: bytes | str) -> Any:
    try:
        return json.loads(
            data, parse_float=Decimal, parse_constant=_NonFinite, object_pairs_hook=_object
        )
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [ConfigProblem("$", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")]
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem("$", f"not UTF-8 text: {exc.reason}")]) from None


# -- pass 2: structure -------------------------------------------------------------------


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.fullmatch(key) else f"{path}[{json.dumps(key)}]"


def _show(value: object) -> str:
    """Name a raw JSON value the way the user wrote it."""
    if isinstance(value, _NonFinite):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, Decimal):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    return "array" if isinstance(value, list) else "object"


def _bounds(value: Decimal | int, info: mi.IntType | mi.FloatType) -> Iterator[str]:
    if info.gt is not None and not value > info.gt:
        yield f"must be > {info.gt}, got {value}"
    if info.ge is not None and not value >= info.ge:
        yield f"must be >= {info.ge}, got {value}"
    if info.lt is not None and not value < info.lt:
        yield f"must be < {info.lt}, got {value}"
    if info.le is not None and not value <= info.le:
        yield f"must be <= {info.le}, got {value}"


def _scalar(value: object, info: mi.Type) -> Iterator[str]:
    """Problems of one scalar against its schema type, as messages without a path."""
    if isinstance(value, _NonFinite) and isinstance(info, mi.IntType | mi.FloatType):
        yield f"must be a finite number, got {value.text}"
    elif isinstance(info, mi.IntType):
        if isinstance(value, bool) or not isinstance(value, int):
            yield f"expected integer, got {_show(value)}"
        else:
            yield from _bounds(value, info)
    elif isinstance(info, mi.FloatType):
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            yield f"expected number, got {_show(value)}"
        elif math.isinf(float(value)):
            yield f"must be a finite number, got {value}"
        else:
            yield from _bounds(value, info)
    elif isinstance(info, mi.DecimalType):
        yield from _decimal(value)
    elif isinstance(info, mi.StrType):
        yield from _string(value, info)
    elif isinstance(info, mi.NoneType):
        if value is not None:
            yield f"expected null, got {_show(value)}"
    else:
        raise TypeError(f"config schema uses {type(info).__name__}, which _check cannot read")


def _decimal(value: object) -> Iterator[str]:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return
    if isinstance(value, str):
        try:
            if Decimal(value).is_finite():
                return
        except InvalidOperation:
            pass
        yield f"expected a decimal number, got {_show(value)}"
    elif isinstance(value, _NonFinite):
        yield f"must be a finite number, got {value.text}"
    else:
        yield f"expected number, got {_show(value)}"


def _string(value: object, info: mi.StrType) -> Iterator[str]:
    if not isinstance(value, str):
        yield f"expected string, got {_show(value)}"
        return
    if info.min_length is not None and len(value) < info.min_length:
        yield f"must have at least {info.min_length} character(s), got {json.dumps(value)}"
    if info.max_length is not None and len(value) > info.max_length:
        yield f"must have at most {info.max_length} characters, got {len(value)}"
    if info.pattern is not None and not re.search(info.pattern, value):
        hint = _PATTERN_HINTS.get(info.pattern, f"must match {info.pattern!r}")
        yield f"{hint}, got {json.dumps(value)}"


def _check(value: object, info: mi.Type, path: str, out: list[ConfigProblem]) -> None:
    """Append every structural problem of ``value`` (raw JSON) against ``info`` to ``out``."""
    if isinstance(info, mi.StructType):
        _check_struct(value, info, path, out, skip=None)
    elif isinstance(info, mi.UnionType):
        _check_union(value, info, path, out)
    elif isinstance(info, mi.VarTupleType | mi.ListType):
        if not isinstance(value, list):
            out.append(ConfigProblem(path, f"expected array, got {_show(value)}"))
            return
        if info.min_length is not None and len(value) < info.min_length:
            out.append(ConfigProblem(path, f"must have at least {info.min_length} item(s)"))
        if info.max_length is not None and len(value) > info.max_length:
            out.append(ConfigProblem(path, f"must have at most {info.max_length} items"))
        for index, item in enumerate(value):
            _check(item, info.item_type, f"{path}[{index}]", out)
    else:
        out.extend(ConfigProblem(path, message) for message in _scalar(value, info))


def _check_struct(
    value: object, info: mi.StructType, path: str, out: list[ConfigProblem], skip: str | None
) -> None:
    if not isinstance(value, dict):
        out.append(ConfigProblem(path, f"expected object, got {_show(value)}"))
        return
    fields = {field.encode_name: field for field in info.fields}
    for key in getattr(value, "duplicates", ()):
        out.append(ConfigProblem(_key_path(path, key), "duplicate key (only the last would count)"))
    for key, item in value.items():
        if key == skip:
            continue
        field = fields.get(key)
        if field is None:
            expected = ", ".join(fields)
            out.append(
                ConfigProblem(_key_path(path, key), f"unknown field, expected one of {expected}")
            )
        else:
            _check(item, field.type, _key_path(path, key), out)
    for name, field in fields.items():
        if field.required and name not in value:
            out.append(ConfigProblem(_key_path(path, name), "required field missing"))


def _check_union(value: object, info: mi.UnionType, path: str, out: list[ConfigProblem]) -> None:
    members = [member for member in info.types if not isinstance(member, mi.NoneType)]
    if value is None and len(members) < len(info.types):
        return
    structs = [member for member in members if isinstance(member, mi.StructType)]
    if not structs:
        if len(members) != 1:
            raise TypeError(f"config schema union at {path} is not supported by _check")
        _check(value, members[0], path, out)
        return
    tag_field = structs[0].tag_field
    if tag_field is None or len(structs) != len(members):
        raise TypeError(f"config schema union at {path} must be of tagged structs")
    by_tag = {str(struct.tag): struct for struct in structs}
    expected = ", ".join(by_tag)
    if not isinstance(value, dict):
        out.append(ConfigProblem(path, f"expected object, got {_show(value)}"))
        return
    tag_path = _key_path(path, tag_field)
    if tag_field not in value:
        out.append(ConfigProblem(tag_path, f"required field missing, expected one of {expected}"))
        return
    tag = value[tag_field]
    if not isinstance(tag, str):
        out.append(ConfigProblem(tag_path, f"expected string, got {_show(tag)}"))
    elif tag not in by_tag:
        out.append(ConfigProblem(tag_path, f"unknown {tag!r}, expected one of {expected}"))
    else:
        _check_struct(value, by_tag[tag], path, out, skip=tag_field)


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
    if key not in obj or not _is_clean(problems, _key_path(path, key)):
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


def _is_clean(problems: list[ConfigProblem], path: str) -> bool:
    return not any(p.path == path or p.path.startswith((f"{path}.", f"{path}[")) for p in problems)


_TOP_KEY = re.compile(r'^\$(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[("(?:[^"\\]|\\.)*")\])')


def _in_document_order(problems: list[ConfigProblem], keys: list[str]) -> list[ConfigProblem]:
    """Stable-sort problems by the position of their top-level key in the file."""

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
    try:
        raw = _load_json(data)
    except ConfigError as exc:
        raise ConfigError(exc.problems, source) from None
    problems: list[ConfigProblem] = []
    _check(raw, _SCHEMA, "$", problems)
    if isinstance(raw, dict):
        problems.extend(list(_semantic(raw, problems)))
        problems = _in_document_order(problems, list(raw))
    if problems:
        raise ConfigError(problems, source)
    try:
        return msgspec.convert(raw, MarketDataConfig)
    except msgspec.ValidationError as exc:  # the checker missed something: still no traceback
        message, _, where = str(exc).partition(" - at `")
        raise ConfigError([ConfigProblem(where.rstrip("`") or "$", message)], source) from None


def load_config(path: str | os.PathLike[str]) -> MarketDataConfig:
    """Read and parse a JSON file; unreadable files raise :class:`ConfigError` too."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise ConfigError([ConfigProblem("$", f"cannot read file: {exc.strerror}")], name) from None
    return parse_config(data, source=name)


_ENCODER = msgspec.json.Encoder(decimal_format="number")


def dump_config(config: MarketDataConfig) -> bytes:
    """JSON for ``config``, with Decimals written as plain numbers (exactly as stored)."""
    return _ENCODER.encode(config)


def validate_config(config: MarketDataConfig) -> MarketDataConfig:
    """Check a config built in code (Struct constructors do not validate) with the same
    rules as :func:`parse_config`; returns it or raises :class:`ConfigError`."""
    parse_config(dump_config(config))
    return config
