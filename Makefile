# The two commands of the README: `make run` serves the site, `make test` runs every test
# (`make lint`, which CI runs first, checks the code against ruff.toml).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
AGENT_VENV := .venv-agent
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := kbsite.settings

.PHONY: run test lint bench setup test-setup browser primary clean

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# What an agent runs (memorygraph's own MCP server, cloud backend), for the end-to-end test of the
# memorygraph cloud API: its own venv, as memorygraph 0.12.4 needs mcp 1.x and the site mcp 2.x.
$(AGENT_VENV)/.installed: requirements-agent.txt
	test -x $(AGENT_VENV)/bin/python || $(PYTHON) -m venv $(AGENT_VENV)
	$(AGENT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-agent.txt
	touch $@

setup: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py kb_bootstrap --url http://$(HOST):$(PORT)

# The worker runs all long work (jobs the web queues, graph analytics) and owns the replicas of
# synced client databases (picking up ones created later in the admin); it stops with the server.
run: setup
	$(PY) manage.py kb_worker & WORKER=$$!; trap 'kill $$WORKER 2>/dev/null; wait $$WORKER' EXIT INT TERM; \
	$(VENV)/bin/gunicorn kbsite.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - --graceful-timeout 5

# The Turso sync server (npm turso@0.6.0, `tursodb --sync-server`): the primary of synced
# client databases in the tests, and a self-hosted primary with `make primary`.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Node.js and npm are required for the Turso sync server"; exit 1; }
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# Its files sit in the default KB_DATA_DIR, private like the rest (the site itself sets this umask).
primary: node_modules/.installed
	umask 077 && mkdir -p data/primary && \
	node_modules/.bin/turso data/primary/team.db --sync-server $(HOST):$${PRIMARY_PORT:-8080}

# Debian's chromium drives the browser tests; Playwright's own browser download cannot work here.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }
	@/usr/bin/chromium --version

test-setup: $(VENV)/.test-installed $(AGENT_VENV)/.installed node_modules/.installed browser

test: test-setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed node_modules/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py kb_bench $(BENCH_ARGS)
	$(PY) manage.py kb_bench_sync
	$(PY) manage.py kb_bench_bridge
	$(PY) manage.py kb_bench_agents $(BENCH_AGENTS_ARGS)
	$(PY) manage.py kb_bench_load --n 10000 $(LOAD_ARGS)
	$(PY) manage.py kb_bench_load --n 100000 $(LOAD_ARGS)

clean:
	rm -rf $(VENV) $(AGENT_VENV) data node_modules
