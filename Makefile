# akbot — the two commands of the README, and their parts.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# llama-cpp-python compiles from source; the default native build crashes on these machines
# (AMX), so build for AVX2. pip caches the wheel: only the first install takes ~4 minutes.
export CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: demo install-demo test lint types unit e2e clean

# A stamp per extra: reinstall when pyproject.toml changes. The build backend's warnings (an
# editable install) are for packagers, not for the first screen of a new user.
$(VENV)/.stamp-%: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[$*]'
	@touch $@

# The test extra holds all the demo needs: after `make test`, `make demo` installs nothing.
$(VENV)/.stamp-demo: pyproject.toml
	@if [ -f $(VENV)/.stamp-test ] && [ $(VENV)/.stamp-test -nt pyproject.toml ]; then touch $@; \
	else $(MAKE) --no-print-directory install-demo && touch $@; fi

install-demo:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[demo]'

demo: $(VENV)/.stamp-demo
	$(BIN)/akbot demo

test: $(VENV)/.stamp-test lint types
	$(BIN)/python -m pytest -q

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(VENV)/.stamp-test
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
