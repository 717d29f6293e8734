# Two commands do all the set-up on a fresh machine with Python >= 3.10:
#   make demo   - builds .venv with reachplan and its hours extra, then runs the main job on the
#                 embedded India data (the week by hour included)
#   make test   - builds .venv with the dev tools (and Chromium, eslint), then runs the whole suite
#                 (which builds the documentation site strictly: tests/test_docs.py)
#   make docs   - the documentation site in site/ (MkDocs, strict), with the map screenshot that
#                 the browser test takes (docs/img/india-map.png)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# what `make demo` needs: reachplan with the hours extra (the week profile), no test tools
DEMO_STAMP := $(VENV)/.runtime-stamp
# reachplan's runtime dependencies as wheels, so tests/test_install.py can install the wheel
# without extras into a fresh venv offline
WHEELS := $(VENV)/wheelhouse

NODE_STAMP := node_modules/.installed-stamp

.PHONY: demo test docs lint bench clean osrm osmium qgis-plugin

# the wheel inlines npm files (setup.py copies them from node_modules): npm ci comes first
$(STAMP): pyproject.toml setup.py $(NODE_STAMP)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip wheel --quiet --wheel-dir $(WHEELS) .
	touch $(STAMP)

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[hours]'
	touch $(DEMO_STAMP)

# eslint (npm devDependency, pinned by package-lock.json) for the maps' browser code, and the
# npm files the pages inline (package.json's dependencies and reachplanVendor)
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# the what-if page inlines an npm file (geographiclib-geodesic): without npm, fetched at the
# version package-lock.json pins and checked against its integrity (a no-op once there)
demo: $(DEMO_STAMP)
	$(BIN)/python tools/npm_assets.py
	$(BIN)/reachplan demo --out maps/demo --overwrite

test: $(STAMP) $(NODE_STAMP)
	@sh .ci/ensure-chromium
	@sh .ci/ensure-postgis
	@sh .ci/ensure-qgis
	$(BIN)/ruff check coverage tests benchmarks data tools qgis
	$(BIN)/mypy
	npx --no-install eslint coverage/reachplan/maps/static
	$(BIN)/python -m pytest

# the QGIS plugin as QGIS's "Install from ZIP" takes it (docs/qgis.md)
qgis-plugin:
	$(PYTHON) tools/qgis_plugin_zip.py build/reachplan_qgis.zip

# the screenshots are the browser tests' own views of the India map and the what-if planner
# (tests/test_maps_browser.py, tests/test_planner_ui_browser.py write them only when
# REACHPLAN_SCREENSHOTS names a folder); then a strict build into site/
docs: $(STAMP)
	@sh .ci/ensure-chromium
	REACHPLAN_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/test_maps_browser.py tests/test_planner_ui_browser.py \
		-k "offline_india_map or drawn_for_the_documentation"
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir site

bench: $(STAMP)
	@sh .ci/ensure-osmium
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

# osmium-tool (Debian's package) for the side-by-side PBF reading in benchmarks/bench_roads.py
osmium:
	@sh .ci/ensure-osmium

# OSRM for the comparison in benchmarks/bench_roads.py (optional; Linux x86-64 or aarch64):
# the osrm-bindings wheel's self-contained executables (osrm-extract, osrm-contract,
# osrm-routed, car.lua), unpacked into .venv/osrm. The wheel is tagged Python >= 3.12, but its
# executables need no Python, so pip (any version) downloads it for that tag and we unzip it.
OSRM_VERSION := 26.10.0
OSRM_DIR := $(VENV)/osrm

osrm: $(OSRM_DIR)/osrm/bin/osrm-routed

$(OSRM_DIR)/osrm/bin/osrm-routed:
	$(PYTHON) -m pip download --quiet --no-deps --only-binary :all: --python-version 3.12 \
		--platform manylinux_2_28_$(shell uname -m) --dest $(OSRM_DIR)/wheel \
		osrm-bindings==$(OSRM_VERSION)
	$(PYTHON) -m zipfile -e $(OSRM_DIR)/wheel/osrm_bindings-$(OSRM_VERSION)-*.whl $(OSRM_DIR)
	chmod +x $(OSRM_DIR)/osrm/bin/*
	$(OSRM_DIR)/osrm/bin/osrm-routed --version

clean:
	rm -rf $(VENV) node_modules build site *.egg-info coverage/*.egg-info
