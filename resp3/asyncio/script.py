"""``register_script`` for asyncio: EVALSHA first, EVAL on NOSCRIPT, pipelines too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import NoScriptError
from ..script import script_sha

if TYPE_CHECKING:
    from .client import Redis

__all__ = ["Script"]


class Script:
    def __init__(self, registered_client: Redis, script: str | bytes) -> None:
        self.registered_client = registered_client
        self.script = script
        self.sha = script_sha(script, registered_client.config.encoding)

    def __call__(
        self, keys: Sequence[Any] = (), args: Sequence[Any] = (), client: Any = None
    ) -> Any:
        """Returns an awaitable; with a pipeline as ``client``, queues and returns it."""
        from .pipeline import Pipeline

        target = client if client is not None else self.registered_client
        if isinstance(target, Pipeline):
            target.scripts.add(self)
            return target.evalsha(self.sha, len(keys), *keys, *args)
        return self._run(target, keys, args)

    async def _run(self, target: Redis, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        try:
            return await target.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await target.eval(self.script, len(keys), *keys, *args)
