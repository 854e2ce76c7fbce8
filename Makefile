# hotspots: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DATE   ?= 2025-11-14
OUT    ?= out/demo
# `make test` runs the style and type checks first; `make test LINT=` runs the suite without them
LINT   ?= lint

.PHONY: demo test env warm-up browser qgis bench lint demo-data london-data notebook clean help

help:
	@echo "make demo   - build .venv, run the full FIM pack on the bundled demo borough, print where it is"
	@echo "make test   - build .venv with test extras, install Chromium and QGIS for the browser and QGIS tests, run make lint, then the whole suite"
	@echo "make qgis   - install Debian's QGIS Python bindings (python3-qgis) for the test that opens layers.gpkg in QGIS"
	@echo "make bench  - run every benchmark in benchmarks/ and rewrite its results table"
	@echo "make notebook - run notebooks/walkthrough.ipynb and save it with its outputs"
	@echo "make lint   - ruff (lint and format check) over src, tests and benchmarks, and mypy over src"
	@echo "make london-data - write the synthetic London dataset (1,000,000 incidents) to out/london"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test,dask]'
	$(MAKE) --no-print-directory warm-up
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

env: $(STAMP)

# Part of `make env`: one quiet demo pack compiles every numba kernel a pack uses into the on-disk cache
# beside the package and keeps the demo's forecast fits in out/.hotspots-cache, so the first `make demo`
# pays neither; the warm-up pack itself is removed.
WARM_UP := out/.warm-up-pack
warm-up:
	@echo "Warming up: compiling the numba kernels once (about a minute)"
	@$(VENV)/bin/hotspots run --config config/demo.toml --date $(DATE) --out $(WARM_UP) --quiet >/dev/null \
	  || echo "warm-up failed (the first pack will compile the kernels instead)"
	@rm -rf $(WARM_UP)

# Debian's Chromium drives the browser tests (no browser download at run time).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: run 'sudo apt-get install chromium' (browser tests will skip)"; fi; }

# Debian's QGIS Python bindings (system python3, headless) open layers.gpkg in a real QGIS in the tests.
# Needs the qgis Python module of the system python3, and the GeoPackage/GDAL data providers of qgis-providers.
QGIS_PYTHON ?= /usr/bin/python3
qgis:
	@$(QGIS_PYTHON) -c 'import qgis.core' >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian python3-qgis and qgis-providers for the QGIS test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      python3-qgis qgis-providers >/dev/null; \
	  else echo "QGIS Python bindings missing: run 'sudo apt-get install --no-install-recommends python3-qgis qgis-providers' (the QGIS test will skip)"; fi; }

demo: env
	$(VENV)/bin/hotspots run --config config/demo.toml --date $(DATE) --out $(OUT)

# the walkthrough is saved with its outputs (same bytes for the same code and data); `make test` runs it again
notebook: env
	$(PY) notebooks/refresh.py

demo-data: env
	$(VENV)/bin/hotspots demo-data --out data

# synthetic London (33 boroughs, 1,000,000 incidents) for scale tests; not committed (out/ is ignored)
LONDON ?= out/london
london-data: env
	$(VENV)/bin/hotspots london-data --out $(LONDON)

test: env browser qgis $(LINT)
	$(PY) -m pytest -q -n 2 --dist loadfile tests --nbmake notebooks/walkthrough.ipynb

bench: env
	$(PY) benchmarks/run_all.py

# style and type checks (configured in pyproject.toml); every command runs, the target fails if any failed
lint: env
	@status=0; \
	$(VENV)/bin/ruff check src tests benchmarks || status=1; \
	$(VENV)/bin/ruff format --check src tests benchmarks || status=1; \
	$(VENV)/bin/mypy src || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) out .pytest_cache
