"""The sans-I/O pieces on their own: topology replies (RESP3 maps, RESP2 lists, odd
addresses, a failover in progress), the redirection/retry decisions, and the splitter;
then the CLUSTER SLOTS fallback against the live cluster."""

from __future__ import annotations

import pytest
from conftest import startup

import resp3
from resp3.cluster import ClusterError, ClusterNode
from resp3.cluster.attempt import BACKGROUND, NOW, Attempt, ClusterPolicy
from resp3.cluster.nodes import Topology
from resp3.cluster.routing import split
from resp3.cluster.slots import ShardInfo, parse_shards, parse_slots
from resp3.commands import strings
from resp3.errors import (
    AskError,
    ClusterDownError,
    ConnectionError,
    MovedError,
    TimeoutError,
    TryAgainError,
)
from resp3.retry import Retry
from resp3.testing_cluster import RedisClusterServer


def shard_reply(resp2: bool) -> list[object]:
    def node(port: int, role: str, health: str, endpoint: bytes = b"10.0.0.1") -> object:
        fields = {
            b"id": b"n%d" % port,
            b"port": port,
            b"ip": b"10.0.0.1",
            b"endpoint": endpoint,
            b"role": role.encode(),
            b"replication-offset": 1,
            b"health": health.encode(),
        }
        return [x for pair in fields.items() for x in pair] if resp2 else fields

    shards = [
        {b"slots": [0, 99, 200, 299],
         b"nodes": [node(7000, "master", "online"), node(7003, "replica", "online", b"?")]},
        # right after a failover: the dead former primary is still listed as a master
        {b"slots": [100, 199],
         b"nodes": [node(7001, "master", "failed"), node(7004, "master", "online")]},
        {b"slots": [], b"nodes": [node(7009, "master", "online")]},  # no slots: ignored
    ]  # fmt: skip
    if resp2:
        return [[x for pair in shard.items() for x in pair] for shard in shards]
    return list(shards)


@pytest.mark.parametrize("resp2", [False, True], ids=["resp3", "resp2"])
def test_parse_shards(resp2: bool) -> None:
    shards = parse_shards(shard_reply(resp2), "192.168.1.9")
    assert len(shards) == 2
    first, second = shards
    assert (first.primary.port, first.ranges) == (7000, [(0, 99), (200, 299)])
    assert [(r.host, r.port) for r in first.replicas] == [("192.168.1.9", 7003)]  # "?" endpoint
    assert second.primary.port == 7004 and not second.primary.failed
    assert [(r.port, r.failed) for r in second.replicas] == [(7001, True)]


def test_parse_slots_merges_ranges_of_one_primary() -> None:
    reply = [
        [0, 99, [b"", 7000, b"a"], [b"10.0.0.2", 7003, b"d"]],
        [100, 199, [b"10.0.0.1", 7001, b"b"]],
        [200, 299, [b"", 7000, b"a"], [b"10.0.0.2", 7003, b"d"]],
    ]
    shards = parse_slots(reply, "10.0.0.1")
    assert [(s.primary.host, s.primary.port, s.ranges) for s in shards] == [
        ("10.0.0.1", 7000, [(0, 99), (200, 299)]),
        ("10.0.0.1", 7001, [(100, 199)]),
    ]
    assert shards[0].replicas[0].host == "10.0.0.2"


def topology() -> Topology:
    topo = Topology([ClusterNode("10.0.0.1", 7000)])
    topo.apply(parse_shards(shard_reply(False), "10.0.0.1"))
    return topo


def test_topology_lookups_moved_and_removed_nodes() -> None:
    topo = topology()
    assert topo.node_for(0).port == 7000  # type: ignore[union-attr]
    assert topo.node_for(150).port == 7004  # type: ignore[union-attr]
    assert topo.node_for(5000) is None
    node = topo.moved(5000, "10.0.0.5", 7005)
    assert topo.node_for(5000) is node and node.server_type == "primary"
    assert topo.node("10.0.0.5", 7005) is node  # the same object, not a copy
    gone = topo.apply(
        [ShardInfo(parse_shards(shard_reply(False), "x")[0].primary, [], [(0, 16383)])]
    )
    assert {n.port for n in gone} == {7003, 7004, 7005}
    assert topo.node_for(5000).port == 7000  # type: ignore[union-attr]
    with pytest.raises(ClusterError, match="unknown target"):
        topo.targets("nobody")


