# Two entry points (see README): `make demo` and `make test`. Everything else supports them.
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
PY := $(BIN)/python
export PATH := $(BIN):$(PATH)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# What runs (the package, its dependencies and the built labextension), then the test tools.
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed
# The built labextension; rebuilt when its sources change.
LAB_BUILD := jupyter_mlops/labextension/package.json
LAB_SOURCES := $(shell find labextension -type f) package.json tsconfig.json api/schemas.json

.PHONY: demo test runtime setup build lint typecheck test-ts pytest browser-deps control-plane clean-control-plane benchmarks clean

demo: runtime
	$(PY) -m jupyter_mlops.demo $(if $(KEEP),--keep-state)

test: setup browser-deps control-plane lint typecheck test-ts pytest

runtime: $(RUNTIME) $(LAB_BUILD)

setup: $(STAMP) $(LAB_BUILD)

# Each stamp is redone when a dependency list changes; `make demo` installs no test tool.
$(RUNTIME): pyproject.toml package.json package-lock.json
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	HATCH_JUPYTER_BUILDER_SKIP_NPM=1 $(PY) -m pip install --quiet -e .
	# npm ci refuses this lockfile: the registry serves no optional binaries of other platforms.
	npm install --no-audit --no-fund
	npm run build:prod
	$(BIN)/jupyter-builder develop --overwrite .
	touch $@

$(STAMP): $(RUNTIME)
	HATCH_JUPYTER_BUILDER_SKIP_NPM=1 $(PY) -m pip install --quiet -e ".[test]"
	touch $@

$(LAB_BUILD): $(LAB_SOURCES)
	npm run build:prod
	touch $@

build:
	npm run build:prod

browser-deps:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; }

# The real Kubernetes control plane the cluster tests run on (testbed/README.md): built once
# per version from the Go module proxy into a cache outside the checkout; a no-op when built.
control-plane:
	bash testbed/build.sh

clean-control-plane:
	rm -rf "$$(bash testbed/build.sh --print-cache)"

lint:
	@# Setup must leave a fresh clone clean: a rewritten lockfile is to be committed.
	@git diff --exit-code --stat -- package-lock.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint image/Dockerfile
	npm run lint
	npm run check:types

typecheck:
	$(BIN)/mypy
	npm run typecheck

# The frontend's pure logic (layout, formatting, row state) under node's own test runner.
test-ts:
	npm run test:ts

pytest:
	$(PY) -m pytest

benchmarks: setup
	$(PY) benchmarks/bench_p1_startup.py
	$(PY) benchmarks/bench_p6_size.py

clean:
	rm -rf $(VENV) node_modules lib jupyter_mlops/labextension
