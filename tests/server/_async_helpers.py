"""Helpers for the asyncio server tests: run a coroutine from a sync test, clients, probes.

pytest-asyncio is not a dependency, so each test is a plain function that runs its
coroutine on a fresh event loop with :func:`run` (or the :func:`async_test` decorator).
:func:`run` bounds the whole coroutine by a deadline, so a lost reply fails the test
instead of hanging it, and it fails the test if the loop reported an error nobody saw
("Future exception was never retrieved", a crashed callback): the multiplexed
connection must never leave a future with an unobserved exception behind.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import importlib
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import pytest

import resp3
import resp3.asyncio
from resp3.asyncio.connection import AsyncConnection
from resp3.testing import RedisServer

__all__ = [
    "LOOP_FACTORIES",
    "CountingTransport",
    "async_test",
    "client",
    "client_ids",
    "count_writes",
    "eventually",
    "mux_of",
    "run",
]

T = TypeVar("T")
P = ParamSpec("P")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]

#: Upper bound for one test's coroutine; a test that needs longer is a bug.
DEADLINE = 30.0


def _loop_factories() -> list[Any]:
    """The default loop always, uvloop too when it is importable (never installed here)."""
    params: list[Any] = [pytest.param(asyncio.new_event_loop, id="asyncio")]
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return params
    params.append(pytest.param(uvloop.new_event_loop, id="uvloop"))
    return params


#: ``pytest.mark.parametrize("loop_factory", LOOP_FACTORIES)`` runs a test on every loop.
LOOP_FACTORIES = _loop_factories()


def run(
    main: Coroutine[Any, Any, T],
    *,
    loop_factory: LoopFactory = asyncio.new_event_loop,
    deadline: float = DEADLINE,
) -> T:
    """Run ``main`` on a new loop, at most ``deadline`` seconds; fail on unseen loop errors.

    Like ``asyncio.run`` (leftover tasks are cancelled, async generators finalized, the
    loop closed), plus an exception handler that records every error the loop reports.
    A garbage collection before closing makes a never-retrieved future report itself.
    """
    loop = loop_factory()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        asyncio.set_event_loop(loop)
        try:
            return loop.run_until_complete(asyncio.wait_for(main, deadline))
        except asyncio.TimeoutError:
            raise AssertionError(f"test coroutine still running after {deadline}s") from None
    finally:
        try:
            _cancel_leftovers(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            gc.collect()
            loop.run_until_complete(asyncio.sleep(0))
        finally:
            asyncio.set_event_loop(None)
            loop.close()
        errors = [ctx.get("message", "") + " " + repr(ctx.get("exception")) for ctx in reported]
        assert not errors, f"the event loop reported unhandled errors: {errors}"


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def async_test(fn: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Turn ``async def test_x(fixtures...)`` into a sync test that pytest can collect."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        run(fn(*args, **kwargs))

    return wrapper


def client(server: RedisServer, protocol: int = 3, **kwargs: Any) -> resp3.asyncio.Redis:
    """An asyncio client on the given server; nothing connects until the first command."""
    return resp3.asyncio.Redis(host=server.host, port=server.port, protocol=protocol, **kwargs)


def mux_of(r: resp3.asyncio.Redis) -> AsyncConnection:
    """The client's shared connection (it exists once a command has gone through it)."""
    mux = r._mux
    assert mux is not None, "no shared connection yet: send a command first"
    return mux


class CountingTransport(asyncio.Transport):
    """Wraps a connection's transport and records every ``write`` call and its bytes."""

    def __init__(self, inner: asyncio.Transport) -> None:
        super().__init__()
        self.inner = inner
        self.writes: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))
        self.inner.write(data)

    def close(self) -> None:
        self.inner.close()

    def abort(self) -> None:
        self.inner.abort()

    def is_closing(self) -> bool:
        return self.inner.is_closing()

    def pause_reading(self) -> None:
        self.inner.pause_reading()

    def resume_reading(self) -> None:
        self.inner.resume_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.inner.get_extra_info(name, default)


def count_writes(conn: AsyncConnection) -> CountingTransport:
    """Interpose a :class:`CountingTransport` under a connected ``AsyncConnection``."""
    inner = conn._transport
    assert inner is not None, f"{conn!r} has no transport"
    counting = inner if isinstance(inner, CountingTransport) else CountingTransport(inner)
    conn._transport = counting
    return counting


def client_ids(sync: resp3.Redis, name: str) -> list[int]:
    """Ids of the server's connections named ``name`` (``CLIENT LIST`` parsed by hand)."""
    listing = sync.execute_command("CLIENT", "LIST")
    text = listing.decode() if isinstance(listing, bytes) else str(listing)
    ids = []
    for line in text.splitlines():
        fields = dict(part.split("=", 1) for part in line.split(" ") if "=" in part)
        if fields.get("name") == name:
            ids.append(int(fields["id"]))
    return ids


async def eventually(
    probe: Callable[[], Awaitable[bool]] | Callable[[], bool],
    what: str,
    timeout: float = 5.0,
) -> None:
    """Poll ``probe`` every 10 ms until true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)
