# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHROMIUM := /usr/bin/chromium

.PHONY: run test bench clean

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/alliance serve

# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest

bench: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python -O tests/benchmarks/bench_domain.py
	$(BIN)/python -O tests/benchmarks/bench_sync.py
	$(BIN)/python -O tests/benchmarks/bench_wrk.py
	$(BIN)/python -O tests/benchmarks/bench_pull_behind.py
	$(BIN)/python -O tests/benchmarks/bench_scale.py

clean:
	rm -rf $(VENV) data
