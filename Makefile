# The two commands of the README: `make run` serves the site, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := kbsite.settings

.PHONY: run test bench setup test-setup browser clean

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

setup: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py kb_bootstrap --url http://$(HOST):$(PORT)

run: setup
	$(VENV)/bin/gunicorn kbsite.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - --graceful-timeout 5

# Debian's chromium drives the browser tests; Playwright's own browser download cannot work here.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }
	@/usr/bin/chromium --version

test-setup: $(VENV)/.test-installed browser

test: test-setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py kb_bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data
