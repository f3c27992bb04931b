"""FIX codec throughput: ``trading.fix`` against simplefix and QuickFIX's Python binding.

Two FIX 4.4 messages: a NewOrderSingle (16 fields) and an ExecutionReport (28 fields,
a NoPartyIDs group of two instances). For each, and each library:

* **parse**: wire bytes to a message object. trading.fix checks BodyLength and CheckSum
  (``parse``); QuickFIX builds a ``quickfix.Message`` with the FIX44 data dictionary and
  ``validate=True`` (BodyLength, CheckSum, header order, groups from the dictionary);
  its input is a ``str`` decoded once outside the timing, as its binding requires.
  simplefix's ``FixParser`` neither checks the checksum nor knows groups.
* **parse + read**: the same, then five fields read back (35, 11, 38, 44, 54).
* **build**: a message from field values, serialised. Inputs are of the same kinds
  for all: strings, an int sequence number, exact decimals for price and quantity
  (QuickFIX: its float fields), timestamps already formatted. trading.fix:
  ``Message.build(...).encode()``; QuickFIX: ``setField`` with its typed field classes,
  then ``toString()``; simplefix: ``append_pair`` then ``encode()``.
* **build, wire-ready**: every value already ``bytes`` (what a session holds for IDs
  and symbols): ``Message(fields).encode()``, and simplefix with the same bytes.
* **typed NewOrderSingle / ExecutionReport**: trading.fix's dataclass from
  ``trading.core`` values (``Side``, ``OrderType``, ``Decimal``, ``datetime``) to
  bytes, header included; nothing comparable in the other two.

Every implementation's output is checked before timing: built messages must be the
same bytes for all three (all use the same field order), and parsed messages must give
the same field values. Median of ``--repeats`` samples taken round-robin, garbage
collector paused (``bench_reader.measure``). QuickFIX's binding compiles from source
(``pip install quickfix``); when it is absent its rows say so.
Run from the repository root: ``.venv/bin/python bench/bench_fix.py [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reader import environment, human, measure, pin_to_one_core  # noqa: E402

from trading.core import OrderType, Side, TimeInForce  # noqa: E402
from trading.fix import (  # noqa: E402
    ExecType,
    ExecutionReport,
    Message,
    NewOrderSingle,
    OrdStatus,
    parse,
)

T0 = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
TS = "20240102-03:04:05.678"
HEADER: list[tuple[int, Any]] = [(34, 12), (49, "CLIENT"), (52, TS), (56, "BROKER")]
ORDER: list[tuple[int, Any]] = [
    *[(1, "ACC1"), (11, "ORD-0001"), (21, "1"), (38, Decimal("100")), (40, "2")],
    *[(44, Decimal("187.25")), (54, "1"), (55, "AAPL"), (59, "0"), (60, TS)],
]
PARTIES = [(448, "PARTY-A"), (447, "D"), (452, 1), (448, "PARTY-B"), (447, "D"), (452, 3)]
REPORT: list[tuple[int, Any]] = [
    *[(1, "ACC1"), (6, Decimal("187.2")), (11, "ORD-0001"), (14, Decimal("40"))],
    *[(17, "EXEC-0001"), (31, Decimal("187.2")), (32, Decimal("40")), (37, "OID-0001")],
    *[(38, Decimal("100")), (39, "1"), (40, "2"), (44, Decimal("187.25")), (54, "1")],
    *[(55, "AAPL"), (58, "partial fill"), (59, "0"), (60, TS), (150, "F")],
    *[(151, Decimal("60")), (453, 2), *PARTIES],
]
CASES = {"NewOrderSingle": (b"D", ORDER), "ExecutionReport": (b"8", REPORT)}
READ = (35, 11, 38, 44, 54)


def wire_ready(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


# -- trading.fix ---------------------------------------------------------------------


def ours(msg_type: bytes, body: list[tuple[int, Any]]) -> dict[str, Callable[[], object]]:
    fields = HEADER + body
    raw_fields = [(8, b"FIX.4.4"), (35, msg_type)] + [(t, wire_ready(v)) for t, v in fields]
    wire = Message.build("FIX.4.4", msg_type, fields).encode()
    typed = typed_message(msg_type)

    def build() -> bytes:
        return Message.build("FIX.4.4", msg_type, fields).encode()

    def build_wire_ready() -> bytes:
        return Message(raw_fields).encode()

    def parse_only() -> object:
        return parse(wire)

    def parse_read() -> object:
        m = parse(wire)
        return [m.get(tag) for tag in READ]

    def build_typed() -> bytes:
        message = typed().to_message("FIX.4.4")
        for tag, value in HEADER:
            message.append(tag, value)
        return message.encode()

    return {
        "parse": parse_only,
        "parse + read": parse_read,
        "build": build,
        "build, wire-ready": build_wire_ready,
        "typed message": build_typed,
    }


def typed_message(msg_type: bytes) -> Callable[[], NewOrderSingle | ExecutionReport]:
    if msg_type == b"D":
        return lambda: NewOrderSingle(
            cl_ord_id="ORD-0001",
            side=Side.BUY,
            transact_time=T0,
            ord_type=OrderType.LIMIT,
            symbol="AAPL",
            order_qty=Decimal("100"),
            price=Decimal("187.25"),
            time_in_force=TimeInForce.DAY,
            account="ACC1",
            handl_inst="1",
        )
    return lambda: ExecutionReport(
        order_id="OID-0001",
        exec_id="EXEC-0001",
        exec_type=ExecType.TRADE,
        ord_status=OrdStatus.PARTIALLY_FILLED,
        side=Side.BUY,
        leaves_qty=Decimal("60"),
        cum_qty=Decimal("40"),
        avg_px=Decimal("187.2"),
        cl_ord_id="ORD-0001",
        symbol="AAPL",
        order_qty=Decimal("100"),
        ord_type=OrderType.LIMIT,
        price=Decimal("187.25"),
        time_in_force=TimeInForce.DAY,
        last_qty=Decimal("40"),
        last_px=Decimal("187.2"),
        transact_time=T0,
        account="ACC1",
        text="partial fill",
    )


# -- simplefix -----------------------------------------------------------------------


def simplefix_impl(msg_type: bytes, body: list[tuple[int, Any]]) -> dict[str, Callable[[], object]]:
    import simplefix  # type: ignore[import-untyped]

    fields = [(8, "FIX.4.4"), (35, msg_type.decode()), *HEADER, *body]
    raw_fields = [(t, wire_ready(v)) for t, v in fields]
    wire = Message.build("FIX.4.4", msg_type, HEADER + body).encode()

    def build() -> bytes:
        m = simplefix.FixMessage()
        for tag, value in fields:
            m.append_pair(tag, value)
        return bytes(m.encode())

    def build_wire_ready() -> bytes:
        m = simplefix.FixMessage()
        for tag, value in raw_fields:
            m.append_pair(tag, value)
        return bytes(m.encode())

    def parse_only() -> object:
        parser = simplefix.FixParser()
        parser.append_buffer(wire)
        return parser.get_message()

    def parse_read() -> object:
        parser = simplefix.FixParser()
        parser.append_buffer(wire)
        m = parser.get_message()
        return [m.get(tag) for tag in READ]

    return {
        "parse": parse_only,
        "parse + read": parse_read,
        "build": build,
        "build, wire-ready": build_wire_ready,
    }


# -- QuickFIX ------------------------------------------------------------------------


def quickfix_impl(msg_type: bytes, body: list[tuple[int, Any]]) -> dict[str, Callable[[], object]]:
    import quickfix as fix  # type: ignore[import-untyped]
    import quickfix44 as fix44  # type: ignore[import-untyped]

    dictionary = fix.DataDictionary(str(ROOT / "trading/fix/spec/FIX44.xml"))
    wire = Message.build("FIX.4.4", msg_type, HEADER + body).encode().decode()
    kinds = {34: fix.MsgSeqNum, 453: fix.NoPartyIDs, 452: fix.PartyRole}
    scalars = [(t, v) for t, v in body if t not in (448, 447, 452)]

    def field(tag: int, value: Any) -> Any:
        if isinstance(value, Decimal):  # QuickFIX's price and quantity fields are doubles
            return fix.DoubleField(tag, float(value))
        if isinstance(value, int):
            return kinds[tag](value)
        return fix.StringField(tag, value)

    def build() -> str:
        m = fix.Message()
        header = m.getHeader()
        header.setField(fix.BeginString("FIX.4.4"))
        header.setField(fix.MsgType(msg_type.decode()))
        for tag, value in HEADER:
            header.setField(field(tag, value))
        for tag, value in scalars:
            if tag != 453:
                m.setField(field(tag, value))
        if msg_type == b"8":
            for i in range(0, len(PARTIES), 3):
                group = fix44.ExecutionReport.NoPartyIDs()
                for tag, value in PARTIES[i : i + 3]:
                    group.setField(field(tag, value))
                m.addGroup(group)
        return str(m.toString())

    def build_wire_ready() -> str:
        m = fix.Message()
        header = m.getHeader()
        header.setField(fix.BeginString("FIX.4.4"))
        header.setField(fix.MsgType(msg_type.decode()))
        for tag, value in HEADER:
            header.setField(fix.StringField(tag, str(value)))
        for tag, value in scalars:
            if tag != 453:
                m.setField(fix.StringField(tag, str(value)))
        if msg_type == b"8":
            for i in range(0, len(PARTIES), 3):
                group = fix44.ExecutionReport.NoPartyIDs()
                for tag, value in PARTIES[i : i + 3]:
                    group.setField(fix.StringField(tag, str(value)))
                m.addGroup(group)
        return str(m.toString())

    def parse_only() -> object:
        return fix.Message(wire, dictionary, True)

    def parse_read() -> object:
        m = fix.Message(wire, dictionary, True)
        header = m.getHeader()
        return [header.getField(35), *(m.getField(tag) for tag in READ[1:])]

    return {
        "parse": parse_only,
        "parse + read": parse_read,
        "build": build,
        "build, wire-ready": build_wire_ready,
    }


IMPLS: dict[str, Callable[[bytes, list[tuple[int, Any]]], dict[str, Callable[[], object]]]] = {
    "trading.fix": ours,
    "simplefix": simplefix_impl,
    "QuickFIX": quickfix_impl,
}


def available() -> dict[str, str]:
    """Version of each library, or why it is missing."""
    found = {"trading.fix": "this tree"}
    for key, dist in (("simplefix", "simplefix"), ("QuickFIX", "quickfix")):
        try:
            __import__(dist)
            found[key] = importlib.metadata.version(dist)
        except ImportError as exc:
            found[key] = f"missing ({exc})"
    return found


def check(case: str, runners: dict[str, dict[str, Callable[[], object]]]) -> None:
    """Stop unless every library builds the same bytes and reads the same values."""
    built = {key: fns["build"]() for key, fns in runners.items()}
    reference = built["trading.fix"]
    for key, out in built.items():
        text = out.encode() if isinstance(out, str) else out
        if text != reference:
            raise SystemExit(f"{case}: {key} built {text!r}, trading.fix {reference!r}")
        wire_ready_out = runners[key]["build, wire-ready"]()
        wire_ready_out = (
            wire_ready_out.encode() if isinstance(wire_ready_out, str) else wire_ready_out
        )
        if wire_ready_out != reference:
            raise SystemExit(f"{case}: {key} wire-ready build differs: {wire_ready_out!r}")
    read = {key: [_text(v) for v in fns["parse + read"]()] for key, fns in runners.items()}  # type: ignore[attr-defined]
    for key, values in read.items():
        if values != read["trading.fix"]:
            raise SystemExit(f"{case}: {key} read {values}, trading.fix {read['trading.fix']}")


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def run(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, str]]:
    versions = available()
    env = environment({"placement": pin_to_one_core(args.cpu), **versions})
    rows: list[dict[str, Any]] = []
    for case, (msg_type, body) in CASES.items():
        runners = {
            key: make(msg_type, body)
            for key, make in IMPLS.items()
            if not versions[key].startswith("missing")
        }
        check(case, runners)
        timed = {f"{key}|{op}": fn for key, fns in runners.items() for op, fn in fns.items()}
        seconds = measure(timed, args.repeats, args.min_time)
        for name, value in seconds.items():
            key, op = name.split("|")
            rows.append({"case": case, "impl": key, "op": op, "seconds": value})
    return rows, env


def print_tables(rows: list[dict[str, Any]], env: dict[str, str]) -> None:
    print("; ".join(f"{k}: {v}" for k, v in env.items()))
    ops = ["parse", "parse + read", "build", "build, wire-ready", "typed message"]
    for case in CASES:
        print(f"\n#### {case}\n")
        print("| operation | trading.fix | simplefix | QuickFIX | trading.fix vs QuickFIX |")
        print("|---|--:|--:|--:|--:|")
        for op in ops:
            cells = {r["impl"]: r["seconds"] for r in rows if r["case"] == case and r["op"] == op}
            if not cells:
                continue
            shown = [
                f"{human(1 / cells[k])}/s ({cells[k] * 1e6:.1f} µs)" if k in cells else "—"
                for k in ("trading.fix", "simplefix", "QuickFIX")
            ]
            ratio = (
                f"{cells['QuickFIX'] / cells['trading.fix']:.2f}x"
                if "QuickFIX" in cells and "trading.fix" in cells
                else "—"
            )
            print(f"| {op} | {' | '.join(shown)} | {ratio} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-time", type=float, default=0.05, help="seconds per sample")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this core")
    parser.add_argument("--quick", action="store_true", help="3 repeats of 10 ms")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.min_time = 3, 0.01
    rows, env = run(args)
    print_tables(rows, env)
    if args.json:
        args.json.write_text(json.dumps({"env": env, "rows": rows}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
