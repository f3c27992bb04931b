"""``RiskConfig``: tradable instruments and the limits that apply to each account and symbol.

Theory of operation
-------------------
The file is validated exactly like the market-data config, by the same shared passes
(:mod:`trading._validation`): standard-library JSON with exact ``Decimal`` numbers and
duplicate keys recorded, then a structural walk of the raw tree against
``msgspec.inspect.type_info(RiskConfig)`` that never stops early, then the rules a type
cannot say. Every problem comes out in one
:class:`~trading.errors.ConfigError`, each with its JSON path, unknown keys included.

Limits resolve in three layers, field by field::

    defaults.symbol / defaults.account        every field required; null means "no limit"
      <- symbols[]   (per symbol, all accounts) a field left out inherits
        <- accounts[] (per account) and accounts[].symbols[] (per account and symbol)

So ``null`` is only allowed where it is an explicit decision (the defaults): a limit
cannot disappear because a key was forgotten. An override can tighten or loosen a
limit but not remove it; to lift one for an account, set a large value.

Quantities and notionals also get an integer form for the cross-process limits kept
in Redis (Lua numbers are doubles, exact only below 2**53): positions count lots of
the instrument, and notionals count :attr:`RiskConfig.notional_unit`, the coarsest
power of ten in which every ``tick_size * lot_size`` is a whole number. Limits too
large to be counted exactly that way are refused here, with their path.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Annotated, Any

import msgspec
import msgspec.inspect as mi

from trading._validation import (
    encode_document,
    is_clean,
    key_path,
    parse_document,
    read_document,
)
from trading.core.instruments import Instrument
from trading.errors import ConfigProblem

__all__ = [
    "MAX_EXACT",
    "AccountLimits",
    "AccountOverride",
    "AccountRules",
    "Defaults",
    "InstrumentSpec",
    "RiskConfig",
    "SymbolLimits",
    "SymbolOverride",
    "SymbolRules",
    "dump_config",
    "load_config",
    "parse_config",
    "validate_config",
]

#: Largest integer a Lua number (a double) holds exactly; Redis-side counters stay below.
MAX_EXACT = 2**53

STATUSES = ("tradable", "halted")

Symbol = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^\S+$")]
AccountId = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^\S+$")]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Count = Annotated[int, msgspec.Meta(ge=0)]


class _Spec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Shared options: immutable, unknown keys refused."""


class InstrumentSpec(_Spec, frozen=True):
    """A tradable symbol: price grid, lot size, and whether it may be traded now."""

    symbol: Symbol
    tick_size: Decimal
    lot_size: Decimal = Decimal(1)
    status: str = "tradable"


class SymbolLimits(_Spec, frozen=True):
    """Per-order and per-position limits of one symbol (null: no limit)."""

    max_order_quantity: Decimal | None
    max_order_notional: Decimal | None
    max_long_position: Decimal | None
    max_short_position: Decimal | None
    price_collar_percent: Decimal | None


class AccountLimits(_Spec, frozen=True):
    """Limits over a whole account (null: no limit)."""

    max_gross_exposure: Decimal | None
    max_open_orders: Count | None
    max_orders_per_second: Count | None


class Defaults(_Spec, frozen=True):
    account: AccountLimits
    symbol: SymbolLimits


class SymbolOverride(_Spec, frozen=True):
    """Symbol limits that replace the defaults field by field (absent: inherited)."""

    symbol: Symbol
    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_long_position: Decimal | None = None
    max_short_position: Decimal | None = None
    price_collar_percent: Decimal | None = None


class AccountOverride(_Spec, frozen=True):
    """One account's limits (absent: inherited) and its own per-symbol overrides."""

    account: AccountId
    max_gross_exposure: Decimal | None = None
    max_open_orders: Count | None = None
    max_orders_per_second: Count | None = None
    symbols: tuple[SymbolOverride, ...] = ()


