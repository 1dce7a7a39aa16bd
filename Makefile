# ClosedLoop: two commands.  `make run` starts the whole system; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Two pytest workers: the machines here have two cores.
PYTEST_ARGS ?= -n 2

.PHONY: run test test-at test-instants setup messages migrate demo lint fmt bench browser clock clean backup restore

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

# The translation catalogues (.po) compiled to .mo in plain Python (no GNU gettext needed).
setup: $(STAMP)
	$(BIN)/python manage.py compilemessages --changed --verbosity 0

# After marking strings: every app's catalogue and the shared one brought up to date (needs
# GNU gettext's xgettext and msgmerge), then compiled. docs/translation.md.
messages: setup
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --add-location file
	$(BIN)/python manage.py compilemessages

migrate: setup
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo --history  # the plant and its recent shifts
	$(BIN)/python manage.py progress_rollup  # so planning sees the floor's predictions at once

run: demo
	@echo ""
	@echo "ClosedLoop is starting at http://$(HOST):$(PORT)/  (web + Celery worker + beat + machine simulator; Ctrl-C stops all)"
	PORT=$(PORT) HOST=$(HOST) $(BIN)/honcho start -f Procfile

# Debian's Chromium for the browser tests; never a browser download by a test tool.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get install -y chromium >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y chromium >/dev/null)) \
	  || echo "chromium could not be installed: browser tests will be skipped"; }
	@test -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || { \
	  echo "Installing Debian's fonts-wqy-microhei: Chinese pages in the browser tests' screenshots"; \
	  (apt-get install -y fonts-wqy-microhei >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y fonts-wqy-microhei >/dev/null)) \
	  || echo "fonts-wqy-microhei could not be installed: Chinese text shows as boxes in screenshots"; }

# libfaketime runs a process (and every process it starts) with its clock at another instant;
# `make test-at` uses it so that the Celery worker and gunicorn the tests start share the
# tests' pinned day. Without it the tests' own clock is still pinned (time-machine).
clock:
	@command -v faketime >/dev/null 2>&1 || { \
	  echo "Installing Debian's faketime for the pinned-clock test runs"; \
	  (apt-get install -y faketime >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y faketime >/dev/null)) \
	  || echo "faketime could not be installed: only the tests' own clock will be pinned"; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup browser lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every test runs at a pinned instant (tests/conftest.py; default an ordinary Wednesday
# morning). These are the instants a plant's clock makes hard: Sunday night, Monday before
# the first shift, a holiday, the last minute of a shift, New Year's Eve (all Asia/Shanghai).
SUNDAY_NIGHT := 2026-12-13T23:30:00+08:00
INSTANTS := $(SUNDAY_NIGHT) 2026-12-14T05:30:00+08:00 2027-01-01T10:00:00+08:00 \
            2026-12-09T21:59:00+08:00 2026-12-31T23:59:00+08:00

# The whole suite with the clock at one instant: make test-at AT=2026-12-13T23:30:00+08:00
test-at: setup browser clock
	@test -n "$(AT)" || { echo "usage: make test-at AT=<ISO instant with offset>"; exit 2; }
	@echo "== the whole suite at $(AT)"
	CLOSEDLOOP_TEST_NOW=$(AT) $(BIN)/python tests/at_instant.py $(AT) \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

test-instants: setup browser clock
	@for at in $(INSTANTS); do $(MAKE) --no-print-directory test-at AT=$$at || exit 1; done

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
