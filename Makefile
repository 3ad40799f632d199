# One entry point. `make run` and `make test` set up .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
#: The exact versions of the development environment (make lock writes it; .venv installs it).
LOCK := requirements/dev.lock
#: The lock holds for every platform and for this Python and newer (pyproject's requires-python).
LOCK_PYTHON := 3.11
#: Environments with the newest releases and with the lowest versions pyproject.toml allows.
LATEST := .venv-latest
LOWEST := .venv-lowest
#: The tests test-lowest runs (override: make test-lowest LOWEST_TESTS=tests).
LOWEST_TESTS := tests/test_model.py tests/test_scenarios.py tests/test_bonds.py \
	tests/test_simlin.py tests/test_sweep_spec.py tests/test_sweep_analysis.py \
	tests/test_calibration.py tests/test_cli.py

#: Where make docs writes the documentation site (git-ignored, like all of build/).
SITE := build/site

.PHONY: run test test-fast lint bench build clean explore browser lock test-latest test-lowest \
	mutation docs holders

#: pytest's workers (pytest-xdist) for make test and make test-fast: one per core.
WORKERS := auto
#: The tests make test-fast leaves out (markers in pyproject.toml): those that need a browser,
#: a wheel, a notebook kernel, an MCMC chain or a killed process. The slow ones stay in.
FAST := not (browser or install or notebook or mcmc or killed)
#: coverage.py's JSON report of make test, read by tests/coverage_packages.py (git-ignored).
COVERAGE_JSON := coverage.json

#: A headless Chromium for the browser tests, from the system's packages (Debian/Ubuntu).
CHROMIUM_PACKAGE := chromium-headless-shell

## run: the main job: baseline, article and japan_full to 2055, results and dashboards in outputs/
run: $(INSTALLED)
	$(BIN)/debtloops run baseline article japan_full --out outputs

## test: lint (ruff and mypy), then the whole test suite in parallel (our warnings are errors), in
## .venv as locked, with the coverage of each package and the floor pyproject.toml sets; installs
## the browser when root
test: $(INSTALLED) browser lint
	$(BIN)/python -m pytest -n $(WORKERS) --cov --cov-report=term \
		--cov-report=json:$(COVERAGE_JSON); status=$$?; \
	$(BIN)/python tests/coverage_packages.py $(COVERAGE_JSON) && exit $$status

## test-fast: the quick tier in parallel: every test but the markers FAST leaves out
test-fast: $(INSTALLED)
	$(BIN)/python -m pytest -n $(WORKERS) -m "$(FAST)"

## lock: re-resolve $(LOCK) to the newest releases within pyproject.toml's ranges; then run
## make test and commit the lock with the code it passed with
lock: $(INSTALLED)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra app --extra docs --universal \
		--python-version $(LOCK_PYTHON) --upgrade --custom-compile-command "make lock" -o $(LOCK)

## test-latest: the suite against the newest releases pyproject.toml allows, in $(LATEST)
test-latest: $(INSTALLED) browser
	rm -rf $(LATEST)
	$(BIN)/uv venv --quiet --python $(PYTHON) $(LATEST)
	$(BIN)/uv pip install --quiet --python $(LATEST)/bin/python --upgrade -e '.[dev,app]'
	$(LATEST)/bin/python -m pytest

## test-lowest: a fast subset of the tests against the lowest versions pyproject.toml names for
## the direct dependencies, in $(LOWEST)
test-lowest: $(INSTALLED)
	rm -rf $(LOWEST)
	$(BIN)/uv venv --quiet --python $(PYTHON) $(LOWEST)
	$(BIN)/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct \
		-e '.[dev,app]'
	$(LOWEST)/bin/python -m pytest $(LOWEST_TESTS)

## docs: the documentation site (mkdocs-material, strict: a broken link or reference fails) in
## $(SITE); the model's variable reference is generated from the .mdl as it builds
docs: $(INSTALLED)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(SITE)

## lint: ruff's checks and format, and mypy's type check of analysis/debtloops (pyproject.toml)
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## mutation: mutmut on the pure modules (nightly, not in CI: it runs the tests once per mutant);
## the score goes in benchmarks/README.md
mutation: $(INSTALLED)
	@if [ -e src ] && [ ! -L src ]; then echo "make mutation links src to analysis: move src/ away"; exit 2; fi
	rm -rf mutants
	ln -sfn analysis src
	$(BIN)/mutmut run; status=$$?; rm -f src; $(BIN)/mutmut results; exit $$status

## bench: time one 30-year run, the sweep path, the explorer's update and the calibration, the fan
bench: $(INSTALLED)
	$(BIN)/python benchmarks/run_speed.py
	$(BIN)/python benchmarks/sweep_speed.py
	$(BIN)/python benchmarks/explorer_speed.py
	$(BIN)/python benchmarks/calibrate_speed.py
	$(BIN)/python benchmarks/fan_speed.py

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

## holders: write each foreign holder's block of equations and the sums over holders into the .mdl,
## from models/holder_template.mdl, models/holders.toml and the values in models/parameters.toml
holders: $(INSTALLED)
	$(BIN)/python -m debtloops.model.holder_blocks

## build: translate the .mdl with pysd (run does it on its own when the .mdl changes)
build: $(INSTALLED)
	$(BIN)/debtloops build --force

# The locked versions, then the project itself without resolving anything again.
$(INSTALLED): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $(INSTALLED)

clean:
	rm -rf $(VENV) $(LATEST) $(LOWEST) models/.build mutants .coverage $(COVERAGE_JSON)
