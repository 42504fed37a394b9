"""Opening the pipeline's working database, and describing its tables to Dagster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import TableColumn, TableSchema
from dagster_duckdb import DuckDBResource

from .lib.sql import fetch_sql, run_script
from .resources import PipelineSettings


@contextmanager
def working_db(settings: PipelineSettings, database: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """The working database with its schemas and shared macros in place."""
    Path(settings.state_dir).mkdir(parents=True, exist_ok=True)
    with database.get_connection() as con:
        # DuckDBResource closes the connection only on success (stack-notes §4); a failed step
        # must not leave the database open for the rest of the process.
        try:
            run_script(con, "setup/create_schemas")
            run_script(con, "setup/create_macros")
            run_script(con, "setup/create_metrics")
            yield con
        finally:
            con.close()


def table_metadata(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict:
    """Row count and column schema, the way the Dagster UI shows them."""
    columns = fetch_sql(con, "audit/table_columns", {"schema": schema, "table": table})
    (rows,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()  # noqa: S608 - identifiers from code
    return {
        "dagster/row_count": rows,
        "dagster/column_schema": TableSchema(
            columns=[TableColumn(name=n, type=t, description=c) for n, t, c in columns]
        ),
        "dagster/table_name": f"{schema}.{table}",
    }
