"""resp3.RedisCluster on a healthy 3+3 cluster: slots, routing, splits, node commands.

Each test checks a value the server holds (not only what the client says): keys are
looked up on the node that should own them, per-node DBSIZE must match the slots a node
owns, key positions must agree with the server's COMMAND INFO.
"""

from __future__ import annotations

import pytest
from _cluster_helpers import key_for_slot, keys_for_every_slot, tag_for_slot

import resp3
from resp3.cluster import ClusterCrossSlotError, ClusterError, ClusterNode, key_slot
from resp3.cluster.keyspecs import GETKEYS, KEY_RANGES, MOVABLE
from resp3.cluster.routing import LOOKUP, Router
from resp3.errors import DataError, ResponseError
from resp3.testing_cluster import RedisClusterServer

# -- slots and key positions, checked against the server -------------------------------


def test_key_slot_matches_the_server(cluster: RedisClusterServer) -> None:
    import redis.crc

    node = cluster.nodes[0]
    keys: list[object] = [
        "", "a", "foo", "{user1}.following", "{user1}.followers", "foo{}{bar}", "foo{{bar}}zap",
        "foo{bar}{zap}", "{}", "{a", "a}", "}{a}", "é€😀", b"\xff\x00bin", 12345, -7, 1.5,
    ]  # fmt: skip
    keys += [f"key:{i}" for i in range(300)] + [f"{{t{i}}}x" for i in range(100)]
    for key in keys:
        server_slot = node.call("CLUSTER", "KEYSLOT", key)
        assert key_slot(key) == server_slot, key
        if isinstance(key, (str, bytes)):
            assert key_slot(key) == redis.crc.key_slot(
                key if isinstance(key, bytes) else key.encode()
            )


def _command_info(cluster: RedisClusterServer) -> dict[bytes, list[object]]:
    """COMMAND from a node, flattened to NAME or NAME|SUB -> entry."""
    table: dict[bytes, list[object]] = {}

    def walk(entry: list[object]) -> None:
        name = entry[0]
        assert isinstance(name, bytes)
        table[name.upper()] = entry
        subcommands = entry[9] if len(entry) > 9 else []
        for sub in subcommands or []:  # type: ignore[attr-defined]
            walk(sub)

    for entry in cluster.nodes[0].call("COMMAND"):
        walk(entry)
    return table


def test_key_table_agrees_with_command_info(cluster: RedisClusterServer) -> None:
    info = _command_info(cluster)
    compared = 0
    for name, spec in KEY_RANGES.items():
        entry = info.get(name)
        if entry is None:
            continue  # a command this server version does not have
        assert (entry[3], entry[4], entry[5]) == spec, name
        compared += 1
    assert compared >= 150
    for name in [*MOVABLE, *GETKEYS]:
        if name in info:
            assert b"movablekeys" in info[name][2], name  # type: ignore[operator]
    # Every key-bearing command of this server is either in the table or has a finder.
    for name, entry in info.items():
        keyed = entry[3] != 0 or b"movablekeys" in entry[2]  # type: ignore[operator]
        if keyed and name not in KEY_RANGES and name not in MOVABLE and name not in GETKEYS:
            assert Router().plan([*name.split(b"|"), b"k"]) is LOOKUP, name


# -- every slot --------------------------------------------------------------------------


def test_one_key_in_every_slot_lands_on_its_owner(
    cluster: RedisClusterServer, rc: resp3.RedisCluster
) -> None:
    keys = keys_for_every_slot()
    pipe = rc.pipeline()
    for slot, key in enumerate(keys):
        pipe.set(key, slot)
    assert pipe.execute() == [True] * 16384
    assert rc.mget(keys) == [str(slot).encode() for slot in range(16384)]
    assert rc.dbsize() == 16384
    owned = {node.port: 0 for node in rc.get_primaries()}
    for slot in range(16384):
        owner = rc.topology.primary_for(slot)
        assert owner is not None
        owned[owner.port] += 1
    for port, slots in owned.items():
        assert cluster.node_at(port).call("DBSIZE") == slots
    for slot in (0, 5460, 5461, 10922, 16383):
        owner = cluster.primary_of(slot)
        assert owner.call("GET", keys[slot]) == str(slot).encode()


