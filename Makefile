# Two commands on a fresh machine: `make test` and `make demo`. Both build .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv test test-pure test-fast lint typecheck demo bench bench-reader build clean

$(STAMP): pyproject.toml setup.py resp3/_reader_c.pyx
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel "Cython>=3.0.10"
	$(PY) -m pip install --quiet --no-build-isolation -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The whole suite: both reader twins, unit + server tests, typing checks.
test: $(STAMP)
	$(PY) -m pytest -q
	RESP3_NO_EXTENSIONS=1 $(PY) -m pytest -q tests/unit -m "not c_extension"
	$(PY) -m mypy

test-fast: $(STAMP)
	$(PY) -m pytest -q -x tests/unit

lint: $(STAMP)
	$(PY) -m ruff check resp3 trading tests bench
	$(PY) -m ruff format --check resp3 trading tests bench
	$(PY) -m mypy

typecheck: $(STAMP)
	$(PY) -m mypy

demo: $(STAMP)
	$(PY) -m trading demo

bench: $(STAMP)
	$(PY) bench/bench_reader.py
	$(PY) bench/bench_encoder.py

build: $(STAMP)
	$(PY) -m build

clean:
	rm -rf build dist *.egg-info resp3/_reader_c.c resp3/*.so .pytest_cache .mypy_cache
