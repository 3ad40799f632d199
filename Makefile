# One entry point. `make run` and `make test` set up .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint bench build clean

## run: the main job: baseline, article and japan_full to 2055, results and dashboards in outputs/
run: $(INSTALLED)
	$(BIN)/debtloops run baseline article japan_full --out outputs

## test: lint, then the test suite (warnings are errors)
test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## bench: time one 30-year run and the sweep path
bench: $(INSTALLED)
	$(BIN)/python benchmarks/run_speed.py
	$(BIN)/python benchmarks/sweep_speed.py

## build: translate the .mdl with pysd (run does it on its own when the .mdl changes)
build: $(INSTALLED)
	$(BIN)/debtloops build --force

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

clean:
	rm -rf $(VENV) models/.build
