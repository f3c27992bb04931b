"""Types of the compiled twin: the same signatures as ``resp3._reader_py``."""

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["DEFAULT_MAX_BULK_LEN", "DEFAULT_MAX_DEPTH", "Reader", "encode_command", "pack_commands"]

DEFAULT_MAX_BULK_LEN: int
DEFAULT_MAX_DEPTH: int
MAX_NUMBER_LINE: int

class Reader:
    def __init__(
        self,
        protocol: int = 3,
        encoding: str | None = None,
        errors: str = "strict",
        max_bulk_len: int = ...,
        max_depth: int = ...,
    ) -> None: ...
    @property
    def protocol(self) -> int: ...
    @protocol.setter
    def protocol(self, value: int) -> None: ...
    @property
    def encoding(self) -> str | None: ...
    @property
    def attributes(self) -> dict[Any, Any] | None: ...
    def buffered(self) -> int: ...
    def feed(
        self, data: bytes | bytearray | memoryview, offset: int = 0, length: int = -1
    ) -> None: ...
    def gets(self) -> Any: ...
    def gets_all(self) -> list[Any]: ...

def encode_command(*args: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes: ...
def pack_commands(
    commands: Iterable[Sequence[Any]], encoding: str = "utf-8", errors: str = "strict"
) -> bytes: ...
