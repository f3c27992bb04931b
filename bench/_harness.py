"""Shared machinery for the client benchmarks (``bench_sync.py`` and ``bench_async.py``).

Both scripts need the same things around the clients they compare: a throw-away server
pinned away from the client, a fixed set of keys to read, a publisher that floods a
channel from another process, the ``redis-benchmark`` ceiling, medians over repeated
samples, and a Markdown table. Keeping them here makes both scripts measure the same
way.

CPU placement on a 2-core machine: the benchmark process (and every thread it starts,
including the Rust threads of valkey-glide and the ``redis-benchmark`` child) is pinned
to core 0; the server and the pub/sub publisher are pinned to core 1. On a machine with
one core nothing is pinned and the report says so. What can go wrong: another process
on the shared machine may use either core during a sample; repeated samples taken
round-robin across clients, and medians, keep one noisy second from favouring one
library.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from resp3.testing import RedisServer  # noqa: E402

CLIENT_CORE = 0
SERVER_CORE = 1
VALUE = b"v" * 16
PAYLOAD = b"p" * 64
CHANNEL = b"bench:channel"
MGET_KEYS = [b"mget:%03d" % i for i in range(100)]
HASH_KEY = b"bench:hash"
HASH_FIELDS = {b"field:%04d" % i: b"value:%010d" % i for i in range(1000)}
LIST_KEY = b"bench:list"
LIST_ITEMS = [b"item:%011d" % i for i in range(1000)]
PIPE_KEYS = [b"pipe:%04d" % i for i in range(1000)]
Unit = Callable[[], object]

# -- placement --------------------------------------------------------------------------


def parse_args(doc: str | None, argv: list[str] | None) -> argparse.Namespace:
    """The options both client benchmarks take: --quick, --repeats, --seconds."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help="short samples, 3 repeats")
    parser.add_argument("--repeats", type=int, help="timed samples per cell (default 5)")
    parser.add_argument("--seconds", type=float, help="length of one sample (default 0.3)")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (3 if args.quick else 5)
    args.seconds = args.seconds or (0.1 if args.quick else 0.3)
    return args


def pin_client() -> str:
    """Pin this process to CLIENT_CORE before any client library starts a thread."""
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        return "not pinned (fewer than 2 usable cores)"
    os.sched_setaffinity(0, {CLIENT_CORE})
    return f"client on core {CLIENT_CORE}"


def pin_other(pid: int) -> bool:
    """Pin every thread of ``pid`` to SERVER_CORE with ``taskset``; False if impossible."""
    taskset = shutil.which("taskset")
    if taskset is None or len(os.sched_getaffinity(0) | {SERVER_CORE}) < 2:
        return False
    result = subprocess.run(
        [taskset, "-a", "-p", "-c", str(SERVER_CORE), str(pid)], capture_output=True, check=False
    )
    return result.returncode == 0


def start_server() -> tuple[RedisServer, str]:
    """A fresh server on a free port; pub/sub output buffers unlimited (see publisher)."""
    server = RedisServer(
        extra_args=("--client-output-buffer-limit", "pubsub 0 0 0"), unix_socket=False
    ).start()
    assert server.pid is not None
    placement = f"server on core {SERVER_CORE}" if pin_other(server.pid) else "server not pinned"
    return server, placement


# -- raw control connection -------------------------------------------------------------


