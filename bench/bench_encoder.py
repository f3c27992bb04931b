"""Command encoder throughput: resp3's compiled and pure encoders against redis-py's packers.

Compared, on identical argument tuples (command name and keys as ``str``, values as
``bytes``, which is what redis-py's client methods hand their packer):

* resp3 compiled and pure: ``encode_command(*args)`` and ``pack_commands(commands)``;
* redis-py pure: ``Connection.pack_command``/``pack_commands`` with
  ``redis.connection.PythonRespSerializer`` as the ``command_packer`` (what redis-py
  uses when hiredis is absent);
* redis-py + hiredis: the same ``Connection`` methods with the default packer,
  ``HiredisRespSerializer``, which wraps ``hiredis.pack_command``;
* hiredis alone: ``hiredis.pack_command(args)``. hiredis has no batch call, so the
  batch is ``b"".join`` over a list comprehension, the thinnest wrapper one could write.

redis-py's packers return lists of chunks meant for ``sendall`` one by one; they are
timed as returned, not joined. Every output is joined once before timing and compared
byte for byte with redis-py pure's, so a wrong encoding stops the run.

Each timed call encodes ``--batch`` commands (default 1000): a loop of single encodes,
or one ``pack_commands``. Median of ``--repeats`` samples taken round-robin across
implementations, garbage collector paused.
Run from the repository root: ``.venv/bin/python bench/bench_encoder.py [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reader import environment, human, measure, pin_to_one_core

Args = tuple[Any, ...]
# (single, batch): encode one command; encode a list of commands into one output.
Encoders = tuple[Callable[..., Any], Callable[[list[Args]], Any]]


@dataclass(frozen=True)
class Impl:
    """An encoder under test, or the reason it is missing."""

    key: str
    label: str
    encoders: Encoders | None
    missing: str = ""


def cases(batch: int) -> list[tuple[str, list[Args]]]:
    """Each case: ``batch`` commands of one shape, distinct keys as a pipeline would send."""
    mset_values = [b"value:%03d" % i for i in range(50)]
    return [
        ("SET, 3 B value", [("SET", f"key:{i:06d}", b"abc") for i in range(batch)]),
        ("SET, 100 B value", [("SET", f"key:{i:06d}", b"v" * 100) for i in range(batch)]),
        (
            "MSET, 100 arguments",
            [
                ("MSET", *[x for j in range(50) for x in (f"key:{i:06d}:{j:02d}", mset_values[j])])
                for i in range(batch)
            ],
        ),
    ]


def _resp3(key: str, label: str, module_name: str) -> Impl:
    try:
        module: Any = importlib.import_module(module_name)
    except ImportError as exc:
        return Impl(key, label, None, f"{module_name} not importable ({exc})")
    return Impl(key, label, (module.encode_command, module.pack_commands))


def _redis_py(hiredis_packer: bool) -> Impl:
    key, label = (
        ("redis-py+hiredis", "redis-py + hiredis")
        if hiredis_packer
        else ("redis-py", "redis-py pure")
    )
    try:
        connection: Any = importlib.import_module("redis.connection")
    except ImportError as exc:
        return Impl(key, label, None, f"redis not importable ({exc})")
    probe = connection.Connection()  # no I/O until connect() is called
    if hiredis_packer:
        conn = probe
        if not isinstance(conn._command_packer, connection.HiredisRespSerializer):
            return Impl(key, label, None, "redis-py did not pick HiredisRespSerializer")
    else:
        packer = connection.PythonRespSerializer(probe._buffer_cutoff, probe.encoder.encode)
        conn = connection.Connection(command_packer=packer)
    version = importlib.import_module("redis").__version__
    return Impl(key, f"{label} {version}", (conn.pack_command, conn.pack_commands))


def _hiredis() -> Impl:
    try:
        hiredis: Any = importlib.import_module("hiredis")
    except ImportError as exc:
        return Impl("hiredis", "hiredis", None, f"hiredis not importable ({exc})")
    pack_command = hiredis.pack_command

    def single(*args: Any) -> bytes:
        return pack_command(args)  # type: ignore[no-any-return]

    def batch(commands: list[Args]) -> bytes:
        return b"".join([pack_command(c) for c in commands])

    return Impl("hiredis", f"hiredis {hiredis.__version__} pack_command", (single, batch))


def implementations() -> list[Impl]:
    return [
        _resp3("resp3-c", "resp3 compiled", "resp3._reader_c"),
        _resp3("resp3-py", "resp3 pure", "resp3._reader_py"),
        _redis_py(hiredis_packer=False),
        _redis_py(hiredis_packer=True),
        _hiredis(),
    ]


def as_bytes(output: Any) -> bytes:
    return b"".join(bytes(c) for c in output) if isinstance(output, list) else bytes(output)


def runner(encoders: Encoders, mode: str, commands: list[Args]) -> Callable[[], object]:
    single, batch = encoders
    if mode == "batch":
        return lambda: batch(commands)

    def run() -> None:
        for args in commands:
            single(*args)

    return run


def validate(impls: list[Impl], all_cases: list[tuple[str, list[Args]]]) -> None:
    """Every encoder, both modes, must produce redis-py pure's bytes (or resp3 pure's)."""
    live = [i for i in impls if i.encoders is not None]
    reference = next((i for i in live if i.key == "redis-py"), None) or next(
        i for i in live if i.key == "resp3-py"
    )
    assert reference.encoders is not None
    for name, commands in all_cases:
        want = as_bytes(reference.encoders[1](commands))
        for impl in live:
            assert impl.encoders is not None
            single, batch = impl.encoders
            got_single = b"".join(as_bytes(single(*c)) for c in commands)
            got_batch = as_bytes(batch(commands))
            for mode, got in (("single", got_single), ("batch", got_batch)):
                if got != want:
                    at = next(
                        (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
                        min(len(got), len(want)),
                    )
                    raise SystemExit(
                        f"validation failed: {impl.label} ({mode}) on {name!r} differs from "
                        f"{reference.label} at byte {at}: {got[at : at + 40]!r} vs "
                        f"{want[at : at + 40]!r}"
                    )


def run(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, str]]:
    pinned = pin_to_one_core(args.cpu)
    impls = implementations()
    all_cases = cases(args.batch)
    env = environment({"affinity": pinned, "commands per timed call": str(args.batch)})
    for impl in impls:
        if impl.encoders is None:
            env[impl.key] = f"n/a: {impl.missing}"
    validate(impls, all_cases)
    rows: list[dict[str, Any]] = []
    for name, commands in all_cases:
        for mode in ("single", "batch"):
            fns = {i.key: runner(i.encoders, mode, commands) for i in impls if i.encoders}
            seconds: dict[str, float | None] = {i.key: None for i in impls}
            seconds.update(measure(fns, args.repeats, args.min_time))
            pure, hired = seconds["redis-py"], seconds["hiredis"]
            for impl in impls:
                t = seconds[impl.key]
                rows.append(
                    {
                        "case": name,
                        "mode": mode,
                        "impl": impl.key,
                        "label": impl.label,
                        "commands": len(commands),
                        "seconds": t,
                        "ops_s": len(commands) / t if t else None,
                        "ns_per_op": t / len(commands) * 1e9 if t else None,
                        "vs_redis_py": pure / t if t and pure else None,
                        "vs_hiredis": hired / t if t and hired else None,
                    }
                )
            print(f"  done: {name} {mode}", file=sys.stderr, flush=True)
    return rows, env


def print_tables(rows: list[dict[str, Any]], env: dict[str, str]) -> None:
    for key, value in env.items():
        print(f"- {key}: {value}")
    print()
    print(
        "| command | mode | implementation | commands/s | ns/command "
        "| vs redis-py pure | vs hiredis |"
    )
    print("|---|---|---|--:|--:|--:|--:|")
    for r in rows:
        ops = human(r["ops_s"]) if r["ops_s"] else "n/a"
        ns = f"{r['ns_per_op']:.0f}" if r["ns_per_op"] else "n/a"
        vs_p = f"{r['vs_redis_py']:.2f}x" if r["vs_redis_py"] else "n/a"
        vs_h = f"{r['vs_hiredis']:.2f}x" if r["vs_hiredis"] else "n/a"
        print(f"| {r['case']} | {r['mode']} | {r['label']} | {ops} | {ns} | {vs_p} | {vs_h} |")
    print()
    print("Target: resp3's encoder >= 2x redis-py's pure packer.")
    print()
    print(
        "| command | mode | compiled / redis-py pure | pure / redis-py pure | target (compiled) |"
    )
    print("|---|---|--:|--:|---|")
    by_key = {(r["case"], r["mode"], r["impl"]): r for r in rows}
    for r in rows:
        if r["impl"] != "redis-py":
            continue
        c = by_key[(r["case"], r["mode"], "resp3-c")]["vs_redis_py"]
        p = by_key[(r["case"], r["mode"], "resp3-py")]["vs_redis_py"]
        verdict = "n/a (no compiled twin)" if c is None else ("met" if c >= 2.0 else "MISSED")
        c_txt = f"{c:.2f}x" if c else "n/a"
        p_txt = f"{p:.2f}x" if p else "n/a"
        print(f"| {r['case']} | {r['mode']} | {c_txt} | {p_txt} | >= 2x {verdict} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="3 repeats of >= 20 ms")
    parser.add_argument("--repeats", type=int, default=7, help="samples per cell (median)")
    parser.add_argument("--min-time", type=float, default=0.1, help="seconds per sample")
    parser.add_argument("--batch", type=int, default=1000, help="commands per timed call")
    parser.add_argument("--cpu", type=int, default=None, help="core to pin to (default: last)")
    parser.add_argument("--json", metavar="PATH", help="also write rows and environment here")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.min_time = 3, 0.02
    if args.batch < 1:
        raise SystemExit(f"--batch must be >= 1, got {args.batch}")
    rows, env = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": env, "rows": rows}, indent=2))
    print_tables(rows, env)


if __name__ == "__main__":
    main()
