"""Cursor loops over SCAN, HSCAN, SSCAN and ZSCAN for a synchronous client.

Each takes any object with the matching ``scan``/``hscan``/``sscan``/``zscan`` method
(``resp3.Redis`` exposes these helpers as methods) and yields items until the server
returns cursor 0. As with SCAN itself, an item may be yielded more than once if the
collection is rehashed during the iteration, and items added meanwhile may be missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from ._args import Key, Pattern

__all__ = ["hscan_iter", "scan_iter", "sscan_iter", "zscan_iter"]


class _Scanner(Protocol):
    def scan(
        self, cursor: int = ..., match: Any = ..., count: Any = ..., _type: Any = ...
    ) -> tuple[int, list[Any]]: ...


class _HScanner(Protocol):
    def hscan(
        self, name: Any, cursor: int = ..., match: Any = ..., count: Any = ..., no_values: Any = ...
    ) -> tuple[int, Any]: ...


class _SScanner(Protocol):
    def sscan(
        self, name: Any, cursor: int = ..., match: Any = ..., count: Any = ...
    ) -> tuple[int, list[Any]]: ...


class _ZScanner(Protocol):
    def zscan(
        self,
        name: Any,
        cursor: int = ...,
        match: Any = ...,
        count: Any = ...,
        score_cast_func: Any = ...,
    ) -> tuple[int, list[Any]]: ...


def scan_iter(
    client: _Scanner,
    match: Pattern | None = None,
    count: int | None = None,
    _type: str | None = None,
) -> Iterator[Any]:
    """Every key matching ``match`` (and of type ``_type``), one SCAN batch at a time."""
    cursor = 0
    while True:
        cursor, keys = client.scan(cursor, match=match, count=count, _type=_type)
        yield from keys
        if cursor == 0:
            return


def hscan_iter(
    client: _HScanner,
    name: Key,
    match: Pattern | None = None,
    count: int | None = None,
    no_values: bool | None = None,
) -> Iterator[Any]:
    """``(field, value)`` pairs of hash ``name``, or only fields with ``no_values``."""
    cursor = 0
    while True:
        cursor, data = client.hscan(name, cursor, match=match, count=count, no_values=no_values)
        yield from (data if no_values else data.items())
        if cursor == 0:
            return


def sscan_iter(
    client: _SScanner, name: Key, match: Pattern | None = None, count: int | None = None
) -> Iterator[Any]:
    """Members of set ``name``."""
    cursor = 0
    while True:
        cursor, members = client.sscan(name, cursor, match=match, count=count)
        yield from members
        if cursor == 0:
            return


def zscan_iter(
    client: _ZScanner,
    name: Key,
    match: Pattern | None = None,
    count: int | None = None,
    score_cast_func: type | Callable[..., Any] = float,
) -> Iterator[Any]:
    """``(member, score)`` pairs of sorted set ``name``."""
    cursor = 0
    while True:
        cursor, pairs = client.zscan(
            name, cursor, match=match, count=count, score_cast_func=score_cast_func
        )
        yield from pairs
        if cursor == 0:
            return
