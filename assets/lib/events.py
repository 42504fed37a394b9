"""Behaviour event logs (contract §8): each file streamed once through DuckDB into its lake file.

An events file is large (the public Tianchi set is 100 M lines, 3.5 GB) and its lines are all alike,
so it does not go through the Polars grid the other sources parse in: DuckDB's CSV reader types the
lines in parallel, one query gives each its China day, shop and reject reason, and counts the loaded
ones per (day, shop, user) and behaviour — the grain every funnel number is counted from (a user's
events of a day are all the funnel needs). Only that aggregate is kept: 8.6 M rows for 100 M events.

Users are pseudonymised like buyers, each distinct id hashed once, and the lake stores an integer
key per pseudonym (staging.event_users, add-only) rather than the 64-character pseudonym.

Every line read is loaded or rejected (contract §7): the reader's own rejects (a line with too few
or too many fields, a field that is not a number) come with their line numbers; the lines a rule
rejects are numbered from their place among the typed lines (`with ordinality`) and the reader's
rejects before them; a last line without its line break is a truncated line.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from .files import FileError, RawFile
from .lake import pending_path
from .parse import MASK, REJECT_SCHEMA, ParseOptions, map_header
from .pii import _padded_keys
from .schema import EVENTS
from .sql import fetch_sql, run_script, run_sql, sql_text, string_literal

# The Tianchi layout, in file order, and the type the reader gives each field.
TIANCHI = ("user_id", "item_id", "category_id", "behavior", "timestamp")
TYPES = {"user_id": "BIGINT", "item_id": "BIGINT", "category_id": "BIGINT", "behavior": "VARCHAR",
         "timestamp": "BIGINT", "shop_id": "VARCHAR"}
# The first line is read this far to tell a header from an event.
FIRST_LINE_BYTES = 64 * 1024
_READER_REASONS = {
    "MISSING COLUMNS": "truncated line: fewer fields than {columns}",
    "TOO MANY COLUMNS": "more fields than {columns}",
    "CAST": "{column}: not an integer",
}
SUFFIXES = (".csv", ".csv.gz", ".parquet")
TRUNCATED = "truncated line: the file ends without a line break"


@dataclass(frozen=True)
class Layout:
    header: bool
    columns: tuple[str, ...]  # in file order: a canonical name, or `_unused_<i>`

    @property
    def user_position(self) -> int:
        return self.columns.index("user_id")


@dataclass
class EventFile:
    """What one events file gave: lines read, loaded and rejected, and its rejected lines."""
    rows_read: int
    rows_loaded: int
    rejects: pl.DataFrame


def _first_line(raw: RawFile) -> str:
    opener = gzip.open if raw.suffix == ".csv.gz" else open
    try:
        with opener(raw.path, "rb") as file:
            head = file.read(FIRST_LINE_BYTES)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise FileError(f"{raw.name}: not a readable {raw.suffix} file ({exc})") from None
    return head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").rstrip("\r")


def layout(raw: RawFile) -> Layout | None:
    """The file's columns: named by its header, else the Tianchi layout; None for an empty file."""
    if raw.suffix not in SUFFIXES:
        raise FileError(f"{raw.name}: unsupported file type '{raw.suffix}' for events (accepted: {', '.join(SUFFIXES)})")
    if raw.suffix == ".parquet":
        try:
            names = list(pl.read_parquet_schema(raw.path))
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise FileError(f"{raw.name}: not a readable Parquet file ({exc})") from None
        return Layout(True, _mapped(raw, names))
    line = _first_line(raw)
    if not line.strip():
        return None
    cells = line.split(",")
    if any(c.strip().lstrip("-").isdigit() for c in cells) and len(cells) == len(TIANCHI):
        return Layout(False, TIANCHI)
    return Layout(True, _mapped(raw, cells))


