"""Commands as data: ``Command`` (arguments + reply decoder) and the ``command`` descriptor.

Every Redis command is written once, as an I/O-free *builder* that validates its
arguments and returns a :class:`Command`. A mixin declares ``get = command(strings.get)``;
the descriptor installs one plain function on the class that calls
``self._execute(builder(*args, **kwargs))``. Each client kind implements ``_execute``:

* ``resp3.Redis``: send, read, raise an error reply, decode -> ``T``;
* ``resp3.asyncio.Redis``: the same as an awaitable -> ``Awaitable[T]``;
* pipelines: queue the command and return the pipeline, for chaining.

The overloads of ``__get__`` tell the type checker which of the three a method returns,
so the 200 methods are fully typed without being written three times. At run time the
descriptor is gone (replaced in ``__set_name__``), so a call costs one ordinary bound
method call, one builder call and one ``Command`` allocation.

A decoder receives the reply *after* error replies were raised, so it only ever sees
the success shape. It must accept both ``bytes`` and ``str`` strings (``decode_responses``)
and, where RESP2 differs, both protocol shapes (``decode2`` when they differ much).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

__all__ = [
    "BLOCKING",
    "IDEMPOTENT",
    "READONLY",
    "AsyncExecutor",
    "Command",
    "Executor",
    "PipelineExecutor",
    "command",
]

T = TypeVar("T")
P = ParamSpec("P")
PipeT = TypeVar("PipeT", bound="PipelineExecutor")

# Flags. READONLY: no side effect, safe to re-send after a broken connection.
# IDEMPOTENT: a write whose repetition changes neither the data nor the reply (SET k v),
# also safe to re-send. BLOCKING: may hold the connection (BLPOP, XREAD BLOCK...), so
# the asyncio client gives it a dedicated connection instead of the shared one.
READONLY = 1
IDEMPOTENT = 2
BLOCKING = 4
RETRY_SAFE = READONLY | IDEMPOTENT


class Command(Generic[T]):
    """One command: ``args`` to encode, ``decode`` for the RESP3 reply, flags.

    ``decode2`` decodes the RESP2 shape when it differs (``None``: use ``decode``).
    ``keys`` lists the positions of key arguments in ``args``, for cluster routing.
    """

    __slots__ = ("args", "decode", "decode2", "flags")

    def __init__(
        self,
        args: tuple[Any, ...],
        decode: Callable[[Any], T] | None = None,
        *,
        decode2: Callable[[Any], T] | None = None,
        flags: int = 0,
    ) -> None:
        self.args = args
        self.decode = decode
        self.decode2 = decode2
        self.flags = flags

    @property
    def name(self) -> str:
        first = self.args[0]
        return first.decode() if isinstance(first, bytes) else str(first)

    def __repr__(self) -> str:
        return f"Command({self.args!r})"


class Executor:
    """Marker base: a client whose command methods return the decoded value."""

    def _execute(self, cmd: Command[Any]) -> Any:
        raise NotImplementedError


class AsyncExecutor:
    """Marker base: a client whose command methods return an awaitable."""

    def _execute(self, cmd: Command[Any]) -> Any:
        raise NotImplementedError


class PipelineExecutor:
    """Marker base: a pipeline, whose command methods queue and return the pipeline."""

    def _execute(self, cmd: Command[Any]) -> Any:
        raise NotImplementedError


class command(Generic[P, T]):  # lower case: used like ``property``
    """Descriptor turning a builder ``(...) -> Command[T]`` into a client method."""

    def __init__(self, builder: Callable[P, Command[T]]) -> None:
        self.builder = builder
        self.__doc__ = builder.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        builder = self.builder

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self._execute(builder(*args, **kwargs))

        functools.update_wrapper(method, builder)
        method.__name__ = name
        method.__qualname__ = f"{owner.__qualname__}.{name}"
        setattr(owner, name, method)

    if TYPE_CHECKING:

        @overload
        def __get__(self, obj: None, owner: type) -> command[P, T]: ...
        @overload
        def __get__(self, obj: Executor, owner: type) -> Callable[P, T]: ...
        @overload
        def __get__(self, obj: AsyncExecutor, owner: type) -> Callable[P, Awaitable[T]]: ...
        @overload
        def __get__(self, obj: PipeT, owner: type) -> Callable[P, PipeT]: ...
        def __get__(self, obj: object, owner: type) -> Any: ...


# Argument aliases used by every builder's signature (redis-py's KeyT / EncodableT).
Key = bytes | str | memoryview
Value = bytes | bytearray | memoryview | str | int | float
