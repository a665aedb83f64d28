# Two commands on a fresh machine: `make run` (set up, build the example index, chat) and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup run test bench-index bench-bot clean

setup: $(VENV)/.installed

# torch is pinned to the CPU build first; an unpinned torch would pull a multi-GB CUDA build.
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

clean:
	rm -rf $(VENV) var
