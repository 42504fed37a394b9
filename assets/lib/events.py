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
    file_names: tuple[str, ...] = ()  # a Parquet file's own column names, in file order

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
    text = head.decode("utf-8-sig", errors="replace")
    # the first line that is not blank (the reader skips blank lines too)
    return next((line.rstrip("\r") for line in text.split("\n") if line.strip()), "")


def layout(raw: RawFile) -> Layout | None:
    """The file's columns: named by its header, else the Tianchi layout; None for an empty file."""
    if raw.suffix not in SUFFIXES:
        raise FileError(f"{raw.name}: unsupported file type '{raw.suffix}' for events (accepted: {', '.join(SUFFIXES)})")
    if raw.suffix == ".parquet":
        try:
            names = list(pl.read_parquet_schema(raw.path))
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise FileError(f"{raw.name}: not a readable Parquet file ({exc})") from None
        return Layout(True, _mapped(raw, names), tuple(names))
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


def _source_sql(raw: RawFile, shape: Layout, shop: str) -> str:
    """The typed lines of the file: the contract's columns, each line's shop (its shop_id, else
    `shop`), its place among the typed lines (`ordinality`), and the file's fields in file order as
    `c0`, `c1`, … (the same vectors: free) for the text of a rejected line. The shop is spliced as a
    literal: a view takes no bound parameter, and a constant costs nothing per line."""
    path = string_literal(raw.path)
    fields = [f"c{i}" for i in range(len(shape.columns))]
    named = ", ".join(f"c{shape.columns.index(c)} as {c}" for c in TIANCHI)
    shop_id = (f"coalesce(nullif(trim(c{shape.columns.index('shop_id')}), ''), {string_literal(shop)})"
               if "shop_id" in shape.columns else string_literal(shop)) + " as shop_id"
    if raw.suffix == ".parquet":
        cast = ", ".join(f"try_cast({_quoted(name)} as {TYPES.get(c, 'VARCHAR')}) as c{i}"
                         for i, (name, c) in enumerate(zip(shape.file_names, shape.columns)))
        return (f"select {named}, {shop_id}, ordinality, {', '.join(fields)} "  # noqa: S608 - literals, checked names
                f"from (select {cast}, ordinality from read_parquet({path}) with ordinality)")
    columns = ", ".join(f"'c{i}': {string_literal(TYPES.get(c, 'VARCHAR'))}" for i, c in enumerate(shape.columns))
    return (  # noqa: S608 - the path and names are literals
        f"select {named}, {shop_id}, ordinality, {', '.join(fields)} from read_csv({path}, "
        f"header={str(shape.header).lower()}, auto_detect=false, delim=',', quote='', escape='', columns={{{columns}}}, "
        "store_rejects=true, rejects_table='event_reject_errors', rejects_scan='event_reject_scans') with ordinality"
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _raw_line_macro(shape: Layout) -> str:
    """event_raw_line(s): a line of the file as read, from its source row `s`, user_id masked (contract
    §7). A macro, so that the text is made only where a rejected line calls it (lines.sql)."""
    cells = ", ".join(
        string_literal(MASK) if c == "user_id" else f"coalesce(s.c{i}::varchar, '')" for i, c in enumerate(shape.columns)
    )
    return f"create or replace temp macro event_raw_line(s) as concat_ws(',', {cells})"


EPOCH = dt.date(1970, 1, 1)


def _window(batch: dt.date, options: ParseOptions) -> dict:
    """The China days a file of this batch date accepts, as dates and as day numbers since 1970."""
    start = batch - dt.timedelta(days=options.events_max_age_days)
    return {
        "batch_date": batch, "window_start": start, "max_age_days": options.events_max_age_days,
        "batch_day": (batch - EPOCH).days, "window_start_day": (start - EPOCH).days,
    }


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
            shape = Layout(False, TIANCHI)
            con.execute(f"create or replace temp view event_source as {_empty_source()}")
        else:
            con.execute(f"create or replace temp view event_source as {_source_sql(raw, shape, _shop(raw, options))}")
        con.execute(_raw_line_macro(shape))
        lines = {k: window[k] for k in ("batch_day", "window_start_day", "batch_date", "max_age_days")}
        run_sql(con, "events/lines")
        run_sql(con, "events/groups", lines)
        ((typed_lines, _, _),) = fetch_sql(con, "events/counts")
        truncated = _truncated_line(con, raw, shape, lines) if shape and raw.suffix == ".csv" else None
        inner, outer = _padded_keys(options.pii_key)
        run_sql(con, "events/new_users", {"inner": inner, "outer": outer})
        run_sql(con, "events/insert_users")
        con.execute(
            f"copy ({sql_text('events/lake_rows')}) to {string_literal(pending)} "
            "(format parquet, compression zstd, compression_level 1)",
            {**{k: window[k] for k in ("batch_date", "window_start")}, "file_name": raw.name},
        )
        rejects = _rejects(con, raw, shape, truncated, typed_lines)
        ((typed, loaded, _),) = fetch_sql(con, "events/counts")
    except duckdb.Error as exc:
        raise FileError(f"{raw.name}: {_first_line_of(exc)}") from None
    finally:
        con.execute("drop macro table if exists event_lines")
        con.execute("drop macro if exists event_raw_line")
        con.execute("drop view if exists event_source")
        for table in ("event_groups", "event_new_users", "event_reject_errors", "event_reject_scans"):
            con.execute(f"drop table if exists {table}")
    return EventFile(rows_read=loaded + rejects.height, rows_loaded=loaded, rejects=rejects)


def _empty_source() -> str:
    typed = ", ".join(f"null::{TYPES[c]} as {c}" for c in (*TIANCHI, "shop_id"))
    fields = ", ".join(f"null::{TYPES[c]} as c{i}" for i, c in enumerate(TIANCHI))
    return f"select {typed}, null::bigint as ordinality, {fields} where false"


def _first_line_of(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _reader_rejects_table(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the CSV reader made its rejects table (it read a CSV file). Fetched to the end: a
    result left open by `fetchone` stops the next relation (`con.sql`) on the connection."""
    return bool(con.execute(
        "select count(*) from duckdb_tables() where table_name = 'event_reject_errors' and temporary"
    ).fetchall()[0][0])


def _reader_rejects(con: duckdb.DuckDBPyConnection, shape: Layout | None) -> pl.DataFrame:
    """The lines the CSV reader could not type: one row per line, its first error as the reason."""
    if shape is None or not _reader_rejects_table(con):
        return pl.DataFrame(schema={**REJECT_SCHEMA})
    rows = con.execute(
        "select line, arg_min(error_type, column_idx), arg_min(column_name, column_idx), "
        "arg_min(csv_line, column_idx) from event_reject_errors group by line order by line"
    ).fetchall()
    columns = f"the {len(shape.columns)} of the file's layout ({', '.join(shape.columns)})"
    reasons = [
        _READER_REASONS.get(kind, "unreadable line: {kind}").format(columns=columns, column=_named(column, shape), kind=kind)
        for _, kind, column, _ in rows
    ]
    return pl.DataFrame(
        {"line": [r[0] for r in rows], "reason": reasons, "raw_line": [_masked(r[3], shape) for r in rows]},
        schema=REJECT_SCHEMA,
    )


def _named(field: str | None, shape: Layout) -> str | None:
    """The contract's name of the reader's field `c<i>` (the file's i-th column)."""
    if field and field.startswith("c") and field[1:].isdigit() and int(field[1:]) < len(shape.columns):
        return shape.columns[int(field[1:])]
    return field


def _masked(line: str | None, shape: Layout) -> str:
    """A line as read with its user_id field masked (contract §7)."""
    cells = (line or "").strip("\r\n").split(",")
    if shape.user_position < len(cells):
        cells[shape.user_position] = MASK
    return ",".join(cells)


def _rejects(
    con: duckdb.DuckDBPyConnection, raw: RawFile, shape: Layout, truncated: tuple[int, str] | None, typed_lines: int
) -> pl.DataFrame:
    """Every rejected line of the file: the reader's, the rules', and a truncated last line."""
    reader = _reader_rejects(con, shape)
    ruled = con.sql(sql_text("events/rule_rejects")).pl()
    header_lines = 1 if shape.header else 0
    # The lines the reader did not type: its rejects, and blank lines (skipped without a trace; looked
    # for only when a rule's reject needs its number). The typed line k follows those of them that
    # have fewer than k typed lines before them.
    skipped = reader["line"].to_numpy().astype(np.int64)
    if ruled.height and raw.suffix in (".csv", ".csv.gz"):
        skipped = np.union1d(skipped, _blank_lines(raw, header_lines + typed_lines + reader.height))
    before = skipped - 1 - header_lines - np.arange(len(skipped))
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
    reader_lines = _reader_rejects_table(con) and con.execute("select max(line) from event_reject_errors").fetchall()[0][0]
    if reader_lines != line:  # typed: it was the last typed line
        run_sql(con, "events/last_line", lines)
        run_script(con, "events/take_back_last")
    return line, text


BLOCK = 16 * 2**20


def _open_text(raw: RawFile):
    return gzip.open(raw.path, "rb") if raw.suffix == ".csv.gz" else open(raw.path, "rb")


def _blank_lines(raw: RawFile, not_blank: int) -> np.ndarray:
    """The line numbers of the file's blank lines, given how many lines are not blank: none when its
    lines are that many (one count of line breaks, ~1 GB/s), else found block by block."""
    breaks, last = 0, b"\n"
    with _open_text(raw) as file:
        while block := file.read(BLOCK):
            breaks, last = breaks + block.count(b"\n"), block[-1:]
    if breaks + (last != b"\n") == not_blank:
        return np.array([], dtype=np.int64)
    blanks, seen, previous, before = [], 0, -1, b"\n"  # previous: offset of the last line break
    offset = 0
    with _open_text(raw) as file:
        while block := file.read(BLOCK):
            data = np.frombuffer(block, dtype=np.uint8)
            at = np.flatnonzero(data == 10) + offset
            starts = np.concatenate(([previous], at[:-1])) + 1  # where each line ending at `at` starts
            width = at - starts
            ahead = np.concatenate(([before[0]], data))[at - offset]  # the byte before each line break
            blank = (width == 0) | ((width == 1) & (ahead == 13))
            blanks.extend((np.flatnonzero(blank) + seen + 1).tolist())
            if len(at):
                previous, seen = int(at[-1]), seen + len(at)
            offset, before = offset + len(block), block[-1:]
    return np.array(blanks, dtype=np.int64)


def _count_line_breaks(path: Path) -> int:
    count = 0
    with open(path, "rb") as file:
        while chunk := file.read(16 * 2**20):
            count += chunk.count(b"\n")
    return count
