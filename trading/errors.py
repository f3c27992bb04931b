"""Exception hierarchy of the trading package.

::

    TradingError
    ├── InvalidValue        a price, quantity or amount that cannot exist (float input,
    │   │                   NaN, a currency mismatch, arithmetic that would round)
    │   └── OffGridError    a price or quantity between two points of an instrument's grid
    ├── ConfigError         a configuration file with one or more problems, all listed
    ├── OrderError          an order that cannot be built or accepted as given
    │   └── InvalidTransition   an event the order's current state does not allow
    ├── RiskDenied          a pre-trade check refused the order (``code``, ``message``)
    │   └── ReplaceDenied   ... a replace request; also an ``OrderError`` (the OMS refused it)
    ├── MarketDataError     market data that cannot be published or read as documented
    │   └── MalformedEntry  a stream entry or cache hash that is not a valid tick
    └── FixError            anything FIX-related
        └── FixParseError   bytes that do not form a valid FIX message

Value-like errors (``InvalidValue``, ``ConfigError``, ``OrderError``) also derive from
:class:`ValueError`, so code that already catches ``ValueError`` around parsing keeps
working. Each error names the offending value and where it came from; none of them
wraps a traceback from deep inside a library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "FixError",
    "FixParseError",
    "InvalidTransition",
    "InvalidValue",
    "MalformedEntry",
    "MarketDataError",
    "OffGridError",
    "OrderError",
    "ReplaceDenied",
    "RiskDenied",
    "TradingError",
]


class TradingError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidValue(TradingError, ValueError):
    """A monetary or quantity value that the domain forbids.

    Raised for float inputs (they cannot represent 0.1 exactly), NaN and infinities,
    adding money in two currencies, and arithmetic whose exact result would need
    rounding beyond the working precision.
    """


class OffGridError(InvalidValue):
    """A price or quantity that is not a whole multiple of the instrument's grid.

    ``what`` is ``"price"`` or ``"quantity"``, ``value`` the refused value, ``grid`` the
    tick or lot size, ``symbol`` the instrument.
    """

    def __init__(self, what: str, value: Decimal, grid: Decimal, symbol: str) -> None:
        self.what = what
        self.value = value
        self.grid = grid
        self.symbol = symbol
        step = "tick size" if what == "price" else "lot size"
        super().__init__(f"{symbol}: {what} {value} is not a multiple of the {step} {grid}")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a configuration: a JSON path (``$.a.b[2]``) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(TradingError, ValueError):
    """A configuration that cannot be used, with *every* problem found, not just the first.

    ``problems`` is a tuple of :class:`ConfigProblem`, in document order; ``source`` names
    the file when the configuration came from one. ``str()`` lists all problems, one per
    line, so a user can fix the whole file in one pass.
    """

    def __init__(self, problems: Iterable[ConfigProblem], source: str | None = None) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("ConfigError needs at least one problem")
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = f" in {self.source}" if self.source else ""
        count = len(self.problems)
        head = f"{count} configuration problem{'s' if count != 1 else ''}{where}:"
        return "\n".join([head, *(f"  {problem}" for problem in self.problems)])

    def __str__(self) -> str:
        return self._render()


class OrderError(TradingError, ValueError):
    """An order that cannot be built as given (e.g. a limit order without a price).

    ``problems`` lists every reason found, so a caller can show them all at once.
    """

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        self.problems: tuple[str, ...] = tuple(problems) or (message,)
        super().__init__(message)


class InvalidTransition(OrderError):
    """An order event that the order's current state does not allow (e.g. fill after cancel)."""


class RiskDenied(TradingError):
    """A pre-trade check refused an order (or a replace of one).

    ``code`` is the stable reason code (``"max_long_position"``; the codes are listed in
    ``trading.risk.Reason``): logs, stored orders and dashboards key on it, so it never
    changes. ``message`` is the human text naming the values and limits involved, and
    may be reworded. ``reason`` is both as one line, ``"<code>: <message>"``, the form
    the OMS stores on a denied order; ``str()`` is the same.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        self.reason = f"{code}: {message}"
        super().__init__(self.reason)

    @classmethod
    def from_reason(cls, reason: str) -> RiskDenied:
        """The error for a ``"<code>: <message>"`` line (what a pre-trade check hands the
        OMS). A line that does not start with a snake_case code and ``": "`` keeps its
        whole text as the message, with the code ``"unspecified"``."""
        code, sep, message = reason.partition(": ")
        if sep and _CODE.fullmatch(code):
            return cls(code, message)
        return cls("unspecified", reason)

    def __reduce__(self) -> tuple[Callable[..., RiskDenied], tuple[object, ...]]:
        return (type(self), (self.code, self.message))


_CODE = re.compile(r"[a-z][a-z0-9_]*")


class ReplaceDenied(RiskDenied, OrderError):
    """A pre-trade check refused a replace request, so the OMS refused the request and
    nothing changed. It is an :class:`OrderError` too, so it comes back as a value from
    ``OrderManager.apply_many`` like the OMS's other refusals; ``code`` and ``message``
    are the check's, the message prefixed with the order and the new client order id."""


class MarketDataError(TradingError):
    """Market data that cannot be written or read as docs/market_data.md describes (a tick
    that has no stream ID, a stream that already holds newer entries...)."""


class MalformedEntry(MarketDataError, ValueError):
    """A stored tick that does not follow the serialisation format.

    ``key`` is the stream (or hash) key, ``entry_id`` the stream entry ID (or None for a
    hash without one), ``problem`` what is wrong. ``str()`` names all three, so one log
    line is enough to find the entry with ``XRANGE key id id``.
    """

    def __init__(self, key: str, entry_id: str | None, problem: str) -> None:
        self.key = key
        self.entry_id = entry_id
        self.problem = problem
        where = f"{key} entry {entry_id}" if entry_id is not None else key
        super().__init__(f"{where}: {problem}")


class FixError(TradingError):
    """Base class of FIX protocol errors."""


class FixParseError(FixError):
    """Bytes that do not form a valid FIX message (bad checksum, body length, tag syntax)."""