def test_hash_tags_keep_multi_key_commands_on_one_node(rc: resp3.RedisCluster) -> None:
    rc.sadd("{user1}:a", "x", "y")
    rc.sadd("{user1}:b", "y", "z")
    assert rc.sinterstore("{user1}:both", ["{user1}:a", "{user1}:b"]) == 1
    assert rc.smembers("{user1}:both") == {b"y"}
    assert rc.rename("{user1}:both", "{user1}:renamed") is True
    assert rc.lmove("{user1}:l1", "{user1}:l2") is None
    assert rc.get_node_from_key("{user1}:a") == rc.get_node_from_key("{user1}:zzz")


def test_other_cross_slot_multi_key_commands_raise_before_sending(
    rc: resp3.RedisCluster,
) -> None:
    a, b = key_for_slot(1), key_for_slot(9000)
    rc.sadd(a, "x")
    with pytest.raises(ClusterCrossSlotError, match="slot") as info:
        rc.sinterstore(key_for_slot(100), [a, b])
    assert isinstance(info.value, DataError)
    assert rc.exists(key_for_slot(100)) == 0
    with pytest.raises(ClusterCrossSlotError):
        rc.msetnx({a: 1, b: 2})
    assert rc.get(b) is None
    with pytest.raises(ClusterCrossSlotError):
        rc.eval("return 1", 2, a, b)
    with pytest.raises(ClusterCrossSlotError):
        rc.rename(a, b)


def test_cross_slot_reads_and_writes_are_split_and_reassembled(
    rcp: resp3.RedisCluster,
) -> None:
    keys = [key_for_slot(slot) for slot in range(0, 16384, 331)]
    assert len({rcp.get_node_from_key(k) for k in keys}) == 3
    assert rcp.mset({key: f"v{i}" for i, key in enumerate(keys)}) is True
    asked = [keys[5], "missing", keys[0], keys[5], keys[-1]]
    assert rcp.mget(asked) == [b"v5", None, b"v0", b"v5", f"v{len(keys) - 1}".encode()]
    assert rcp.exists(*asked) == 4  # a key named twice counts twice, as on one node
    assert rcp.execute_command("TOUCH", *keys[:10]) == 10  # no builder: raw, still split
    assert rcp.delete(*keys[:10], "missing") == 10
    assert rcp.unlink(*keys[10:], keys[0]) == len(keys) - 10
    assert rcp.dbsize() == 0


def test_pipeline_across_nodes_keeps_the_callers_order(rcp: resp3.RedisCluster) -> None:
    keys = [key_for_slot(slot) for slot in range(0, 16384, 97)]
    pipe = rcp.pipeline()
    for i, key in enumerate(keys):
        pipe.set(key, i).incr(key).get(key)
    pipe.mget(keys[:5]).ping()
    results = pipe.execute()
    expected: list[object] = []
    for i in range(len(keys)):
        expected += [True, i + 1, str(i + 1).encode()]
    assert results == [*expected, [b"1", b"2", b"3", b"4", b"5"], True]
    assert len(pipe) == 0  # reset after execute


def test_pipeline_errors_stay_in_place(rc: resp3.RedisCluster) -> None:
    a, b = key_for_slot(7), key_for_slot(12000)
    rc.set(a, "text")
    pipe = rc.pipeline().incr(a).set(b, 1).incr(b)
    results = pipe.execute(raise_on_error=False)
    assert isinstance(results[0], ResponseError) and "Command # 1" in str(results[0])
    assert results[1:] == [True, 2]
    with pytest.raises(ResponseError, match="Command # 1"):
        rc.pipeline().incr(a).set(b, 10).execute()
    assert rc.get(b) == b"10"  # the rest of the pipeline ran
    with pytest.raises(ClusterError, match="several nodes"):
        rc.pipeline().dbsize().execute()


