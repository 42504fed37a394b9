"""SQL lives in `sql/<layer>/<name>.sql`, one statement per file, with bound parameters."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@cache
def sql_text(name: str) -> str:
    """`staging/orders` -> the text of sql/staging/orders.sql."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _bound(text: str, params: dict | None) -> dict | None:
    """Only the parameters the text names (`$name`): one settings dict serves every file."""
    used = {k: v for k, v in (params or {}).items() if f"${k}" in text}
    return used or None


def _execute(con: duckdb.DuckDBPyConnection, name: str, params: dict | None):
    text = sql_text(name)
    return con.execute(text, _bound(text, params))


def run_sql(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    _execute(con, name, params)


def string_literal(value) -> str:
    """`value` as a SQL string literal, each quote doubled: for the few statements DuckDB cannot
    take a bound parameter in (COMMENT ON, ATTACH, a list of paths in CREATE VIEW)."""
    return "'" + str(value).replace("'", "''") + "'"


def identifier(name: str) -> str:
    """`name` as a quoted SQL identifier, each double quote doubled (a database's name in USE)."""
    return '"' + name.replace('"', '""') + '"'


# A table or view the pipeline names in SQL text, where DuckDB cannot bind it: schema.name only.
_QUALIFIED_NAME = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


def table_fingerprint(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Rows and an order-independent hash of the rows of a table or view (schema.name), computed
    in the database."""
    if not _QUALIFIED_NAME.match(relation):
        raise ValueError(f"not a schema-qualified name: {relation!r}")
    ((rows, digest),) = con.execute(
        f"select count(*), coalesce(sum(hash(q)::hugeint), 0) from {relation} as q"  # noqa: S608 - checked name
    ).fetchall()
    return f"{rows}:{digest}"


# Where a check reads a query's rows through a view: a schema of the working database (a view
# of the in-memory `scratch` database cannot name the working database's tables), dropped with
# its views after the check.
CHECK_VIEWS = "check_views"


def create_check_relation(
    con: duckdb.DuckDBPyConnection, name: str, params: dict | None, table: str, copy_rows: int
) -> str:
    """A relation of a query file's rows for checks that read them many times, returned as
    schema.name: `scratch.<table>`, a table of the in-memory scratch database the query ran into
    once, when it has at most `copy_rows` rows; beyond that, `check_views.<table>`, a view that
    runs the query on each read, where a copy would spill to disk. The query runs once into the
    table, stopped after `copy_rows + 1` rows (then it is the view). A view cannot hold bound
    parameters (DuckDB does not prepare a CREATE VIEW): a query that takes some is always copied.
    `drop_check_views` removes the views' schema."""
    relation = f"scratch.{table}"
    if not _QUALIFIED_NAME.match(relation):
        raise ValueError(f"not a table name: {table!r}")
    query, bound = _copied_rows(name, params, copy_rows)
    con.execute(f"create or replace table {relation} as {query}", bound)  # noqa: S608 - checked name
    if "copy_limit" not in bound or row_count(con, "scratch", table) <= copy_rows:
        return relation
    con.execute(f"drop table {relation}")
    return create_check_view(con, name, table)


def _copied_rows(name: str, params: dict | None, copy_rows: int) -> tuple[str, dict]:
    """The query a check copies a query file's rows with, and its parameters: stopped after
    `copy_rows + 1` rows (bound as `copy_limit`), to tell whether they fit, unless the query takes
    parameters, which is copied whole (a view cannot hold them)."""
    text = sql_text(name)
    bound = _bound(text, params)
    if bound:
        return f"select * from ({text}) as q", bound
    return f"select * from ({text}) as q limit $copy_limit", {"copy_limit": copy_rows + 1}


def create_check_view(con: duckdb.DuckDBPyConnection, name: str, table: str) -> str:
    """`check_views.<table>`: a view of a query file (without parameters) that runs it on each read,
    for more rows than a check copies (create_check_relation)."""
    if not _QUALIFIED_NAME.match(f"{CHECK_VIEWS}.{table}"):
        raise ValueError(f"not a table name: {table!r}")
    con.execute(f"create schema if not exists {CHECK_VIEWS}")
    con.execute(f"create or replace view {CHECK_VIEWS}.{table} as select * from ({sql_text(name)}) as q")  # noqa: S608 - checked name
    return f"{CHECK_VIEWS}.{table}"


def drop_check_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"drop schema if exists {CHECK_VIEWS} cascade")


def create_parquet_view(con: duckdb.DuckDBPyConnection, view: str, files: list[str], *, copy: bool = False) -> None:
    """A view (schema.name) of the rows of Parquet `files`, read where they lie on every query;
    with `copy`, a view of a table `<view>_copy` that holds them, read from the files once.

    DuckDB cannot prepare a CREATE VIEW ("This type of statement can't be prepared"), nor take a
    subquery as a table function's argument, so the paths are written into the statement as one
    list of string literals, each quote doubled."""
    if not _QUALIFIED_NAME.match(view):
        raise ValueError(f"not a schema-qualified view name: {view!r}")
    paths = ", ".join(string_literal(path) for path in files)
    rows = f"read_parquet([{paths}])"
    if copy:
        con.execute(f"create or replace table {view}_copy as select * from {rows}")  # noqa: S608 - checked name, quoted paths
        rows = f"{view}_copy"
    con.execute(f"create or replace view {view} as select * from {rows}")  # noqa: S608 - checked name, quoted paths


def export_check_rows(
    con: duckdb.DuckDBPyConnection, name: str, params: dict | None, path: str, copy_rows: int
) -> bool:
    """A query file's rows written once to the Parquet file `path`, for a check judged in another
    process: True when they are at most `copy_rows` (or the query takes parameters, as in
    create_check_relation); else the file is removed and False returned. One pass from the query to
    the file, where a copy into a scratch table and out again took twice as long."""
    query, bound = _copied_rows(name, params, copy_rows)
    ((rows,),) = con.execute(f"copy ({query}) to {string_literal(path)} (format parquet)", bound).fetchall()  # noqa: S608 - query file, quoted path
    if "copy_limit" not in bound or rows <= copy_rows:
        return True
    Path(path).unlink()
    return False


def fetch_sql(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> list[tuple]:
    return _execute(con, name, params).fetchall()


def fetch_with_columns(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None):
    """(column names, rows) of a query file."""
    result = _execute(con, name, params)
    return [d[0] for d in result.description], result.fetchall()


def fetch_frame(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None):
    """A query file's rows as a Polars frame, each column of its DuckDB type (DECIMAL stays decimal,
    HUGEINT a 128-bit decimal of scale 0)."""
    text = sql_text(name)
    return con.sql(text, params=_bound(text, params)).pl()


def column_names(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """A table's columns in order; empty when it does not exist."""
    return [name for name, _, _ in fetch_sql(con, "audit/table_columns", {"schema": schema, "table": table})]


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(column_names(con, schema, table))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All or nothing: a failed statement rolls the whole block back."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def run_script(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """A file of several DDL statements without parameters (schemas, macros). DuckDB's parser
    splits it and runs the statements in order, each on its own: one that fails stops the rest and
    leaves those before it done (inside `transaction`, the whole block rolls back)."""
    con.execute(sql_text(name))


def connect_read_only(path, wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection to a database file that another process may be writing: DuckDB
    lets no reader in beside another process's writer. Waits up to `wait_seconds` for the writer to
    finish; None if it did not."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.5)


def row_count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    (rows,) = con.execute(f"select count(*) from {identifier(schema)}.{identifier(table)}").fetchone()  # noqa: S608 - identifiers from the catalog
    return rows
