"""Reply parser throughput: resp3's compiled and pure readers against hiredis and redis-py.

Every implementation parses the same payloads in the same process: streams of replies
cut into 64 KiB chunks, as a socket would deliver them. Before anything is timed, each
implementation's output is compared with the value the payload was built from, so a
fast but wrong parse cannot win a row: a mismatch stops the run with the payload and
the implementation named.

redis-py's pure parsers pull bytes from a socket through ``SocketBuffer``, which calls
only ``sock.recv(socket_read_size)`` (``settimeout`` only when a per-call timeout is
given). ``PayloadSocket`` below hands out the pre-cut chunks from a list, one per
``recv``, and ``b""`` at the end (which redis-py reports as a closed connection), so the
measured cost is the parser and its buffer, not a fake socket.

Timing: one warm-up call, then enough calls per sample to last ``--min-time`` seconds,
``--repeats`` samples taken round-robin across implementations, median reported. The
cyclic garbage collector is paused while timing (as ``timeit`` does) for every
implementation alike. Numbers come from one machine and one run: compare columns
within a run, not across runs.

Run from the repository root: ``.venv/bin/python bench/bench_reader.py [--quick]``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib
import json
import os
import platform
import statistics
import sys
import time
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHUNK_SIZE = 64 * 1024
Runner = Callable[[], list[Any]]

# -- payloads -------------------------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    """One stream of replies in one protocol, with the values it must parse to."""

    name: str
    proto: int
    data: bytes
    expected: list[Any]


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _array(items: list[bytes], prefix: bytes = b"*") -> bytes:
    return prefix + b"%d\r\n" % len(items) + b"".join(items)


def build_payloads() -> list[Payload]:
    """Build every payload in RESP3 and RESP2, each with its expected replies."""
    out: list[Payload] = []

    def both(name: str, data3: bytes, exp3: list[Any], data2: bytes, exp2: list[Any]) -> None:
        out.append(Payload(name, 3, data3, exp3))
        out.append(Payload(name, 2, data2, exp2))

    small = [b"value:%05d" % i for i in range(10_000)]
    data = b"".join(_bulk(v) for v in small)
    both("10k small bulks", data, small, data, small)

    ints = [(i * 7919) % 2_000_003 - 1_000_000 for i in range(10_000)]
    data = b"".join(b":%d\r\n" % n for n in ints)
    both("10k integers", data, ints, data, ints)

    floats = [i * 0.37 - 1234.5 for i in range(10_000)]
    texts = [repr(f).encode() for f in floats]
    data3 = b"".join(b",%s\r\n" % t for t in texts)
    both("10k doubles", data3, floats, b"".join(_bulk(t) for t in texts), texts)

    elems = [b"%03d" % (i % 1000) + b"x" * 97 for i in range(1000)]
    data = _array([_bulk(e) for e in elems])
    both("array 1000 x 100 B", data, [elems], data, [elems])

    keys = [b"field:%04d" % i for i in range(1000)]
    vals = [b"value:%04d" % i for i in range(1000)]
    flat = [x for kv in zip(keys, vals, strict=True) for x in kv]
    data3 = b"%%%d\r\n" % len(keys) + b"".join(_bulk(x) for x in flat)
    both(
        "map 1000 pairs",
        data3,
        [dict(zip(keys, vals, strict=True))],
        _array([_bulk(x) for x in flat]),
        [flat],
    )

    rows = [
        [b"item:%d" % (r * 10 + c) if c % 2 == 0 else r * 10 + c for c in range(10)]
        for r in range(100)
    ]
    enc = [
        _array([_bulk(x) if isinstance(x, bytes) else b":%d\r\n" % x for x in row]) for row in rows
    ]
    data = _array(enc)
    both("100 nested arrays of 10", data, [rows], data, [rows])

    big = bytes(range(256)) * 4096
    data = _bulk(big)
    both("1 MiB bulk", data, [big], data, [big])

    msgs = [[b"message", b"news.tech", b"payload body %05d" % i] for i in range(10_000)]
    data3 = b"".join(_array([_bulk(x) for x in m], b">") for m in msgs)
    data2 = b"".join(_array([_bulk(x) for x in m]) for m in msgs)
    both("10k push messages", data3, msgs, data2, msgs)
    return out


def canonical(value: Any) -> Any:
    """Comparable form: str as UTF-8 bytes, list subclasses as lists, scalars type-tagged.

    Tags keep ``1 == 1.0 == True`` from hiding a reader that returned the wrong type.
    """
    if isinstance(value, bytes | str):
        return value.encode() if isinstance(value, str) else value
    if value is None or isinstance(value, bool | int | float):
        return (type(value).__name__, value)
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {canonical(k): canonical(v) for k, v in value.items()}
    raise TypeError(f"unexpected reply type {type(value).__name__}: {value!r:.80}")


def cut(data: bytes, chunk_size: int) -> list[bytes]:
    """Split like a socket would; ``chunk_size <= 0`` means one buffer."""
    if chunk_size <= 0:
        return [data]
    return [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]


# -- implementations ------------------------------------------------------------------


@dataclass(frozen=True)
class Impl:
    """A reader under test: ``make`` builds a runner, or ``missing`` says why not."""

    key: str
    label: str
    make: Callable[[Payload, list[bytes]], Runner] | None
    missing: str = ""


def _resp3_impl(key: str, label: str, module_name: str, api: str) -> Impl:
    try:
        module: Any = importlib.import_module(module_name)
    except ImportError as exc:
        return Impl(key, label, None, f"{module_name} not importable ({exc})")
    reader_cls = module.Reader
    incomplete = importlib.import_module("resp3.types").INCOMPLETE

    def make(payload: Payload, chunks: list[bytes]) -> Runner:
        proto = payload.proto

        def run_gets_all() -> list[Any]:
            reader = reader_cls(protocol=proto)
            feed, gets_all = reader.feed, reader.gets_all
            out: list[Any] = []
            for chunk in chunks:
                feed(chunk)
                out += gets_all()
            return out

        def run_gets() -> list[Any]:
            reader = reader_cls(protocol=proto)
            feed, gets = reader.feed, reader.gets
            out: list[Any] = []
            append = out.append
            for chunk in chunks:
                feed(chunk)
                while (reply := gets()) is not incomplete:
                    append(reply)
            return out

        return run_gets_all if api == "gets_all" else run_gets

    return Impl(key, label, make)


def _hiredis_impl() -> Impl:
    try:
        hiredis: Any = importlib.import_module("hiredis")
    except ImportError as exc:
        return Impl("hiredis", "hiredis", None, f"hiredis not importable ({exc})")
    # hiredis returns False for "no reply yet" by default, which RESP3 #f also parses
    # to; a private sentinel keeps the loop honest on every payload.
    not_enough = object()

    def make(payload: Payload, chunks: list[bytes]) -> Runner:
        def run() -> list[Any]:
            reader = hiredis.Reader(notEnoughData=not_enough)
            feed, gets = reader.feed, reader.gets
            out: list[Any] = []
            append = out.append
            for chunk in chunks:
                feed(chunk)
                while (reply := gets()) is not not_enough:
                    append(reply)
            return out

        return run

    return Impl("hiredis", f"hiredis {hiredis.__version__}", make)


class PayloadSocket:
    """Serves pre-cut chunks to redis-py's ``SocketBuffer``: one per ``recv``, then EOF."""

    __slots__ = ("_chunks", "_next")

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks
        self._next = 0

    def recv(self, size: int) -> bytes:
        index = self._next
        if index >= len(self._chunks):
            return b""
        self._next = index + 1
        return self._chunks[index]

    def settimeout(self, timeout: float | None) -> None:
        pass

    def gettimeout(self) -> float | None:
        return None


