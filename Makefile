# The two commands of the README: `make serve` and `make test`. Everything else here serves them: `make check`
# and `make quick` are the fast inner loop, and `make dist` builds what a self-hoster downloads (checked by
# `make dist-test`). `make help` lists the targets: the `## ` comment on a target's line is its help.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BIOME := node_modules/.bin/biome
# The files whose generated parts cog keeps in step with the code (`make docs` rewrites them, `make test` checks).
COG_FILES := docs/cli.md docs/configuration.md

.DEFAULT_GOAL := help
.PHONY: help serve check quick test faults fuzz format docs dist dist-test clean browser

help: ## List the targets
	@sed -n 's/^\([a-z-]*\):.*## \(.*\)$$/  make \1\t\2/p' $(MAKEFILE_LIST) | expand -t 18

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "novaro-lite needs Python 3.11 or newer; set PYTHON=python3.12 or similar")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

# The dashboard's JavaScript tools (Biome), pinned in package.json and package-lock.json; never shipped.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make check needs Node.js 20 or newer and npm, for the dashboard's JavaScript tools" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

serve: $(VENV)/.installed ## Run the server (novaro-lite serve)
	$(BIN)/novaro-lite serve

check: $(VENV)/.installed-test node_modules/.installed ## Ruff, mypy and Biome: lint, formatting and strict types of the Python and the JavaScript, in seconds
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIOME) ci

# Everything but tests/e2e (real servers, the browser) and PostgreSQL's runs (which never start): under a minute.
quick: $(VENV)/.installed-test ## The in-process tests on SQLite only, no browser or PostgreSQL (under a minute)
	$(BIN)/pytest -n auto -m 'not postgres and not long' --ignore=tests/e2e

# The dashboard's browser tests drive Debian's chromium (Playwright's own browser download cannot work
# offline). Installed with apt when missing and we are root; otherwise stop with what to run.
CHROMIUM ?= /usr/bin/chromium
browser: ## Install Debian's chromium for the browser tests when it is missing
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the dashboard's browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
	      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }; \
	  else \
	    echo "The dashboard's browser tests need Debian's chromium at $(CHROMIUM): run 'sudo apt-get install chromium'." >&2; \
	    exit 1; \
	  fi; }

# The suite runs on every core (pytest-xdist); each worker starts its own test PostgreSQL (pgserver).
test: check browser ## The full gate CI runs: check, the cog-generated docs, every test on both engines, 95% coverage
	$(BIN)/cog --check $(COG_FILES)
	$(BIN)/pytest -n auto -m 'not long' --cov --cov-report=term-missing:skip-covered --durations=20

# The long fault tests (servers frozen with SIGSTOP past their leases, on both engines), not part of `make test`.
faults: $(VENV)/.installed-test ## The long fault tests on real processes (not part of make test)
	$(BIN)/pytest -n auto -p no:cacheprovider -m long tests/faults

# Long fuzzing, not part of `make test`: schemathesis with many more examples against a live server (every
# phase, stateful included) and the hypothesis bound checks with more examples.
fuzz: $(VENV)/.installed-test ## Long fuzzing of the API against a live server (not part of make test)
	NOVARO_FUZZ_EXAMPLES=$${NOVARO_FUZZ_EXAMPLES:-500} $(BIN)/pytest --no-cov -p no:cacheprovider \
		--hypothesis-profile=fuzz tests/e2e/test_schemathesis.py tests/api/test_bounds.py tests/e2e/test_probes.py

format: $(VENV)/.installed-test node_modules/.installed ## Format the Python and the JavaScript, and apply the linters' safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIOME) check --write

docs: $(VENV)/.installed-test ## Regenerate the cog-generated parts of the docs
	$(BIN)/cog -r $(COG_FILES)

# Distribution. The executable is frozen by PyInstaller (one file; why PyInstaller: docs/benchmarks.md) in
# a venv of its own that holds only the runtime dependencies and the build tools, from the very wheel
# that `make dist` ships, so nothing of the development venv or the source tree can slip into it.
DIST_VENV := .venv-dist
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"$$/\1/p' novaro_lite/__init__.py)
EXECUTABLE := dist/novaro-lite-$(VERSION)-linux-$(shell uname -m)
WHEEL := dist/novaro_lite-$(VERSION)-py3-none-any.whl
SDIST := dist/novaro_lite-$(VERSION).tar.gz
PACKAGE_FILES := $(shell find novaro_lite -type f -not -path '*/__pycache__/*')

$(DIST_VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "novaro-lite needs Python 3.11 or newer; set PYTHON=python3.12 or similar")'
	$(PYTHON) -m venv $(DIST_VENV)
	$(DIST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DIST_VENV)/bin/python -m pip install --quiet '.[dist]'
	@touch $@

# One rule makes all three, so they always come from the same sources. `--collect-data novaro_lite`
# takes every non-Python file of the installed package (the whole static/ tree, whatever it holds);
# uvicorn picks its event loop and HTTP parser at run time, so its submodules (and with them uvloop and
# httptools) are named here, or the executable would quietly fall back to the slower pure-Python ones.
$(EXECUTABLE) $(WHEEL) $(SDIST) &: $(DIST_VENV)/.installed pyproject.toml README.md scripts/pyinstaller_entry.py $(PACKAGE_FILES)
	rm -f dist/novaro_lite-* dist/novaro-lite-*
	$(DIST_VENV)/bin/python -m build --outdir dist .
	$(DIST_VENV)/bin/python -m pip install --quiet --no-deps --force-reinstall $(WHEEL)
	$(DIST_VENV)/bin/pyinstaller --noconfirm --log-level WARN --onefile --strip --name $(notdir $(EXECUTABLE)) \
		--distpath dist --workpath build/pyinstaller --specpath build/pyinstaller \
		--collect-data novaro_lite --collect-data tzdata \
		--collect-submodules uvicorn --hidden-import uvloop --hidden-import httptools \
		scripts/pyinstaller_entry.py

dist: $(EXECUTABLE) $(WHEEL) $(SDIST) ## Build the one-file executable, the wheel and the sdist into dist/

# The dist tests are not part of `make test` (they need the build) and run without coverage.
dist-test: dist $(VENV)/.installed-test ## Test what make dist built
	$(BIN)/pytest -p no:cacheprovider -o addopts='-rxXs --strict-config --strict-markers' tests/dist

clean: ## Remove the venvs, node_modules, the build and the caches
	rm -rf $(VENV) $(DIST_VENV) node_modules dist build .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
