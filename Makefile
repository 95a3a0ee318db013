# One virtualenv at .venv/, created on first use by every target.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
NODE_DIR := tests/conformance/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
TOOLKIT_STAMP := $(VENV)/.installed-toolkit

.PHONY: run test check bench clean test-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(RUN_STAMP) $@

# The MCP tests compare our tool schemas with agentmail-toolkit's. Its own dependencies (agent frameworks and an
# AGPL PDF library) are not needed for that and not installed.
$(TOOLKIT_STAMP): | $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet --no-deps agentmail-toolkit==0.3.2
	touch $@

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(RUN_STAMP)
	$(BIN)/postroom serve

# Command-line tools the tests drive: swaks delivers mail over SMTP like an outside sender would; rspamd is the
# spam engine the spam tests start on loopback with their own minimal configuration; the console tests drive
# Debian's chromium through Playwright, never a browser build Playwright would download; Postfix is the peer MTA
# of tests/e2e/test_postfix_interop.py.
test-tools:
	@command -v swaks >/dev/null && command -v rspamd >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends swaks rspamd >/dev/null; }
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@# Postfix is the peer MTA of the interop test, which runs it with its own configuration directory on loopback;
	@# "No configuration" leaves the system's Postfix unconfigured and stopped (nothing listens on port 25).
	@command -v postfix >/dev/null || { apt-get update -qq && \
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix >/dev/null; }
	@command -v redis-server >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --bind 127.0.0.1 --port 6379 --save '' --daemonize yes >/dev/null

# Test files are spread over TEST_WORKERS processes (pytest-xdist); a file's tests stay together in one process,
# which keeps each file's servers and databases to itself.
TEST_WORKERS ?= 2

test: $(DEV_STAMP) $(TOOLKIT_STAMP) $(NODE_STAMP) test-tools
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

check: $(DEV_STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

bench: $(DEV_STAMP)
	$(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules .pytest_cache .mypy_cache .ruff_cache
