"""asyncio client throughput: resp3.asyncio.Redis against redis.asyncio (hiredis), coredis,
valkey-glide, and the ``redis-benchmark`` ceiling, on one throw-away server.

Scenarios (all RESP3, the protocol every one of these clients speaks): N concurrent
tasks (N = 1, 10, 50, 200) sharing one client, each alternating SET and GET on its own
key for the whole sample; a non-transactional pipeline of 1000 SETs; and the rate at
which a subscriber receives 64-byte pub/sub messages while another process floods the
channel with pipelined PUBLISH (see ``_harness``), once through
``get_message(timeout=1.0)`` and once through a blocking wait (``timeout=None``, or
glide's ``get_pubsub_message()``, its only form).

How the clients differ under concurrency matters for reading the table: resp3 and
glide multiplex every task over one connection; coredis multiplexes too; redis.asyncio
hands each concurrent task its own pooled connection (so 200 tasks open 200; its pool
is raised from redis-py 8's default cap of 100 to 256 so that it can).

Method: each client's replies are checked once (a wrong reply stops the run), every
client gets the same warm-up (one untimed sample), then ``--repeats`` timed samples of
``--seconds`` each, round-robin across clients; the table shows medians. The
redis.asyncio column must run ``_AsyncHiredisParser`` or the run stops. Plain asyncio
event loop (no uvloop) for everyone.

Run from the repository root: ``.venv/bin/python bench/bench_async.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import _harness as h

AsyncUnit = Callable[[], Awaitable[Any]]
Ceilings = dict[int, h.RedisBenchmark]  # tasks -> redis-benchmark -c tasks -P 1
CLIENTS = ("resp3", "redis.asyncio+hiredis", "coredis", "glide")
TASKS = (1, 10, 50, 200)
PIPE_KEYS = h.PIPE_KEYS
PUBSUB_TIMEOUT = "pub/sub 64 B, get_message(timeout=1)"
PUBSUB_BLOCKING = "pub/sub 64 B, blocking wait"
WARMUP_MESSAGES = 5_000
CHANNEL_TEXT = h.CHANNEL.decode()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- clients ----------------------------------------------------------------------------


async def connect(name: str, port: int, stack: contextlib.AsyncExitStack, **kw: Any) -> Any:
    """A connected client of library ``name``, closed by ``stack``."""
    client: Any
    if name == "resp3":
        import resp3.asyncio

        client = resp3.asyncio.Redis(port=port, protocol=3)
        stack.push_async_callback(client.aclose)
    elif name == "redis.asyncio+hiredis":
        import redis.asyncio

        # redis-py 8 caps its pool at 100 connections; 200 tasks need 200 of them.
        client = redis.asyncio.Redis(port=port, protocol=3, max_connections=256)
        stack.push_async_callback(client.aclose)
        conn = await client.connection_pool.get_connection()
        try:
            await conn.connect()
            parser = type(conn._parser).__name__
        finally:
            await client.connection_pool.release(conn)
        if parser != "_AsyncHiredisParser":
            raise RuntimeError(f"redis.asyncio parses with {parser}, not _AsyncHiredisParser")
    elif name == "coredis":
        import coredis

        client = await stack.enter_async_context(coredis.Redis(port=port))
    else:
        client = await glide_client(port, subscribe=kw.get("subscribe", False))
        stack.push_async_callback(client.close)
    if name != "glide" or not kw.get("subscribe"):
        await client.ping()
    return client


async def glide_client(port: int, *, subscribe: bool) -> Any:
    import glide

    config_cls = glide.GlideClientConfiguration
    subs = None
    if subscribe:
        channels = {config_cls.PubSubChannelModes.Exact: {CHANNEL_TEXT}}
        subs = config_cls.PubSubSubscriptions(
            channels_and_patterns=channels, callback=None, context=None
        )
    config = config_cls(
        [glide.NodeAddress("127.0.0.1", port)],
        protocol=glide.ProtocolVersion.RESP3,
        pubsub_subscriptions=subs,
        request_timeout=10_000,
    )
    return await glide.GlideClient.create(config)


# -- scenarios --------------------------------------------------------------------------


async def tasks_rate(client: Any, tasks: int, seconds: float) -> float:
    """Commands per second of ``tasks`` tasks alternating SET and GET for ``seconds``."""
    stop = False

    async def worker(i: int) -> int:
        key, value, done = b"task:%d" % i, h.VALUE, 0
        while not stop:
            await client.set(key, value)
            await client.get(key)
            done += 2
        return done

    start = time.perf_counter()
    running = [asyncio.ensure_future(worker(i)) for i in range(tasks)]
    await asyncio.sleep(seconds)
    stop = True
    counts = await asyncio.gather(*running)
    return sum(counts) / (time.perf_counter() - start)


def pipeline_unit(name: str, client: Any) -> AsyncUnit:
    """One non-transactional pipeline of 1000 SETs, in each library's own idiom."""
    value = h.VALUE
    if name == "glide":
        from glide import Batch

        async def run_batch() -> Any:
            batch = Batch(is_atomic=False)
            for key in PIPE_KEYS:
                batch.set(key, value)
            return await client.exec(batch, raise_on_error=True)

        return run_batch
    if name == "coredis":

        async def run_coredis() -> Any:
            async with client.pipeline(transaction=False) as pipe:
                for key in PIPE_KEYS:
                    pipe.set(key, value)
            return pipe.results

        return run_coredis

    async def run_pipe() -> Any:
        pipe = client.pipeline(transaction=False)
        for key in PIPE_KEYS:
            pipe.set(key, value)
        return await pipe.execute()

    return run_pipe


