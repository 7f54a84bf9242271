# The two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# Pinned versions that CI and the README were checked with; pip resolves within them.
CONSTRAINTS := -c constraints.txt

.PHONY: demo test check lint typecheck pytest clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=24"

# Stamp files record what was installed, so a second `make` does not reinstall.
# Editable, like the dev install: after a `git pull`, `make demo` runs the pulled code.
$(VENV)/.demo-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install $(CONSTRAINTS) -e ".[dev,postgres,onnx,xgboost,lightgbm,torch,dask,river]"
	touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/driftline demo

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# One pytest worker per core (pytest-xdist): 2 cores take the suite from ~6 to ~4 minutes.
# Every test owns its folders, ports and PostgreSQL schema, so workers never share state.
PYTEST_WORKERS ?= auto
pytest: $(VENV)/.dev-installed
	$(BIN)/pytest -n $(PYTEST_WORKERS)

check: lint typecheck pytest

test: check

# Optional (Debian, as root): the programs some tests drive for real instead of skipping:
# headless Chromium (HTML reports), promtool (Prometheus rules), Graphviz (DOT), wrk (load).
SYSTEM_DEPS := chromium prometheus graphviz wrk
system-deps:
	@if command -v apt-get >/dev/null 2>&1; then \
		missing=$$(for p in $(SYSTEM_DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
		if [ -n "$$missing" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		fi; \
	else echo "no apt-get: tests that need $(SYSTEM_DEPS) will skip and say so"; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info

# Benchmarks run side by side with peer tools, each installed in its own venv under .bench/.
PEERS := evidently nannyml pandera gx mlflow mlserver bentoml
.bench/%/.installed: benchmarks/peers/%.txt
	$(PYTHON) -m venv .bench/$*
	.bench/$*/bin/python -m pip --disable-pip-version-check -q install -r $<
	touch $@

bench-peers: $(foreach p,$(PEERS),.bench/$(p)/.installed)

bench-hashing: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/hashing.py

bench-lineage: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/lineage_walk.py

bench-drift: $(VENV)/.dev-installed .bench/evidently/.installed .bench/nannyml/.installed
	$(BIN)/python benchmarks/drift_vs_peers.py --rows 1000000 --repeats 3

bench-streaming: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/streaming_vs_river.py

bench-quality: $(VENV)/.dev-installed .bench/pandera/.installed .bench/gx/.installed
	$(BIN)/python benchmarks/quality_bench.py --rows 1000000

# Needs wrk (make system-deps). Peers: MLflow, MLServer, BentoML, each in its own venv.
bench-serving: $(VENV)/.dev-installed .bench/mlflow/.installed .bench/mlserver/.installed .bench/bentoml/.installed
	$(BIN)/python benchmarks/serving_vs_peers.py

bench-gateway: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/gateway_overhead.py

bench-closed-loop: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/closed_loop.py

.PHONY: bench-peers bench-hashing bench-lineage bench-quality bench-drift bench-streaming bench-serving bench-gateway bench-closed-loop
