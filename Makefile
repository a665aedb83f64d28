# Two commands on a fresh machine: `make run` (set up, build the example index, chat) and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup run test test-fast lint bench-index bench-bot clean

setup: $(VENV)/.installed

# The test extra brings torch and sentence-transformers for the parity tests (the bot itself needs neither:
# a dyno installs with `pip install .`). torch is pinned to the CPU build first; an unpinned torch would pull a
# multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: setup
	$(PY) -m bot

test: setup
	$(PY) -m pytest -q

# The tests that do not load the real model (a fraction of the time of `make test`).
test-fast: setup
	$(PY) -m pytest -q -m "not model"

lint: setup
	$(VENV)/bin/ruff check index bot tests bench training
	$(VENV)/bin/ruff format --check index bot tests bench training
	$(VENV)/bin/mypy

# Build throughput, query latency and memory on a JSONL(.gz) news sample: make bench-index ARTICLES=FILE [LIMIT=N]
bench-index: setup
	@test -n "$(ARTICLES)" || { echo "usage: make bench-index ARTICLES=news.jsonl.gz [LIMIT=N]"; exit 2; }
	$(PY) bench/index_bench.py $(ARTICLES) --limit $(or $(LIMIT),0)

# The bot under a burst of questions against the fake Telegram server (hashing encoder, example articles).
bench-bot: setup
	$(PY) bench/load_bench.py

clean:
	rm -rf $(VENV) var
