# perpfleet developer entry points. Everything works from a fresh clone with
# Python >= 3.11 and make; the virtualenv lives in .venv, runtime files in var/.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

VAR    := $(or $(PERPFLEET_VAR_DIR),var)

.PHONY: help install test lint format bench run fleet-up fleet-down demo clean clean-all

help:
	@echo "make install   create .venv, install perpfleet + dev tools, migrate the default database"
	@echo "make test      install if needed, then lint (ruff, mypy) and run the test suite"
	@echo "make lint      ruff check + ruff format --check + mypy + the layers contract (lint-imports)"
	@echo "make format    apply ruff's fixes and formatting"
	@echo "make bench     run the benchmarks in bench/ (medians, machine noted)"
	@echo "make run       run the paper grid bot in the foreground (CONFIG=... for another; Ctrl-C stops)"
	@echo "make fleet-up  start supervisord under var/supervisor and every bot meant to run"
	@echo "make fleet-down  stop every bot gracefully, then supervisord"
	@echo "make demo      fleet-up + a paper grid bot + a paper funding-arb bot + the funding-rate service + the dashboard"
	@echo "make clean     remove .venv and caches (refused while the fleet runs; keeps var/)"
	@echo "make clean-all clean + delete var/: database, master key, fleet files (say goodbye)"

# Re-installs only when pyproject.toml changes, so re-running is fast.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "perpfleet needs Python >= 3.11; found " + sys.version.split()[0] + " (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	$(BIN)/python -m database init

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

CONFIG ?= configs/paper_grid.yml
run: install
	$(BIN)/python runbot.py --config $(CONFIG)

fleet-up: install
	$(BIN)/python -m fleet up

fleet-down: $(STAMP)
	$(BIN)/python -m fleet down

# The demo's bots have names of their own (demo-grid-btc, demo-arb), so `make run` next to
# the demo never runs a second process of a demo bot. Re-runnable: after `make fleet-down`,
# `fleet up` brings the demo bots back and the launches find them running.
FUNDING_PORT   ?= 8710
DASHBOARD_PORT ?= 8720
demo: install
	$(BIN)/python -m fleet up
	$(BIN)/python -m fleet launch configs/demo_grid.yml --ok-if-running
	$(BIN)/python -m fleet launch configs/demo_funding_arb.yml --ok-if-running
	$(BIN)/python -m fleet service start funding --port $(FUNDING_PORT)
	$(BIN)/python -m fleet service start dashboard --port $(DASHBOARD_PORT)
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then $(BIN)/python -m fleet telegram; fi
	@sleep $(or $(DEMO_SETTLE_SECONDS),5)
	$(BIN)/python -m fleet list
	@echo
	@echo "Two paper bots are trading under supervisord ($(VAR)/supervisor/)."
	@echo "  logs:   $(BIN)/python -m fleet logs demo-grid-btc"
	@echo "  funding-rate service: http://127.0.0.1:$(FUNDING_PORT)/api/v1/health"
	@echo "  dashboard: http://127.0.0.1:$(DASHBOARD_PORT)/"
	@echo "    first admin (once): $(BIN)/python -m dashboard users add admin --role admin   (asks the password twice)"
	@echo "  stop:   make fleet-down"

# Deleting files under running bots orphans them (and their orders): both targets refuse
# while supervisord runs. Only clean-all deletes var/, and it says what that destroys first.
define refuse_while_fleet_runs
	@pid=$$(cat $(VAR)/supervisor/supervisord.pid 2>/dev/null); \
	if [ -n "$$pid" ] && ps -p "$$pid" -o args= 2>/dev/null | grep -q supervisord; then \
		echo "the fleet is running (supervisord pid $$pid): run 'make fleet-down' first; nothing was deleted" >&2; \
		exit 1; \
	fi
endef

clean:
	$(refuse_while_fleet_runs)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf *.egg-info build dist
	@echo "$(VAR)/ kept (database, master key, fleet files); 'make clean-all' deletes it"

clean-all:
	$(refuse_while_fleet_runs)
	@echo "deleting $(VAR)/ for good:"
	@echo "  - the SQLite database (accounts, encrypted credentials, bots, orders, fills, PnL)"
	@echo "  - master.key: credentials encrypted with it can never be decrypted again"
	@echo "  - supervisor/ and fleet/: program files, control tokens, logs"
	rm -rf $(VAR)
	@$(MAKE) --no-print-directory clean
