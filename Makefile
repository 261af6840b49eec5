# tipsim — set-up and main jobs. `make run` and `make test` work on a fresh clone.
# PYTHON may be set to any interpreter >= 3.12, e.g. `make run PYTHON=/opt/python3.12/bin/python3`.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

# Find a Python >= 3.12 by running each candidate (pyenv shims exist for inactive versions and fail).
PYTHON ?= $(shell for c in python3.13 python3.12 python3; do \
	  if $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
	    command -v $$c; exit 0; fi; done)

.PHONY: run test install docs targets benchmark clean experiments

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  found=$$(python3 --version 2>&1 || echo "no python3"); \
	  echo "tipsim needs Python >= 3.12 (Mesa 3.5). Found: $$found."; \
	  echo "Install Python 3.12+ and run e.g. 'make $(MAKECMDGOALS) PYTHON=/path/to/python3.12'."; \
	  exit 1; fi
	@$(PYTHON) -c 'import sys; v = sys.version_info; ok = v >= (3, 12); \
	  print(f"using {sys.executable} (Python {v.major}.{v.minor}.{v.micro})"); \
	  sys.exit(0 if ok else "PYTHON=$(PYTHON) is older than 3.12; point PYTHON= at a Python >= 3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/tipsim run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile $(ARGS)

docs: $(STAMP)
	$(BIN)/tipsim docs

targets: $(STAMP)
	$(BIN)/tipsim targets $(ARGS)

benchmark: $(STAMP)
	$(BIN)/python benchmarks/engine_speed.py

# The paper's experiments (experiments/<NAME>/README.md): results and figures in results/experiments/<NAME>/.
# E2 alone is ~12.5 core-hours. Subsets and settings: make experiments EXPERIMENTS="E1 E4" ARGS="replicates=3"
EXPERIMENTS ?= E1 E2 E3 E4

experiments: $(STAMP)
	@for e in $(EXPERIMENTS); do \
	  $(BIN)/tipsim experiment out_dir=results/experiments/$$e $(ARGS) || exit 1; \
	done

clean:
	rm -rf $(VENV) build *.egg-info