async def unit_rate(unit: AsyncUnit, ops: int, seconds: float) -> float:
    clock = time.perf_counter
    calls = 0
    start = clock()
    deadline = start + seconds
    while True:
        await unit()
        calls += 1
        now = clock()
        if now >= deadline:
            return calls * ops / (now - start)


async def validate(name: str, client: Any) -> None:
    """Stop the run if a client's GET or pipeline replies are wrong."""
    await client.set(b"check", h.VALUE)
    got = await client.get(b"check")
    if got != h.VALUE:
        raise RuntimeError(f"{name}: GET returned {got!r}, expected {h.VALUE!r}")
    replies = await pipeline_unit(name, client)()
    if len(replies) != len(PIPE_KEYS) or not all(r in (True, "OK", b"OK") for r in replies):
        raise RuntimeError(f"{name}: pipeline returned {str(replies)[:200]}")


# -- pub/sub ----------------------------------------------------------------------------


class Subscriber:
    """One subscription of one library, opened before a sample and closed after it."""

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.port = port
        self.stack = contextlib.AsyncExitStack()
        self.pubsub: Any = None
        self.client: Any = None

    async def open(self) -> Subscriber:
        name = self.name
        self.client = await connect(name, self.port, self.stack, subscribe=True)
        if name == "coredis":
            self.pubsub = await self.stack.enter_async_context(
                self.client.pubsub(channels=[h.CHANNEL])
            )
        elif name != "glide":
            self.pubsub = self.client.pubsub()
            self.stack.push_async_callback(self.pubsub.aclose)
            await self.pubsub.subscribe(h.CHANNEL)
        if self.pubsub is not None:
            first = await self.pubsub.get_message(timeout=5.0)
            if not first or first["type"] not in ("subscribe", b"subscribe"):
                raise RuntimeError(f"{name}: no subscribe confirmation, got {first!r}")
        await asyncio.to_thread(h.wait_subscribers, self.port, 1)
        return self

    async def close(self) -> None:
        await self.stack.aclose()

    async def receive(self, count: int, timeout: float | None) -> float:
        """Messages per second over the ``count - 1`` messages after the (checked) first."""
        if self.pubsub is None:
            msg = await self.client.get_pubsub_message()
            channel, data = msg.channel, msg.message
        else:
            got = await self.pubsub.get_message(timeout=10.0)
            if got is None:
                raise RuntimeError(f"{self.name}: no message within 10 s")
            channel, data = got["channel"], got["data"]
        if data != h.PAYLOAD or channel not in (h.CHANNEL, CHANNEL_TEXT):
            raise RuntimeError(f"{self.name}: bad message {channel!r} {data!r}")
        clock = time.perf_counter
        start = clock()
        if self.pubsub is None:
            get_pubsub_message = self.client.get_pubsub_message
            for _ in range(count - 1):
                await get_pubsub_message()
        else:
            get_message = self.pubsub.get_message
            received = 1
            while received < count:
                if await get_message(timeout=timeout) is not None:
                    received += 1
                elif timeout is not None:
                    raise RuntimeError(f"{self.name}: stalled after {received}/{count}")
        return (count - 1) / (clock() - start)


