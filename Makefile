# critmin: `make demo` compares the seed scenario with the baseline, `make test` runs the tests,
# `make app` opens the workbench in the browser.
# Both create ./.venv on first use (Python >= 3.11; override with `make PYTHON=/path/to/python`).

PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The demo: the 2024 baseline, the threat (China's heavy-REE licences on the US and Japan from
# 2026) and the seed scenario (that threat met by the US-Japan framework), paired by replication.
# The report answers "how much does the framework help against the threat?" first, then "how
# far is each from the baseline?".
DEMO_SCENARIOS ?= scenarios/china_heavy_ree_controls_2026.yaml scenarios/us_japan_framework.yaml \
                  scenarios/baseline.yaml
DEMO_ARGS ?= -n 20 --seed 0 --reference china_heavy_ree_controls_2026 --reference baseline
PYTEST_ARGS ?= -q -n 2

.DEFAULT_GOAL := help
APP_ARGS ?=
.PHONY: help venv .venv demo test app lint docs gallery clean

help:
	@echo "make demo   compare the US-Japan framework scenario with the baseline (sets up .venv)"
	@echo "make test   run the test suite (sets up .venv first)"
	@echo "make app    the workbench: tweak, run and compare scenarios in the browser"
	@echo "make lint   ruff check"
	@echo "make docs   build the documentation site into docs/_build/html"
	@echo "make gallery  rerun the replays: figures and check tables in docs/replays/"
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
	$(BIN)/critmin compare $(DEMO_SCENARIOS) $(DEMO_ARGS)
	@latest=$$(ls -td results/compare/*/ 2>/dev/null | head -n 1); \
	  echo; echo "Open $${latest}report.html (figures, findings, KPI table; works offline)."; \
	  echo "results/README.md explains each file."

# As root on Debian, also installs chromium and chromium-driver (apt) for the browser tests
# unless CRITMIN_NO_APT=1; elsewhere those tests are skipped.
test: $(STAMP)
	@scripts/ensure-chromium.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The workbench on http://127.0.0.1:8050/ (docs/app.md); Ctrl-C stops it.
# `make app APP_ARGS="--port 8051 --no-browser"` passes options.
app: $(STAMP)
	$(BIN)/critmin app $(APP_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check simulator tests benchmarks docs scripts

docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo; echo "Open docs/_build/html/index.html"

gallery: $(STAMP)
	$(BIN)/python docs/_ext/gallery.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
