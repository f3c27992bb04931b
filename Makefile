# Two commands on a fresh machine: `make test` and `make demo`. Both build .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST := $(PY) -m pytest -q

.PHONY: venv test test-unit test-pure lint format typecheck demo bench build clean

$(STAMP): pyproject.toml setup.py resp3/_reader_c.pyx
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools>=77" wheel "Cython>=3.0.10"
	$(PY) -m pip install --quiet --no-build-isolation -e '.[dev]'
	$(PY) -c "import resp3; assert resp3.IMPLEMENTATION == 'c', 'compiled reader not built'"
	touch $(STAMP)

venv: $(STAMP)

# The whole suite: unit tests on both reader twins, server tests with the compiled
# reader, the server tests again with the pure-Python reader, then the type checks.
test: $(STAMP)
	$(PYTEST)
	RESP3_NO_EXTENSIONS=1 $(PYTEST) tests/server -m "not c_extension"
	$(PY) -m mypy

test-unit: $(STAMP)
	$(PYTEST) tests/unit

test-pure: $(STAMP)
	RESP3_NO_EXTENSIONS=1 $(PYTEST) -m "not c_extension"

lint: $(STAMP)
	$(PY) -m ruff check resp3 trading tests bench
	$(PY) -m ruff format --check resp3 trading tests bench
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff format resp3 trading tests bench
	$(PY) -m ruff check --fix resp3 trading tests bench

typecheck: $(STAMP)
	$(PY) -m mypy

# Market data published to a throw-away server and read back, then orders through
# pre-trade risk to the paper venue while the publisher runs (fills, denials, P&L).
demo: $(STAMP)
	$(PY) -m trading demo --duration 5
	$(PY) examples/orders_demo.py --duration 5

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]' || true
	$(PY) bench/bench_reader.py
	$(PY) bench/bench_encoder.py
	$(PY) bench/bench_sync.py
	$(PY) bench/bench_async.py
	$(PY) bench/bench_market_data.py
	$(PY) bench/bench_oms.py
	$(PY) bench/bench_risk.py
	$(PY) bench/bench_fix.py
	$(PY) bench/bench_cluster.py

build: $(STAMP)
	$(PY) -m build

clean:
	rm -rf build dist *.egg-info resp3/_reader_c.c resp3/*.so .pytest_cache .mypy_cache