def _encode(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def encode_commands(commands: Sequence[Sequence[bytes]]) -> bytes:
    """Commands as one block of RESP request bytes, without any client library."""
    return b"".join(_encode(*cmd) for cmd in commands)


def raw_commands(port: int, commands: Sequence[Sequence[bytes]]) -> bytes:
    """Send commands on a fresh socket and return every reply byte (RESP2, no client lib).

    Used to load the data set and to ask PUBSUB NUMSUB, so no client under test is
    involved in preparing or synchronising a measurement. Reads until the number of
    replies is reached, counting only top-level replies of the simple kinds sent here.
    """
    data = encode_commands(commands)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while received.count(b"\r\n") < _min_lines(commands):
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError(f"server on port {port} closed the control connection")
            received += chunk
    return received


def _min_lines(commands: Sequence[Sequence[bytes]]) -> int:
    # PUBSUB NUMSUB of one channel replies with 4 lines; everything else used here with one.
    return sum(4 if cmd[:2] == (b"PUBSUB", b"NUMSUB") else 1 for cmd in commands)


def load_dataset(port: int) -> None:
    """Write the keys that MGET, HGETALL and LRANGE read; identical for every client."""
    commands: list[tuple[bytes, ...]] = [(b"FLUSHALL",)]
    commands += [(b"SET", key, VALUE) for key in MGET_KEYS]
    hset: list[bytes] = [b"HSET", HASH_KEY]
    for field, value in HASH_FIELDS.items():
        hset += [field, value]
    commands.append(tuple(hset))
    commands.append((b"RPUSH", LIST_KEY, *LIST_ITEMS))
    raw_commands(port, commands)


def wait_subscribers(port: int, expected: int, timeout: float = 10.0) -> None:
    """Block until CHANNEL has ``expected`` subscribers; RuntimeError naming the count."""
    deadline = time.monotonic() + timeout
    last = b""
    while time.monotonic() < deadline:
        last = raw_commands(port, [(b"PUBSUB", b"NUMSUB", CHANNEL)])
        if last.rstrip().endswith(b":%d" % expected):
            return
        time.sleep(0.01)
    raise RuntimeError(f"{CHANNEL!r} never reached {expected} subscriber(s): {last!r}")


# -- wire floor -------------------------------------------------------------------------


class WireFloor:
    """Not a client: the cost of the round trips alone, with no parsing at all.

    Each request is encoded once; a unit writes it and reads exactly as many bytes as
    the server answered the first time (learned with the pure-Python reader, which also
    checks that the reply is not an error). No client can beat this column on the same
    round trips, so ``floor / hiredis`` is the largest ratio any client could reach
    over redis-py+hiredis in that row. Meaningful only while every reply has the same
    size, which holds for the fixed data set used here.
    """

    def __init__(self, port: int, protocol: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.view = memoryview(bytearray(1 << 20))
        self.protocol = protocol
        if protocol == 3:
            self.learn(encode_commands([(b"HELLO", b"3")]), 1)

    def learn(self, request: bytes, replies: int) -> tuple[bytes, int]:
        """Send ``request`` once; (request, total reply size) after ``replies`` replies."""
        from resp3._reader_py import Reader
        from resp3.types import INCOMPLETE

        reader = Reader(protocol=self.protocol)
        self.sock.sendall(request)
        size = parsed = 0
        while parsed < replies:
            n = self.sock.recv_into(self.view)
            if not n:
                raise ConnectionError("server closed the wire-floor connection")
            size += n
            reader.feed(self.view[:n])
            while parsed < replies and (reply := reader.gets()) is not INCOMPLETE:
                if isinstance(reply, Exception):
                    raise RuntimeError(f"wire floor: error reply {reply!r}")
                parsed += 1
        return request, size

    def unit(self, plan: list[tuple[bytes, int]]) -> Unit:
        sendall, recv_into, view = self.sock.sendall, self.sock.recv_into, self.view

        def run() -> None:
            for request, size in plan:
                sendall(request)
                got = 0
                while got < size:
                    got += recv_into(view)

        return run

    def units(self, key: bytes, value: bytes) -> dict[str, tuple[Unit, int]]:
        """The sync script's scenarios, by name, as (unit, operations per unit)."""
        enc = encode_commands
        set_get = [self.learn(enc([(b"SET", key, value)]), 1), self.learn(enc([(b"GET", key)]), 1)]
        pipes = {
            n: self.learn(enc([(b"SET", k, value) for k in PIPE_KEYS[:n]]), n) for n in (100, 1000)
        }
        return {
            "SET+GET": (self.unit(set_get), 2),
            "pipeline 100 SET": (self.unit([pipes[100]]), 100),
            "pipeline 1000 SET": (self.unit([pipes[1000]]), 1000),
            "MGET 100": (self.unit([self.learn(enc([(b"MGET", *MGET_KEYS)]), 1)]), 1),
            "HGETALL 1000": (self.unit([self.learn(enc([(b"HGETALL", HASH_KEY)]), 1)]), 1),
            "LRANGE 1000": (
                self.unit([self.learn(enc([(b"LRANGE", LIST_KEY, b"0", b"-1")]), 1)]),
                1,
            ),
        }

    def close(self) -> None:
        self.sock.close()


# -- publisher --------------------------------------------------------------------------

_PUBLISHER = r"""
import socket, sys, time
port, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[4])
channel, payload = sys.argv[3].encode(), b"p" * size
cmd = b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n" % (len(channel), channel)
cmd += b"$%d\r\n%s\r\n" % (size, payload)
sock = socket.create_connection(("127.0.0.1", port))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
block, sent, acked = 1000, 0, 0
start = time.perf_counter()
while acked < count:
    if sent < count and sent - acked < 2 * block:
        n = min(block, count - sent)
        sock.sendall(cmd * n)
        sent += n
        continue
    data = sock.recv(1 << 16)
    if not data:
        sys.exit("server closed the publisher connection")
    acked += data.count(b"\n")
print(f"{count / (time.perf_counter() - start):.0f}")
"""


def start_publisher(port: int, count: int) -> subprocess.Popen[str]:
    """Publish ``count`` PAYLOAD messages to CHANNEL from a separate process on core 1.

    PUBLISH is pipelined in blocks of 1000 with two blocks in flight, from pre-encoded
    bytes, so the publisher outruns every Python subscriber and the subscriber's own
    decoding is what gets measured. The server buffers the difference (its pub/sub
    output-buffer limit is off). The process prints its own publish rate on exit.
    """
    proc = subprocess.Popen(
        [sys.executable, "-S", "-c", _PUBLISHER, str(port), str(count), CHANNEL.decode(), "64"],
        stdout=subprocess.PIPE,
        text=True,
    )
    pin_other(proc.pid)
    return proc


def finish_publisher(proc: subprocess.Popen[str]) -> float:
    """Wait for the publisher and return its publish rate (messages/s)."""
    out, _ = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"publisher exited with {proc.returncode}: {out!r}")
    return float(out.strip())


# -- timing -----------------------------------------------------------------------------


def rate_for(unit: Callable[[], object], ops_per_unit: int, seconds: float) -> float:
    """Call ``unit`` until ``seconds`` have passed; operations per second."""
    clock = time.perf_counter
    calls = 0
    start = clock()
    deadline = start + seconds
    while True:
        unit()
        calls += 1
        now = clock()
        if now >= deadline:
            return calls * ops_per_unit / (now - start)


def message_count(rate: float, seconds: float) -> int:
    """Messages for a pub/sub sample of about ``seconds`` at ``rate``, within sane bounds."""
    return max(2_000, min(1_000_000, int(rate * seconds)))


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


# -- redis-benchmark --------------------------------------------------------------------

_RB_LINE = re.compile(rb"(SET|GET): ([0-9.]+) requests per second")


class RedisBenchmark:
    """``redis-benchmark -t set,get -P p -c c -q``, sampled in turn with the clients.

    Each ``sample()`` is one run of the binary, so a noisy second hits the ceiling and
    the clients alike. The first run (``warm_up``) sizes ``-n`` so that one run lasts
    about ``seconds``. The binary is a child of this process, so it runs on the client
    core. ``available`` is False when it is not on PATH (the report then says n/a).
    """

    def __init__(self, port: int, clients: int, pipeline: int, seconds: float) -> None:
        self.binary = shutil.which("redis-benchmark")
        self.port, self.clients, self.pipeline, self.seconds = port, clients, pipeline, seconds
        self.requests = 2_000 * pipeline
        self.samples: dict[str, list[float]] = {"SET": [], "GET": []}

    @property
    def available(self) -> bool:
        return self.binary is not None

    def command(self) -> str:
        return (
            f"redis-benchmark -p PORT -t set,get -n {self.requests} "
            f"-P {self.pipeline} -c {self.clients} -q"
        )

    def _run(self) -> dict[str, float]:
        assert self.binary is not None
        command = [self.binary, "-p", str(self.port), "-t", "set,get", "-n", str(self.requests)]
        command += ["-P", str(self.pipeline), "-c", str(self.clients), "-q"]
        out = subprocess.run(command, capture_output=True, check=True, timeout=120).stdout
        rates = {name.decode(): float(rate) for name, rate in _RB_LINE.findall(out)}
        if set(rates) != {"SET", "GET"}:
            raise RuntimeError(f"no SET/GET rates in the output of {' '.join(command)}: {out!r}")
        return rates

    def warm_up(self) -> None:
        rates = self._run()
        per_test = self.seconds / 2 * set_get_rate(rates)
        # At least 200 requests per connection, so connecting does not dominate a run.
        floor = max(1_000, 200 * self.clients)
        self.requests = max(floor, int(per_test) // self.pipeline * self.pipeline)

    def sample(self, kind: str = "SET+GET") -> float:
        """One run; returns the SET rate or the alternating SET+GET rate (``kind``)."""
        rates = self._run()
        for name, rate in rates.items():
            self.samples[name].append(rate)
        return rates["SET"] if kind == "SET" else set_get_rate(rates)

    def medians(self) -> dict[str, float] | None:
        if not self.samples["SET"]:
            return None
        return {name: median(values) for name, values in self.samples.items()}


def set_get_rate(rates: dict[str, float]) -> float:
    """Rate of alternating SET and GET: the harmonic mean of the two rates."""
    return 2 / (1 / rates["SET"] + 1 / rates["GET"])


# -- reporting --------------------------------------------------------------------------


def fmt_rate(value: float | None) -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value:,.0f}"


def fmt_ratio(num: float | None, den: float | None, target: float | None = None) -> str:
    """``num/den`` as ``2.31x``, with ``(ok)``/``(MISS)`` against ``target``; n/a if unknown."""
    if num is None or den is None or num != num or den != den or den == 0:
        return "n/a"
    ratio = num / den
    text = f"{ratio:.2f}x"
    if target is not None:
        text += f" ({'ok' if ratio >= target else 'MISS'} >= {target:g}x)"
    return text


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(lines)


def version_of(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment(server: RedisServer, placement: str, distributions: Sequence[str]) -> str:
    """One paragraph naming the date, machine, server and every library version."""
    import resp3

    server_version = subprocess.run(
        [server.binary, "--version"], capture_output=True, text=True, check=False
    ).stdout.split()
    server_v = next((w for w in server_version if w.startswith("v=")), "v=?")[2:]
    libs = ", ".join(f"{d} {version_of(d)}" for d in distributions)
    return (
        f"{datetime.date.today().isoformat()}; Python {platform.python_version()} on "
        f"{platform.machine()} ({os.cpu_count()} cores); {Path(server.binary).name} "
        f"{server_v}; resp3 {resp3.__version__} (reader: {resp3.IMPLEMENTATION}); {libs}; "
        f"{placement}"
    )
