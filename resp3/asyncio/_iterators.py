"""Cursor loops over SCAN, HSCAN, SSCAN and ZSCAN for the asyncio clients.

The async twin of ``resp3.commands.iterators``: one cursor loop (:func:`cursor_items`)
behind the four ``*scan_iter`` methods that ``resp3.asyncio.Redis`` and
``resp3.asyncio.RedisCluster`` share. As with SCAN itself, an item may be yielded more
than once if the collection is rehashed meanwhile, and items added meanwhile may be
missed. A command error (wrong type, connection lost) raises from the ``async for``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ..commands import CoreCommands
from ..commands._base import AsyncExecutor

__all__ = ["ScanIterators", "cursor_items"]


async def cursor_items(fetch: Callable[[int], Awaitable[tuple[int, Any]]]) -> AsyncIterator[Any]:
    """Every item of ``await fetch(cursor)`` until the server returns cursor 0; a dict
    page (HSCAN under RESP3) yields its ``(field, value)`` pairs."""
    cursor = None
    while cursor != 0:
        cursor, items = await fetch(cursor or 0)
        for item in items.items() if isinstance(items, dict) else items:
            yield item


class ScanIterators(CoreCommands, AsyncExecutor):
    """``scan_iter`` and friends, written once over the awaited ``*scan`` commands."""

    def scan_iter(
        self, match: Any = None, count: int | None = None, _type: str | None = None
    ) -> AsyncIterator[Any]:
        return cursor_items(lambda cursor: self.scan(cursor, match=match, count=count, _type=_type))

    def hscan_iter(
        self, name: Any, match: Any = None, count: int | None = None
    ) -> AsyncIterator[Any]:
        return cursor_items(lambda cursor: self.hscan(name, cursor, match=match, count=count))

    def sscan_iter(
        self, name: Any, match: Any = None, count: int | None = None
    ) -> AsyncIterator[Any]:
        return cursor_items(lambda cursor: self.sscan(name, cursor, match=match, count=count))

    def zscan_iter(
        self, name: Any, match: Any = None, count: int | None = None
    ) -> AsyncIterator[Any]:
        return cursor_items(lambda cursor: self.zscan(name, cursor, match=match, count=count))
