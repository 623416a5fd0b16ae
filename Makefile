# Two commands: `make run` and `make test`. Everything they need is set up here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# The suite runs on every core (pytest-xdist); PYTEST_ARGS="-n 0" runs it in one process.
PYTEST_ARGS ?= -n auto --dist worksteal
STAMP := .make
export FLASK_APP := wsgi.py

.PHONY: run test lint format setup venv system-deps browser-deps translations compile-translations assets db demo clean bench

run: setup db demo  ## set up everything; serve the portal and run the worker (Procfile; Ctrl-C stops both)
	HOST=$(HOST) $(BIN)/honcho -f Procfile start --port $(PORT)

test: setup browser-deps  ## set up everything and run the whole suite
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

setup: venv system-deps compile-translations assets

venv: $(STAMP)/venv
$(STAMP)/venv: pyproject.toml
	@mkdir -p $(STAMP)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[postgres,redis,test,dev]'
	@touch $@

system-deps:  ## libraries WeasyPrint needs, a CJK font, the PDF tools
	@scripts/system-deps.sh runtime

browser-deps:  ## Debian's Chromium for the browser tests
	@scripts/system-deps.sh browser

compile-translations: venv
	@$(BIN)/pybabel compile -d portal/translations 2>&1 | grep -v '^compiling' || true

assets: venv  ## static files under versioned names, gzip and brotli copies (portal/core/assets.py)
	@$(BIN)/python -m portal.core.assets

translations: venv  ## extract new strings and merge them into the catalogues
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k _ln:1,2 -k _lp:1c,2 -k lazy_pgettext:1c,2 --no-location --sort-output \
		--project microloan-portal -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations \
		--no-fuzzy-matching --width 100

bench: setup  ## web latency and queries per page at 100,000 borrowers, then the realistic mix under load; SQLite and PostgreSQL
	$(BIN)/python bench/web.py $(BENCH_ARGS); pages=$$?; \
	$(BIN)/python bench/load.py $(BENCH_LOAD_ARGS) && exit $$pages

.PHONY: bench-pdf
bench-pdf: setup  ## PDF reports at a branch of 5,000 borrowers: visit report, branch report, 300-visit pack
	$(BIN)/python bench/pdf.py $(BENCH_PDF_ARGS)

.PHONY: bench-pack
bench-pack: setup  ## a branch month's whole visit pack rendered by the worker, one user's pages timed beside it
	$(BIN)/python bench/pdf.py --pack-job $(BENCH_PDF_ARGS)

.PHONY: bench-field
bench-field: setup browser-deps  ## the officer's pages on an emulated slow 3G link (400 ms, 400 kbit/s), Chromium
	$(BIN)/python bench/field.py $(BENCH_FIELD_ARGS)

.PHONY: bench-evidence
bench-evidence: setup  ## visit evidence at 100,000 borrowers: a visit saved with six 3-megapixel photos, "visits to check" at a branch of 5,000
	$(BIN)/python bench/evidence.py $(BENCH_EVIDENCE_ARGS)

.PHONY: bench-portfolio
bench-portfolio: setup  ## portfolio at risk at 100,000 borrowers: company PAR at a month-end, the portfolio and headline pages
	$(BIN)/python bench/portfolio.py $(BENCH_PORTFOLIO_ARGS)

.PHONY: bench-imports
bench-imports: setup  ## 100,000 repayment rows from a lending system's file: read, previewed, applied, applied again
	$(BIN)/python bench/imports.py $(BENCH_IMPORTS_ARGS)

.PHONY: bench-privacy
bench-privacy: setup  ## encryption at rest at 100,000 borrowers: the encrypting migration, search by ID and phone tail, the borrower page
	$(BIN)/python bench/privacy.py $(BENCH_PRIVACY_ARGS)

.PHONY: bench-profile
bench-profile: setup  ## the CPU a page costs: the realistic mix's pages in the process, on the demo data, with a profile
	$(BIN)/python bench/profile.py --profile --sample $(BENCH_PROFILE_ARGS)

db: setup
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo load-if-empty

clean:
	rm -rf $(VENV) $(STAMP) .pytest_cache .ruff_cache static-build
