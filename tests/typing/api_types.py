"""Type-level tests, checked by mypy (``make test`` / ``make lint``), never executed.

``assert_type`` fails the mypy run if an inferred type drifts; the ``type: ignore``
lines fail it (``warn_unused_ignores``) if a misuse stops being an error.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from typing_extensions import assert_type

import resp3
import resp3.asyncio
from resp3.asyncio.pipeline import Pipeline as AsyncPipeline
from resp3.pipeline import Pipeline


def sync_client(r: resp3.Redis) -> None:
    assert_type(resp3.Redis.from_url("redis://localhost/0"), resp3.Redis)
    assert_type(resp3.ConnectionPool.from_url("redis://localhost/0"), resp3.ConnectionPool)
    assert_type(r.get("k"), bytes | str | None)
    assert_type(r.incr("k"), int)
    assert_type(r.hgetall("k"), dict[bytes | str, bytes | str])
    assert_type(r.pipeline().get("k").incr("n"), Pipeline)
    assert_type(r.pipeline().execute(), list[Any])
    r.get()  # type: ignore[call-arg]
    r.incr("k", amount="x")  # type: ignore[arg-type]


def async_client(r: resp3.asyncio.Redis) -> None:
    assert_type(resp3.asyncio.Redis.from_url("redis://localhost/0"), resp3.asyncio.Redis)
    assert_type(r.get("k"), Awaitable[bytes | str | None])
    assert_type(r.incr("k"), Awaitable[int])
    assert_type(r.pipeline().set("k", 1).get("k"), AsyncPipeline)


def reader() -> None:
    reader = resp3.Reader()
    reader.feed(b"+OK\r\n")
    assert_type(reader.gets_all(), list[Any])
