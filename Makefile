# Chirp: `make run` brings the whole mesh up on this machine; `make test` runs the suite.
# Everything is installed from the project's own files into .venv/ and node_modules/.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help install gen check-gen lint-protos run test test-fast envoy-config clean

help:
	@echo "make run        start NATS, Valkey, every service and Envoy on 127.0.0.1 (data in var/)"
	@echo "make test       install everything and run the whole suite"
	@echo "make gen        regenerate gen/ from protos/ (commit the result)"
	@echo "make clean      remove the virtualenv, node_modules and var/"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP) node_modules/.installed

gen: $(STAMP)
	$(PY) -m tools.protogen

check-gen: $(STAMP)
	$(PY) -m tools.protogen --check

run: $(STAMP)
	$(PY) -m services.runtime.mesh run

test: install
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) node_modules var .pytest_cache

# Benchmarks (bench/README.md): the real mesh on its own ports against a ceiling measured in the same
# run. Not part of `make test`; results go to bench/results/.
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: bench bench-quick bench-profile

# What bench-profile offers, and at what rate: any sweep scenario, e.g. mixed@25.
PROFILE ?= home_timeline@70

$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(PY) -m bench

bench-quick: $(BENCH_STAMP)
	$(PY) -m bench --quick

bench-profile: $(BENCH_STAMP)
	$(PY) -m bench --quick --profile $(PROFILE)
