"""The transition table as data: an independent literal copy, the docs, FIX codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trading.errors import InvalidTransition
from trading.oms import TRANSITIONS, WORKING, EventKind, OrderStatus, render_table
from trading.oms.states import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    DuplicateOrder,
    UnknownOrder,
    allowed_targets,
    next_status,
)
from trading.oms.store import APPLY_LUA

DOC = Path(__file__).resolve().parents[3] / "docs" / "oms.md"

# Written out by hand from the FIX order state change matrices, so that an accidental
# edit of the table in states.py fails here (the matrix tests read the table itself).
SPEC = """
none            submit          pending_new
none            deny            denied
none            replace_accept  working
pending_new     accept          new
pending_new     reject          rejected
pending_new     fill_partial    partially_filled
pending_new     fill_complete   filled
new             fill_partial    partially_filled
new             fill_complete   filled
new             cancel_request  pending_cancel
new             cancel_accept   canceled
new             replace_request pending_replace
new             expire          expired
partially_filled fill_partial   partially_filled
partially_filled fill_complete  filled
partially_filled cancel_request pending_cancel
partially_filled cancel_accept  canceled
partially_filled replace_request pending_replace
partially_filled expire         expired
pending_cancel  fill_partial    pending_cancel
pending_cancel  fill_complete   filled
pending_cancel  cancel_accept   canceled
pending_cancel  cancel_reject   working
pending_cancel  expire          expired
pending_replace fill_partial    pending_replace
pending_replace fill_complete   filled
pending_replace cancel_accept   canceled
pending_replace replace_accept  replaced
pending_replace replace_reject  working
pending_replace expire          expired
"""


def test_table_matches_the_written_spec() -> None:
    spec = {}
    for line in SPEC.strip().splitlines():
        status, kind, target = line.split()
        spec[(None if status == "none" else OrderStatus(status), EventKind(kind))] = (
            WORKING if target == "working" else OrderStatus(target)
        )
    assert dict(TRANSITIONS) == spec


def test_terminal_statuses_absorb() -> None:
    assert {s.value for s in TERMINAL_STATUSES} == {
        "filled", "canceled", "replaced", "rejected", "expired", "denied"
    }  # fmt: skip
    assert set(OrderStatus) - TERMINAL_STATUSES == OPEN_STATUSES
    for status in TERMINAL_STATUSES:
        assert status.is_terminal
        assert not [k for (s, k) in TRANSITIONS if s is status]


def test_fix_codes() -> None:
    codes = {s: s.fix_code for s in OrderStatus}
    assert codes[OrderStatus.PENDING_NEW] == "A" and codes[OrderStatus.REPLACED] == "5"
    assert codes[OrderStatus.DENIED] is None
    assert len({c for c in codes.values() if c}) == len(OrderStatus) - 1


def test_next_status_errors_name_the_order() -> None:
    with pytest.raises(UnknownOrder, match="a/x: no such order"):
        next_status(None, EventKind.ACCEPT, filled=False, where="a/x")
    with pytest.raises(DuplicateOrder, match="a/x: client order id already used"):
        next_status(OrderStatus.NEW, EventKind.SUBMIT, filled=False, where="a/x")
    with pytest.raises(InvalidTransition, match="a/x: accept is not allowed in status filled"):
        next_status(OrderStatus.FILLED, EventKind.ACCEPT, filled=False, where="a/x")
    assert next_status(
        OrderStatus.PENDING_CANCEL, EventKind.CANCEL_REJECT, filled=True, where=""
    ) is (OrderStatus.PARTIALLY_FILLED)


def test_lua_embeds_the_table() -> None:
    targets = allowed_targets()
    assert targets[("pending_cancel", "cancel_reject")] == ("new", "partially_filled")
    embedded = re.search(r'local allowed = "([^"]*)"', APPLY_LUA)
    assert embedded is not None
    entries = embedded.group(1).strip("|").split("|")
    lua: dict[tuple[str, str], tuple[str, ...]] = {}
    for entry in entries:
        head, target = entry.split(">")
        status, kind = head.split(":")
        lua[(status, kind)] = (*lua.get((status, kind), ()), target)
    assert lua == targets
    assert len(targets) == len(TRANSITIONS)


def test_docs_table_is_up_to_date() -> None:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- transitions:begin -->\n(.*?)\n<!-- transitions:end -->", text, re.S)
    assert match is not None, f"{DOC}: transition table markers missing"
    assert match.group(1) == render_table(), (
        "docs/oms.md is out of date; paste trading.oms.render_table() between the markers"
    )