async def pubsub_sample(
    name: str, port: int, count: int, timeout: float | None
) -> tuple[float, float]:
    """(subscriber rate, publisher rate) for one flood of ``count`` messages."""
    sub = await Subscriber(name, port).open()
    try:
        publisher = h.start_publisher(port, count)
        try:
            rate = await asyncio.wait_for(sub.receive(count, timeout), 120)
        finally:
            publisher_rate = await asyncio.to_thread(h.finish_publisher, publisher)
    finally:
        await sub.close()
    await asyncio.to_thread(h.wait_subscribers, port, 0)
    return rate, publisher_rate


# -- driver -----------------------------------------------------------------------------


@dataclass
class Results:
    rates: dict[tuple[str, str], float] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    publisher: list[float] = field(default_factory=list)


async def sample_all(
    names: list[str],
    measure: Callable[[str], Awaitable[float]],
    repeats: int,
) -> dict[str, float]:
    """Warm every client up once, then ``repeats`` round-robin samples; medians."""
    for name in names:
        await measure(name)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeats):
        for name in names:
            samples[name].append(await measure(name))
    return {name: h.median(values) for name, values in samples.items()}


async def run_commands(
    port: int, args: argparse.Namespace, results: Results, ceilings: Ceilings
) -> None:
    """Task and pipeline scenarios; ``ceilings[n]`` is sampled in turn with ``n`` tasks."""
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[str, Any] = {}
        for name in CLIENTS:
            try:
                clients[name] = await connect(name, port, stack)
                await validate(name, clients[name])
            except Exception as exc:  # a missing library: n/a
                clients.pop(name, None)
                results.unavailable[name] = f"{type(exc).__name__}: {exc}"
                log(f"  {name} unavailable: {exc}")
        names = list(clients)
        for tasks in TASKS:
            ceiling = ceilings.get(tasks)
            warmed: set[str] = set()

            async def measure_tasks(
                name: str, tasks: int = tasks, ceiling: Any = ceiling, warmed: set[str] = warmed
            ) -> float:
                if name != "redis-benchmark":
                    return await tasks_rate(clients[name], tasks, args.seconds)
                if name not in warmed:  # the first call is sample_all's warm-up
                    warmed.add(name)
                    await asyncio.to_thread(ceiling.warm_up)
                    return 0.0
                return float(await asyncio.to_thread(ceiling.sample))

            contenders = names + (["redis-benchmark"] if ceiling is not None else [])
            medians = await sample_all(contenders, measure_tasks, args.repeats)
            for name, rate in medians.items():
                results.rates[(f"SET+GET, {tasks} tasks", name)] = rate
            log(f"  {tasks} tasks: done")
        units = {name: pipeline_unit(name, client) for name, client in clients.items()}

        async def measure_pipeline(name: str) -> float:
            return await unit_rate(units[name], len(PIPE_KEYS), args.seconds)

        for name, rate in (await sample_all(names, measure_pipeline, args.repeats)).items():
            results.rates[("pipeline 1000 SET", name)] = rate
        log("  pipeline: done")