_SYMBOL_FIELDS = tuple(f for f in SymbolLimits.__struct_fields__)
_ACCOUNT_FIELDS = tuple(f for f in AccountLimits.__struct_fields__)


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """Everything the checks need for one (account, symbol), resolved from the layers.

    ``max_long_lots``/``max_short_lots`` are the position limits in whole lots (rounded
    down; -1: no limit), the form the Redis reservation script compares.
    """

    instrument: Instrument
    tradable: bool
    max_order_quantity: Decimal | None
    max_order_notional: Decimal | None
    max_long_position: Decimal | None
    max_short_position: Decimal | None
    price_collar_percent: Decimal | None
    max_long_lots: int
    max_short_lots: int


@dataclass(frozen=True, slots=True)
class AccountRules:
    """An account's resolved limits; ``max_gross_units`` counts notional units (-1: none)."""

    max_gross_exposure: Decimal | None
    max_open_orders: int | None
    max_orders_per_second: int | None
    max_gross_units: int


class RiskConfig(_Spec, frozen=True):
    """A validated limits file. Build it with :func:`parse_config` or :func:`load_config`.

    ``currency`` is the currency of every instrument, notional and exposure limit
    (there is no FX conversion, so one config covers one currency).
    """

    instruments: Annotated[tuple[InstrumentSpec, ...], msgspec.Meta(min_length=1)]
    defaults: Defaults
    currency: Currency = "USD"
    symbols: tuple[SymbolOverride, ...] = ()
    accounts: tuple[AccountOverride, ...] = ()

    # -- resolution (cheap, but callers on a hot path should cache the results) ------

    def instrument(self, symbol: str) -> Instrument | None:
        """The configured instrument of ``symbol``, or None if it is not configured."""
        for spec in self.instruments:
            if spec.symbol == symbol:
                return Instrument(spec.symbol, spec.tick_size, spec.lot_size, self.currency)
        return None

    @property
    def notional_unit(self) -> Decimal:
        """The coarsest power of ten (at most 1) dividing every ``tick_size * lot_size``:
        notionals are counted in this unit in Redis, so they stay whole numbers."""
        return _notional_unit(spec.tick_size * spec.lot_size for spec in self.instruments)

    def account_rules(self, account: str) -> AccountRules:
        values = {name: getattr(self.defaults.account, name) for name in _ACCOUNT_FIELDS}
        override = _find(self.accounts, "account", account)
        if override is not None:
            _overlay(values, override, _ACCOUNT_FIELDS)
        gross = values["max_gross_exposure"]
        return AccountRules(
            max_gross_exposure=gross,
            max_open_orders=values["max_open_orders"],
            max_orders_per_second=values["max_orders_per_second"],
            max_gross_units=-1 if gross is None else _floor(gross / self.notional_unit),
        )

    def symbol_rules(self, account: str, symbol: str) -> SymbolRules | None:
        """Resolved rules of ``symbol`` for ``account``; None for an unknown symbol."""
        spec = _find(self.instruments, "symbol", symbol)
        if spec is None:
            return None
        values = {name: getattr(self.defaults.symbol, name) for name in _SYMBOL_FIELDS}
        shared = _find(self.symbols, "symbol", symbol)
        if shared is not None:
            _overlay(values, shared, _SYMBOL_FIELDS)
        override = _find(self.accounts, "account", account)
        if override is not None:
            own = _find(override.symbols, "symbol", symbol)
            if own is not None:
                _overlay(values, own, _SYMBOL_FIELDS)
        lot = spec.lot_size
        long_, short = values["max_long_position"], values["max_short_position"]
        return SymbolRules(
            instrument=Instrument(spec.symbol, spec.tick_size, lot, self.currency),
            tradable=spec.status == "tradable",
            max_long_lots=-1 if long_ is None else _floor(long_ / lot),
            max_short_lots=-1 if short is None else _floor(short / lot),
            **values,
        )


def _find(items: tuple[Any, ...], field: str, key: str) -> Any:
    for item in items:
        if getattr(item, field) == key:
            return item
    return None


