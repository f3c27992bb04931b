"""Synchronous client throughput: resp3.Redis against redis-py (hiredis and pure parsers),
valkey-glide-sync, and the ``redis-benchmark`` ceiling, on one throw-away server.

Scenarios, each under RESP3 and RESP2 where the client speaks it: sequential SET+GET
(one round trip per command), non-transactional pipelines of 100 and 1000 SETs, MGET of
100 keys, HGETALL of a 1000-field hash, LRANGE of 1000 elements, and the rate at which a
subscriber receives 64-byte pub/sub messages through ``get_message(timeout=1.0)`` while
another process floods the channel with pipelined PUBLISH (see ``_harness``).

Method: every client first runs each scenario once and its reply is compared with the
data set (a wrong or missing reply stops the run, naming client and scenario), then gets
the same warm-up (one untimed sample), then ``--repeats`` timed samples of ``--seconds``
each, taken round-robin across clients; the table shows medians. redis-py's parser is
checked, not assumed: the "hiredis" column must run ``_HiredisParser`` and the "pure"
column ``_RESP2Parser``/``_RESP3Parser``, or the run stops.

Two references that are not clients: the "wire floor" column (``_harness.WireFloor``) replays
pre-encoded requests and reads the known number of reply bytes without parsing them,
so ``floor / hiredis`` is the best ratio any client could reach in that row; and
``redis-benchmark`` (-P 1 next to SET+GET, -P 100 next to the 100-command pipelines),
run once per round in the RESP3 pass so that it sees the same background load.

Units: SET+GET and pipelines count commands per second; MGET, HGETALL and LRANGE count
calls per second (one call moves 100 or 1000 values); pub/sub counts messages received
per second. Compare columns within one run, not across runs or machines.

Run from the repository root: ``.venv/bin/python bench/bench_sync.py [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import _harness as h

Unit = Callable[[], Any]
SCENARIOS = (
    "SET+GET",
    "pipeline 100 SET",
    "pipeline 1000 SET",
    "MGET 100",
    "HGETALL 1000",
    "LRANGE 1000",
    "pub/sub 64 B",
)
UNITS = {"SET+GET": "cmds/s", "MGET 100": "calls/s", "HGETALL 1000": "calls/s"}
UNITS |= {"LRANGE 1000": "calls/s", "pub/sub 64 B": "msgs/s"}
TARGETS = {"pipeline 100 SET": 2.0, "pipeline 1000 SET": 2.0, "HGETALL 1000": 2.0}
TARGETS |= {"pub/sub 64 B": 1.5}
DEFAULT_TARGET = 1.2
WARMUP_MESSAGES = 5_000
CLIENTS = ("resp3", "redis-py+hiredis", "redis-py pure", "glide-sync", "wire floor")


# -- clients ----------------------------------------------------------------------------


def connect(name: str, port: int, protocol: int) -> Any:
    """A connected client of library ``name``; raises if its parser is not the one named."""
    if name == "resp3":
        import resp3

        client: Any = resp3.Redis(port=port, protocol=protocol)
        client.ping()
        return client
    if name == "glide-sync":
        return glide_client(port, protocol, subscribe=False)
    if name == "wire floor":
        return h.WireFloor(port, protocol)
    import redis
    from redis._parsers import _RESP2Parser, _RESP3Parser

    if name == "redis-py+hiredis":
        client = redis.Redis(port=port, protocol=protocol)
        expected = "_HiredisParser"
    else:
        parser = _RESP3Parser if protocol == 3 else _RESP2Parser
        pool = redis.ConnectionPool(port=port, protocol=protocol, parser_class=parser)
        client = redis.Redis(connection_pool=pool)
        expected = parser.__name__
    client.ping()
    conn = client.connection_pool.get_connection()
    try:
        actual = type(conn._parser).__name__
    finally:
        client.connection_pool.release(conn)
    if actual != expected:
        raise RuntimeError(f"{name} (protocol {protocol}) parses with {actual}, not {expected}")
    return client


def glide_client(port: int, protocol: int, *, subscribe: bool) -> Any:
    import glide_sync as gs

    config_cls = gs.GlideClientConfiguration
    subs = None
    if subscribe:
        channels = {config_cls.PubSubChannelModes.Exact: {CHANNEL_TEXT}}
        subs = config_cls.PubSubSubscriptions(
            channels_and_patterns=channels, callback=None, context=None
        )
    version = gs.ProtocolVersion.RESP3 if protocol == 3 else gs.ProtocolVersion.RESP2
    config = config_cls(
        [gs.NodeAddress("127.0.0.1", port)],
        protocol=version,
        pubsub_subscriptions=subs,
        request_timeout=10_000,
    )
    return gs.GlideClient.create(config)


CHANNEL_TEXT = h.CHANNEL.decode()


def close(client: Any) -> None:
    client.close()


# -- scenarios --------------------------------------------------------------------------


def units(name: str, client: Any) -> dict[str, tuple[Unit, int]]:
    """Scenario name -> (one unit of work returning its reply, operations per unit)."""
    key, value = b"seq", h.VALUE
    if name == "wire floor":
        return client.units(key, value)  # type: ignore[no-any-return]

    def set_get() -> Any:
        client.set(key, value)
        return client.get(key)

    def pipeline(n: int) -> Unit:
        keys = h.PIPE_KEYS[:n]
        if name == "glide-sync":
            from glide_sync import Batch

            def run_batch() -> Any:
                batch = Batch(is_atomic=False)
                for k in keys:
                    batch.set(k, value)
                return client.exec(batch, raise_on_error=True)

            return run_batch

        def run_pipe() -> Any:
            pipe = client.pipeline(transaction=False)
            for k in keys:
                pipe.set(k, value)
            return pipe.execute()

        return run_pipe

    return {
        "SET+GET": (set_get, 2),
        "pipeline 100 SET": (pipeline(100), 100),
        "pipeline 1000 SET": (pipeline(1000), 1000),
        "MGET 100": (lambda: client.mget(h.MGET_KEYS), 1),
        "HGETALL 1000": (lambda: client.hgetall(h.HASH_KEY), 1),
        "LRANGE 1000": (lambda: client.lrange(h.LIST_KEY, 0, -1), 1),
    }


def check(name: str, scenario: str, protocol: int, reply: Any) -> None:
    """Stop the run if a client's reply differs from the data set (the wire floor
    checked its replies when it learned their sizes)."""
    ok: bool
    if name == "wire floor":
        ok = reply is None
    elif scenario == "SET+GET":
        ok = reply == h.VALUE
    elif scenario.startswith("pipeline"):
        n = int(scenario.split()[1])
        ok = len(reply) == n and all(r in (True, "OK", b"OK") for r in reply)
    elif scenario == "MGET 100":
        ok = list(reply) == [h.VALUE] * len(h.MGET_KEYS)
    elif scenario == "HGETALL 1000":
        ok = dict(reply) == h.HASH_FIELDS
    else:
        ok = list(reply) == h.LIST_ITEMS
    if not ok:
        raise RuntimeError(
            f"{name} (protocol {protocol}) {scenario}: unexpected reply {str(reply)[:200]}"
        )


# -- pub/sub ----------------------------------------------------------------------------


class Subscriber:
    """One subscription, opened before a sample and closed after it."""

    def __init__(self, name: str, port: int, protocol: int) -> None:
        self.name = name
        if name == "glide-sync":
            self.client = glide_client(port, protocol, subscribe=True)
            self.pubsub: Any = None
        else:
            self.client = connect(name, port, protocol)
            self.pubsub = self.client.pubsub()
            self.pubsub.subscribe(h.CHANNEL)
            first = self.pubsub.get_message(timeout=5.0)
            if not first or first["type"] not in ("subscribe", b"subscribe"):
                raise RuntimeError(f"{name}: no subscribe confirmation, got {first!r}")
        h.wait_subscribers(port, 1)

    def first(self) -> None:
        """Receive and check the first message (not timed)."""
        if self.pubsub is None:
            msg = self.client.get_pubsub_message()
            channel, data = msg.channel, msg.message
        else:
            got = self.pubsub.get_message(timeout=10.0)
            if got is None:
                raise RuntimeError(f"{self.name}: no message within 10 s")
            channel, data = got["channel"], got["data"]
        if data != h.PAYLOAD or channel not in (h.CHANNEL, CHANNEL_TEXT):
            raise RuntimeError(f"{self.name}: bad message {channel!r} {data!r}")

    def receive(self, count: int) -> float:
        """Messages per second over the ``count - 1`` messages after the first."""
        self.first()
        clock = time.perf_counter
        start = clock()
        if self.pubsub is None:
            get_pubsub_message = self.client.get_pubsub_message
            for _ in range(count - 1):
                get_pubsub_message()
        else:
            get_message = self.pubsub.get_message
            received = 1
            while received < count:
                if get_message(timeout=1.0) is None:
                    raise RuntimeError(f"{self.name}: stalled after {received}/{count}")
                received += 1
        return (count - 1) / (clock() - start)

    def close(self) -> None:
        if self.pubsub is not None:
            self.pubsub.close()
        self.client.close()


def pubsub_sample(name: str, port: int, protocol: int, count: int) -> tuple[float, float]:
    """(subscriber rate, publisher rate) for one flood of ``count`` messages."""
    sub = Subscriber(name, port, protocol)
    try:
        publisher = h.start_publisher(port, count)
        try:
            rate = sub.receive(count)
        finally:
            publisher_rate = h.finish_publisher(publisher)
    finally:
        sub.close()
    h.wait_subscribers(port, 0)
    return rate, publisher_rate


# -- driver -----------------------------------------------------------------------------


@dataclass
class Results:
    rates: dict[tuple[str, int, str], float] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    publisher: list[float] = field(default_factory=list)

    def get(self, scenario: str, protocol: int, name: str) -> float | None:
        return self.rates.get((scenario, protocol, name))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_protocol(
    port: int,
    protocol: int,
    args: argparse.Namespace,
    results: Results,
    ceilings: dict[str, h.RedisBenchmark],
) -> None:
    """Every command scenario for every client in one protocol, then pub/sub.

    ``ceilings`` maps a scenario to the redis-benchmark run sampled in turn with it
    (only in the RESP3 pass: redis-benchmark speaks RESP2 whatever the clients do).
    """
    clients: dict[str, Any] = {}
    for name in CLIENTS:
        if name in results.unavailable:
            continue
        try:
            clients[name] = connect(name, port, protocol)
        except Exception as exc:  # a missing library or a refused protocol: n/a
            results.unavailable.setdefault(name, f"{type(exc).__name__}: {exc}")
            log(f"  {name} (protocol {protocol}) unavailable: {exc}")
    try:
        for scenario in SCENARIOS[:-1]:
            work = {name: units(name, c)[scenario] for name, c in clients.items()}
            ceiling = ceilings.get(scenario) if protocol == 3 else None
            for name, (unit, ops) in work.items():
                check(name, scenario, protocol, unit())
                h.rate_for(unit, ops, args.seconds)  # warm-up, identical for everyone
            if ceiling is not None:
                ceiling.warm_up()
            samples: dict[str, list[float]] = {name: [] for name in work}
            for _ in range(args.repeats):
                for name, (unit, ops) in work.items():
                    samples[name].append(h.rate_for(unit, ops, args.seconds))
                if ceiling is not None:
                    ceiling.sample()
            for name, values in samples.items():
                results.rates[(scenario, protocol, name)] = h.median(values)
            log(f"  RESP{protocol} {scenario}: done")
    finally:
        for client in clients.values():
            close(client)
    run_pubsub(port, protocol, [n for n in clients if n != "wire floor"], args, results)


def run_pubsub(
    port: int, protocol: int, names: list[str], args: argparse.Namespace, results: Results
) -> None:
    """Check and warm up every subscriber, then sample them round-robin.

    Each client's sample size is its warm-up rate times ``2 * --seconds``, so a slow
    client does not stretch the run and a fast one is not timed over a few milliseconds.
    """
    counts: dict[str, int] = {}
    for name in names:
        try:
            rate, _ = pubsub_sample(name, port, protocol, WARMUP_MESSAGES)
        except Exception as exc:  # RESP2 in glide, for one: n/a
            log(f"  {name} (protocol {protocol}) pub/sub unavailable: {exc}")
            continue
        counts[name] = h.message_count(rate, 2 * args.seconds)
    samples: dict[str, list[float]] = {name: [] for name in counts}
    for _ in range(args.repeats):
        for name, count in counts.items():
            rate, publisher_rate = pubsub_sample(name, port, protocol, count)
            samples[name].append(rate)
            results.publisher.append(publisher_rate)
    for name, values in samples.items():
        results.rates[("pub/sub 64 B", protocol, name)] = h.median(values)
    log(f"  RESP{protocol} pub/sub: done")


def report(results: Results, ceilings: dict[str, h.RedisBenchmark], env: str) -> str:
    headers = ["scenario", "proto", "unit", *CLIENTS, "resp3 / hiredis (target)", "resp3 / glide"]
    headers.append("floor / hiredis")
    rows = []
    for scenario in SCENARIOS:
        for protocol in (3, 2):
            rates = [results.get(scenario, protocol, name) for name in CLIENTS]
            resp3_rate, hiredis_rate, _, glide_rate, floor_rate = rates
            target = TARGETS.get(scenario, DEFAULT_TARGET)
            rows.append(
                [
                    scenario,
                    f"RESP{protocol}",
                    UNITS.get(scenario, "cmds/s"),
                    *(h.fmt_rate(r) for r in rates),
                    h.fmt_ratio(resp3_rate, hiredis_rate, target),
                    h.fmt_ratio(resp3_rate, glide_rate),
                    h.fmt_ratio(floor_rate, hiredis_rate),
                ]
            )
    out = [f"Environment: {env}", "", h.markdown_table(headers, rows), ""]
    ceiling_rows = []
    for scenario, ceiling in ceilings.items():
        rb = ceiling.medians()
        if rb is None:
            ceiling_rows.append([ceiling.command(), "n/a", "n/a", "n/a"])
            continue
        # -P 1 is compared with sequential SET+GET, -P 100 with 100-command pipelines.
        reference = h.set_get_rate(rb) if ceiling.pipeline == 1 else rb["SET"]
        ours = results.get(scenario, 3, "resp3")
        ceiling_rows.append(
            [
                ceiling.command(),
                h.fmt_rate(rb["SET"]),
                h.fmt_rate(rb["GET"]),
                f"resp3 {scenario} (RESP3): {h.fmt_ratio(ours, reference)}",
            ]
        )
    out.append(
        h.markdown_table(["ceiling", "SET/s", "GET/s", "resp3 relative to it"], ceiling_rows)
    )
    if results.publisher:
        out.append(
            f"\nPublisher process rate (median over all pub/sub samples): "
            f"{h.fmt_rate(h.median(results.publisher))} msgs/s."
        )
    for name, reason in results.unavailable.items():
        out.append(f"\n{name}: n/a ({reason})")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = h.parse_args(__doc__, argv)
    placement = h.pin_client()
    server, server_placement = h.start_server()
    started = time.monotonic()
    try:
        h.load_dataset(server.port)
        results = Results()
        ceilings = {
            "SET+GET": h.RedisBenchmark(server.port, 1, 1, args.seconds),
            "pipeline 100 SET": h.RedisBenchmark(server.port, 1, 100, args.seconds),
        }
        usable = {k: v for k, v in ceilings.items() if v.available}
        for protocol in (3, 2):
            log(f"RESP{protocol}:")
            run_protocol(server.port, protocol, args, results, usable)
        env = h.environment(
            server,
            f"{placement}, {server_placement}",
            ("redis", "hiredis", "valkey-glide-sync"),
        )
        print(report(results, ceilings, env))
        log(f"total {time.monotonic() - started:.0f} s")
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
