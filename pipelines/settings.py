"""Deployment settings from the environment, with defaults that work in a fresh clone.

    TAOBAO_OPS_RAW_DIR       drop folder of raw exports         (default data/raw)
    TAOBAO_OPS_STATE_DIR     working database, lake, load state (default data/state)
    TAOBAO_OPS_WAREHOUSE     the analysts' DuckDB file          (default data/warehouse.duckdb)
    TAOBAO_OPS_REPORTS_DIR   the quarterly reports              (default reports)
    TAOBAO_OPS_PII_KEY       secret of the buyer pseudonyms     (default: the deployment's own, <state>/pii.key)
    TAOBAO_OPS_DEFAULT_SHOP  shop_id of files without a shop column (default `default`)
    TAOBAO_OPS_FISCAL_YEAR_START_MONTH  1 = calendar quarters, 4 = Alibaba's fiscal year
    TAOBAO_OPS_DUCKDB_MEMORY_LIMIT  DuckDB's memory limit in the pipeline's steps (default 1GB)
    TAOBAO_OPS_MAX_FILE_MB, _MAX_COLUMNS, _MAX_LINE_KB, _MAX_GZIP_RATIO  what one raw file may hold
                             (defaults 128, 1000, 1024, 100; assets/lib/limits.py)
    TAOBAO_OPS_FIRST_BATCH_DATE  first day of the batch-date partitions (assets/lib/batch_dates.py)
    TAOBAO_OPS_AUTOMATION, TAOBAO_OPS_SCHEDULE[_TIMEZONE]  schedule and sensor (pipelines/automation.py)
    DAGSTER_HOME             Dagster's run history (default .dagster/ in the project)

Relative paths given in the environment are taken from the current directory; the defaults are
inside the project, so a cron line works from any directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from assets.lib.limits import DEFAULT_LIMITS, LIMIT_SETTINGS
from assets.lib.pii_key import KEY_ENV, deployment_key
from assets.lib.settings import Settings

if TYPE_CHECKING:
    from dagster_duckdb import DuckDBResource

    from assets.resources import PipelineSettings

PROJECT_ROOT = Path(__file__).resolve().parents[1]

PATH_DEFAULTS = {
    "TAOBAO_OPS_RAW_DIR": "data/raw",
    "TAOBAO_OPS_STATE_DIR": "data/state",
    "TAOBAO_OPS_WAREHOUSE": "data/warehouse.duckdb",
    "TAOBAO_OPS_REPORTS_DIR": "reports",
    "DAGSTER_HOME": ".dagster",
}
VALUE_DEFAULTS = {
    "TAOBAO_OPS_DEFAULT_SHOP": "default",
    "TAOBAO_OPS_FISCAL_YEAR_START_MONTH": "1",
    # DuckDB spills to disk beyond this, so that a large rebuild stays within a small machine.
    "TAOBAO_OPS_DUCKDB_MEMORY_LIMIT": "1GB",
    **{env: str(getattr(DEFAULT_LIMITS, field)) for field, env in LIMIT_SETTINGS.items()},
}


def apply_defaults(**overrides: str | Path | None) -> None:
    """Fill the environment: explicit overrides, then what is set, then the project's defaults.

    Paths become absolute, so that every process of a run (and Dagster's run workers) agree."""
    for name, value in overrides.items():
        if value is not None:
            os.environ[name] = str(value)
    for name, default in PATH_DEFAULTS.items():
        value = os.environ.get(name)
        os.environ[name] = str(Path(value).resolve()) if value else str(PROJECT_ROOT / default)
    for name, default in VALUE_DEFAULTS.items():
        os.environ.setdefault(name, default)
    if not os.environ.get(KEY_ENV):  # the deployment's own key, made on its first run (assets/lib/pii_key.py)
        key, message = deployment_key(Path(os.environ["TAOBAO_OPS_STATE_DIR"]))
        os.environ[KEY_ENV] = key
        if message:
            print(message, file=sys.stderr)


PID_TAG = "taobao-ops/pid"
HOST_TAG = "taobao-ops/host"


def run_tags() -> dict[str, str]:
    """Tags that say which process runs a CLI run, so a later run can tell it died."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def fail_dead_runs(instance) -> list[str]:
    """Mark as failed the runs a killed `taobao-ops run` on this host left unfinished: started (and any
    concurrency slot they held: a deployment made before the file lock replaced the `duckdb` pool), or
    killed while starting, before their first step (they stayed NOT_STARTED in the history for ever)."""
    from dagster import DagsterRunStatus, RunsFilter

    unfinished = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
    dead = []
    for run in instance.get_runs(filters=RunsFilter(statuses=unfinished)):
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if pid is None or host != socket.gethostname() or _alive(int(pid)):
            continue
        instance.report_run_failed(run, f"process {pid} that ran it is gone")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        dead.append(run.run_id)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_instance():
    """Dagster's instance in DAGSTER_HOME. Two processes starting together on a new home would both
    create its SQLite tables and one would fail; a file lock makes them take turns at that."""
    from dagster import AssetKey, DagsterInstance
    from filelock import FileLock

    home = prepare_dagster_home()
    with FileLock(home / ".storage.lock"):
        instance = DagsterInstance.get()
        instance.get_runs(limit=1)  # run storage
        instance.get_latest_materialization_event(AssetKey("storage_check"))  # event index shard
        instance.event_log_storage.get_concurrency_keys()  # pools
        fail_dead_runs(instance)
    return instance


def prepare_dagster_home() -> Path:
    """DAGSTER_HOME with the project's committed dagster.yaml as its instance config."""
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    source = PROJECT_ROOT / "dagster.yaml"
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
    return home


# PipelineSettings field -> the environment variable that sets it.
SETTING_ENV = {
    "raw_dir": "TAOBAO_OPS_RAW_DIR",
    "state_dir": "TAOBAO_OPS_STATE_DIR",
    "warehouse_path": "TAOBAO_OPS_WAREHOUSE",
    "reports_dir": "TAOBAO_OPS_REPORTS_DIR",
    "pii_key": "TAOBAO_OPS_PII_KEY",
    "default_shop": "TAOBAO_OPS_DEFAULT_SHOP",
    "fiscal_year_start_month": "TAOBAO_OPS_FISCAL_YEAR_START_MONTH",
    **LIMIT_SETTINGS,
}
# The fields read as integers.
INT_SETTINGS = {"fiscal_year_start_month", *LIMIT_SETTINGS}


def pipeline_settings() -> PipelineSettings:
    """The settings as Dagster resolves them in each step (the UI shows names, not the secret)."""
    from dagster import EnvVar

    from assets.resources import PipelineSettings

    return PipelineSettings(
        **{field: (EnvVar.int(env) if field in INT_SETTINGS else EnvVar(env)) for field, env in SETTING_ENV.items()}
    )


def current_settings() -> Settings:
    """The same settings with today's values, for code outside a step (the CLI's planning); a
    plain object, so that a run with nothing new does not import Dagster."""
    return Settings(**{field: os.environ[env] for field, env in SETTING_ENV.items()})


def working_database() -> DuckDBResource:
    from dagster_duckdb import DuckDBResource

    return DuckDBResource(
        database=str(Path(os.environ["TAOBAO_OPS_STATE_DIR"]) / "pipeline.duckdb"),
        connection_config={"memory_limit": os.environ["TAOBAO_OPS_DUCKDB_MEMORY_LIMIT"]},
    )
