"""Random sequences of reserve / fill / release / kill-switch operations on MemoryLimits,
checked against an independent model (``_risk_model``): every decision is the model's,
and reservations never exceed a limit, whatever the sequence."""

from __future__ import annotations

from hypothesis import given, settings

from tests.unit.trading._risk_model import Op, ops, run
from trading.risk.checks import Request
from trading.risk.memory import MemoryLimits
from trading.risk.reasons import Reason


@settings(max_examples=400, deadline=None)
@given(sequence=ops)
def test_random_sequences_match_the_model_and_never_exceed_a_limit(sequence: list[Op]) -> None:
    run(MemoryLimits(clock=lambda: 0), sequence)


def test_rate_window_slides_with_the_clock() -> None:
    now = [0]
    limits = MemoryLimits(window_ms=1000, clock=lambda: now[0])
    req = Request("acc", "a", "AAA", 1, 1, 1, max_rate=2)
    assert limits.reserve(req) is None
    now[0] = 400_000
    assert limits.reserve(Request("acc", "b", "AAA", 1, 1, 1, max_rate=2)) is None
    denial = limits.reserve(Request("acc", "c", "AAA", 1, 1, 1, max_rate=2))
    assert denial is not None and denial.reason is Reason.ORDER_RATE
    now[0] = 1_000_000  # "a" is exactly one window old: out
    assert limits.reserve(Request("acc", "c", "AAA", 1, 1, 1, max_rate=2)) is None
    assert limits.usage("acc").recent == 2
