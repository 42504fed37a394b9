"""Deployment settings from the environment, with defaults that work in a fresh clone.

    TAOBAO_OPS_RAW_DIR       drop folder of raw exports         (default data/raw)
    TAOBAO_OPS_STATE_DIR     working database, lake, load state (default data/state)
    TAOBAO_OPS_LAKE          the Parquet lake's root, a folder or s3://bucket/prefix (default <state>/lake)
    TAOBAO_OPS_WAREHOUSE     the analysts' DuckDB file          (default data/warehouse.duckdb)
    TAOBAO_OPS_REPORTS_DIR   the quarterly reports              (default reports)
    TAOBAO_OPS_PII_KEY       secret of the buyer pseudonyms     (default: the deployment's own, <state>/pii.key)
    TAOBAO_OPS_DEFAULT_SHOP  shop_id of files without a shop column (default `default`)
    TAOBAO_OPS_FISCAL_YEAR_START_MONTH  1 = calendar quarters, 4 = Alibaba's fiscal year
    TAOBAO_OPS_DUCKDB_MEMORY_LIMIT  DuckDB's memory limit in the pipeline's steps (default 1GB)
    TAOBAO_OPS_MAX_FILE_MB, _MAX_COLUMNS, _MAX_LINE_KB, _MAX_GZIP_RATIO  what one raw file may hold
                             (defaults 128, 1000, 1024, 100; assets/lib/limits.py)
    TAOBAO_OPS_FIRST_BATCH_DATE  first day of the batch-date partitions (default 2024-01-01)
    TAOBAO_OPS_EVENTS_MAX_AGE_DAYS  events older than this many days before their batch date are rejected (default 31)
    TAOBAO_OPS_AUTOMATION, TAOBAO_OPS_SCHEDULE[_TIMEZONE]  schedule and sensor (pipelines/automation.py)
    TAOBAO_OPS_EXECUTOR      in_process (default) or multiprocess: the steps of a run in one process, or
                             the raw steps parsing side by side (docs/scale-out.md)
    TAOBAO_OPS_MAX_CONCURRENT  steps at once with the multiprocess executor (default: the CPUs)
    TAOBAO_OPS_ENGINE        duckdb (default) or spark: what builds staging and marts (docs/scale-out.md)
    TAOBAO_OPS_SPARK_MASTER, TAOBAO_OPS_SPARK_CONF  where Spark runs, and more of its settings
    TAOBAO_OPS_REPORT_*      the report summary's thresholds (docs/report.md)
    DAGSTER_HOME             Dagster's run history (default .dagster/ in the project)

Relative paths given in the environment are taken from the current directory; the defaults are
inside the project, so a cron line works from any directory.

`Deployment.from_environment` reads them once into one typed object, which the command line and
the Dagster definitions hand to what needs them; nothing here writes the environment. Dagster's
resource names the variables a user set (`EnvVar`: each step resolves them, and the UI shows their
names, never the secret's value), but for paths, which it holds resolved like the defaults: every
process of a run must agree on a relative one (`Deployment.resource`).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assets.lib.settings import PATHS, PROJECT_ROOT, VARIABLES, Settings, set_variables

if TYPE_CHECKING:
    from dagster_duckdb import DuckDBResource

    from assets.resources import PipelineSettings

AUTOMATION_KINDS = ("off", "on", "schedule", "sensor")
# The variables of the settings that are not the steps' (theirs: assets/lib/settings.py, VARIABLES).
AUTOMATION_VARIABLES = {
    "starts": "TAOBAO_OPS_AUTOMATION",
    "schedule": "TAOBAO_OPS_SCHEDULE",
    "timezone": "TAOBAO_OPS_SCHEDULE_TIMEZONE",
}
EXECUTORS = ("in_process", "multiprocess")
EXECUTION_VARIABLES = {"executor": "TAOBAO_OPS_EXECUTOR", "max_concurrent": "TAOBAO_OPS_MAX_CONCURRENT"}
MEMORY_LIMIT_VARIABLE = "TAOBAO_OPS_DUCKDB_MEMORY_LIMIT"
DAGSTER_HOME_VARIABLE = "DAGSTER_HOME"


class Automation(BaseModel):
    """What starts runs without a person (pipelines/automation.py)."""

    model_config = ConfigDict(frozen=True)

    starts: str = Field(default="off", description="What starts out running: off, on, schedule or sensor.")
    schedule: str = Field(default="0 6 * * *", description="Cron of the daily run.")
    timezone: str = Field(default="Asia/Shanghai", description="Time zone of the cron.")

    @field_validator("starts")
    @classmethod
    def _one_of_the_kinds(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in AUTOMATION_KINDS:
            raise ValueError(f"{AUTOMATION_VARIABLES['starts']} must be off, on, schedule or sensor, not {value!r}")
        return value

    def enabled(self, kind: str) -> bool:
        """Is the schedule or the sensor on by default?"""
        return self.starts in {"on", kind}


class Execution(BaseModel):
    """Where a run's steps execute (docs/scale-out.md): one after another in the run's process, or
    each in a process of its own, as many at once as `max_concurrent`; the raw steps then parse side
    by side, and the steps that write the working database take its lock in turn (assets/db.py)."""

    model_config = ConfigDict(frozen=True)

    executor: str = Field(default="in_process", description="in_process or multiprocess.")
    max_concurrent: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1,
        description="Steps running at once with the multiprocess executor (default: the CPUs).",
    )

    @field_validator("executor")
    @classmethod
    def _one_of_the_executors(cls, value: str) -> str:
        value = value.strip().lower().replace("-", "_")
        if value not in EXECUTORS:
            raise ValueError(f"{EXECUTION_VARIABLES['executor']} must be in_process or multiprocess, not {value!r}")
        return value

    @property
    def multiprocess(self) -> bool:
        return self.executor == "multiprocess"

    def executor_def(self):
        """Dagster's executor of the definitions."""
        from dagster import in_process_executor, multiprocess_executor

        if self.multiprocess:
            return multiprocess_executor.configured({
                "max_concurrent": self.max_concurrent,
                # each step's process forked from one that imported the definitions (Dagster, DuckDB,
                # Polars) once, rather than each importing them anew
                "start_method": {"forkserver": {"preload_modules": ["pipelines.definitions"]}},
            })
        return in_process_executor


