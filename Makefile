# The two commands of the README: `make serve` and `make test`. Everything else here serves them, and
# `make dist` builds what a self-hoster downloads (checked by `make dist-test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test fuzz lint format docs dist dist-test clean browser

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

serve: $(VENV)/.installed
	$(BIN)/novaro-lite serve

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The dashboard's browser tests drive Debian's chromium (Playwright's own browser download cannot work
# offline). Installed with apt when missing and we are root; otherwise stop with what to run.
CHROMIUM ?= /usr/bin/chromium
browser:
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
test: lint browser
	$(BIN)/mypy
	$(BIN)/cog --check README.md
	$(BIN)/pytest -n auto --cov --cov-report=term-missing:skip-covered

# Long fuzzing, not part of `make test`: schemathesis with many more examples against a live server (every
# phase, stateful included) and the hypothesis bound checks with more examples.
fuzz: $(VENV)/.installed-test
	NOVARO_FUZZ_EXAMPLES=$${NOVARO_FUZZ_EXAMPLES:-500} $(BIN)/pytest --no-cov -p no:cacheprovider \
		--hypothesis-profile=fuzz tests/e2e/test_schemathesis.py tests/api/test_bounds.py tests/e2e/test_probes.py

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: $(VENV)/.installed-test
	$(BIN)/cog -r README.md

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

dist: $(EXECUTABLE) $(WHEEL) $(SDIST)

# The dist tests are not part of `make test` (they need the build) and run without coverage.
dist-test: dist $(VENV)/.installed-test
	$(BIN)/pytest -p no:cacheprovider -o addopts='-rxXs --strict-config --strict-markers' tests/dist

clean:
	rm -rf $(VENV) $(DIST_VENV) dist build .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
