"""`taobao-ops query`: SQL on the published file, read-only, with nothing else installed.

The file is opened read-only for the one statement (the pipeline never opens it, and replaces it
atomically: a query sees the publication it opened). Results print as a terminal table, or as CSV,
JSON or Markdown for scripts. Without SQL, the marts are listed with what each holds, as the
published comments say it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from assets.lib.sql import fetch_sql, row_count

TABLE_ROWS = 1000  # a terminal table shows at most this many rows; --format csv gives them all


class QueryError(Exception):
    """What went wrong, said for the person who typed the query."""


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise QueryError(f"{warehouse} does not exist: run the pipeline first (taobao-ops run)")
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise QueryError(f"cannot open {warehouse}: {exc}") from None


def run(warehouse: Path, sql: str) -> Result:
    """The rows of `sql` on the published file; a write, SQL that does not parse, or a name the file
    does not have is a QueryError that says which."""
    with _connect(warehouse) as con:
        try:
            cursor = con.execute(sql)
        except duckdb.ParserException as exc:
            raise QueryError(f"the SQL does not parse: {exc}") from None
        except duckdb.CatalogException as exc:
            raise QueryError(f"{exc}\n(`taobao-ops query` without SQL lists the marts)") from None
        except duckdb.InvalidInputException as exc:
            if "read-only mode" in str(exc):
                raise QueryError(
                    f"{warehouse} is read-only here: the pipeline writes it, a query only reads it "
                    f"({str(exc).splitlines()[0]})"
                ) from None
            raise QueryError(str(exc)) from None
        except duckdb.Error as exc:
            raise QueryError(str(exc)) from None
        if cursor.description is None:  # a statement without rows (SET, PRAGMA …)
            return Result([], [])
        return Result([d[0] for d in cursor.description], cursor.fetchall())


def marts(warehouse: Path) -> Result:
    """Each mart: its name, its Chinese and English description (the published comment), its rows."""
    with _connect(warehouse) as con:
        rows = []
        for schema, table, comment in fetch_sql(con, "audit/published_tables"):
            if schema == "marts":
                zh, _, en = (comment or "").partition(" — ")
                rows.append((f"{schema}.{table}", zh, en, row_count(con, schema, table)))
    return Result(["table", "中文", "description", "rows"], rows)


def plain(value) -> str:
    """A value for CSV, Markdown and the terminal: None empty, a list, struct or map as JSON."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)


def _jsonable(value):
    """`value` in JSON's terms: numbers stay numbers (money, a DECIMAL, as a double), NaN and the
    infinities null, dates ISO text, lists lists, structs and maps objects with text keys."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (float, Decimal)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, dict):
        return {plain(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return str(value)


def as_csv(result: Result) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([[plain(v) for v in row] for row in result.rows])
    return out.getvalue()


def as_json(result: Result) -> str:
    """A list of objects, one per row (_jsonable)."""
    rows = [{column: _jsonable(value) for column, value in zip(result.columns, row)} for row in result.rows]
    return json.dumps(rows, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def as_markdown(result: Result) -> str:
    def cell(value) -> str:
        return plain(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(cell, result.columns)) + " |", "|" + "---|" * len(result.columns)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in result.rows]
    return "\n".join(lines) + "\n"


# --format's text formats, each a function of a Result; "table" is the terminal's (pipelines/cli.py)
WRITERS = {"csv": as_csv, "json": as_json, "markdown": as_markdown}
