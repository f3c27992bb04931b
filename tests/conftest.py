"""Run every reader/encoder test against both twins: ``resp3._reader_py`` and ``_reader_c``.

The compiled twin is opted out, never skipped: ``--no-c-extensions`` or
``RESP3_NO_EXTENSIONS=1`` *deselects* every test marked ``c_extension`` (the ``c``
parameter of ``reader_module`` carries that mark), so a pure-Python run reports them as
deselected rather than as skips that look like passes. Without the opt-out, a
``_reader_c`` that fails to import makes those tests error: a broken build is loud.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

C_EXTENSION = "c_extension"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-c-extensions",
        action="store_true",
        default=False,
        help="deselect the tests of the compiled reader (also: RESP3_NO_EXTENSIONS=1)",
    )


def c_extensions_disabled(config: pytest.Config) -> bool:
    """Same reading of RESP3_NO_EXTENSIONS as ``resp3._reader`` ("" and "0" mean enabled)."""
    if config.getoption("--no-c-extensions"):
        return True
    return os.environ.get("RESP3_NO_EXTENSIONS", "") not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not c_extensions_disabled(config):
        return
    deselected = [item for item in items if item.get_closest_marker(C_EXTENSION) is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.get_closest_marker(C_EXTENSION) is None]


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("resp3._reader_py", id="py"),
        pytest.param("resp3._reader_c", id="c", marks=pytest.mark.c_extension),
    ],
)
def reader_module(request: pytest.FixtureRequest) -> ModuleType:
    """One twin (``Reader``, ``encode_command``, ``pack_commands``); ImportError fails the test."""
    name: str = request.param
    return importlib.import_module(name)