def test_transactions_need_one_slot(rcp: resp3.RedisCluster) -> None:
    tag = tag_for_slot(4242)
    pipe = rcp.pipeline(transaction=True)
    pipe.set(f"{tag}a", 1).incr(f"{tag}a").mget([f"{tag}a", f"{tag}b"]).ping()
    assert pipe.execute() == [True, 2, [b"2", None], True]
    with pytest.raises(ClusterCrossSlotError, match="one slot"):
        rcp.pipeline(transaction=True).set(f"{tag}a", 5).set(key_for_slot(1), 5).execute()
    assert rcp.get(f"{tag}a") == b"2" and rcp.get(key_for_slot(1)) is None


def test_transaction_helper_retries_after_a_watched_key_changed(
    rc: resp3.RedisCluster,
) -> None:
    tag = tag_for_slot(99)
    rc.set(f"{tag}n", 1)
    calls = []

    def double(pipe: resp3.cluster.ClusterPipeline) -> None:
        value = int(pipe.get(f"{tag}n"))
        if not calls:
            rc.incr(f"{tag}n")  # another client changes it: EXEC must be refused once
        calls.append(value)
        pipe.multi()
        pipe.set(f"{tag}n", value * 2)

    assert rc.transaction(double, f"{tag}n") == [True]
    assert calls == [1, 2]
    assert rc.get(f"{tag}n") == b"4"


def test_node_level_commands_go_to_their_default_targets(
    cluster: RedisClusterServer, rcp: resp3.RedisCluster
) -> None:
    keys = [key_for_slot(slot) for slot in range(0, 16384, 100)]
    rcp.mset(dict.fromkeys(keys, 1))
    assert rcp.dbsize() == len(keys)
    assert sorted(rcp.keys()) == sorted(k.encode() for k in keys)
    assert rcp.ping() is True
    assert "redis_version" in rcp.info("server")
    everything = rcp.with_target(rcp.ALL_NODES).info("server")
    assert set(everything) == {node.name for node in rcp.get_nodes()} and len(everything) == 6
    node = rcp.get_primaries()[0]
    assert rcp.with_target(node).dbsize() == cluster.node_at(node.port).call("DBSIZE")
    per_node = rcp.execute_command("DBSIZE", target_nodes=rcp.PRIMARIES)
    assert per_node == len(keys)  # folded like dbsize()
    assert rcp.execute_command("PING", target_nodes=rcp.ALL_NODES) is True
    assert rcp.execute_command("CONFIG", "SET", "slowlog-max-len", 128, target_nodes=rcp.PRIMARIES)
    lens = rcp.with_target(rcp.PRIMARIES).config_get("slowlog-max-len")
    assert [v["slowlog-max-len"] for v in lens.values()] == ["128"] * 3  # config_get: str
    sha = rcp.script_load("return redis.call('GET', KEYS[1])")
    assert rcp.script_exists(sha) == [True]
    assert rcp.evalsha(sha, 1, keys[3]) == b"1"
    assert rcp.flushdb() is True
    assert rcp.dbsize() == 0
    with pytest.raises(ClusterError, match="scan_iter"):
        rcp.scan(0)
    with pytest.raises(ClusterError, match="unknown target"):
        rcp.with_target("everyone")


def test_scan_iter_visits_every_primary(rc: resp3.RedisCluster) -> None:
    keys = {f"scan:{i}".encode() for i in range(300)}
    rc.mset(dict.fromkeys(keys, 0))
    rc.set("other", 1)
    seen = list(rc.scan_iter(match="scan:*", count=50))
    assert sorted(seen) == sorted(keys)
    rc.hset("h", mapping={f"f{i}": i for i in range(50)})
    assert len(dict(rc.hscan_iter("h"))) == 50


