# outreach — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test fuzz lint typecheck bench smtp-tools clean help

help:
	@echo "make run    set up .venv, then migrate, seed, add sample subscribers, compose and send an issue"
	@echo "make test   set up .venv and run the whole test suite (PostgreSQL too when 127.0.0.1:5432 answers)"
	@echo "make fuzz   the fuzz suite alone, FUZZ_EXAMPLES cases per target (10000; hours on a small machine)"
	@echo "make lint   ruff and mypy"
	@echo "make bench  send, import and enqueue rates, CPU and memory against a local SMTP sink, beside smtp-source,"
	@echo "            on SQLite and PostgreSQL (BENCH_ARGS='--subscribers 100000,1000000'; --help for the rest)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/outreach demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Hypothesis's "fuzz" profile (tests/conftest.py): FUZZ_EXAMPLES cases per target, no time limit per test.
FUZZ_EXAMPLES ?= 10000
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	  $(BIN)/python -m pytest tests/fuzz --timeout=0 --hypothesis-show-statistics $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# smtp-sink and smtp-source come with Debian's postfix package; the postfix daemon itself is never started.
# PostgreSQL: the server at 127.0.0.1:5432 when it answers (`--postgres-url`), else the report says it was left out.
bench: $(STAMP)
	@command -v smtp-sink >/dev/null || test -x /usr/sbin/smtp-sink || $(MAKE) --no-print-directory smtp-tools
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

smtp-tools:
	@if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
	  chmod +x /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT; fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache *.egg-info
