# Quick start: `make run` (serve the product on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The test suite runs against PostgreSQL and Redis, and drives Chromium, as CI does.
# .ci/services.sh sees to them (using, starting or installing them) and hands back the addresses
# it chose; TEST_DATABASE_URL and TEST_REDIS_URL, when set, say which servers to use.
SERVICES := .ci/services.sh

.PHONY: install run serve test test-sqlite test-services-stop screenshots lint format bench \
	bench-startup bench-health bench-checkout bench-invite bench-progress migrate clean

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools<82" wheel
	$(BIN)/python -m pip install --quiet -c constraints.txt ".[dev]"
	touch $@

install: $(BIN)/.installed

# Local development only: DEBUG defaults to on here, so load_demo_catalog also makes the demo
# staff login admin@example.com / admin. See the README for a shared or production database.
migrate: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py configure_wagtail
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py load_demo_catalog

run: migrate
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver 127.0.0.1:8000

# Each recipe line below is one shell: the services' addresses, then pytest with them.
WITH_SERVICES := services=$$($(SERVICES)) || exit 1; eval "$$services"; \
	export DATABASE_URL="$$TEST_DATABASE_URL" REQUIRE_SERVICES=1 SECRET_KEY=test-only-secret-key;

# The browser tests run in a pytest session of their own, on a test database of their own.
test: install
ifeq ($(PYTEST_ARGS),)
	@$(WITH_SERVICES) set -x; $(BIN)/pytest -m "not browser" && $(BIN)/pytest -m browser
else
	@$(WITH_SERVICES) set -x; $(BIN)/pytest $(PYTEST_ARGS)
endif

# Refresh the pictures in docs/img from the browser tests.
screenshots: install
	@$(WITH_SERVICES) set -x; UPDATE_SCREENSHOTS=1 $(BIN)/pytest -m browser

# Stop the private PostgreSQL and Redis that `make test` may have started.
test-services-stop:
	$(SERVICES) --stop

# The suite on the embedded SQLite database, whatever DATABASE_URL says: tests marked postgres are
# skipped with the reason, and any other skip fails the run (tests/conftest.py).
test-sqlite: install
	env -u DATABASE_URL -u TEST_DATABASE_URL -u REQUIRE_SERVICES SECRET_KEY=test-only-secret-key \
		$(BIN)/pytest $(PYTEST_ARGS)

# ruff (style, complexity, imports at the top), import-linter (the layers and the allowed arrows
# between apps, see docs/architecture.md) and mypy with the Django plugin (every app's code but
# its migrations).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	DEBUG=true SECRET_KEY=lint-only $(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Benchmarks on PostgreSQL (each drops and recreates BENCH_DATABASE_URL's database): enrollment
# codes at scale, then start-up and the codes export (`make bench-startup` runs that one alone;
# BENCH_STARTUP_ARGS="--codes 200000 --baseline ../main" for a smaller run beside another checkout).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/b2b_bench
bench: install
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/codes_benchmark.py $(BENCH_ARGS)
	$(MAKE) bench-invite
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/startup_export_benchmark.py \
		$(BENCH_STARTUP_ARGS)
bench-startup: install
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/startup_export_benchmark.py \
		$(BENCH_STARTUP_ARGS)

# The health report on 200 contracts and 1,000,000 codes (drops and recreates its database).
BENCH_HEALTH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/b2b_bench_health
bench-health: install
	BENCH_DATABASE_URL=$(BENCH_HEALTH_DATABASE_URL) $(BIN)/python bench/health_benchmark.py $(BENCH_ARGS)

# A burst of learners through the real pages: gunicorn and a Celery worker on PostgreSQL and
# Redis (drops and recreates BENCH_CHECKOUT_DATABASE_URL's database, flushes BENCH_REDIS_URL).
BENCH_CHECKOUT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/b2b_bench_checkout
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/13
bench-checkout: install
	BENCH_DATABASE_URL=$(BENCH_CHECKOUT_DATABASE_URL) BENCH_REDIS_URL=$(BENCH_REDIS_URL) \
		$(BIN)/python bench/checkout_benchmark.py $(BENCH_CHECKOUT_ARGS)

# Invitation benchmark: 10,000 e-mails invited at once (drops and recreates its own database).
BENCH_INVITE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/b2b_bench_invite
bench-invite: install
	BENCH_INVITE_DATABASE_URL=$(BENCH_INVITE_DATABASE_URL) $(BIN)/python bench/invite_benchmark.py

# Learner progress: 10,000 learners over 5 runs synced from the Open edX protocol server, beside
# the time to only fetch the same pages; then the manager's progress page and CSV (drops and
# recreates its own database).
BENCH_PROGRESS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/b2b_bench_progress
bench-progress: install
	BENCH_PROGRESS_DATABASE_URL=$(BENCH_PROGRESS_DATABASE_URL) $(BIN)/python bench/progress_benchmark.py \
		$(BENCH_PROGRESS_ARGS)
