"""Cluster nodes and the client's view of the topology (slot -> shard), without I/O.

``Topology`` answers "which node serves slot N" from a list of 16384 shard references,
so a lookup is one list index. It changes in three ways:

* ``apply(shards)`` after a refresh (CLUSTER SHARDS or CLUSTER SLOTS from any reachable
  node) replaces the whole table at once (a new list, swapped in one assignment, so
  threads reading it never see a half-built map);
* ``moved(slot, host, port)`` after a ``MOVED`` reply points that one slot at the new
  owner immediately; the client also schedules a full refresh, because a MOVED usually
  means more has changed (a failover moves every slot of the shard);
* ``mark_failed(node)`` after a connection to it failed: the mark lasts ``FAILED_TTL``
  seconds, during which replica reads avoid the node and refreshes ask other nodes
  first. It does not reroute writes: only the cluster can promote a replica, and the
  next refresh will show it.

Node objects are kept across refreshes (looked up by ``host:port``), so a caller's
``ClusterNode`` stays valid while the node exists. ``refresh_candidates`` rotates
through the known nodes so that a node with a stale view is not asked every time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from typing import Any

from .errors import ClusterError
from .routing import ALL_NODES, DEFAULT_NODE, PRIMARIES, RANDOM, REPLICAS
from .slots import SLOTS, NodeInfo, ShardInfo

__all__ = ["FAILED_TTL", "ClusterNode", "Topology"]

FAILED_TTL = 2.0
PRIMARY = "primary"
REPLICA = "replica"


def node_name(host: str, port: int) -> str:
    return f"{host}:{port}"


class ClusterNode:
    """One node: ``host``, ``port``, ``name`` (``"host:port"``), ``server_type``.

    As in redis-py, ``ClusterNode(host, port)`` is also how startup nodes are given.
    ``server_type`` is ``"primary"`` or ``"replica"`` once the topology is known.
    """

    __slots__ = ("failed_at", "host", "name", "node_id", "port", "server_type")

    def __init__(self, host: str, port: int = 6379, server_type: str | None = None) -> None:
        self.host = host
        self.port = int(port)
        self.name = node_name(host, self.port)
        self.server_type = server_type
        self.node_id = ""
        self.failed_at = 0.0

    def __repr__(self) -> str:
        return f"ClusterNode({self.host!r}, {self.port}, server_type={self.server_type!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClusterNode) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def is_failed(self, now: float) -> bool:
        return now - self.failed_at < FAILED_TTL


class _Shard:
    """A primary and its replicas; ``next_reader`` round-robins reads across them."""

    __slots__ = ("primary", "readers", "replicas", "turn")

    def __init__(self, primary: ClusterNode, replicas: list[ClusterNode]) -> None:
        self.primary = primary
        self.replicas = replicas
        self.readers = [primary, *replicas]
        self.turn = 0

    def next_reader(self, now: float) -> ClusterNode:
        readers = self.readers
        for _ in range(len(readers)):
            self.turn = (self.turn + 1) % len(readers)
            node = readers[self.turn]
            if not node.is_failed(now):
                return node
        return self.primary


class Topology:
    """The slot map and the known nodes; see the module docstring."""

    def __init__(self, startup_nodes: Iterable[ClusterNode], read_from_replicas: bool = False):
        self.startup_nodes = [ClusterNode(n.host, n.port) for n in startup_nodes]
        if not self.startup_nodes:
            raise ClusterError("at least one startup node is needed")
        self.read_from_replicas = read_from_replicas
        self.nodes: dict[str, ClusterNode] = {n.name: n for n in self.startup_nodes}
        self.slots: list[_Shard | None] = [None] * SLOTS
        self.shards: list[_Shard] = []
        self.default_node: ClusterNode | None = None
        self.refreshed_at = 0.0
        self.version = 0
        self._rotation = 0

    # -- lookups (hot path) --------------------------------------------------------------

    def node_for(self, slot: int, readonly: int | bool = False) -> ClusterNode | None:
        """The node to send a command for ``slot`` to; None if no node serves it."""
        shard = self.slots[slot]
        if shard is None:
            return None
        if readonly and self.read_from_replicas and shard.replicas:
            return shard.next_reader(time.monotonic())
        return shard.primary

    def primary_for(self, slot: int) -> ClusterNode | None:
        shard = self.slots[slot]
        return shard.primary if shard is not None else None

    def node(self, host: str, port: int) -> ClusterNode:
        """The known node at this address, or a new one (an ASK target, a new primary)."""
        name = node_name(host, port)
        found = self.nodes.get(name)
        if found is None:
            found = self.nodes[name] = ClusterNode(host, port, PRIMARY)
        return found

    def primaries(self) -> list[ClusterNode]:
        return [shard.primary for shard in self.shards]

    def replicas(self) -> list[ClusterNode]:
        return [node for shard in self.shards for node in shard.replicas]

    def targets(self, target: Any) -> list[ClusterNode]:
        """Resolve ``PRIMARIES``/``REPLICAS``/``ALL_NODES``/``RANDOM``/``DEFAULT_NODE``,
        a node, or a list of nodes, to nodes. ClusterError if that is none at all."""
        if isinstance(target, ClusterNode):
            nodes = [self.nodes.get(target.name) or target]
        elif isinstance(target, (list, tuple)):
            nodes = [self.nodes.get(n.name) or n for n in target]
        elif target == PRIMARIES:
            nodes = self.primaries()
        elif target == REPLICAS:
            nodes = self.replicas()
        elif target == ALL_NODES:
            nodes = self.primaries() + self.replicas()
        elif target == RANDOM:
            everything = self.primaries() + self.replicas()
            nodes = [random.choice(everything)] if everything else []
        elif target == DEFAULT_NODE:
            nodes = [self.get_default_node()]
        else:
            raise ClusterError(
                f"unknown target {target!r}: use a ClusterNode, a list of them, or one of "
                "PRIMARIES, REPLICAS, ALL_NODES, RANDOM, DEFAULT_NODE"
            )
        if not nodes:
            raise ClusterError(f"target {target!r} matches no node of the cluster")
        return nodes

    def get_default_node(self) -> ClusterNode:
        node = self.default_node
        if node is None or (node.is_failed(time.monotonic()) and len(self.shards) > 1):
            primaries = self.primaries() or self.startup_nodes
            alive = [n for n in primaries if not n.is_failed(time.monotonic())] or primaries
            node = self.default_node = random.choice(alive)
        return node

    # -- changes ---------------------------------------------------------------------------

    def moved(self, slot: int, host: str, port: int) -> ClusterNode:
        """Point ``slot`` at the node a MOVED reply named; returns that node."""
        node = self.node(host, port)
        node.server_type = PRIMARY
        for shard in self.shards:
            if shard.primary is node:
                break
        else:
            shard = _Shard(node, [])
            self.shards = [*self.shards, shard]
        self.slots[slot] = shard
        self.version += 1
        return node

    def mark_failed(self, node: ClusterNode, now: float | None = None) -> None:
        node.failed_at = time.monotonic() if now is None else now

    def apply(self, infos: list[ShardInfo]) -> list[ClusterNode]:
        """Replace the slot map with a refresh's result; returns the nodes now gone."""
        now = time.monotonic()
        known: dict[str, ClusterNode] = {}

        def adopt(info: NodeInfo, server_type: str) -> ClusterNode:
            node = self.nodes.get(node_name(info.host, info.port))
            if node is None:
                node = ClusterNode(info.host, info.port)
            node.server_type = server_type
            node.node_id = info.node_id or node.node_id
            if info.failed:
                node.failed_at = max(node.failed_at, now)
            known[node.name] = node
            return node

        slots: list[_Shard | None] = [None] * SLOTS
        shards = []
        for info in infos:
            primary = adopt(info.primary, PRIMARY)
            # A replica the cluster flags as failed serves nothing; leave it out.
            replicas = [adopt(r, REPLICA) for r in info.replicas if not r.failed]
            shard = _Shard(primary, replicas)
            shards.append(shard)
            for low, high in info.ranges:
                slots[low : high + 1] = [shard] * (high - low + 1)
        gone = [node for name, node in self.nodes.items() if name not in known]
        self.nodes = known
        self.slots = slots
        self.shards = shards
        self.refreshed_at = now
        self.version += 1
        if self.default_node is not None and self.default_node.name not in known:
            self.default_node = None
        return gone

    def refresh_candidates(self) -> list[ClusterNode]:
        """Nodes to ask for the topology: healthy ones first (rotated), then the rest."""
        now = time.monotonic()
        nodes = list(self.nodes.values())
        self._rotation = (self._rotation + 1) % max(len(nodes), 1)
        nodes = nodes[self._rotation :] + nodes[: self._rotation]
        healthy = [n for n in nodes if not n.is_failed(now)]
        failed = [n for n in nodes if n.is_failed(now)]
        seeds = [n for n in self.startup_nodes if n.name not in self.nodes]
        return healthy + seeds + failed

    def covered(self) -> int:
        return sum(shard is not None for shard in self.slots)
