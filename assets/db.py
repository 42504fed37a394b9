"""Opening the pipeline's working database, and describing its tables to Dagster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import hashlib
from pathlib import Path
import shutil
import tempfile
import time

import duckdb
from dagster import TableColumn, TableSchema, get_dagster_logger
from dagster._utils.backoff import backoff
from filelock import FileLock
from dagster_duckdb import DuckDBResource

from .lib import events, storage
from .lib.incremental import defer_vacuum
from .lib.prefetch import prefetch
from .lib.sql import fetch_sql, identifier, row_count, run_script, sql_text, string_literal, table_exists
from .resources import PipelineSettings

@contextmanager
def working_db(settings: PipelineSettings, database: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """The working database with its schemas and shared macros in place.

    Held under an OS file lock beside the database for as long as it is open: whatever opens it
    (a run from the CLI, the daemon, a test) waits its turn without spinning, and a process that
    dies releases the lock with it.

    The step's event log records how long it waited and when it held the lock (HELD, on the
    system-wide monotonic clock, taken after the lock is got and before it is given back, so that
    the holds of two processes are disjoint whatever the clock's resolution)."""
    Path(settings.state_dir).mkdir(parents=True, exist_ok=True)
    lock = FileLock(f"{settings.working_db}.lock", poll_interval=0.2, is_singleton=True)  # re-entrant in a process
    asked = time.monotonic_ns()
    with lock:
        got = time.monotonic_ns()
        if got - asked >= WAIT_NOTED_NS:
            log.info(f"Waited {(got - asked) / 1e9:.1f}s for the working database: another run was using it")
        try:
            con = _attach(database, settings.warehouse_storage_version)
            try:
                defer_vacuum(con)
                _set_up(con)
                yield con
            finally:
                _detach(con, Path(database.database).stem)
        finally:
            log.debug(f"{HELD} {got} {time.monotonic_ns()}")


@contextmanager
def parsing_db(settings: PipelineSettings, database: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB in memory of the step's own to parse events on, without the working database's lock
    (lib/ingest.py): the resource's settings (its memory limit), and a spill folder of its own in
    the state folder, since steps parsing at once in several processes must not share one."""
    Path(settings.state_dir).mkdir(parents=True, exist_ok=True)
    spill = tempfile.mkdtemp(prefix="parse-", suffix=".tmp", dir=settings.state_dir)
    try:
        config = {**{k: str(v) for k, v in database.connection_config.items()}, "temp_directory": spill}
        with events.connect(config) as con:
            yield con
    finally:
        shutil.rmtree(spill, ignore_errors=True)


log = get_dagster_logger("working_db")
# the debug line of a hold of the working database's lock: HELD <from ns> <until ns>
HELD = "working database held (monotonic ns):"
WAIT_NOTED_NS = 1_000_000_000


# One DuckDB instance per process, the working database attached to it for the length of a step.
# Starting DuckDB 2.0 costs ~15 ms even in memory (its built-in extensions load), once per step
# (34 on a sample run) when each step connects anew; attaching a file to a running instance does
# not. The file is detached when the step ends, so nothing holds it between steps: another run's
# step can take it as before (holding the connection for a whole run deadlocked against the
# concurrency pool the steps were in then). Temporary tables and registered frames stay each step's own: they belong to
# the step's connection (a cursor of the instance), which closes with it.
_instance: duckdb.DuckDBPyConnection | None = None
_configured: dict[str, str] = {}


def _attach(database: DuckDBResource, storage_version: str) -> duckdb.DuckDBPyConnection:
    """A connection with `database`'s file attached under its usual name (the file's stem, as a
    direct connection names it) and in use, in DuckDB's storage format `storage_version` (the
    published file is a byte copy of it: lib/storage.py): a new file is made in it, and a file
    in another is converted, once."""
    path = Path(database.database)
    # The resource's configuration, and the file's spill folder beside it as when the file is the
    # database a connection opened. They are the instance's own: DuckDB refuses to move its spill
    # folder once used, so a step of another deployment (another folder) gets a new instance.
    config = {**{k: str(v) for k, v in database.connection_config.items()}, "temp_directory": f"{path}.tmp"}
    prefetch(path)  # the run's first step: the file read ahead while it starts (lib/prefetch.py)
    con = _engine(config).cursor()
    try:
        # Another process may hold the file for a moment without the lock file: a run planning
        # reads it read-only (sql.connect_read_only). Retried as DuckDBResource retries a connect.
        new = not path.exists()
        backoff(
            con.execute, retry_on=(duckdb.IOException,),
            args=[f"attach {string_literal(path)} as {identifier(path.stem)}{storage.attach_options(storage_version) if new else ''}"],
            max_retries=10,
        )
        con.execute(f"use {identifier(path.stem)}")
        if not new and not storage.is_in(con, path.stem, storage_version):
            storage.convert(con, path, storage_version, log)
    except BaseException:
        _release(con, path.stem)  # the instance outlives the step: leave nothing attached to it
        raise
    return con


def _engine(config: dict[str, str]) -> duckdb.DuckDBPyConnection:
    global _instance, _configured
    if _instance is None or config != _configured:
        if _instance is not None:
            _instance.close()  # between steps: nothing is attached to it
        _instance = duckdb.connect(":memory:", config={"custom_user_agent": "dagster", **config})
        _configured = config
    return _instance


def _release(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """After a failed attach or conversion: the file detached if it is attached, the connection closed."""
    try:
        con.execute("use memory")
        con.execute(f"detach database if exists {identifier(name)}")
    finally:
        con.close()


def _detach(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """End the step's use of the file attached as `name`: what it left uncommitted is rolled back,
    the file is checkpointed and released (DETACH), and the step's connection closed."""
    try:
        try:
            con.execute("rollback")
        except duckdb.Error:  # no transaction open: the usual case
            pass
        con.execute("use memory")
        con.execute(f"detach {identifier(name)}")
    finally:
        con.close()


SETUP_SCRIPTS = ("setup/create_schemas", "setup/create_macros", "setup/create_metrics")


def _set_up(con: duckdb.DuckDBPyConnection) -> None:
    """Schemas, audit tables and macros, created when the scripts changed since they last ran."""
    version = hashlib.sha256("".join(sql_text(name) for name in SETUP_SCRIPTS).encode()).hexdigest()
    done = table_exists(con, "audit", "setup_version") and con.execute(
        "select version from audit.setup_version"
    ).fetchall() == [(version,)]
    if done:
        return
    for name in SETUP_SCRIPTS:
        run_script(con, name)
    con.execute("create or replace table audit.setup_version as select ? as version", [version])


def table_metadata(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict:
    """Row count and column schema, the way the Dagster UI shows them."""
    columns = fetch_sql(con, "audit/table_columns", {"schema": schema, "table": table})
    rows = row_count(con, schema, table)
    return {
        "dagster/row_count": rows,
        "dagster/column_schema": TableSchema(
            columns=[TableColumn(name=n, type=t, description=c) for n, t, c in columns]
        ),
        "dagster/table_name": f"{schema}.{table}",
    }
