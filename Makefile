# Two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export DAGSTER_HOME ?= $(CURDIR)/.dagster

.PHONY: run test ui sample clean install

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	@$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@$(BIN)/taobao-ops run

test: $(STAMP)
	@$(BIN)/python -m pytest -q

ui: $(STAMP)
	@mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/dagster dev -m pipelines.definitions -h 127.0.0.1 -p 3000

sample: $(STAMP)
	@$(BIN)/taobao-ops sample --out data/raw

clean:
	rm -rf $(VENV) .dagster data/state data/warehouse.duckdb
