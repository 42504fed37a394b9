"""Opening the pipeline's working database, and describing its tables to Dagster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import hashlib
from pathlib import Path

import duckdb
from dagster import TableColumn, TableSchema
from filelock import FileLock
from dagster_duckdb import DuckDBResource

from .lib.incremental import defer_vacuum
from .lib.sql import fetch_sql, row_count, run_script, sql_text, table_exists
from .resources import PipelineSettings

# Every step that opens the working database is in this concurrency pool; dagster.yaml limits it to
# one step at a time, so two runs started together take turns instead of meeting DuckDB's lock.
POOL = "duckdb"


@contextmanager
def working_db(settings: PipelineSettings, database: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """The working database with its schemas and shared macros in place.

    Held under an OS file lock beside the database for as long as it is open: whatever opens it
    (a run from the CLI, the daemon, a test) waits its turn without spinning, and a process that
    dies releases the lock with it."""
    Path(settings.state_dir).mkdir(parents=True, exist_ok=True)
    lock = FileLock(f"{settings.working_db}.lock", poll_interval=0.2, is_singleton=True)  # re-entrant in a process
    with lock, database.get_connection() as con:
        # DuckDBResource closes the connection only on success (stack-notes §4); a failed step
        # must not leave the database open for the rest of the process.
        try:
            defer_vacuum(con)
            _set_up(con)
            yield con
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
