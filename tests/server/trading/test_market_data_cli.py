"""``python -m trading`` end to end, as a user runs it (subprocesses, real servers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import resp3
from resp3.testing import RedisServer
from trading.cli import default_redis_url

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "market_data.json"


def _run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "trading", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _server_env(server: RedisServer) -> dict[str, str]:
    return {"REDIS_HOST": server.host, "REDIS_PORT": str(server.port)}


def test_market_data_publishes_for_the_given_duration(
    server: RedisServer, client: resp3.Redis
) -> None:
    result = _run(
        "market-data", "--config", str(EXAMPLE), "--duration", "1", "--seed", "3",
        "--prefix", "cli", env=_server_env(server),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "dropped 0" in result.stdout
    assert f"to redis://{server.host}:{server.port}/0" in result.stderr
    published = int(result.stdout.split("published ")[1].split()[0])
    lengths = [client.xlen(f"cli:{{{s}}}:ticks") for s in ("AAPL", "GOOGL", "MSFT", "TSLA")]
    assert sum(lengths) == published and 5 <= min(lengths) <= max(lengths) <= 10
    assert client.hget("cli:{TSLA}:last", "v") == b"1"


def test_market_data_backfills_then_stops_at_duration_zero(
    server: RedisServer, client: resp3.Redis
) -> None:
    result = _run(
        "market-data", "--config", str(EXAMPLE), "--backfill", "250", "--duration", "0",
        "--redis-url", server.url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "backfilled 250 steps: 1000 ticks written" in result.stdout
    assert client.xlen("md:{TSLA}:ticks") == 250


def test_market_data_reports_a_bad_config_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"symbols": [], "frequency_ms": 0}')
    result = _run("market-data", "--config", str(bad), "--duration", "0")
    assert result.returncode == 2
    assert "configuration problems in" in result.stderr and "$.frequency_ms" in result.stderr


def test_default_url_comes_from_the_environment() -> None:
    assert default_redis_url({}) == "redis://localhost:6379/0"
    assert default_redis_url({"REDIS_HOST": "h", "REDIS_PORT": "7000"}) == "redis://h:7000/0"
    with pytest.raises(ValueError, match="REDIS_PORT must be a port number"):
        default_redis_url({"REDIS_PORT": "x"})


def test_demo_runs_end_to_end() -> None:
    result = _run("demo", "--duration", "2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "ticks/s" in out and "history read back with load_history" in out
    assert out.rstrip().endswith("server stopped")
    rows = [line.split() for line in out.splitlines() if line.startswith("  ") and "(" in line]
    assert [row[0] for row in rows] == ["AAPL", "GOOGL", "MSFT", "TSLA"]
    published = int(out.split("published ")[1].split()[0])
    assert sum(int(row[1]) for row in rows) == published and all(int(row[1]) >= 10 for row in rows)


def test_sigterm_finishes_the_batch_and_prints_the_summary(
    server: RedisServer, client: resp3.Redis
) -> None:
    command = [sys.executable, "-m", "trading", "market-data", "--config", str(EXAMPLE)]
    command += ["--redis-url", server.url, "--prefix", "sig"]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while client.xlen("sig:{AAPL}:ticks") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "SIGTERM received: finishing the current batch" in err
    published = int(out.split("published ")[1].split()[0])
    assert published == 4 * client.xlen("sig:{AAPL}:ticks") >= 12
