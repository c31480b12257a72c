# Everything runs from a fresh machine with only python3 and make: each target builds what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# --no-compile: the test and demo extras bring thousands of modules the suite never imports; byte-compiling them
# took a third of the install. Python compiles what is imported on first use.
PIP_INSTALL := $(BIN)/python -m pip --quiet --disable-pip-version-check install --no-compile
# ...which it can only do where PYTHONDONTWRITEBYTECODE is unset: with it set (as some sandboxes and CI images do), every
# process of the suite compiled the CDK again from source, 4.4 s of CPU to import the connector against 1.9 s.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install test demo bench upstream clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Just the connector, for a real key: under a minute, where the test and demo extras take several.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e .
	touch $@

install: $(VENV)/.installed

# The tests run the example notebook and `pyab validate`, so they need the demo extra (PyAirbyte) too.
$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e '.[test,demo]'
	touch $@

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e '.[demo]'
	touch $@

# Three workers on two cores, one test file each at a time (a file's tests share their stand-in and fixtures): the
# tests wait on subprocesses and the stand-in, so a third worker fills the gaps (a fourth measured slower). 4 min 53 s
# on a quiet 2-core machine: connector runs are forked from an interpreter that has imported the CDK already
# (integration_tests/warm_launcher.py), where each new process spent 2 s of CPU importing it.
# --no-loadscope-reorder: files in collection order (the longest first, see conftest.py), not by how many tests each has.
test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -m "not image_tests" -n 3 --dist loadfile --no-loadscope-reorder

demo: $(VENV)/.demo-installed
	$(BIN)/python examples/demo.py

# Reports connector vs floor CPU per record (median, best and worst of 5 rounds, free on every CPU and limited to one),
# calls, wall time and memory per stream; then the wall time of a one-year read of every stream with the stand-in
# answering 0.3 s late, against the CDK's own threaded read; then a one-year backfill of every stream under the
# stand-in's rate limit (requests, 429s, waits, wall time vs the least the limit allows). `BENCH_ARGS="--only cpu"`
# (or latency, or rate-limit) runs one part; bench/run.py --help lists the options. It never fails on a figure.
bench: $(VENV)/.test-installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# What the pull request to airbytehq/airbyte holds, in its layout, under build/upstream/ (removed and rebuilt each
# time): airbyte-integrations/connectors/source-claude/ (manifest-only: manifest.yaml, components.py, metadata.yaml,
# icon.svg, README.md, acceptance-test-config.yml, unit_tests/) and docs/integrations/sources/claude*.md, all copied.
upstream:
	$(PYTHON) tools/upstream.py

clean:
	rm -rf $(VENV) .pytest_cache .demo .bench dist build *.egg-info
