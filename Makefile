# `make run` starts the site with demo data on embedded defaults; `make test` runs every test
# (`make test COVERAGE=1` under coverage, as CI does).
SHELL := /bin/bash
VENV ?= .venv
# The first interpreter that really runs (a pyenv shim may exist and fail): 3.13, then 3.12.
PYTHON ?= $(shell for candidate in python3.13 python3.12 \
	$$HOME/.pyenv/versions/3.13*/bin/python3.13 $$HOME/.pyenv/versions/3.12*/bin/python3.12 \
	/usr/local/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.13 /usr/bin/python3.12 python3; do \
	if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	command -v "$$candidate" || echo "$$candidate"; break; fi; done)
VENV_PYTHON := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test venv vnu lint format messages check-deploy duplicates clean
# The Nu HTML checker the accessibility test runs (needs java); fetched once from the npm registry.
VNU_VERSION := 26.9.27
VNU_JAR := var/vnu/vnu.jar

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 or newer is needed (set PYTHON=/path/to/python3.12)."; exit 1; fi
	@if [ -x "$(VENV_PYTHON)" ] && ! "$(VENV_PYTHON)" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then rm -rf "$(VENV)"; fi
	@[ -x "$(VENV_PYTHON)" ] || "$(PYTHON)" -m venv "$(VENV)"
	"$(VENV_PYTHON)" -m pip install --quiet --upgrade pip
	"$(VENV_PYTHON)" -m pip install --quiet -r requirements-dev.txt
	@touch "$@"

venv: $(VENV)/.installed

run: venv
	@mkdir -p var
	DJANGO_DEBUG=1 "$(VENV_PYTHON)" manage.py migrate --noinput
	DJANGO_DEBUG=1 "$(VENV_PYTHON)" manage.py seed_demo
	@echo "Starting the site at http://127.0.0.1:8000 with a Celery worker and beat. Ctrl-C stops everything."
	DJANGO_DEBUG=1 PYTHON_BIN="$(abspath $(VENV_PYTHON))" "$(VENV)/bin/honcho" -f Procfile.dev start

# COVERAGE=1 (CI sets it) runs the same tests under coverage, the processes they start included,
# and fails below the gate in pyproject.toml ([tool.coverage.report] fail_under).
COVERAGE ?=

test: venv vnu
ifeq ($(COVERAGE),1)
	rm -f .coverage .coverage.*
	"$(VENV_PYTHON)" -m coverage run -m pytest $(PYTEST_ARGS)
	"$(VENV_PYTHON)" -m coverage combine --quiet
	"$(VENV_PYTHON)" -m coverage report
else
	"$(VENV_PYTHON)" -m pytest $(PYTEST_ARGS)
endif

vnu: $(VNU_JAR)

$(VNU_JAR):
	@mkdir -p var/vnu
	@if command -v npm >/dev/null 2>&1; then \
		( cd var/vnu && npm pack --silent vnu-jar@$(VNU_VERSION) >/dev/null && tar xzf vnu-jar-$(VNU_VERSION).tgz && \
		mv package/build/dist/vnu.jar vnu.jar && rm -rf package vnu-jar-$(VNU_VERSION).tgz ) || \
		echo "vnu.jar could not be fetched: the HTML check in tests/test_accessibility.py is skipped."; \
	else echo "npm not found: the HTML check in tests/test_accessibility.py is skipped (CI installs it)."; fi

lint: venv
	"$(VENV)/bin/ruff" check .
	"$(VENV)/bin/ruff" format --check .
	"$(VENV)/bin/mypy" .
	"$(VENV)/bin/lint-imports" --no-cache

format: venv
	"$(VENV)/bin/ruff" format .
	"$(VENV)/bin/ruff" check --fix .

# Rebuild the translation catalogues (needs GNU gettext); the compiled .mo files are committed.
messages: venv
	DJANGO_DEBUG=1 "$(VENV_PYTHON)" manage.py makemessages -l en -l ru --no-location --ignore=.venv --ignore=var
	DJANGO_DEBUG=1 "$(VENV_PYTHON)" manage.py compilemessages --ignore=.venv

check-deploy: venv
	DJANGO_SECRET_KEY=check-deploy-$$RANDOM$$RANDOM-0123456789abcdefghijklmnopqrstuvwxyz-0123456789 \
	DJANGO_ALLOWED_HOSTS=help.example.com REDIS_CACHE_URL=redis://127.0.0.1:6379/1 EMAIL_URL=smtp+tls://mailer:secret@smtp.example.com:587 \
	"$(VENV_PYTHON)" manage.py check --deploy --fail-level WARNING

# Repeated code in the application alone (the `duplicates` command of the development machine):
# the tracked files without tests, benches, docs, CI, translations and migrations, in a scratch repo.
duplicates:
	@scratch=$$(mktemp -d) && git ls-files | grep -v -E '^(tests|bench|docs|\.ci|locale)/|/migrations/' | \
		while read -r f; do mkdir -p "$$scratch/$$(dirname "$$f")" && cp "$$f" "$$scratch/$$f"; done && \
		git -C "$$scratch" init -q && git -C "$$scratch" add -A && \
		git -C "$$scratch" -c user.email=dup@localhost -c user.name=dup commit -qm app && \
		duplicates --repo "$$scratch" --most 200 --seconds 120; rm -rf "$$scratch"

clean:
	rm -rf "$(VENV)" var
