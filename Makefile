# One entry point. `make run` and `make test` set up .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint bench build clean explore browser

#: A headless Chromium for the browser tests, from the system's packages (Debian/Ubuntu).
CHROMIUM_PACKAGE := chromium-headless-shell

## run: the main job: baseline, article and japan_full to 2055, results and dashboards in outputs/
run: $(INSTALLED)
	$(BIN)/debtloops run baseline article japan_full --out outputs

## test: lint, then the test suite (warnings are errors); installs the browser when root
test: $(INSTALLED) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## bench: time one 30-year run, the sweep path, the explorer's update and the calibration
bench: $(INSTALLED)
	$(BIN)/python benchmarks/run_speed.py
	$(BIN)/python benchmarks/sweep_speed.py
	$(BIN)/python benchmarks/explorer_speed.py
	$(BIN)/python benchmarks/calibrate_speed.py

## explore: the live explorer at http://127.0.0.1:5006/
explore: $(INSTALLED)
	$(BIN)/debtloops explore

## browser: headless Chromium for the browser tests, via apt-get when run as root and missing
## (elsewhere the browser tests are skipped, with the reason; under CI=true that is a failure)
browser:
	@if command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && apt-get install -y -qq $(CHROMIUM_PACKAGE); \
	else \
		echo "no headless Chromium: the browser tests will be skipped (as root: apt-get install -y $(CHROMIUM_PACKAGE))"; \
	fi

## build: translate the .mdl with pysd (run does it on its own when the .mdl changes)
build: $(INSTALLED)
	$(BIN)/debtloops build --force

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,app]'
	touch $(INSTALLED)

clean:
	rm -rf $(VENV) models/.build
