"""Scripts and functions through resp3 and redis-py on the same server, both protocols."""

from __future__ import annotations

import hashlib
from typing import Any

from _compare import compare

import resp3

SCRIPT = "redis.call('SET', KEYS[1], ARGV[1]); return {KEYS[1], tonumber(ARGV[1]) + 1, 'ok'}"
SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()
LIBRARY = """#!lua name=testlib
redis.register_function('echo_keys', function(keys, args) return {keys[1], args[1]} end)
redis.register_function{function_name='ro', callback=function(keys, args) return 7 end,
                        flags={'no-writes'}}
"""


def test_eval_and_script_cache(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.script_flush()
        c.script_exists(SHA, "0" * 40)
        c.evalsha(SHA, 1, "k", 41)
        c.script_load(SCRIPT)
        c.script_exists(SHA)
        c.evalsha(SHA, 1, "k", 41)
        c.eval(SCRIPT, 1, "k", 1)
        c.eval("return redis.call('GET', KEYS[1])", 1, "k")
        c.eval("return {1, 'two', {3.5}, false, true}", 0)
        c.eval("return redis.error_reply('nope')", 0)
        c.script_flush("ASYNC")
        c.script_flush("NOW")

    log = compare(r, redispy, script)
    assert log[:5] == [True, [False, False], ("error", "ResponseError"), SHA, [True]]
    assert log[5:8] == [[b"k", 42, b"ok"], [b"k", 2, b"ok"], b"1"]
    assert log[8] == [1, b"two", [3], None, 1]  # Lua: floats truncated, false -> nil
    assert log[9:] == [("error", "ResponseError"), True, ("error", "DataError")]


def test_functions(r: resp3.Redis, redispy: Any) -> None:
    def script(c: Any) -> None:
        c.function_flush()
        c.function_load(LIBRARY)
        c.function_load(LIBRARY)
        c.function_load(LIBRARY, replace=True)
        c.fcall("echo_keys", 1, "k", "v")
        c.fcall_ro("ro", 0)
        c.fcall_ro("echo_keys", 1, "k", "v")
        c.function_delete("testlib")
        c.function_delete("testlib")
        c.function_flush("ASYNC")

    log = compare(r, redispy, script)
    assert log[:2] == [True, b"testlib"]
    assert log[2:7] == [("error", "ResponseError"), b"testlib", [b"k", b"v"], 7, log[6]]
    assert log[6] == ("error", "ResponseError")  # not flagged no-writes
    assert log[7:] == [True, ("error", "ResponseError"), True]


def test_register_script_uses_these_builders(r: resp3.Redis) -> None:
    r.script_flush()
    incr = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert incr(keys=["n"], args=[5]) == 5
    assert incr(keys=["n"], args=[2]) == 7
    assert r.script_exists(incr.sha) == [True]