async def run_pubsub(port: int, args: argparse.Namespace, results: Results) -> None:
    names = [name for name in CLIENTS if name not in results.unavailable]
    for scenario, timeout in ((PUBSUB_TIMEOUT, 1.0), (PUBSUB_BLOCKING, None)):
        counts: dict[str, int] = {}
        for name in names:
            if name == "glide" and timeout is not None:
                continue  # glide has no get_message(timeout=...)
            rate, _ = await pubsub_sample(name, port, WARMUP_MESSAGES, timeout)
            counts[name] = h.message_count(rate, 2 * args.seconds)

        async def measure(
            name: str, timeout: float | None = timeout, counts: dict[str, int] = counts
        ) -> float:
            rate, publisher_rate = await pubsub_sample(name, port, counts[name], timeout)
            results.publisher.append(publisher_rate)
            return rate

        for name, rate in (await sample_all(list(counts), measure, args.repeats)).items():
            results.rates[(scenario, name)] = rate
        log(f"  {scenario}: done")


def report(results: Results, ceilings: Ceilings, env: str) -> str:
    headers = ["scenario", "unit", *CLIENTS, "resp3 / redis.asyncio (target)"]
    headers += ["resp3 / coredis", "resp3 / glide", "resp3 / redis-benchmark (target)"]
    scenarios = [f"SET+GET, {n} tasks" for n in TASKS]
    scenarios += ["pipeline 1000 SET", PUBSUB_TIMEOUT, PUBSUB_BLOCKING]
    rows = []
    for scenario in scenarios:
        rates = [results.rates.get((scenario, name)) for name in CLIENTS]
        ours, redis_rate, coredis_rate, glide_rate = rates
        target = {"SET+GET, 50 tasks": 4.0, "SET+GET, 1 tasks": 1.0}.get(scenario)
        ceiling_text = ""
        for clients, rb_target in ((1, None), (50, 0.5)):
            rb = results.rates.get((f"SET+GET, {clients} tasks", "redis-benchmark"))
            if scenario == f"SET+GET, {clients} tasks":
                ceiling_text = f"{h.fmt_ratio(ours, rb, rb_target)} of -c {clients}"
        rows.append(
            [
                scenario,
                "msgs/s" if scenario.startswith("pub/sub") else "cmds/s",
                *(h.fmt_rate(r) for r in rates),
                h.fmt_ratio(ours, redis_rate, target),
                h.fmt_ratio(ours, coredis_rate),
                h.fmt_ratio(ours, glide_rate),
                ceiling_text,
            ]
        )
    out = [f"Environment: {env}", "", h.markdown_table(headers, rows), ""]
    ceiling_rows = []
    for ceiling in ceilings.values():
        medians = ceiling.medians()
        if medians is None:
            ceiling_rows.append([ceiling.command(), "n/a", "n/a", "n/a"])
        else:
            rates = [medians["SET"], medians["GET"], h.set_get_rate(medians)]
            ceiling_rows.append([ceiling.command(), *(h.fmt_rate(r) for r in rates)])
    out.append(h.markdown_table(["ceiling", "SET/s", "GET/s", "SET+GET/s"], ceiling_rows))
    if results.publisher:
        out.append(
            f"\nPublisher process rate (median over all pub/sub samples): "
            f"{h.fmt_rate(h.median(results.publisher))} msgs/s."
        )
    for name, reason in results.unavailable.items():
        out.append(f"\n{name}: n/a ({reason})")
    return "\n".join(out)


async def run(args: argparse.Namespace, port: int, ceilings: Ceilings) -> Results:
    results = Results()
    await run_commands(port, args, results, ceilings)
    await run_pubsub(port, args, results)
    return results


def main(argv: list[str] | None = None) -> int:
    args = h.parse_args(__doc__, argv)
    placement = h.pin_client()
    server, server_placement = h.start_server()
    started = time.monotonic()
    try:
        h.load_dataset(server.port)
        ceilings = {n: h.RedisBenchmark(server.port, n, 1, args.seconds) for n in (1, 50)}
        usable = {n: c for n, c in ceilings.items() if c.available}
        results = asyncio.run(run(args, server.port, usable))
        env = h.environment(
            server,
            f"{placement}, {server_placement}",
            ("redis", "hiredis", "coredis", "valkey-glide"),
        )
        print(report(results, ceilings, env))
        log(f"total {time.monotonic() - started:.0f} s")
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
