# Set-up and everyday commands. `make demo` and `make test` are the two README commands.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: install demo test lint lock bench clean bench-install bench-lock bench-link bench-kabupaten

install: $(STAMP)

# Installs exactly what requirements.lock pins (uv for speed; pip reads the same file).
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	# Byte-compile the libraries once: where PYTHONDONTWRITEBYTECODE is set, every process (each test
	# worker, each Airflow run) would otherwise recompile Airflow and Great Expectations on import.
	$(BIN)/python -m compileall -q -j 2 $(VENV)/lib/python3.11/site-packages > /dev/null || true
	touch $@

demo: install
	$(BIN)/dtks demo

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-resolve the pins after editing pyproject.toml.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal \
		--no-header -q -o requirements.lock

# The linkage benchmark's extra (Splink 5 + DuckDB), pinned apart so it never enters requirements.lock.
bench-lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --universal \
		--no-header -q -c requirements.lock -o requirements-bench.lock

# Constrained by requirements.lock: the benchmark extra never changes a runtime pin (if the two locks
# disagree, this fails: re-run `make bench-lock`).
bench-install: install
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-bench.lock -c requirements.lock

# Our linkage against Splink on one generated quarter (PERSONS=1000000 for kabupaten scale).
PERSONS ?= 100000
bench-link: bench-install
	$(BIN)/python benchmarks/bench_link.py --persons $(PERSONS)

# A kabupaten quarter end to end (`dtks run`, PostgreSQL) against Splink's linkage of it (issue 13).
KAB_PERSONS ?= 1000000
bench-kabupaten: bench-install
	$(BIN)/python benchmarks/bench_kabupaten.py --persons $(KAB_PERSONS)

clean:
	rm -rf .dtks reports
