"""Retry policy: *when* a command may be sent again, and how long to wait before it.

The rule (see docs/retry.md) is safety first. After a connection breaks, a command
is re-sent automatically only if

* it was never written to the socket (the connect failed, or the pooled connection
  was found dead before writing), or
* it is flagged READONLY or IDEMPOTENT (GET, SET k v without NX/XX/GET, MSET...),
  whose repetition changes neither the data nor the reply.

Anything else (INCR, LPUSH, XADD with ``*``, a MULTI/EXEC transaction) may already have
run on the server; re-sending could apply it twice, so the caller gets
``ConnectionError`` and decides. Timeouts are not retried by default: a slow server
is not helped by more load, and a timed-out write may still be applied.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = [
    "Backoff",
    "ConstantBackoff",
    "ExponentialBackoff",
    "ExponentialWithJitterBackoff",
    "NoBackoff",
    "Retry",
]


class Backoff:
    """How long to sleep before retry number ``failures`` (1-based)."""

    def compute(self, failures: int) -> float:
        raise NotImplementedError


@dataclass(frozen=True)
class NoBackoff(Backoff):
    def compute(self, failures: int) -> float:
        return 0.0


@dataclass(frozen=True)
class ConstantBackoff(Backoff):
    delay: float = 0.1

    def compute(self, failures: int) -> float:
        return self.delay


@dataclass(frozen=True)
class ExponentialBackoff(Backoff):
    base: float = 0.01
    cap: float = 1.0

    def compute(self, failures: int) -> float:
        return float(min(self.cap, self.base * 2 ** max(failures - 1, 0)))


@dataclass(frozen=True)
class ExponentialWithJitterBackoff(Backoff):
    """Full jitter: uniform in [0, min(cap, base * 2**n)], so clients do not stampede."""

    base: float = 0.01
    cap: float = 1.0

    def compute(self, failures: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2 ** max(failures - 1, 0)))


@dataclass(frozen=True)
class Retry:
    """``retries`` extra attempts after the first, each preceded by ``backoff``.

    ``Retry(0)`` disables retrying. ``retry_on_timeout=True`` also retries READONLY
    commands after a timeout (never writes).
    """

    retries: int = 3
    backoff: Backoff = field(default_factory=ExponentialWithJitterBackoff)
    retry_on_timeout: bool = False

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries!r}")
