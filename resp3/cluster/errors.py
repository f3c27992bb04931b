"""Errors raised by the cluster clients themselves (not by a server reply).

Named as in redis-py where it has a name for the same situation, so ``except`` clauses
carry over. Server replies about the cluster (MOVED, ASK, TRYAGAIN, CLUSTERDOWN,
CROSSSLOT) keep their classes from :mod:`resp3.errors`; the clients follow the first
two and retry the next two, so callers normally see them only when a retry budget ran
out.
"""

from __future__ import annotations

from ..errors import DataError, RedisError

__all__ = [
    "ClusterCrossSlotError",
    "ClusterError",
    "RedisClusterException",
    "SlotNotCoveredError",
]


class ClusterError(RedisError):
    """The cluster client cannot do what was asked (topology unknown, bad target...)."""


RedisClusterException = ClusterError


class ClusterCrossSlotError(ClusterError, DataError):
    """The keys of one command (or transaction) hash to different slots.

    Raised before anything is sent. Use a hash tag (``{user1}:a``, ``{user1}:b``) to
    put keys that must be used together in one slot. MGET, MSET, DEL, EXISTS, UNLINK
    and TOUCH never raise it: they are split per slot.
    """


class SlotNotCoveredError(ClusterError):
    """No node serves this slot, even after refreshing the slot map."""
