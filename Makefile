# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

export DAGSTER_HOME ?= $(CURDIR)/.dagster
# Python keeps the compiled form of what it imports (__pycache__, in .venv and the project), even
# where the environment says not to (PYTHONDONTWRITEBYTECODE): without it every command compiles
# Dagster, GX and the rest again, half of a run with nothing new and ~5 s of the sample run.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-fast docs-images fuzz soak ui report query export sample bench bench-events bench-spark bench-bounds lineage lock install clean

# A virtual environment with exactly the locked versions, the project installed editable, in one
# uv sync. The venv gets no pip of its own (ensurepip alone took 8 s of a first `make run`): uv is
# installed into it by the system's pip, or by a pip in the venv where the system has none.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	@test -x $(BIN)/uv || $(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check uv 2>/dev/null \
		|| { $(PYTHON) -m venv --clear $(VENV) && $(BIN)/python -m pip install --quiet --disable-pip-version-check uv; }
	@printf -- '-e .\n' | cat requirements.lock - > $(VENV)/requirements.txt
	@$(BIN)/uv pip sync --quiet --python $(BIN)/python $(VENV)/requirements.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# The `spark` extra for the tests of the Spark engine: the lock's versions plus pyspark and py4j
# (requirements-spark.lock, made by `make lock`); `make run` does not download Spark's 400 MB.
SPARK_STAMP := $(VENV)/.spark-$(shell cat requirements-spark.lock | cksum | cut -d' ' -f1)
$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	@$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-spark.lock
	@rm -f $(VENV)/.spark-* && touch $(SPARK_STAMP)

## run: install, run the whole pipeline on data/raw, publish data/warehouse.duckdb, print the summary
run: $(STAMP)
	@$(BIN)/taobao-ops run

## test: install and run the test suite, all of it
test: $(SPARK_STAMP)
	@$(BIN)/python -m pytest -q -n auto --dist loadfile

## test-fast: the tests that run no whole pipeline (those are marked `slow`): a check while editing
test-fast: $(STAMP)
	@$(BIN)/python -m pytest -q -n auto --dist loadfile -m "not slow"

## docs-images: the README's pictures docs/img/report.png (the sample's 2024Q4 report) and
## asset-graph.png (the Dagster UI after a run), taken anew by the browser tests, which write them
## into docs/img only here. Needs Chromium and a CJK font: .ci/browser installs them (as root) or
## says what is missing. matplotlib's font list is made afresh: one cached before the font was
## installed would draw the Chinese names as boxes.
DOCS_IMAGES := tests/test_report.py::test_the_charts_and_the_pages_name_a_font_that_draws_the_chinese_names \
	tests/test_report.py::test_the_html_renders_in_headless_chromium \
	tests/test_ui.py::test_the_lineage_page_renders_raw_to_report_left_to_right
docs-images: $(STAMP)
	@bash .ci/browser
	@fonts=$$(mktemp -d) && trap 'rm -rf "$$fonts"' EXIT && MPLCONFIGDIR=$$fonts TAOBAO_OPS_DOCS_IMG=$(CURDIR)/docs/img \
		$(BIN)/python -m pytest -q $(DOCS_IMAGES)

## fuzz: the readers and the parser fuzzed on file bytes, headers and values (hypothesis) for
## MINUTES (default 10); prints how many files it read and parsed (tests/test_fuzz.py)
MINUTES ?= 10
fuzz: $(STAMP)
	@FUZZ_MINUTES=$(MINUTES) $(BIN)/python -m tests.test_fuzz

## soak: DAYS (default 365) daily runs in a row on generated data, checked against rebuilds every
## 30 days; writes docs/soak.png and bench/out/soak/soak.json (bench/soak.py; ~30 min for a year)
DAYS ?= 365
soak: $(STAMP)
	@$(BIN)/python bench/soak.py --days $(DAYS)

## ui: the Dagster UI and daemon on http://127.0.0.1:3000 with the project's DAGSTER_HOME
ui: $(STAMP)
	@mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/dagster dev -m pipelines.definitions -h 127.0.0.1 -p 3000