def test_unknown_and_movable_key_commands(rc: resp3.RedisCluster) -> None:
    # Not in the table: COMMAND INFO once. (Never a slow command here: a node busy for
    # longer than cluster-node-timeout would be failed over by its peers.)
    assert isinstance(rc.execute_command("FUNCTION", "STATS"), (dict, list))
    assert rc._router.learned[b"FUNCTION|STATS"] == (0, 0, 0)
    tag = tag_for_slot(321)
    rc.rpush(f"{tag}list", 3, 1, 2)
    # SORT ... STORE has movable keys: resolved with COMMAND GETKEYS, same slot needed
    assert rc.execute_command("SORT", f"{tag}list", "STORE", f"{tag}sorted") == 3
    assert rc.lrange(f"{tag}sorted", 0, -1) == [b"1", b"2", b"3"]
    with pytest.raises(ClusterCrossSlotError):
        rc.execute_command("SORT", f"{tag}list", "STORE", key_for_slot(5))
    assert rc.execute_command("get", f"{tag}missing") is None  # lower-case names route too
    assert rc.eval("return redis.call('LLEN', KEYS[1])", 1, f"{tag}list") == 3


def test_nodes_and_constructors(cluster: RedisClusterServer) -> None:
    host, port = cluster.startup_nodes[0]
    with resp3.RedisCluster(host, port) as rc:
        assert len(rc.get_nodes()) == 6
        assert len(rc.get_primaries()) == 3 and len(rc.get_replicas()) == 3
        assert {n.server_type for n in rc.get_primaries()} == {"primary"}
        assert rc.get_node(host, port) in rc.get_nodes()
        assert rc.get_node("127.0.0.1", 1) is None
        owner = rc.get_node_from_key("somekey")
        assert owner is not None and owner.port == cluster.primary_of(key_slot("somekey")).port
        replica = rc.get_node_from_key("somekey", replica=True)
        assert replica is not None and replica.server_type == "replica"
        assert rc.keyslot("somekey") == key_slot("somekey")
        assert rc.get_redis_connection(owner).ping() is True
    with resp3.RedisCluster.from_url(f"redis://{host}:{port}/0?decode_responses=yes") as rc:
        rc.set("text", "é")
        assert rc.get("text") == "é"
    bogus = [ClusterNode("127.0.0.1", 1), ClusterNode(host, port)]
    with resp3.RedisCluster(startup_nodes=bogus) as rc:  # the first seed is dead: next one
        assert rc.ping() is True
    with pytest.raises(ClusterError, match="database 0"):
        resp3.RedisCluster.from_url(f"redis://{host}:{port}/1")
    with pytest.raises(ClusterError, match="CLUSTER SHARDS"):
        resp3.RedisCluster("127.0.0.1", 1)
    with pytest.raises(TypeError, match="unknown connection option"):
        resp3.RedisCluster(host, port, no_such_option=1)


def test_reads_from_replicas_round_robin(cluster: RedisClusterServer) -> None:
    host, port = cluster.startup_nodes[0]
    with resp3.RedisCluster(host, port, read_from_replicas=True) as rc:
        key = "replicated"
        rc.set(key, "v")
        owner = rc.get_node_from_key(key)
        replica = rc.get_node_from_key(key, replica=True)
        assert owner is not None and replica is not None
        before = _gets(cluster, replica.port)
        values = {rc.get(key) for _ in range(20)}  # stale reads possible right after SET
        assert values <= {b"v", None}
        assert _gets(cluster, replica.port) - before >= 9  # about half of the reads
        rc.set(key, "w")  # writes still go to the primary
        assert cluster.node_at(owner.port).call("GET", key) == b"w"


def _gets(cluster: RedisClusterServer, port: int) -> int:
    stats = cluster.node_at(port).info("commandstats").get("cmdstat_get", "calls=0")
    return int(stats.split(",")[0].split("=")[1])
