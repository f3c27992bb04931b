"""What both cluster clients share above the I/O: settings, node lookups, target views,
and folding the replies of a command sent to several nodes.

``resp3.RedisCluster`` and ``resp3.asyncio.RedisCluster`` inherit :class:`ClusterBase`
next to ``CoreCommands``; each adds only its I/O (pools and threads, or multiplexed
connections and tasks).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from ..commands._base import Command
from ..config import ConnectionConfig
from ..errors import ResponseError
from ..retry import Retry
from .attempt import ClusterPolicy
from .batch import Item
from .errors import ClusterError
from .nodes import ClusterNode, Topology
from .routing import ALL_NODES, DEFAULT_NODE, PRIMARIES, RANDOM, REPLICAS, Router, aggregator
from .slots import key_slot

__all__ = ["MIN_REFRESH_INTERVAL", "ClusterBase", "cluster_config", "startup_list"]

MIN_REFRESH_INTERVAL = 0.1  # seconds between two slot-map reads that are not forced

Self = TypeVar("Self", bound="ClusterBase")


def startup_list(
    host: str | None, port: int, startup_nodes: Sequence[ClusterNode] | None
) -> list[ClusterNode]:
    """The seeds: ``startup_nodes``, else ``host:port``, else localhost:6379 (redis-py)."""
    nodes = list(startup_nodes or [])
    if host is not None or not nodes:
        nodes.insert(0, ClusterNode(host or "localhost", port))
    return nodes


def cluster_config(port: int, options: dict[str, Any]) -> ConnectionConfig:
    """One ConnectionConfig for every node (host/port replaced per node); db must be 0."""
    if options.get("db", 0) != 0:
        raise ClusterError(f"Redis Cluster has only database 0, got db={options['db']!r}")
    options = {key: value for key, value in options.items() if value is not None}
    options.setdefault("retry", Retry())
    try:
        return ConnectionConfig(port=port, **options)
    except TypeError as exc:
        raise TypeError(f"RedisCluster: unknown connection option: {exc}") from None


class ClusterBase:
    """Settings, slot map, router and the node-level API of a cluster client."""

    PRIMARIES = PRIMARIES
    REPLICAS = REPLICAS
    ALL_NODES = ALL_NODES
    RANDOM = RANDOM
    DEFAULT_NODE = DEFAULT_NODE

    def _setup(
        self,
        host: str | None,
        port: int,
        startup_nodes: Sequence[ClusterNode] | None,
        read_from_replicas: bool,
        cluster_retry_timeout: float,
        max_redirects: int,
        max_connections: int | None,
        connection_options: dict[str, Any],
    ) -> None:
        self.config = cluster_config(port, connection_options)
        self.retry = self.config.retry
        self.policy = ClusterPolicy(self.retry, cluster_retry_timeout, max_redirects)
        self.topology = Topology(startup_list(host, port, startup_nodes), read_from_replicas)
        self.max_connections = max_connections
        self.protocol = self.config.protocol
        self._router = Router()
        self._target: Any = None

    # -- nodes -----------------------------------------------------------------------------

    # -- reading the slot map: the decisions around the I/O of each client --------------

    def _refresh_due(self, force: bool) -> bool:
        """Whether to read the slot map now: always if ``force``, else only when the
        last read started ``MIN_REFRESH_INTERVAL`` s ago or more. True stamps the start,
        so callers arriving meanwhile skip their own read."""
        now = time.monotonic()
        if not force and now - self.topology.refreshed_at < MIN_REFRESH_INTERVAL:
            return False
        self.topology.refreshed_at = now
        return True

    def _unusable_map(
        self, node: ClusterNode, failure: BaseException | None, errors: list[str]
    ) -> None:
        """Record why ``node`` gave no slot map: ``failure``, or (None) no slot assigned.
        A node that failed is marked so; the next candidate is asked."""
        if failure is None:
            errors.append(f"{node.name}: no slot is assigned")
            return
        self.topology.mark_failed(node)
        errors.append(f"{node.name}: {failure}")

    @staticmethod
    def _no_map(errors: list[str]) -> ClusterError:
        return ClusterError("no cluster node answered CLUSTER SHARDS/SLOTS: " + "; ".join(errors))

    def get_nodes(self) -> list[ClusterNode]:
        return list(self.topology.nodes.values())

    def get_primaries(self) -> list[ClusterNode]:
        return self.topology.primaries()

    def get_replicas(self) -> list[ClusterNode]:
        return self.topology.replicas()

    def get_node(
        self, host: str | None = None, port: int | None = None, node_name: str | None = None
    ) -> ClusterNode | None:
        """The node at ``host:port`` (or named ``node_name``), None if unknown."""
        return self.topology.nodes.get(node_name or f"{host}:{port}")

    def get_node_from_key(self, key: Any, replica: bool = False) -> ClusterNode | None:
        """The primary serving ``key``'s slot (a replica of it with ``replica=True``)."""
        shard = self.topology.slots[key_slot(key)]
        if shard is None:
            return None
        if replica:
            return shard.replicas[0] if shard.replicas else None
        return shard.primary

    def get_default_node(self) -> ClusterNode:
        return self.topology.get_default_node()

    def set_default_node(self, node: ClusterNode) -> bool:
        self.topology.default_node = self.topology.nodes.get(node.name, node)
        return True

    def keyslot(self, key: Any) -> int:
        return key_slot(key)

    def with_target(self: Self, target: Any) -> Self:
        """A view whose every command goes to ``target``: a ClusterNode, a list of them,
        or PRIMARIES / REPLICAS / ALL_NODES / RANDOM / DEFAULT_NODE.

        Several nodes answer ``{node name: value}``, or one folded value for the
        commands redis-py folds (DBSIZE sums, KEYS concatenates, PING is True if all
        were...). The view shares this client's connections and slot map.
        """
        if self.topology.shards:
            self.topology.targets(target)  # fail now on a bad target
        view = copy.copy(self)
        view._target = target
        return view

    # -- replies ---------------------------------------------------------------------------

    def _decode(self, cmd: Command[Any], reply: Any) -> Any:
        if isinstance(reply, ResponseError):
            raise reply
        decode = cmd.decode if self.protocol == 3 else (cmd.decode2 or cmd.decode)
        return decode(reply) if decode is not None else reply

    def _target_items(self, cmd: Command[Any], target: Any) -> list[Item]:
        pick = target if target in (DEFAULT_NODE, RANDOM) else None
        return [Item(cmd, None, node, pick) for node in self.topology.targets(target)]

    def _fold(
        self, cmd: Command[Any], target: Any, aggregate: Any, items: list[Item], replies: list[Any]
    ) -> Any:
        """One value for one node; a fold or ``{node name: value}`` for several."""
        values = [self._decode(cmd, reply) for reply in replies]
        if isinstance(target, ClusterNode) or target in (DEFAULT_NODE, RANDOM):
            return values[0]
        fold = aggregate or aggregator(cmd.args)
        if fold is not None:
            return fold(values)
        return {item.node.name: v for item, v in zip(items, values, strict=True) if item.node}
