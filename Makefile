# Two commands do all set-up on a fresh machine with python3: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench bench-batch clean bytecode

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The numba kernels' sources too: numba's cache is keyed by them, so a change recompiles here.
$(STAMP): $(BIN)/python pyproject.toml analyzer/mastering/limiter_jit.py analyzer/dsp/compiled.py \
		analyzer/dsp/native_build.py analyzer/dsp/native.py analyzer/dsp/truepeak_grid.c \
		analyzer/dsp/limiter_envelope.c
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# compile the limiter's and the meters' numba kernels into their cache: no user-facing run
	# compiles
	$(BIN)/python -m analyzer.mastering.limiter_kernel
	$(BIN)/python -m analyzer.dsp.compiled
	# the recursions again, ahead of time into a library that loads without numba (~1 ms,
	# < 1 MB), so that analyze runs them compiled too; without a C compiler it says so and the
	# numpy paths stay
	$(BIN)/python -m analyzer.dsp.native_build
	touch $(STAMP)

# The package's bytecode, written ahead: the install is editable, and where
# PYTHONDONTWRITEBYTECODE is set (as on this project's machines) Python would otherwise compile
# every module of the package again at every start (~0.13 s a command, and in every command the
# tests run). Up-to-date files are skipped; an edited one is compiled again here.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q analyzer

demo: $(STAMP) bytecode
	$(BIN)/mixanalyzer demo --out reports/demo --force

# --dist loadscope: each test module runs on one worker, so a module-scoped fixture (a corpus
# pass, a 5-minute report) is made once, not once per worker that draws one of its tests.
test: $(STAMP) bytecode
	$(BIN)/ruff check analyzer tests benchmarks references fuzz
	$(BIN)/ruff format --check analyzer tests benchmarks references fuzz
	$(BIN)/lint-imports
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadscope -q

lint: $(STAMP)
	$(BIN)/ruff check analyzer tests benchmarks references fuzz
	$(BIN)/ruff format --check analyzer tests benchmarks references fuzz

format: $(STAMP)
	$(BIN)/ruff format analyzer tests benchmarks references fuzz
	$(BIN)/ruff check --fix analyzer tests benchmarks references fuzz

bench: $(STAMP) bytecode
	bash benchmarks/setup.sh
	$(BIN)/python benchmarks/bench_loudness.py
	$(BIN)/python benchmarks/bench_master.py
	$(BIN)/python benchmarks/bench_commands.py
	$(BIN)/python benchmarks/bench_watch.py

bench-batch: $(STAMP) bytecode
	$(BIN)/python benchmarks/bench_batch.py --repeat 2

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis analyzer/dsp/_native
