# The two set-up commands: `make run` and `make test`. Both work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test bench class chromium clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test: requirements-test.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# Debian's chromium for the browser tests (Playwright drives it; it downloads no browser of its own).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is missing and you are not root: the browser tests will be skipped (sudo apt-get install chromium)"; \
	  fi; \
	fi

# One BLAS thread per app process (measured: README, "BLAS threads"); lab.server sets it when unset.
export OPENBLAS_NUM_THREADS ?= 1

run: $(VENV)/.runtime
	$(PY) -m lab.server --server.port $(PORT)

# A class: two app processes (one per core) behind HAProxy with sticky sessions (deploy/haproxy.cfg).
class: $(VENV)/.runtime
	@command -v haproxy >/dev/null || { echo "make class needs haproxy: apt-get install haproxy"; exit 1; }
	$(PY) -m lab.server --server.port 8601 & $(PY) -m lab.server --server.port 8602 & haproxy -f deploy/haproxy.cfg

test: $(VENV)/.test chromium
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -q

bench: $(VENV)/.test
	OPENBLAS_NUM_THREADS=1 $(PY) bench/engine.py
	OPENBLAS_NUM_THREADS=1 $(PY) bench/planning.py
	OPENBLAS_NUM_THREADS=1 $(PY) bench/scale.py
	$(PY) bench/pages.py
	$(PY) bench/upload.py
	$(PY) bench/load.py --page random-slopes
	$(PY) bench/load.py --page shrinkage

clean:
	rm -rf $(VENV) tests/artifacts .pytest_cache .hypothesis
