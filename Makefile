# Gatehouse: `make demo` runs the product on its embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SANDBOX_PORT ?= 8101

.PHONY: demo test lint bench clean

# What production runs (requirements.txt); the demo needs nothing more.
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The test, lint and benchmark tools on top (requirements-dev.txt).
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_load
	$(PY) manage.py demo_serve --port $(PORT) --sandbox-port $(SANDBOX_PORT)

test: $(VENV)/.installed-dev
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff, then the layers (import-linter contracts in pyproject.toml).
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache --no-logo

clean:
	rm -rf $(VENV) var

# Benchmarks against PostgreSQL (BENCH_DATABASE_URL, default .../gatehouse_bench, recreated each time).
# `make bench BENCH=perfectgym` runs one.
bench: $(VENV)/.installed-dev
	$(PY) -m bench.run $(BENCH)