## report: the quarterly report of Q (default 2024Q4) from data/warehouse.duckdb into reports/Q/
Q ?= 2024Q4
report: $(STAMP)
	@$(BIN)/taobao-ops report $(Q)

## query: SQL on data/warehouse.duckdb, read-only: make query Q="select …" [FORMAT=csv|json|markdown];
## without Q, the marts and what each holds. Q goes to the command through the environment, unexpanded
## by make, so its quotes and $ reach DuckDB as typed.
query: export TAOBAO_OPS_QUERY_SQL = $(if $(filter command line environment,$(origin Q)),$(value Q))
query: $(STAMP)
	@$(BIN)/taobao-ops query --format $(or $(FORMAT),table) -- $${TAOBAO_OPS_QUERY_SQL:+"$$TAOBAO_OPS_QUERY_SQL"}

## export: the marts of Q (default 2024Q4) from data/warehouse.duckdb as FORMAT (xlsx, the default: one
## workbook reports/Q/taobao-ops-Q.xlsx; csv or parquet: reports/Q/<format>/<mart>.*); docs/export.md
## (no global FORMAT default: `make query` reads FORMAT with a default of its own)
export: $(STAMP)
	@$(BIN)/taobao-ops export $(Q) --format $(or $(FORMAT),xlsx)

## sample: regenerate the shipped sample in data/raw
sample: $(STAMP)
	@$(BIN)/taobao-ops sample --out data/raw

## bench: measure the pipeline against the DuckDB floor and a pandas script; writes docs/benchmarks.md
## (10 million orders by default: ~15 GB of disk under bench/out/, 14 GB of memory for the pandas
## script, about an hour on 2 cores; ORDERS=1000000 for a few minutes). Also the behaviour events:
## a generated log of EVENTS events (default 100 million: 3.7 GB, ~1 min to write once, then cached)
## through the whole path beside DuckDB's floor; EVENTS=0 leaves them out
ORDERS ?= 10000000
REPEAT ?= 3
EVENTS ?= 100000000
bench: $(STAMP)
	@$(BIN)/python bench/run.py --orders $(ORDERS) --repeat $(REPEAT) --events $(EVENTS)

## bench-events: the behaviour events' figures alone (printed, and bench/out/results/events.json)
bench-events: $(STAMP)
	@$(BIN)/python bench/run.py --events $(EVENTS) --repeat $(REPEAT) --events-only

## bench-spark: the full rebuild of the ORDERS workload (bench's, cached) on DuckDB and on Spark
## SPARK_MASTER (default local[2]), SPARK_REPEAT rounds (default 1), side by side; fails unless
## every mart is equal. Writes bench/out/results/spark.json and the section in docs/benchmarks.md
SPARK_REPEAT ?= 1
SPARK_MASTER ?= local[2]
SPARK_CONF ?= spark.driver.memory=6g
bench-spark: $(SPARK_STAMP)
	@$(BIN)/python bench/spark.py --orders $(ORDERS) --repeat $(SPARK_REPEAT) --master '$(SPARK_MASTER)' --conf '$(SPARK_CONF)'

## bench-bounds: after `make bench`, the least each kept part of a run costs here (bench/bounds.py)
bench-bounds: $(STAMP)
	@$(BIN)/python bench/bounds.py

## lineage: derive sql/lineage.json again from the SQL files with sqlglot (what each table reads, where each
## column comes from): after changing a file in sql/, as a test and the next run ask; runs only read it
lineage: $(STAMP)
	@$(BIN)/python -m assets.lib.sql_lineage --write
	@$(BIN)/python -m assets.lib.spark_sql

## lock: re-resolve requirements.lock after changing dependencies in pyproject.toml
lock: $(STAMP)
	@$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --extra s3 --python-version 3.11 -o requirements.lock
	@$(BIN)/uv pip compile --quiet pyproject.toml --extra spark -c requirements.lock --python-version 3.11 -o requirements-spark.lock

clean:
	rm -rf $(VENV) .dagster data/state data/warehouse.duckdb
