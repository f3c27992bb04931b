"""``register_script``: EVALSHA first, EVAL on NOSCRIPT (also inside pipelines).

The SHA1 is computed locally, so the first call costs one round trip when the server
already has the script, and two (EVALSHA, then EVAL, which also caches it) when not,
e.g. after ``SCRIPT FLUSH`` or a restart. In a pipeline, ``execute()`` first checks
with SCRIPT EXISTS and loads what is missing, since a NOSCRIPT in the middle of a
batch cannot be repaired after the fact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import NoScriptError

if TYPE_CHECKING:
    from .client import Redis

__all__ = ["Script", "script_sha"]


def script_sha(script: str | bytes, encoding: str) -> str:
    """The SHA1 that EVALSHA names ``script`` by, computed locally (no round trip)."""
    raw = script.encode(encoding) if isinstance(script, str) else script
    return hashlib.sha1(raw).hexdigest()


class Script:
    """A Lua script bound to a client. Call it: ``script(keys=[...], args=[...])``."""

    def __init__(self, registered_client: Redis, script: str | bytes) -> None:
        self.registered_client = registered_client
        self.script = script
        self.sha = script_sha(script, registered_client.config.encoding)

    def __call__(
        self,
        keys: Sequence[Any] = (),
        args: Sequence[Any] = (),
        client: Any = None,
    ) -> Any:
        from .pipeline import Pipeline

        target = client if client is not None else self.registered_client
        if isinstance(target, Pipeline):
            target.scripts.add(self)
            return target.evalsha(self.sha, len(keys), *keys, *args)
        try:
            return target.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            # EVAL both runs and caches the script; the SHA stays the same.
            return target.eval(self.script, len(keys), *keys, *args)