def _redis_py_impl() -> Impl:
    try:
        redis: Any = importlib.import_module("redis")
        resp2: Any = importlib.import_module("redis._parsers.resp2")
        resp3: Any = importlib.import_module("redis._parsers.resp3")
        encoders: Any = importlib.import_module("redis._parsers.encoders")
    except ImportError as exc:
        return Impl("redis-py", "redis-py pure", None, f"redis-py parsers not importable ({exc})")
    encoder = encoders.Encoder("utf-8", "strict", False)

    def make(payload: Payload, chunks: list[bytes]) -> Runner:
        # SocketBuffer reads at most socket_read_size per recv; every chunk must fit.
        read_size = max(len(c) for c in chunks)
        parser_cls = resp3._RESP3Parser if payload.proto == 3 else resp2._RESP2Parser
        count = len(payload.expected)
        # A RESP3 push is returned to the caller only with push_request=True (what
        # redis-py's PubSub passes); otherwise the parser consumes it and reads on.
        push = payload.proto == 3 and payload.name.endswith("push messages")

        def run() -> list[Any]:
            sock = PayloadSocket(chunks)
            conn = types.SimpleNamespace(_sock=sock, socket_timeout=None, encoder=encoder)
            parser = parser_cls(socket_read_size=read_size)
            parser.on_connect(conn)
            read = parser.read_response
            if push:
                return [read(push_request=True) for _ in range(count)]
            return [read() for _ in range(count)]

        return run

    return Impl("redis-py", f"redis-py {redis.__version__} pure", make)


