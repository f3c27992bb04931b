"""Exact money and quantity values: ``Price``, ``Quantity``, ``Money``.

Why value objects rather than bare ``Decimal``: a price added to a quantity is a bug
that mypy can only catch if they are different types, and a float that sneaks in
(``0.1`` is really 0.1000000000000000055...) silently breaks reconciliation. So:

* every value wraps a finite :class:`~decimal.Decimal`, built from ``Decimal``, ``int``
  or ``str``; a ``float`` (or ``bool``) is refused with :class:`InvalidValue`;
* arithmetic runs in :data:`EXACT`, a decimal context of :data:`PRECISION` significant
  digits that *traps* ``Inexact``: a sum or product that would need rounding raises
  :class:`InvalidValue` instead of losing a cent. Ten fills of 0.1 at 100.1 therefore
  cost exactly 100.1;
* the one operation that cannot be exact in general, division (average prices,
  pro-rata cost when a position is partly closed), goes through :func:`quantize_ratio`,
  the single rounding policy: round half-even to :data:`RATIO_PLACES` decimal places.

Only operations that make sense exist: ``Price ± Price``, ``Quantity ± Quantity``,
``-Quantity`` (positions are signed), ``Money ± Money`` in one currency, ``Money * n``.
Ordering compares values of the same class only. ``Price('1.0') == Price('1')``, as for
``Decimal``. Use :func:`enc_hook` / :func:`dec_hook` to send them through msgspec as strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from typing import Any, TypeVar

from trading.errors import InvalidValue

__all__ = [
    "EXACT",
    "PRECISION",
    "RATIO_PLACES",
    "DecimalLike",
    "Money",
    "Price",
    "Quantity",
    "dec_hook",
    "enc_hook",
    "exact",
    "notional",
    "quantize_ratio",
    "to_decimal",
]

#: Significant digits available to exact arithmetic (a notional of 10^20 with 18 decimals).
PRECISION = 38

#: The context all value arithmetic runs in: results that would round raise instead.
EXACT = Context(
    prec=PRECISION,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)

#: Decimal places kept by :func:`quantize_ratio` (average prices, pro-rata cost).
RATIO_PLACES = 12
_RATIO_QUANTUM = Decimal(1).scaleb(-RATIO_PLACES)

#: What value constructors accept. ``float`` is deliberately absent.
DecimalLike = Decimal | int | str

_CURRENCY = re.compile(r"[A-Z]{3}")


def to_decimal(value: object, what: str = "value") -> Decimal:
    """Convert ``value`` to a finite ``Decimal`` without ever going through float.

    Raises :class:`InvalidValue` naming ``what`` for floats, bools, unparsable strings,
    NaN and infinities.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise InvalidValue(f"{what}: bool {value!r} is not a number")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidValue(f"{what}: {value!r} is not a decimal number") from None
    elif isinstance(value, float):
        raise InvalidValue(
            f"{what}: float {value!r} refused because it is not exact; pass a str or Decimal"
        )
    else:
        raise InvalidValue(f"{what}: expected Decimal, int or str, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidValue(f"{what}: {value} is not a finite number")
    return result


def exact(operation: Callable[[Decimal, Decimal], Decimal], a: Decimal, b: Decimal) -> Decimal:
    """Apply ``operation`` (an :data:`EXACT` method such as ``EXACT.add``) or raise.

    Raises :class:`InvalidValue` when the result would need rounding or overflows.
    """
    try:
        return operation(a, b)
    except (Inexact, Overflow, InvalidOperation, DivisionByZero) as exc:
        raise InvalidValue(
            f"{a} and {b}: result not exact within {PRECISION} digits ({type(exc).__name__})"
        ) from None


def quantize_ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` rounded half-even to :data:`RATIO_PLACES` places.

    This is the package's one rounding policy. The result is exact whenever the true
    quotient has at most :data:`RATIO_PLACES` decimal places (always the case for an
    average of fills at one price). Raises :class:`InvalidValue` on a zero denominator.
    """
    if denominator == 0:
        raise InvalidValue(f"cannot divide {numerator} by zero")
    wide = Context(prec=PRECISION + RATIO_PLACES + 2, rounding=ROUND_HALF_EVEN)
    return wide.divide(numerator, denominator).quantize(_RATIO_QUANTUM, context=wide)


_V = TypeVar("_V", bound="_DecimalValue")


class _DecimalValue:
    """Immutable wrapper of one finite Decimal; subclasses choose which operators exist."""

    __slots__ = ("_value",)
    _value: Decimal

    def __init__(self, value: DecimalLike) -> None:
        object.__setattr__(self, "_value", to_decimal(value, type(self).__name__))

    @property
    def value(self) -> Decimal:
        """The wrapped finite Decimal (read-only)."""
        return self._value

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[type[_DecimalValue], tuple[str]]:
        return (type(self), (str(self.value),))

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self.value}')"

    def __str__(self) -> str:
        return str(self.value)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _DecimalValue)
        return self.value == other.value

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.value))

    def _other(self: _V, other: _V) -> Decimal:
        if type(other) is not type(self):
            raise TypeError(f"cannot compare {type(self).__name__} with {type(other).__name__}")
        return other.value

    def __lt__(self: _V, other: _V) -> bool:
        return self.value < self._other(other)

    def __le__(self: _V, other: _V) -> bool:
        return self.value <= self._other(other)

    def __gt__(self: _V, other: _V) -> bool:
        return self.value > self._other(other)

    def __ge__(self: _V, other: _V) -> bool:
        return self.value >= self._other(other)

    def _combine(self: _V, other: _V, operation: Callable[[Decimal, Decimal], Decimal]) -> _V:
        if type(other) is not type(self):
            raise TypeError(f"cannot combine {type(self).__name__} with {type(other).__name__}")
        return type(self)(exact(operation, self.value, other.value))

    def is_zero(self) -> bool:
        return self.value == 0

    def is_positive(self) -> bool:
        return self.value > 0


class Price(_DecimalValue):
    """A price per unit, in the instrument's currency. Any finite sign is representable;
    instruments decide what they accept (see ``Instrument.validate_price``)."""

    __slots__ = ()

    def __add__(self, other: Price) -> Price:
        return self._combine(other, EXACT.add)

    def __sub__(self, other: Price) -> Price:
        return self._combine(other, EXACT.subtract)


class Quantity(_DecimalValue):
    """An amount of an instrument. Signed, because positions are: long > 0 > short.
    Orders and fills require a positive quantity."""

    __slots__ = ()

    def __add__(self, other: Quantity) -> Quantity:
        return self._combine(other, EXACT.add)

    def __sub__(self, other: Quantity) -> Quantity:
        return self._combine(other, EXACT.subtract)

    def __neg__(self) -> Quantity:
        return Quantity(-self.value)

    def __abs__(self) -> Quantity:
        return Quantity(abs(self.value))

    def sign(self) -> int:
        """1 for long/positive, -1 for short/negative, 0 for flat."""
        return (self.value > 0) - (self.value < 0)


class Money:
    """An exact amount in one currency (ISO 4217 code such as ``USD``).

    Adding or comparing two currencies raises :class:`InvalidValue`: there is no
    implicit FX conversion.
    """

    __slots__ = ("_amount", "_currency")
    _amount: Decimal
    _currency: str

    def __init__(self, amount: DecimalLike, currency: str) -> None:
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise InvalidValue(f"Money: currency {currency!r} is not a 3-letter upper-case code")
        object.__setattr__(self, "_amount", to_decimal(amount, "Money"))
        object.__setattr__(self, "_currency", currency)

    @property
    def amount(self) -> Decimal:
        return self._amount

    @property
    def currency(self) -> str:
        return self._currency

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Money is immutable")

    def __reduce__(self) -> tuple[type[Money], tuple[str, str]]:
        return (Money, (str(self.amount), self.currency))

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.currency == other.currency and self.amount == other.amount

    def __hash__(self) -> int:
        return hash(("Money", self.amount, self.currency))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise InvalidValue(f"currency mismatch: {self} and {other}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(exact(EXACT.add, self.amount, other.amount), self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(exact(EXACT.subtract, self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        return Money(exact(EXACT.multiply, self.amount, to_decimal(factor)), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount


def notional(price: Price, quantity: Quantity, currency: str) -> Money:
    """``price * quantity`` as exact :class:`Money` (raises if it would round)."""
    return Money(exact(EXACT.multiply, price.value, quantity.value), currency)


def enc_hook(obj: object) -> Any:
    """msgspec ``enc_hook``: Price/Quantity as decimal strings, Money as an object."""
    if isinstance(obj, _DecimalValue):
        return str(obj.value)
    if isinstance(obj, Money):
        return {"amount": str(obj.amount), "currency": obj.currency}
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


def dec_hook(type_: type, obj: object) -> Any:
    """msgspec ``dec_hook``, the inverse of :func:`enc_hook`. Raises ``InvalidValue``
    (which msgspec reports with the field path) for malformed input."""
    if type_ in (Price, Quantity):
        return type_(to_decimal(obj, type_.__name__))
    if type_ is Money:
        if not isinstance(obj, dict) or set(obj) != {"amount", "currency"}:
            raise InvalidValue("Money: expected an object with 'amount' and 'currency'")
        return Money(to_decimal(obj["amount"], "Money"), obj["currency"])
    raise NotImplementedError(f"cannot decode {type_.__name__}")
