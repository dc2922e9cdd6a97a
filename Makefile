# Podium: two commands do all the set-up on a fresh machine.
#   make demo  - create .venv, install Podium, run the order demo on embedded SQLite
#   make test  - create .venv, install Podium with test tools, make the services the suite uses
#                ready (scripts/test-prereqs), run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck bench soak clean install prereqs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

prereqs:
	bash scripts/test-prereqs

demo: $(STAMP)
	$(BIN)/python -m examples.order.demo

# PostgreSQL, NATS, RabbitMQ and Chromium first (started or installed, or the one command that
# would do it is printed), then lint and types, then the suite (its summary the last line printed).
test: $(STAMP)
	bash scripts/test-prereqs
	$(MAKE) --no-print-directory check
	$(BIN)/python -m pytest -q -p no:cacheprovider

check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff format --check podium tests examples bench
	$(BIN)/ruff check podium tests examples bench

typecheck: $(STAMP)
	$(BIN)/mypy podium bench

# The peers suite installs the peer engines into their own virtualenv on first use (see
# docs/benchmarks.md) and takes several minutes.
bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.scaling
	$(BIN)/python -m bench.peers

# Ten minutes of steady load; memory and latency per minute go to bench/results/.
soak: $(STAMP)
	$(BIN)/python -m bench.soak --minutes 10

clean:
	rm -rf $(VENV) .podium build *.egg-info