def _mapped(raw: RawFile, header: list[str]) -> tuple[str, ...]:
    try:
        mapped = map_header(header, EVENTS)
    except FileError as exc:
        raise FileError(
            f"{raw.name}: {exc}; an events file has the columns {', '.join(TIANCHI)}, "
            "as a header or in that order without one"
        ) from None
    by_index = {feeds[0].index: name for name, feeds in mapped.items()}
    return tuple(by_index.get(i, f"_unused_{i}") for i in range(len(header)))


def _source_sql(raw: RawFile, shape: Layout) -> str:
    """The typed lines of the file, each with its place among them (`ordinality`)."""
    path = string_literal(raw.path)
    wanted = [*TIANCHI, "shop_id"]
    present = [c if c in shape.columns else f"null::varchar as {c}" for c in wanted]
    if raw.suffix == ".parquet":
        typed = [f"try_cast({c} as {TYPES[c]}) as {c}" if c in shape.columns else f"null::varchar as {c}" for c in wanted]
        return f"select {', '.join(typed)}, ordinality from read_parquet({path}) with ordinality"  # noqa: S608
    columns = ", ".join(f"{string_literal(c)}: {string_literal(TYPES.get(c, 'VARCHAR'))}" for c in shape.columns)
    return (  # noqa: S608 - the path and names are literals
        f"select {', '.join(present)}, ordinality from read_csv({path}, header={str(shape.header).lower()}, "
        f"auto_detect=false, delim=',', quote='', escape='', columns={{{columns}}}, store_rejects=true, "
        "rejects_table='event_reject_errors', rejects_scan='event_reject_scans') with ordinality"
    )


def _window(batch: dt.date, options: ParseOptions) -> dict:
    start = batch - dt.timedelta(days=options.events_max_age_days)
    return {"batch_date": batch, "window_start": start, "max_age_days": options.events_max_age_days}


def _shop(raw: RawFile, options: ParseOptions) -> str:
    """The shop of the lines without a shop_id: the file's folder below events/, else the default."""
    return raw.name.split("/", 1)[0] if "/" in raw.name else options.default_shop


def load_file(
    con: duckdb.DuckDBPyConnection, raw: RawFile, batch: dt.date, options: ParseOptions, lake_dir: Path
) -> EventFile:
    """One events file read, judged line by line, and written pending as its lake file."""
    shape = layout(raw)
    pending = pending_path(lake_dir, "events", raw.name)
    pending.parent.mkdir(parents=True, exist_ok=True)
    window = _window(batch, options)
    for table in ("event_reject_errors", "event_reject_scans"):
        con.execute(f"drop table if exists {table}")
    try:
        if shape is None:
            con.execute(f"create or replace temp view event_source as {_empty_source()}")
        else:
            con.execute(f"create or replace temp view event_source as {_source_sql(raw, shape)}")
        lines = {**window, "shop": _shop(raw, options)}
        run_sql(con, "events/lines")
        run_sql(con, "events/groups", lines)
        truncated = _truncated_line(con, raw, shape, lines) if shape and raw.suffix == ".csv" else None
        inner, outer = _padded_keys(options.pii_key)
        run_sql(con, "events/new_users", {"inner": inner, "outer": outer})
        run_sql(con, "events/insert_users")
        con.execute(
            f"copy ({sql_text('events/lake_rows')}) to {string_literal(pending)} "
            "(format parquet, compression zstd, compression_level 1)",
            {**{k: window[k] for k in ("batch_date", "window_start")}, "file_name": raw.name},
        )
        rejects = _rejects(con, shape, truncated)
        ((typed, loaded, _),) = fetch_sql(con, "events/counts")
    except duckdb.Error as exc:
        raise FileError(f"{raw.name}: {_first_line_of(exc)}") from None
    finally:
        con.execute("drop macro table if exists event_lines")
        con.execute("drop view if exists event_source")
        for table in ("event_groups", "event_new_users", "event_reject_errors", "event_reject_scans"):
            con.execute(f"drop table if exists {table}")
    return EventFile(rows_read=loaded + rejects.height, rows_loaded=loaded, rejects=rejects)


def _empty_source() -> str:
    typed = ", ".join(f"null::{TYPES[c]} as {c}" for c in (*TIANCHI, "shop_id"))
    return f"select {typed}, null::bigint as ordinality where false"


