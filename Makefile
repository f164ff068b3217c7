# The two-command quick start: `make demo` and `make test` set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= demo-out

.PHONY: demo test test-slow test-slurm bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,dask]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hpcpredict demo -o $(OUT)

# One OpenMP thread per test worker: two workers on two cores, no oversubscription.
test: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -m "not slow" -n 2 --doctest-modules tests hpcpredict

test-slow: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -m slow -n 2

# A throwaway single-node Slurm with accounting (root + apt on Debian 12), a short real workload,
# and the tests marked `slurm` against it; every daemon is stopped on the way out (tests/live/).
test-slurm: $(STAMP)
	tests/live/run.sh $(BIN)/python

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache build *.egg-info
