"""One command's way through the cluster: redirections, retries, and their budget.

Theory of operation
-------------------
A command for slot S is first sent to the node the slot map names. When that does not
produce an answer, the shell (sync or asyncio) hands what happened to
:meth:`Attempt.handle`, which updates the topology, picks the next node, and returns
how long to wait before trying again, or raises when the command must not or cannot be
tried again. The shell then refreshes the slot map if ``refresh`` asks for it, sleeps,
and sends again to ``node`` (with ``ASKING`` first when ``asking`` is set).

===================  =====================================================  =========
what happened        what the attempt does                                  re-send?
===================  =====================================================  =========
MOVED slot host:port slot map updated now, full refresh in the background   always
ASK slot host:port   next try goes to host:port, preceded by ASKING, once   always
TRYAGAIN             same node again after a backoff (keys mid-migration)   always
CLUSTERDOWN          refresh now, backoff (a failover is being decided)     always
READONLY, MASTERDOWN refresh now, go to the primary                         always
LOADING              backoff, refresh now (a restarted node)                always
connect failed       node marked failed, refresh now, backoff               always
broke after writing  node marked failed, refresh now, backoff               safe only
===================  =====================================================  =========

A redirection or an error reply means the server did **not** run the command, so
following it is always safe, whatever the command. A connection that broke after the
bytes were written may have run it: the command is re-sent only under the single-node
policy of docs/retry.md (READONLY or IDEMPOTENT commands, ``Retry.retries > 0``;
timeouts only with ``retry_on_timeout`` and READONLY); anything else re-raises the
``ConnectionError``.

Budget: everything but a redirection counts as a failure and is retried until
``timeout`` seconds (``cluster_retry_timeout``) after the first failure, with the
client's backoff capped at ``DELAY_CAP`` so that a command waiting out a failover
notices the promoted replica quickly. Redirections are limited to ``max_redirects`` in
a row: a MOVED loop means the cluster disagrees with itself and waiting will not help.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..commands._base import READONLY, RETRY_SAFE
from ..errors import (
    AskError,
    AuthenticationError,
    BusyLoadingError,
    ClusterDownError,
    ConnectionError,
    MasterDownError,
    MovedError,
    ReadOnlyError,
    RedisError,
    TimeoutError,
    TryAgainError,
)
from ..retry import Retry
from .errors import ClusterError, SlotNotCoveredError
from .nodes import ClusterNode, Topology

__all__ = [
    "BACKGROUND",
    "DELAY_CAP",
    "NOW",
    "REDIRECTS",
    "Attempt",
    "ClusterPolicy",
    "parse_redirect",
]

DELAY_CAP = 0.1
NOW = 2
BACKGROUND = 1
# Error replies that mean "not run here, try again elsewhere or later".
REDIRECTS = (
    MovedError,
    AskError,
    TryAgainError,
    ClusterDownError,
    ReadOnlyError,
    MasterDownError,
    BusyLoadingError,
)


@dataclass(frozen=True)
class ClusterPolicy:
    """How hard a command tries: the client's ``Retry`` plus the cluster's budget."""

    retry: Retry = field(default_factory=Retry)
    timeout: float = 10.0
    max_redirects: int = 16

    def delay(self, failures: int) -> float:
        if failures <= 1:
            return 0.0  # the first retry goes right after the refresh
        return min(self.retry.backoff.compute(failures - 1), DELAY_CAP)

    def may_resend(self, flags: int, error: Exception) -> bool:
        """The single-node rule for a command that may have reached the server."""
        if not self.retry.retries:
            return False
        if isinstance(error, TimeoutError):
            return self.retry.retry_on_timeout and bool(flags & READONLY)
        return bool(flags & RETRY_SAFE)


def parse_redirect(error: RedisError, fallback_host: str) -> tuple[int, str, int]:
    """``MOVED 3999 127.0.0.1:6381`` -> (3999, "127.0.0.1", 6381); "" host -> fallback."""
    slot, _, address = str(error).strip().partition(" ")
    host, _, port = address.rpartition(":")
    if not slot.isdigit() or not port.isdigit():
        raise ClusterError(f"cannot parse the redirection {str(error)!r}") from error
    return int(slot), host or fallback_host, int(port)


class Attempt:
    """The retry state of one command (or one transaction) for one slot."""

    __slots__ = (
        "asking",
        "deadline",
        "failures",
        "flags",
        "node",
        "policy",
        "redirects",
        "refresh",
        "slot",
    )

    def __init__(self, slot: int, flags: int, policy: ClusterPolicy) -> None:
        self.slot = slot
        self.flags = flags
        self.policy = policy
        self.node: ClusterNode | None = None
        self.asking = False
        self.redirects = 0
        self.failures = 0
        self.refresh = 0
        self.deadline = time.monotonic() + policy.timeout

    def retry(
        self, error: BaseException, written: bool, node: ClusterNode | None, topology: Topology
    ) -> float:
        """``handle`` for a failure on ``node``; with no node (its slot is served by no
        known node, so nothing was sent) only a refreshed slot map can help."""
        if node is None:
            delay = self.failed(error)
            self.node, self.refresh = None, NOW
            return delay
        return self.handle(error, written, node, topology)

    def handle(
        self, error: BaseException, written: bool, node: ClusterNode, topology: Topology
    ) -> float:
        """Digest a failure on ``node``; returns the delay before the next try, or raises.

        After it returns, ``self.node`` is the next node (None: ask the refreshed slot
        map), ``self.asking`` says whether to send ASKING first, and ``self.refresh`` is
        NOW, BACKGROUND or 0.
        """
        self.refresh = 0
        was_asking, self.asking = self.asking, False
        if isinstance(error, MovedError):
            slot, host, port = parse_redirect(error, node.host)
            self._redirected(error)
            self.node = topology.moved(slot, host, port)
            self.refresh = BACKGROUND
            return 0.0
        if isinstance(error, AskError):
            _, host, port = parse_redirect(error, node.host)
            self._redirected(error)
            self.node = topology.node(host, port)
            self.asking = True
            return 0.0
        self.redirects = 0
        if isinstance(error, TryAgainError):
            self.node = node  # the keys are moving: same node (and same ASK) later
            self.asking = was_asking
            return self.failed(error)
        if isinstance(error, (*REDIRECTS, SlotNotCoveredError)):
            self.node = None
            self.refresh = NOW
            return self.failed(error)
        if not isinstance(error, (ConnectionError, TimeoutError)) or isinstance(
            error, AuthenticationError
        ):
            raise error
        topology.mark_failed(node)
        if written and not self.policy.may_resend(self.flags, error):
            raise error
        self.node = None
        self.refresh = NOW
        return self.failed(error)

    def _redirected(self, error: BaseException) -> None:
        self.redirects += 1
        if self.redirects > self.policy.max_redirects:
            raise ClusterError(
                f"slot {self.slot}: more than {self.policy.max_redirects} redirections in a "
                f"row (last: {error}); the cluster's nodes disagree about who owns it"
            ) from error

    def failed(self, error: BaseException) -> float:
        """Count one failure; the delay before the next try, or raise past the budget."""
        self.failures += 1
        delay = self.policy.delay(self.failures)
        if time.monotonic() + delay > self.deadline:
            raise error
        return delay