def _overlay(values: dict[str, Any], override: object, fields: tuple[str, ...]) -> None:
    for name in fields:
        value = getattr(override, name)
        if value is not None:
            values[name] = value


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _notional_unit(products: Iterator[Decimal] | Any) -> Decimal:
    exponent = 0
    for product in products:
        exp = product.normalize().as_tuple().exponent
        if isinstance(exp, int):
            exponent = min(exponent, exp)
    return Decimal(1).scaleb(exponent)


_SCHEMA = mi.type_info(RiskConfig)

# -- pass 3: meaning ---------------------------------------------------------------------

_NON_NEGATIVE = (
    "max_order_quantity",
    "max_order_notional",
    "max_long_position",
    "max_short_position",
    "max_gross_exposure",
)


def _semantic(raw: dict[str, Any], problems: list[ConfigProblem]) -> Iterator[ConfigProblem]:
    """Rules beyond types, each run on raw fields that passed the structural pass."""
    lots: dict[str, Decimal] = {}
    products: list[Decimal] = []
    instruments = raw.get("instruments")
    if isinstance(instruments, list):
        yield from _instrument_problems(instruments, problems, lots, products)
    known = (
        {
            item["symbol"]
            for item in instruments
            if isinstance(item, dict) and isinstance(item.get("symbol"), str)
        }
        if isinstance(instruments, list)
        else None
    )
    unit = _notional_unit(iter(products)) if products else None
    defaults = raw.get("defaults")
    if isinstance(defaults, dict):
        for part in ("account", "symbol"):
            section = defaults.get(part)
            if isinstance(section, dict):
                yield from _limit_problems(section, f"$.defaults.{part}", problems, None, unit)
    yield from _override_list(raw, "$", "symbols", "symbol", problems, known, lots, unit)
    accounts = raw.get("accounts")
    if isinstance(accounts, list):
        yield from _duplicates(accounts, "$.accounts", "account", "account")
        for index, item in enumerate(accounts):
            if isinstance(item, dict):
                path = f"$.accounts[{index}]"
                yield from _limit_problems(item, path, problems, None, unit)
                yield from _override_list(
                    item, path, "symbols", "symbol", problems, known, lots, unit
                )


def _instrument_problems(
    items: list[Any],
    problems: list[ConfigProblem],
    lots: dict[str, Decimal],
    products: list[Decimal],
) -> Iterator[ConfigProblem]:
    yield from _duplicates(items, "$.instruments", "symbol", "symbol")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        path = f"$.instruments[{index}]"
        sizes = {}
        for name in ("tick_size", "lot_size"):
            value = _clean_decimal(item, path, name, problems)
            if value is not None and value <= 0:
                yield ConfigProblem(f"{path}.{name}", f"must be > 0, got {value}")
                value = None
            sizes[name] = value
        status = item.get("status")
        if isinstance(status, str) and status not in STATUSES:
            yield ConfigProblem(
                f"{path}.status", f"unknown {status!r}, expected one of {', '.join(STATUSES)}"
            )
        tick = sizes["tick_size"]
        lot = sizes["lot_size"] if "lot_size" in item else Decimal(1)
        symbol = item.get("symbol")
        if tick is not None and lot is not None and isinstance(symbol, str):
            lots.setdefault(symbol, lot)
            products.append(tick * lot)


def _duplicates(items: list[Any], path: str, field: str, what: str) -> Iterator[ConfigProblem]:
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        key = item.get(field) if isinstance(item, dict) else None
        if not isinstance(key, str):
            continue
        if key in first:
            yield ConfigProblem(
                f"{path}[{index}].{field}",
                f'duplicate {what} "{key}" (also at {path}[{first[key]}])',
            )
        first.setdefault(key, index)


