"""``python -m trading``: the same command as the ``ocamlot`` console script."""

from __future__ import annotations

from trading.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