def test_replica_reads_round_robin_and_skip_failed_nodes() -> None:
    topo = topology()
    topo.read_from_replicas = True
    seen = [topo.node_for(0, readonly=True).port for _ in range(4)]  # type: ignore[union-attr]
    assert sorted(seen) == [7000, 7000, 7003, 7003]
    assert topo.node_for(0, readonly=False).port == 7000  # type: ignore[union-attr]
    topo.mark_failed(topo.node("10.0.0.1", 7003))
    assert {topo.node_for(0, readonly=True).port for _ in range(4)} == {7000}  # type: ignore[union-attr]


def test_attempt_follows_redirections_and_keeps_its_budget() -> None:
    topo = topology()
    node = topo.node("10.0.0.1", 7000)
    attempt = Attempt(0, 0, ClusterPolicy(Retry(), timeout=5.0, max_redirects=2))
    assert attempt.handle(MovedError("0 :7001"), False, node, topo) == 0.0
    assert (attempt.node.port, attempt.node.host, attempt.refresh) == (7001, "10.0.0.1", BACKGROUND)  # type: ignore[union-attr]
    assert topo.node_for(0).port == 7001  # type: ignore[union-attr]
    assert attempt.handle(AskError("0 10.0.0.9:7009"), False, node, topo) == 0.0
    assert attempt.asking and attempt.node.port == 7009  # type: ignore[union-attr]
    assert attempt.handle(TryAgainError("later"), False, attempt.node, topo) >= 0  # type: ignore[arg-type]
    assert attempt.asking, "TRYAGAIN after ASK asks the same node again"
    assert attempt.handle(ClusterDownError("down"), False, node, topo) >= 0
    assert attempt.node is None and attempt.refresh == NOW
    attempt.handle(MovedError("0 :7001"), False, node, topo)
    attempt.handle(MovedError("0 :7002"), False, node, topo)
    with pytest.raises(ClusterError, match="redirections"):
        attempt.handle(MovedError("0 :7001"), False, node, topo)


def test_attempt_resends_only_what_is_safe() -> None:
    topo = topology()
    node = topo.node("10.0.0.1", 7000)
    policy = ClusterPolicy(Retry(), timeout=5.0)
    incr = strings.incr("k")
    error = ConnectionError("reset")
    assert Attempt(0, incr.flags, policy).handle(error, False, node, topo) == 0.0  # not written
    assert node.is_failed(__import__("time").monotonic())
    with pytest.raises(ConnectionError):
        Attempt(0, incr.flags, policy).handle(error, True, node, topo)  # may have run
    get = strings.get("k")
    assert Attempt(0, get.flags, policy).handle(error, True, node, topo) == 0.0
    with pytest.raises(TimeoutError):  # timeouts re-send only with retry_on_timeout
        Attempt(0, get.flags, policy).handle(TimeoutError("slow"), True, node, topo)
    patient = ClusterPolicy(Retry(retry_on_timeout=True), timeout=5.0)
    assert Attempt(0, get.flags, patient).handle(TimeoutError("slow"), True, node, topo) == 0.0
    with pytest.raises(ConnectionError):
        Attempt(0, get.flags, ClusterPolicy(Retry(0))).handle(error, True, node, topo)
    spent = Attempt(0, get.flags, ClusterPolicy(Retry(), timeout=0.0))
    with pytest.raises(TryAgainError):
        spent.handle(TryAgainError("x"), False, node, topo)
        spent.handle(TryAgainError("x"), False, node, topo)


def test_split_rebuilds_the_callers_order() -> None:
    parts, merge = split(strings.mget(["{a}1", "{b}1", "{a}2", "{b}1"]))
    assert [p.args[1:] for _, p in parts] == [("{a}1", "{a}2"), ("{b}1", "{b}1")]
    assert merge([[b"a1", b"a2"], [b"b1", b"b1"]]) == [b"a1", b"b1", b"a2", b"b1"]
    parts, merge = split(strings.mset({"{a}1": 1, "{b}1": 2, "{a}2": 3}))
    assert [p.args for _, p in parts] == [(b"MSET", "{a}1", 1, "{a}2", 3), (b"MSET", "{b}1", 2)]
    assert merge([b"OK", b"OK"]) == b"OK"


def test_cluster_slots_fallback_reads_the_same_map(cluster: RedisClusterServer) -> None:
    with resp3.RedisCluster(startup_nodes=startup(cluster)) as rc:
        by_shards = [rc.topology.primary_for(slot) for slot in range(0, 16384, 64)]
        replicas = sorted(n.name for n in rc.get_replicas())
        rc._use_slots = True  # what a Redis 6 server makes the client do
        rc.refresh_topology()
        assert [rc.topology.primary_for(slot) for slot in range(0, 16384, 64)] == by_shards
        assert sorted(n.name for n in rc.get_replicas()) == replicas
