# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench bench-quick bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## demo: run examples/quickstart.py against the built-in HubSpot emulator (no token, no network)
demo: $(STAMP)
	$(BIN)/python -m hubassoc.testing --port 0 --seed-demo --exec $(BIN)/python examples/quickstart.py

## test: lint, format check, mypy --strict, and every test
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict hubassoc tests examples

pytest: $(STAMP) redis
	$(BIN)/pytest

.PHONY: redis bench-shared

## redis: install redis-server (for the shared rate-limit tests) if missing; without apt they skip
redis:
	@command -v redis-server >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq redis-server) || \
		echo "redis-server could not be installed: the Redis rate-limit tests will be skipped"

## bench-shared: 4 processes, one rate-limited emulator: local limiter vs RedisRateLimit
bench-shared: $(STAMP) redis
	$(BIN)/python bench/bench_shared_limit.py

## bench: hubassoc against raw aiohttp and HubSpot's SDKs, default sizes (~8 min on 2 cores);
## prints the tables and a JSON line, writes bench/results/ and the README's benchmark section
bench: | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/run.py --readme README.md

## bench-quick: the same workloads, the million-id sets cut down (~2 min); writes nothing
bench-quick: | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/run.py --quick

## bench-smoke: the same benchmark at a tiny size, to prove it works (seconds); writes nothing
bench-smoke: | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/run.py --smoke

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist *.egg-info