def implementations(api: str) -> list[Impl]:
    return [
        _resp3_impl("resp3-c", "resp3 compiled", "resp3._reader_c", api),
        _resp3_impl("resp3-py", "resp3 pure", "resp3._reader_py", api),
        _hiredis_impl(),
        _redis_py_impl(),
    ]


# -- measuring ------------------------------------------------------------------------


def pin_to_one_core(cpu: int | None) -> str:
    """Pin this process to one core so the scheduler cannot migrate it mid-sample."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    allowed = sorted(os.sched_getaffinity(0))
    chosen = allowed[-1] if cpu is None else cpu
    if chosen not in allowed:
        raise SystemExit(f"--cpu {chosen}: not in this process's allowed CPUs {allowed}")
    os.sched_setaffinity(0, {chosen})
    return f"pinned to CPU {chosen} of {allowed}"


def measure(
    fns: Mapping[str, Callable[[], object]], repeats: int, min_time: float
) -> dict[str, float]:
    """Median seconds per call of each function, sampled round-robin.

    Each function first gets a warm-up call and a calibration call that sets how many
    calls make one sample of at least ``min_time``. Samples are then taken in turns
    (a, b, c, a, b, c, ...), so a burst of load from another process lands on every
    implementation alike instead of skewing one of them.
    """
    loops: dict[str, int] = {}
    for key, fn in fns.items():
        fn()  # warm-up: caches, allocator, lazily built tables
        start = time.perf_counter()
        fn()
        loops[key] = max(1, round(min_time / max(time.perf_counter() - start, 1e-9)))
    samples: dict[str, list[float]] = {key: [] for key in fns}
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for key, fn in fns.items():
                count = loops[key]
                start = time.perf_counter()
                for _ in range(count):
                    fn()
                samples[key].append((time.perf_counter() - start) / count)
    finally:
        if was_enabled:
            gc.enable()
    return {key: statistics.median(values) for key, values in samples.items()}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def environment(extra: dict[str, str]) -> dict[str, str]:
    """Versions and machine facts printed above every table and stored in the JSON."""
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {cpu_model()}",
    }
    for name in ("resp3", "hiredis", "redis", "Cython"):
        try:
            info[name] = str(getattr(importlib.import_module(name), "__version__", "?"))
        except ImportError:
            info[name] = "not installed"
    info.update(extra)
    return info


def human(rate: float) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if rate >= scale:
            return f"{rate / scale:.2f}{unit}"
    return f"{rate:.1f}"


def validate(impls: list[Impl], payloads: list[Payload], chunk_size: int) -> None:
    """Parse every payload once with every implementation; stop on the first mismatch."""
    for payload in payloads:
        expected = canonical(payload.expected)
        for impl in impls:
            if impl.make is None:
                continue
            got = canonical(impl.make(payload, cut(payload.data, chunk_size))())
            if got != expected:
                at = next(
                    (i for i, (g, e) in enumerate(zip(got, expected, strict=False)) if g != e),
                    min(len(got), len(expected)),
                )
                raise SystemExit(
                    f"validation failed: {impl.label} on {payload.name!r} RESP{payload.proto}: "
                    f"{len(got)} replies for {len(expected)} expected, first difference at "
                    f"reply {at}: got {str(got[at : at + 1])[:100]}, "
                    f"want {str(expected[at : at + 1])[:100]}"
                )


def run(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, str]]:
    pinned = pin_to_one_core(args.cpu)
    impls = implementations(args.api)
    payloads = [p for p in build_payloads() if args.only.lower() in p.name.lower()]
    payloads = [p for p in payloads if args.proto in (0, p.proto)]
    if not payloads:
        raise SystemExit(f"--only {args.only!r} / --proto {args.proto}: no payload matches")
    chunking = "whole buffer" if args.chunk_size <= 0 else f"{args.chunk_size} B chunks"
    env = environment({"affinity": pinned, "feeding": chunking, "resp3 api": args.api})
    for impl in impls:
        if impl.make is None:
            env[impl.key] = f"n/a: {impl.missing}"
    validate(impls, payloads, args.chunk_size)
    rows: list[dict[str, Any]] = []
    for payload in payloads:
        chunks = cut(payload.data, args.chunk_size)
        fns = {i.key: i.make(payload, chunks) for i in impls if i.make is not None}
        seconds: dict[str, float | None] = {i.key: None for i in impls}
        seconds.update(measure(fns, args.repeats, args.min_time))
        for impl in impls:
            t = seconds[impl.key]
            rows.append(
                {
                    "payload": payload.name,
                    "proto": payload.proto,
                    "impl": impl.key,
                    "label": impl.label,
                    "bytes": len(payload.data),
                    "replies": len(payload.expected),
                    "seconds": t,
                    "mb_s": len(payload.data) / t / 1e6 if t else None,
                    "replies_s": len(payload.expected) / t if t else None,
                    "vs_hiredis": seconds["hiredis"] / t if t and seconds["hiredis"] else None,
                    "vs_redis_py": seconds["redis-py"] / t if t and seconds["redis-py"] else None,
                }
            )
        print(f"  done: {payload.name} RESP{payload.proto}", file=sys.stderr, flush=True)
    return rows, env


def print_tables(rows: list[dict[str, Any]], env: dict[str, str]) -> None:
    for key, value in env.items():
        print(f"- {key}: {value}")
    print()
    print("| payload | proto | implementation | MB/s | replies/s | vs hiredis | vs redis-py pure |")
    print("|---|---|---|--:|--:|--:|--:|")
    for r in rows:
        mb = f"{r['mb_s']:.1f}" if r["mb_s"] else "n/a"
        rps = human(r["replies_s"]) if r["replies_s"] else "n/a"
        vs_h = f"{r['vs_hiredis']:.2f}x" if r["vs_hiredis"] else "n/a"
        vs_r = f"{r['vs_redis_py']:.2f}x" if r["vs_redis_py"] else "n/a"
        print(
            f"| {r['payload']} | RESP{r['proto']} | {r['label']} | {mb} | {rps} | {vs_h} | {vs_r} |"
        )
    print()
    print("Targets: compiled >= 1.0x hiredis everywhere and >= 2x on RESP3 map and push;")
    print("pure >= 1.5x redis-py pure.")
    print()
    print("| payload | proto | compiled / hiredis | target | pure / redis-py pure | target |")
    print("|---|---|--:|---|--:|---|")
    by_key = {(r["payload"], r["proto"], r["impl"]): r for r in rows}
    for r in rows:
        if r["impl"] != "hiredis":
            continue
        c = by_key[(r["payload"], r["proto"], "resp3-c")]["vs_hiredis"]
        p = by_key[(r["payload"], r["proto"], "resp3-py")]["vs_redis_py"]
        wanted = 2.0 if r["proto"] == 3 and r["payload"].startswith(("map", "10k push")) else 1.0
        c_ok = "n/a (no compiled twin)" if c is None else ("met" if c >= wanted else "MISSED")
        p_ok = "n/a" if p is None else ("met" if p >= 1.5 else "MISSED")
        c_txt = f"{c:.2f}x" if c else "n/a"
        p_txt = f"{p:.2f}x" if p else "n/a"
        print(
            f"| {r['payload']} | RESP{r['proto']} | {c_txt} | >= {wanted:.0f}x {c_ok} "
            f"| {p_txt} | >= 1.5x {p_ok} |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="3 repeats of >= 20 ms")
    parser.add_argument("--repeats", type=int, default=7, help="samples per cell (median)")
    parser.add_argument("--min-time", type=float, default=0.1, help="seconds per sample")
    parser.add_argument(
        "--chunk-size", type=int, default=CHUNK_SIZE, help="bytes per feed; 0 = whole buffer"
    )
    parser.add_argument(
        "--api",
        choices=("gets_all", "gets"),
        default="gets_all",
        help="how resp3 readers are drained after each feed (hiredis only has gets)",
    )
    parser.add_argument("--only", default="", help="only payloads whose name contains this")
    parser.add_argument("--proto", type=int, choices=(0, 2, 3), default=0, help="0 = both")
    parser.add_argument("--cpu", type=int, default=None, help="core to pin to (default: last)")
    parser.add_argument("--json", metavar="PATH", help="also write rows and environment here")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.min_time = 3, 0.02
    rows, env = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": env, "rows": rows}, indent=2))
    print_tables(rows, env)


if __name__ == "__main__":
    main()
