# critmin: `make demo` runs the baseline scenario, `make test` runs the test suite.
# Both create ./.venv on first use (Python >= 3.11; override with `make PYTHON=/path/to/python`).

PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= scenarios/baseline.yaml
DEMO_ARGS ?= -n 5
PYTEST_ARGS ?= -q -n 2

.DEFAULT_GOAL := help
.PHONY: help venv .venv demo test lint clean

help:
	@echo "make demo   run $(SCENARIO) and write results/ (sets up .venv first)"
	@echo "make test   run the test suite (sets up .venv first)"
	@echo "make lint   ruff check"
	@echo "make clean  remove .venv and caches (results/ is kept)"

venv .venv: $(STAMP)

# Reinstalls whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "critmin needs Python >= 3.11; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	  echo "Install python3.11 or run: make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

demo: $(STAMP)
	$(BIN)/critmin run $(SCENARIO) $(DEMO_ARGS)
	@latest=$$(ls -td results/*/*/ 2>/dev/null | head -n 1); \
	  echo; echo "Open $${latest}fill_rate.png; results/README.md explains each file."

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check simulator tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