def _override_list(
    parent: dict[str, Any],
    path: str,
    key: str,
    field: str,
    problems: list[ConfigProblem],
    known: set[str] | None,
    lots: dict[str, Decimal],
    unit: Decimal | None,
) -> Iterator[ConfigProblem]:
    items = parent.get(key)
    if not isinstance(items, list):
        return
    list_path = key_path(path, key)
    yield from _duplicates(items, list_path, field, field)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        item_path = f"{list_path}[{index}]"
        symbol = item.get(field)
        if known is not None and isinstance(symbol, str) and symbol not in known:
            yield ConfigProblem(
                f"{item_path}.{field}", f'unknown symbol "{symbol}", not in $.instruments'
            )
        lot = lots.get(symbol) if isinstance(symbol, str) else None
        yield from _limit_problems(item, item_path, problems, lot, unit)


def _limit_problems(
    obj: dict[str, Any],
    path: str,
    problems: list[ConfigProblem],
    lot: Decimal | None,
    unit: Decimal | None,
) -> Iterator[ConfigProblem]:
    """Signs and exact-counting ranges of the limit fields present in ``obj``."""
    for name in _NON_NEGATIVE:
        value = _clean_decimal(obj, path, name, problems)
        if value is None:
            continue
        if value < 0:
            yield ConfigProblem(f"{path}.{name}", f"must be >= 0, got {value}")
        elif name == "max_gross_exposure" and unit is not None and value / unit >= MAX_EXACT:
            yield ConfigProblem(
                f"{path}.{name}",
                f"too large to count exactly in units of {unit} (must be < {unit * MAX_EXACT})",
            )
        elif name.endswith("_position") and lot is not None and value / lot >= MAX_EXACT:
            yield ConfigProblem(f"{path}.{name}", f"too large: must be < 2**53 lots of {lot}")
    collar = _clean_decimal(obj, path, "price_collar_percent", problems)
    if collar is not None and collar <= 0:
        yield ConfigProblem(f"{path}.price_collar_percent", f"must be > 0, got {collar}")


def _clean_decimal(
    obj: dict[str, Any], path: str, key: str, problems: list[ConfigProblem]
) -> Decimal | None:
    """``obj[key]`` as a Decimal if present, not null and free of structural problems."""
    if obj.get(key) is None or not is_clean(problems, key_path(path, key)):
        return None
    return Decimal(obj[key])


_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def _position(raw: Any, path: str) -> tuple[int, ...]:
    """Where ``path`` points in the raw document: per step, the key's position in its
    object or the item's index (a missing key sorts after its object's keys)."""
    out: list[int] = []
    node = raw
    for match in _STEP.finditer(path, 1):
        name, index, quoted = match.groups()
        if index is not None:
            step = int(index)
            node = node[step] if isinstance(node, list) and step < len(node) else None
        else:
            key = name if name is not None else json.loads(quoted)
            keys = list(node) if isinstance(node, dict) else []
            step = keys.index(key) if key in keys else len(keys)
            node = node.get(key) if isinstance(node, dict) else None
        out.append(step)
    return tuple(out)


def _in_document_order(problems: list[ConfigProblem], raw: Any) -> list[ConfigProblem]:
    """Stable-sort problems by where their path points in the file."""
    return sorted(problems, key=lambda problem: _position(raw, problem.path))


# -- public API --------------------------------------------------------------------------


def parse_config(data: bytes | str, *, source: str | None = None) -> RiskConfig:
    """Parse and validate JSON text. Raises :class:`ConfigError` listing every problem,
    each as ``$.path: what was expected, got what``; ``source`` names the file in it."""
    return parse_document(data, source, RiskConfig, _SCHEMA, _semantic, _in_document_order)


def load_config(path: str | os.PathLike[str]) -> RiskConfig:
    """Read and parse a JSON file; an unreadable file raises :class:`ConfigError` too."""
    data, name = read_document(path)
    return parse_config(data, source=name)


def dump_config(config: RiskConfig) -> bytes:
    """JSON for ``config``; ``parse_config(dump_config(c)) == c``."""
    return encode_document(config)


def validate_config(config: RiskConfig) -> RiskConfig:
    """Check a config built in code (Struct constructors do not validate) with the same
    rules as :func:`parse_config`; returns it or raises :class:`ConfigError`."""
    parse_config(dump_config(config))
    return config
