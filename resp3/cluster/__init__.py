"""Redis Cluster for the sync client: ``resp3.RedisCluster`` and its parts.

The routing, slot map and retry decisions are sans-I/O (``slots``, ``keyspecs``,
``routing``, ``nodes``, ``attempt``, ``batch``) and shared with
``resp3.asyncio.RedisCluster``; ``client``, ``pipeline`` and ``pubsub`` are the sync
shells around them. See docs/cluster.md.
"""

from .client import RedisCluster
from .errors import ClusterCrossSlotError, ClusterError, RedisClusterException, SlotNotCoveredError
from .nodes import ClusterNode
from .pipeline import ClusterPipeline
from .routing import ALL_NODES, DEFAULT_NODE, PRIMARIES, RANDOM, REPLICAS
from .slots import key_slot

__all__ = [
    "ALL_NODES",
    "DEFAULT_NODE",
    "PRIMARIES",
    "RANDOM",
    "REPLICAS",
    "ClusterCrossSlotError",
    "ClusterError",
    "ClusterNode",
    "ClusterPipeline",
    "RedisCluster",
    "RedisClusterException",
    "SlotNotCoveredError",
    "key_slot",
]
