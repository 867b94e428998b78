# perpfleet developer entry points. Everything works from a fresh clone with
# Python >= 3.11 and make; the virtualenv lives in .venv, runtime files in var/.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: help install test lint format bench run fleet-up fleet-down demo clean

help:
	@echo "make install   create .venv, install perpfleet + dev tools, migrate the default database"
	@echo "make test      install if needed, then lint (ruff, mypy) and run the test suite"
	@echo "make lint      ruff check + ruff format --check + mypy"
	@echo "make format    apply ruff's fixes and formatting"
	@echo "make bench     run the benchmarks in bench/ (medians, machine noted)"
	@echo "make run       run the paper grid bot in the foreground (CONFIG=... for another; Ctrl-C stops)"
	@echo "make fleet-up  start supervisord under var/supervisor and load every bot program"
	@echo "make fleet-down  stop every bot gracefully, then supervisord"
	@echo "make demo      fleet-up + a paper grid bot + a paper funding-arb bot, then their status"
	@echo "make clean     remove .venv, var/ and caches"

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

demo: install
	$(BIN)/python -m fleet up
	$(BIN)/python -m fleet launch configs/paper_grid.yml --ok-if-running
	$(BIN)/python -m fleet launch configs/paper_funding_arb.yml --ok-if-running
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then $(BIN)/python -m fleet telegram; fi
	@sleep 5
	$(BIN)/python -m fleet list
	@echo
	@echo "Two paper bots are trading under supervisord (var/supervisor/)."
	@echo "  logs:   $(BIN)/python -m fleet logs grid-btc-paper"
	@echo "  stop:   make fleet-down"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf *.egg-info build dist