def _first_line_of(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _reader_rejects(con: duckdb.DuckDBPyConnection, shape: Layout | None) -> pl.DataFrame:
    """The lines the CSV reader could not type: one row per line, its first error as the reason."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where table_name = 'event_reject_errors' and temporary"
    ).fetchone()[0]
    if not exists or shape is None:
        return pl.DataFrame(schema={**REJECT_SCHEMA})
    rows = con.execute(
        "select line, arg_min(error_type, column_idx), arg_min(column_name, column_idx), "
        "arg_min(csv_line, column_idx) from event_reject_errors group by line order by line"
    ).fetchall()
    columns = f"the {len(shape.columns)} of the file's layout ({', '.join(shape.columns)})"
    reasons = [
        _READER_REASONS.get(kind, "unreadable line: {kind}").format(columns=columns, column=column, kind=kind)
        for _, kind, column, _ in rows
    ]
    return pl.DataFrame(
        {"line": [r[0] for r in rows], "reason": reasons, "raw_line": [_masked(r[3], shape) for r in rows]},
        schema=REJECT_SCHEMA,
    )


def _masked(line: str | None, shape: Layout) -> str:
    """A line as read with its user_id field masked (contract §7)."""
    cells = (line or "").strip("\r\n").split(",")
    if shape.user_position < len(cells):
        cells[shape.user_position] = MASK
    return ",".join(cells)


def _rejects(con: duckdb.DuckDBPyConnection, shape: Layout | None, truncated: tuple[int, str] | None) -> pl.DataFrame:
    """Every rejected line of the file: the reader's, the rules', and a truncated last line."""
    reader = _reader_rejects(con, shape)
    ruled = con.sql(sql_text("events/rule_rejects")).pl()
    header_lines = 1 if shape and shape.header else 0
    # The typed line k follows the reader's rejects whose count of typed lines before them is below k.
    before = (reader["line"].to_numpy() - 1 - header_lines - np.arange(reader.height)) if reader.height else np.array([], dtype=np.int64)
    ordinality = ruled["ordinality"].to_numpy()
    lines = ordinality + header_lines + np.searchsorted(before, ordinality - 1, side="right")
    ruled = pl.DataFrame({"line": lines, "reason": ruled["reason"], "raw_line": ruled["raw_line"]}, schema=REJECT_SCHEMA)
    rejects = [reader, ruled]
    if truncated:
        line, text = truncated
        reader_lines = set(reader["line"].to_list())
        rejects = [r.filter(pl.col("line") != line) for r in rejects] if line in reader_lines else rejects
        rejects.append(pl.DataFrame({"line": [line], "reason": [TRUNCATED], "raw_line": [_masked(text, shape)]}, schema=REJECT_SCHEMA))
    return pl.concat(rejects).sort("line")


def _truncated_line(con: duckdb.DuckDBPyConnection, raw: RawFile, shape: Layout, lines: dict) -> tuple[int, str] | None:
    """A last line without its line break, cut short by a transfer most likely: (its line number, its
    text), its events taken back out of event_groups. None when the file ends as it should."""
    size = os.path.getsize(raw.path)
    with open(raw.path, "rb") as file:
        file.seek(max(0, size - FIRST_LINE_BYTES))
        tail = file.read()
    if not tail or tail.endswith(b"\n"):
        return None
    text = tail.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")
    line = _count_line_breaks(raw.path) + 1
    reader_lines = con.execute(
        "select count(*) from duckdb_tables() where table_name = 'event_reject_errors' and temporary"
    ).fetchone()[0] and con.execute("select max(line) from event_reject_errors").fetchone()[0]
    if reader_lines != line:  # typed: it was the last typed line
        run_sql(con, "events/last_line", lines)
        run_script(con, "events/take_back_last")
    return line, text


def _count_line_breaks(path: Path) -> int:
    count = 0
    with open(path, "rb") as file:
        while chunk := file.read(16 * 2**20):
            count += chunk.count(b"\n")
    return count
