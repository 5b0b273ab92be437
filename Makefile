# coprod: `make run` to try it, `make test` to check it. See README.md.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

# A local development key, only ever used with DEBUG on by `make run`.
DEV_ENV := DEBUG=true SECRET_KEY=$${SECRET_KEY:-local-development-only-not-for-production}
# Tests keep Python's compiled files and pytest's rewritten test modules (in __pycache__/, ignored
# by git) even where the environment says not to write them (PYTHONDONTWRITEBYTECODE): every
# worker and every subprocess of the suite would otherwise compile them again.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-test-only-not-for-production} PYTHONDONTWRITEBYTECODE=

.PHONY: install browser-deps run test test-quick lint typecheck format migrations-check schema-check messages pytest bench-tools bench bench-quick backup restore clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# axe-core for the accessibility tests (tests/browser/test_every_page.py), from the npm
# registry at the version tests/browser/package-lock.json pins; never from a CDN.
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

browser-deps: $(AXE)

run: install
	$(DEV_ENV) $(MANAGE) migrate --noinput
	$(DEV_ENV) $(MANAGE) seed_demo
	@echo "coprod is starting on http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/)"
	@echo "A background worker (manage.py db_worker) runs beside the server: large imports and exports are its jobs."
	$(DEV_ENV) $(MANAGE) db_worker --no-startup-delay & worker=$$!; \
		trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(DEV_ENV) $(MANAGE) runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with django-stubs on the typed modules: `[tool.mypy]` in pyproject.toml lists them.
typecheck: install
	$(TEST_ENV) $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: install
	$(TEST_ENV) $(MANAGE) makemigrations --check --dry-run

messages: install
	$(DEV_ENV) $(MANAGE) makemessages -l fr --no-obsolete --ignore='.venv/*' --ignore='bench/*' --ignore='tests/*' --ignore='staticfiles/*'
	$(DEV_ENV) $(MANAGE) compilemessages --ignore='.venv/*'

# The whole suite, spread over the machine's cores by pytest-xdist (PYTEST_WORKERS=0 runs it
# in one process). Each worker has its own test database and live-server port and runs whole
# files (--dist loadgroup, one group per file), so a module-scoped fixture is built once, but
# for the large tables tests/conftest.py names, whose cells are spread; after a transactional
# test, tests/conftest.py loads the migrations' data again for the worker's next file.
PYTEST_WORKERS ?= auto
pytest: install browser-deps
	$(TEST_ENV) $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# A quick loop while working: everything but the slow tests (browser, schema fuzzing,
# subprocesses, the multi-instance test).
test-quick: install browser-deps
	$(TEST_ENV) $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not slow" $(PYTEST_ARGS)

# The API's OpenAPI schema must generate without a warning (docs: /api/docs/).
schema-check: install
	$(TEST_ENV) $(MANAGE) spectacular --validate --fail-on-warn --file /dev/null

test: lint typecheck migrations-check schema-check pytest

# Benchmarks (README, "Benchmarks"): they need PostgreSQL (BENCH_PG) and wrk, which is
# installed from Debian's packages when missing.
bench-tools: install
	$(PY) -m pip install --quiet -e '.[bench]'
	command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null \
		|| (apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null)

bench: bench-tools
	$(PY) bench/run.py $(BENCH_ARGS)

bench-quick: bench-tools
	$(PY) bench/run.py --quick $(BENCH_ARGS)

# Backups (docs/RELIABILITY.md): the database of DATABASE_URL, plus uploaded documents.
#   make backup                      -> backups/coprod-<timestamp>.dump (or .sqlite3)
#   make restore FILE=backups/...    -> into DATABASE_URL, which must be a fresh database
#                                       (RESTORE_ARGS=--replace to overwrite one)
# Neither signs anything, so a placeholder SECRET_KEY is fine when none is set.
OPS_ENV := SECRET_KEY=$${SECRET_KEY:-backup-and-restore-sign-nothing}

backup: install
	$(OPS_ENV) $(MANAGE) backup $(if $(FILE),--output $(FILE))

restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/coprod-....dump"; exit 2; }
	$(OPS_ENV) $(MANAGE) restore "$(FILE)" --media $(RESTORE_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache
