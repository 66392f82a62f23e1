# stallapp: `make run` to try it, `make test` to check it. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app stallapp
TRANSLATIONS := stallapp/translations

.PHONY: run install install-test test lint format messages translations clean bench guide

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,prod,postgres]'
	touch $@

install: $(VENV)/.installed translations

install-test: $(VENV)/.installed-test translations

## Compile the .po catalogues into the .mo files Flask-Babel reads.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy --statistics -d $(TRANSLATIONS) 2>&1 | tail -n 1

## Extract marked strings and merge them into every catalogue.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

# Links in emails and QR codes are built on PUBLIC_BASE_URL: here, the address `run` serves on.
run: export PUBLIC_BASE_URL = http://127.0.0.1:5000
# Without MAIL_SERVER the dev server prints each email, links and all, after the request.
run: export MAIL_TO_TERMINAL = 1
run: install
	$(FLASK) db upgrade
	$(FLASK) demo-data --first-run
	@echo "Serving on http://127.0.0.1:5000 (Ctrl+C to stop)"
	$(FLASK) run --host 127.0.0.1 --port 5000

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install-test lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Retake the user guide's screenshots (docs/guide/images) from the demo data at phone width.
guide: install-test
	UPDATE_GUIDE=1 $(BIN)/python -m pytest -q tests/test_browser_guide.py

## Measure the pages against a trivial Flask app, on SQLite then PostgreSQL (BENCH_DATABASE_URL);
## QUICK=1 for a smaller data set and short runs (about a minute for both).
bench: install-test
	$(BIN)/python -m bench.run --database sqlite $(if $(QUICK),--quick)
	$(BIN)/python -m bench.run --database postgresql $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
