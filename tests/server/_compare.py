"""Run one sequence of commands through resp3 and through redis-py, compare the results.

``compare(r, redispy, script)`` flushes the database, runs ``script(r)``, flushes again,
runs ``script(redispy)`` and asserts the two result lists are equal value for value *and*
type for type (a tuple is not a list, 1 is not 1.0). A call that raises is recorded as
``("error", kind)`` so both clients must fail alike, e.g. on an option the server is
too old for. The resp3 results are returned for the test's own concrete assertions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

import resp3


def same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def error_kind(exc: Exception) -> str:
    if isinstance(exc, (resp3.ResponseError, redis.ResponseError)):
        return "ResponseError"
    if isinstance(exc, (resp3.DataError, redis.DataError)):
        return "DataError"
    return type(exc).__name__


class Recorder:
    """Wraps a client: every method call's result (or error kind) is appended to ``log``."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.log: list[Any] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = method(*args, **kwargs)
            except Exception as exc:  # both clients must fail alike
                result = ("error", error_kind(exc))
            self.log.append(result)
            return result

        return call


def masked(value: Any, volatile: frozenset[str]) -> Any:
    """``value`` with the timing fields named in ``volatile`` (dict keys) set to None."""
    if isinstance(value, dict):
        return {k: None if k in volatile else masked(v, volatile) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, volatile) for v in value]
    if isinstance(value, tuple):
        return tuple(masked(v, volatile) for v in value)
    return value


def compare(
    r: resp3.Redis, redispy: Any, script: Callable[[Any], object], volatile: tuple[str, ...] = ()
) -> list[Any]:
    """Run ``script`` on a fresh db with each client; assert equal logs; return ours.

    ``volatile`` names dict keys whose values depend on timing (``idle``...); they are
    compared after being masked, everything else exactly.
    """
    runs = []
    for client in (r, redispy):
        r.flushdb()
        recorder = Recorder(client)
        script(recorder)
        runs.append(recorder.log)
    ours, theirs = runs
    assert len(ours) == len(theirs)
    mask = frozenset(volatile)
    for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        a, b = masked(a, mask), masked(b, mask)
        assert same(a, b), f"call #{index}: resp3 {a!r} != redis-py {b!r}"
    return ours
