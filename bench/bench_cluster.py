"""Redis Cluster throughput and failover recovery: resp3 against redis-py, on one local
cluster of 3 primaries and 3 replicas (``resp3.testing_cluster.RedisClusterServer``).

Throughput scenarios, keys spread over every slot (so every primary works):

* ``SET+GET``: one command per round trip, sync clients;
* ``pipeline 100``: a non-transactional pipeline of 100 SETs whose keys span all three
  primaries (each library groups per node; redis-py's ``ClusterPipeline`` likewise);
* ``MGET 100``: 100 keys in 100 slots, one call (resp3 ``mget`` splits per slot;
  redis-py's plain ``mget`` refuses cross-slot keys, so its ``mget_nonatomic``);
* ``asyncio 50 tasks``: 50 tasks alternating SET and GET on the asyncio clients;
* ``asyncio pipeline 100``: the pipeline above, awaited.

Method: every client's replies are checked once before timing (a wrong reply stops
the run); then ``--repeats`` samples of ``--seconds`` each are taken round-robin across
the clients of a scenario, after one untimed warm-up sample; the table shows medians.
Units: commands per second (an MGET of 100 keys counts 100). The client process is
pinned to core 0 and the six servers to core 1 when the machine has two cores.

Recovery: for each client library, a fresh cluster; one thread writes keys of one
shard in a loop (catching errors, 10 ms pause after one), the shard's primary gets
SIGKILL, and we report kill -> promotion of its replica (polled every 50 ms), promotion
-> first acknowledged write in that shard among writes started after the kill, and how
many errors reached the caller.

Run from the repository root: ``.venv/bin/python bench/bench_cluster.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import _harness as h

from resp3.cluster import key_slot
from resp3.testing_cluster import RedisClusterServer

SYNC = ("resp3", "redis-py")
ASYNC = ("resp3 asyncio", "redis-py asyncio")
TARGETS = {"pipeline 100": 2.0, "asyncio 50 tasks": 2.0, "asyncio pipeline 100": 2.0}


def spread_keys(count: int) -> list[bytes]:
    """``count`` keys in ``count`` different slots, evenly over the slot range."""
    found: dict[int, bytes] = {}
    wanted = {slot * 16384 // count for slot in range(count)}
    i = 0
    while len(found) < count:
        key = b"bench:%d" % i
        slot = key_slot(key)
        if slot in wanted and slot not in found:
            found[slot] = key
        i += 1
    return [found[slot] for slot in sorted(found)]


KEYS = spread_keys(100)


# -- clients ----------------------------------------------------------------------------


def sync_client(name: str, nodes: list[tuple[str, int]]) -> Any:
    if name == "resp3":
        import resp3
        from resp3.cluster import ClusterNode

        return resp3.RedisCluster(startup_nodes=[ClusterNode(h_, p) for h_, p in nodes])
    import redis
    from redis.cluster import ClusterNode as PyNode

    client = redis.RedisCluster(startup_nodes=[PyNode(h_, p) for h_, p in nodes])
    parser = type(
        client.get_default_node().redis_connection.connection_pool.get_connection()._parser
    ).__name__  # type: ignore[union-attr]
    if "Hiredis" not in parser:
        raise RuntimeError(f"redis-py is not using hiredis ({parser})")
    return client


def async_client(name: str, nodes: list[tuple[str, int]]) -> Any:
    if name == "resp3 asyncio":
        import resp3.asyncio
        from resp3.cluster import ClusterNode

        return resp3.asyncio.RedisCluster(startup_nodes=[ClusterNode(h_, p) for h_, p in nodes])
    import redis.asyncio
    from redis.asyncio.cluster import ClusterNode as PyNode

    return redis.asyncio.RedisCluster(startup_nodes=[PyNode(h_, p) for h_, p in nodes])


# -- scenarios --------------------------------------------------------------------------


def sync_units(name: str, client: Any) -> dict[str, tuple[Callable[[], Any], int]]:
    value = h.VALUE
    counter = iter(range(10**12))

    def set_get() -> None:
        k = KEYS[next(counter) % 100]
        client.set(k, value)
        client.get(k)

    def pipeline() -> Any:
        pipe = client.pipeline(transaction=False)
        for k in KEYS:
            pipe.set(k, value)
        return pipe.execute()

    mget = (lambda: client.mget(KEYS)) if name == "resp3" else (lambda: client.mget_nonatomic(KEYS))
    return {"SET+GET": (set_get, 2), "pipeline 100": (pipeline, 100), "MGET 100": (mget, 100)}


def validate_sync(name: str, client: Any) -> None:
    units = sync_units(name, client)
    replies = units["pipeline 100"][0]()
    if len(replies) != 100 or not all(r in (True, b"OK", "OK") for r in replies):
        raise RuntimeError(f"{name}: pipeline returned {str(replies)[:200]}")
    if units["MGET 100"][0]() != [h.VALUE] * 100:
        raise RuntimeError(f"{name}: MGET across slots returned wrong values")


async def tasks_rate(client: Any, tasks: int, seconds: float) -> float:
    stop = False

    async def worker(i: int) -> int:
        key, done = KEYS[i % 100], 0
        while not stop:
            await client.set(key, h.VALUE)
            await client.get(key)
            done += 2
        return done

    start = time.perf_counter()
    running = [asyncio.ensure_future(worker(i)) for i in range(tasks)]
    await asyncio.sleep(seconds)
    stop = True
    counts = await asyncio.gather(*running)
    return sum(counts) / (time.perf_counter() - start)


async def async_pipeline(client: Any) -> Any:
    pipe = client.pipeline(transaction=False)
    for k in KEYS:
        pipe.set(k, h.VALUE)
    return await pipe.execute()


async def async_pipeline_rate(client: Any, seconds: float) -> float:
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        await async_pipeline(client)
        calls += 1
    return calls * 100 / (time.perf_counter() - start)


def run_throughput(nodes: list[tuple[str, int]], repeats: int, seconds: float) -> list[list[str]]:
    rows: list[list[str]] = []
    clients = {name: sync_client(name, nodes) for name in SYNC}
    for name, client in clients.items():
        validate_sync(name, client)
    samples: dict[tuple[str, str], list[float]] = {}
    for scenario in ("SET+GET", "pipeline 100", "MGET 100"):
        units = {name: sync_units(name, c)[scenario] for name, c in clients.items()}
        for unit, ops in units.values():
            h.rate_for(unit, ops, seconds / 2)  # warm-up
        for _ in range(repeats):
            for name, (unit, ops) in units.items():
                samples.setdefault((scenario, name), []).append(h.rate_for(unit, ops, seconds))
    for client in clients.values():
        client.close()
    samples.update(asyncio.run(async_samples(nodes, repeats, seconds)))
    for scenario in (
        "SET+GET",
        "pipeline 100",
        "MGET 100",
        "asyncio 50 tasks",
        "asyncio pipeline 100",
    ):
        names = SYNC if not scenario.startswith("asyncio") else ASYNC
        ours, theirs = (h.median(samples[(scenario, n)]) for n in names)
        rows.append(
            [
                scenario,
                h.fmt_rate(ours),
                h.fmt_rate(theirs),
                h.fmt_ratio(ours, theirs, TARGETS.get(scenario)),
            ]
        )
    return rows


async def async_samples(
    nodes: list[tuple[str, int]], repeats: int, seconds: float
) -> dict[tuple[str, str], list[float]]:
    clients = {name: async_client(name, nodes) for name in ASYNC}
    samples: dict[tuple[str, str], list[float]] = {}
    for name, client in clients.items():
        replies = await async_pipeline(client)
        if len(replies) != 100 or await client.get(KEYS[7]) != h.VALUE:
            raise RuntimeError(f"{name}: wrong pipeline or GET reply")
        await tasks_rate(client, 50, seconds / 2)  # warm-up
    for _ in range(repeats):
        for name, client in clients.items():
            rate = await tasks_rate(client, 50, seconds)
            samples.setdefault(("asyncio 50 tasks", name), []).append(rate)
            rate = await async_pipeline_rate(client, seconds)
            samples.setdefault(("asyncio pipeline 100", name), []).append(rate)
    for client in clients.values():
        await client.aclose()
    return samples


# -- recovery ---------------------------------------------------------------------------


def recovery(name: str) -> list[str]:
    """Kill one shard's primary under a write loop; time until writes there succeed."""
    with RedisClusterServer() as srv:
        pin_cluster(srv)
        client = sync_client(name, srv.startup_nodes)
        victim = srv.primary_of(0)
        replicas = srv.replicas_of(victim)
        keys = [k for k in spread_keys(1000) if srv.primary_of(key_slot(k)) is victim][:50]
        acked: list[tuple[float, float]] = []  # (start, end) of acknowledged writes
        errors: list[BaseException] = []
        stop = threading.Event()

        def writer() -> None:
            i = 0
            while not stop.is_set():
                i += 1
                start = time.monotonic()
                try:
                    client.set(keys[i % len(keys)], i)
                except Exception as exc:
                    errors.append(exc)
                    time.sleep(0.01)
                else:
                    acked.append((start, time.monotonic()))

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        time.sleep(0.5)
        killed = srv.kill(victim)
        _, promoted = srv.wait_promoted(replicas, timeout=30)
        deadline = time.monotonic() + 30
        while not (acked and acked[-1][0] > killed) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        stop.set()
        thread.join(30)
        client.close()
        first = next((end for start, end in acked if start > killed), float("nan"))
        kinds = sorted({type(e).__name__ for e in errors})
        return [
            name,
            f"{promoted - killed:.2f}",
            f"{first - promoted:.2f}",
            f"{len(errors)} {' '.join(kinds)}".strip(),
        ]


def pin_cluster(srv: RedisClusterServer) -> None:
    for node in srv.nodes:
        if node.server.pid is not None:
            h.pin_other(node.server.pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--quick", action="store_true", help="2 repeats of 0.5 s")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.seconds = 2, 0.5
    placement = h.pin_client()
    with RedisClusterServer() as srv:
        pin_cluster(srv)
        env = h.environment(srv.nodes[0].server, placement, ["redis", "hiredis"])
        rows = run_throughput(srv.startup_nodes, args.repeats, args.seconds)
    print(f"Environment: {env}\n")
    print(f"Throughput, median of {args.repeats} x {args.seconds:g} s (commands/s):\n")
    print(h.markdown_table(["scenario", "resp3", "redis-py", "resp3 / redis-py"], rows))
    print("\nRecovery after SIGKILL of a primary (--cluster-node-timeout 1000):\n")
    recoveries = [recovery(name) for name in SYNC]
    print(
        h.markdown_table(
            ["client", "kill -> promotion (s)", "promotion -> first write (s)", "errors raised"],
            recoveries,
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
