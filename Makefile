# The two commands of the README: `make serve` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test fuzz lint format docs clean browser

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

test: lint browser
	$(BIN)/mypy
	$(BIN)/cog --check README.md
	$(BIN)/pytest

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

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