class Deployment(BaseModel):
    """Every setting of one deployment, read once (`from_environment`)."""

    model_config = ConfigDict(frozen=True)

    settings: Settings = Field(default_factory=Settings, description="What each step reads.")
    # DuckDB spills to disk beyond this, so that a large rebuild stays within a small machine.
    duckdb_memory_limit: str = "1GB"
    automation: Automation = Field(default_factory=Automation)
    execution: Execution = Field(default_factory=Execution)
    dagster_home: Path = PROJECT_ROOT / ".dagster"
    # The fields of `settings` a variable gave: Dagster's resource names them (`resource`).
    named: frozenset[str] = frozenset()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ, **overrides: str | Path | None) -> Deployment:
        """The settings `environ` gives, `overrides` (command-line options, by field of `Settings`)
        first; an empty variable counts as unset."""
        given = {field for field, value in overrides.items() if value is not None}
        values: dict = {
            "automation": Automation(**set_variables(environ, AUTOMATION_VARIABLES)),
            "execution": Execution(**set_variables(environ, EXECUTION_VARIABLES)),
        }
        if environ.get(MEMORY_LIMIT_VARIABLE):
            values["duckdb_memory_limit"] = environ[MEMORY_LIMIT_VARIABLE]
        if environ.get(DAGSTER_HOME_VARIABLE):
            values["dagster_home"] = Path(environ[DAGSTER_HOME_VARIABLE]).resolve()
        return cls(
            settings=Settings.from_environment(environ, **overrides),
            named=frozenset(set_variables(environ, VARIABLES).keys() - given),
            **values,
        )

    def resource(self) -> PipelineSettings:
        """`settings` as Dagster's resource: a field a variable gave by the variable's name (so the
        UI shows the name, and each step reads the variable), the others by value. Paths always go
        by value, resolved from the current directory (`Settings.from_environment`): a step reading
        a relative TAOBAO_OPS_STATE_DIR itself would agree with the command, not with the GX
        worker, which starts in the project folder. Numbers with a fraction (the report's
        thresholds) go by value too: Dagster's EnvVar carries text and whole numbers only."""
        from dagster import EnvVar

        from assets.resources import PipelineSettings

        def by_name(field: str) -> EnvVar:
            name = VARIABLES[field]
            return EnvVar.int(name) if Settings.model_fields[field].annotation is int else EnvVar(name)

        by_value = PATHS | {field for field, info in Settings.model_fields.items() if info.annotation is float}
        return PipelineSettings(
            **{
                field: by_name(field) if field in self.named - by_value else getattr(self.settings, field)
                for field in VARIABLES
            }
        )

    def working_database(self) -> DuckDBResource:
        from dagster_duckdb import DuckDBResource

        return DuckDBResource(
            database=str(self.settings.working_db), connection_config={"memory_limit": self.duckdb_memory_limit}
        )


# The defaults by variable, for the benchmarks, which run the pipeline's parts as `make bench` runs them.
VALUE_DEFAULTS = {
    "TAOBAO_OPS_FISCAL_YEAR_START_MONTH": str(Settings().fiscal_year_start_month),
    MEMORY_LIMIT_VARIABLE: Deployment().duckdb_memory_limit,
}


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


def open_instance(home: Path):
    """Dagster's instance in `home`. Two processes starting together on a new home would both
    create its SQLite tables and one would fail; a file lock makes them take turns at that.

    Dagster finds the instance, and its storage config (dagster.yaml) its folder, through
    DAGSTER_HOME: the command that opens it sets the variable in its own process."""
    from dagster import AssetKey, DagsterInstance
    from filelock import FileLock

    prepare_dagster_home(home)
    os.environ[DAGSTER_HOME_VARIABLE] = str(home)
    with FileLock(home / ".storage.lock"):
        instance = DagsterInstance.get()
        instance.get_runs(limit=1)  # run storage
        instance.get_latest_materialization_event(AssetKey("storage_check"))  # event index shard
        instance.event_log_storage.get_concurrency_keys()  # pools
        fail_dead_runs(instance)
    return instance


def prepare_dagster_home(home: Path) -> None:
    """Dagster's home folder with the project's committed dagster.yaml as its instance config."""
    home.mkdir(parents=True, exist_ok=True)
    source = PROJECT_ROOT / "dagster.yaml"
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
