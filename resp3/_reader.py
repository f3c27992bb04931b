"""Picks the reader/encoder implementation; the rest of the package imports only this.

The compiled twin (``_reader_c``) is used unless ``RESP3_NO_EXTENSIONS=1`` is set, the
interpreter is not CPython, or the extension fails to import. Type checkers always see
the pure-Python twin, so there is no stub that could drift from the code.
"""

from __future__ import annotations

import os
import platform
from typing import TYPE_CHECKING

NO_EXTENSIONS = (
    os.environ.get("RESP3_NO_EXTENSIONS", "") not in ("", "0")
    or platform.python_implementation() != "CPython"
)

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._reader_py import Reader, encode_command, pack_commands

    IMPLEMENTATION = "python"
else:
    try:
        from ._reader_c import Reader, encode_command, pack_commands

        IMPLEMENTATION = "c"
    except ImportError:  # pragma: no cover - depends on how the package was built
        from ._reader_py import Reader, encode_command, pack_commands

        IMPLEMENTATION = "python"

__all__ = ["IMPLEMENTATION", "Reader", "encode_command", "pack_commands"]
