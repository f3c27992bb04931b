"""encode_command / pack_commands against both twins: what each argument type becomes.

A command is a RESP array of bulk strings. Errors are DataError (also a TypeError) that
name the argument position, the command number inside a batch, and the type, and no
bytes are returned unless every argument encoded.
"""

from __future__ import annotations

import enum
import math
from array import array
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from resp3.errors import DataError


def bulk(payload: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(payload), payload)


def command(*payloads: bytes) -> bytes:
    return b"*%d\r\n" % len(payloads) + b"".join(bulk(p) for p in payloads)


class Color(enum.IntEnum):
    RED = 7

    def __str__(self) -> str:
        return "red"


class LoudInt(int):
    def __repr__(self) -> str:
        return "LoudInt!"


class LoudFloat(float):
    def __repr__(self) -> str:
        return "LoudFloat!"


ARGUMENTS = [
    (b"", b""),
    (b"SET", b"SET"),
    (b"a\r\nb\x00", b"a\r\nb\x00"),
    (bytearray(b"ba"), b"ba"),
    (memoryview(b"xmvx")[1:3], b"mv"),
    (memoryview(bytearray(b"rw")), b"rw"),
    (memoryview(b"abcdef")[::2], b"ace"),
    (memoryview(array("i", [1, -2])), array("i", [1, -2]).tobytes()),
    (memoryview(array("d", [1.5])), array("d", [1.5]).tobytes()),
    (memoryview(bytes(range(6))).cast("B", (2, 3)), bytes(range(6))),
    ("", b""),
    ("key", b"key"),
    ("é€😀", "é€😀".encode()),
    (0, b"0"),
    (-1, b"-1"),
    (2**63, b"9223372036854775808"),
    (-(2**200), str(-(2**200)).encode()),
    (Color.RED, b"7"),
    (LoudInt(5), b"5"),
    (1.5, b"1.5"),
    (0.1, b"0.1"),
    (-0.0, b"-0.0"),
    (1e16, b"1e+16"),
    (1 / 3, b"0.3333333333333333"),
    (2.0**-1074, b"5e-324"),
    (math.inf, b"inf"),
    (-math.inf, b"-inf"),
    (LoudFloat(2.5), b"2.5"),
]


@pytest.mark.parametrize(("arg", "payload"), ARGUMENTS, ids=[repr(a) for a, _ in ARGUMENTS])
def test_argument_encoding(reader_module: ModuleType, arg: Any, payload: bytes) -> None:
    encoded = reader_module.encode_command(b"ECHO", arg)
    assert type(encoded) is bytes
    assert encoded == command(b"ECHO", payload)
    assert reader_module.pack_commands([(b"ECHO", arg)]) == encoded


def test_str_encoding_and_errors(reader_module: ModuleType) -> None:
    encode = reader_module.encode_command
    assert encode("é", encoding="latin-1") == command(b"\xe9")
    assert encode("é", encoding="utf-16-le") == command(b"\xe9\x00")
    assert encode("aé", encoding="ascii", errors="replace") == command(b"a?")
    assert encode("\udcff", errors="surrogateescape") == command(b"\xff")
    pack = reader_module.pack_commands
    assert pack([("é",), ("€",)], "latin-1", "replace") == command(b"\xe9") + command(b"?")


def test_unencodable_str(reader_module: ModuleType) -> None:
    with pytest.raises(DataError) as info:
        reader_module.encode_command("SET", "k", "\ud800")
    assert str(info.value) == (
        "argument 2: cannot encode str as utf-8: 'utf-8' codec can't encode character "
        "'\\ud800' in position 0: surrogates not allowed"
    )
    with pytest.raises(DataError, match=r"^argument 0: cannot encode str as ascii: "):
        reader_module.encode_command("é", encoding="ascii")


class Opaque:
    pass


@pytest.mark.parametrize(
    "arg",
    [None, True, False, {"a": 1}, [b"a"], (b"a",), {b"a"}, Opaque(), Decimal("1.5"), 1j, b"x".hex],
    ids=lambda a: type(a).__name__,
)
def test_rejected_types_name_position_and_type(reader_module: ModuleType, arg: Any) -> None:
    with pytest.raises(DataError) as info:
        reader_module.encode_command("SET", "key", arg)
    assert isinstance(info.value, TypeError)
    assert str(info.value) == (
        f"argument 2: invalid type {type(arg).__name__}; "
        "expected bytes, bytearray, memoryview, str, int or float"
    )


def test_int_past_the_interpreter_digit_limit(reader_module: ModuleType) -> None:
    assert reader_module.encode_command(10**4299) == command(b"1" + b"0" * 4299)
    with pytest.raises(DataError, match=r"^argument 1: cannot encode int: Exceeds the limit"):
        reader_module.encode_command("SET", 10**4300)


def test_released_memoryview(reader_module: ModuleType) -> None:
    view = memoryview(b"gone")
    view.release()
    with pytest.raises(DataError) as info:
        reader_module.encode_command("ECHO", view)
    assert str(info.value) == (
        "argument 1: cannot encode memoryview: operation forbidden on released memoryview object"
    )


def test_empty_command_is_rejected(reader_module: ModuleType) -> None:
    with pytest.raises(DataError) as info:
        reader_module.encode_command()
    assert str(info.value) == "empty command: the server would never answer it"
    with pytest.raises(DataError) as info:
        reader_module.pack_commands([("PING",), ()])
    assert str(info.value) == "command 1: empty command: the server would never answer it"


def test_pack_commands_concatenates_commands(reader_module: ModuleType) -> None:
    commands = [("SET", b"k", 1), [b"GET", bytearray(b"k")], ("INCRBYFLOAT", "k", 0.5)]
    expected = b"".join(reader_module.encode_command(*c) for c in commands)
    assert expected == (
        command(b"SET", b"k", b"1") + command(b"GET", b"k") + command(b"INCRBYFLOAT", b"k", b"0.5")
    )
    assert reader_module.pack_commands(commands) == expected
    assert reader_module.pack_commands(iter(commands)) == expected
    assert reader_module.pack_commands(c for c in commands) == expected
    assert reader_module.pack_commands([]) == b""


def test_pack_commands_is_all_or_nothing(reader_module: ModuleType) -> None:
    consumed: list[int] = []

    def commands() -> Any:
        for number, args in enumerate([("SET", "a", 1), ("SET", "b", 2), ("SET", "c", None)]):
            consumed.append(number)
            yield args

    with pytest.raises(DataError) as info:
        reader_module.pack_commands(commands())
    assert str(info.value) == (
        "command 2: argument 2: invalid type NoneType; "
        "expected bytes, bytearray, memoryview, str, int or float"
    )
    assert consumed == [0, 1, 2]


def test_encoder_copies_mutable_arguments(reader_module: ModuleType) -> None:
    buf = bytearray(b"before")
    encoded = reader_module.encode_command(buf, memoryview(buf))
    buf[:] = b"AFTER!"
    assert encoded == command(b"before", b"before")
