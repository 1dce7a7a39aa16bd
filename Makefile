# ClosedLoop: two commands.  `make run` starts the whole system; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Two pytest workers: the machines here have two cores.
PYTEST_ARGS ?= -n 2

.PHONY: run test setup migrate demo lint fmt bench browser clean backup restore

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

migrate: setup
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py progress_rollup  # so planning sees the floor's predictions at once

run: demo
	@echo ""
	@echo "ClosedLoop is starting at http://$(HOST):$(PORT)/  (web + Celery worker + beat; Ctrl-C stops all)"
	PORT=$(PORT) HOST=$(HOST) $(BIN)/honcho start -f Procfile

# Debian's Chromium for the browser tests; never a browser download by a test tool.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get install -y chromium >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y chromium >/dev/null)) \
	  || echo "chromium could not be installed: browser tests will be skipped"; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup browser lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks print figures and are run one by one (some need PostgreSQL): see bench/README.md.
bench: setup
	@ls bench/*.py; echo "Run one with: $(BIN)/python bench/<name>.py  (see bench/README.md)"

# Backups of the configured database (docs/operations.md): a file plus its manifest in
# BACKUP_DIR (default var/backups). Restore asks first; YES=1 does not ask.
backup: setup
	$(BIN)/python manage.py backup

restore: setup
	@test -n "$(FILE)" || { echo "Usage: make restore FILE=var/backups/closedloop-<time>.dump [YES=1]"; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)" $(if $(YES),--yes)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
