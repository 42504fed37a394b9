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
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from .files import FileError, RawFile
from .lake import LakeRoot, pending_target
from .parse import MASK, REJECT_SCHEMA, ParseOptions, map_header
from .pii import padded_keys
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
    # the blank lines above a CSV header: DuckDB's reader would take the first of them for the header
    skip: int = 0

    @property
    def user_position(self) -> int:
        return self.columns.index("user_id")

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        """The fields `c<i>` as Polars types them alike DuckDB's reader: integers, else text."""
        return {f"c{i}": (pl.Int64 if TYPES.get(c) == "BIGINT" else pl.String) for i, c in enumerate(self.columns)}


@dataclass
class EventFile:
    """What one events file gave: lines read, loaded and rejected, and its rejected lines."""
    rows_read: int
    rows_loaded: int
    rejects: pl.DataFrame


def _first_line(raw: RawFile) -> tuple[str, int]:
    try:
        with _open_text(raw) as file:
            head = file.read(FIRST_LINE_BYTES)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise FileError(f"{raw.name}: not a readable {raw.suffix} file ({exc})") from None
    text = head.decode("utf-8-sig", errors="replace")
    # the first line that is not blank, and how many are above it
    return next(((line.rstrip("\r"), i) for i, line in enumerate(text.split("\n")) if line.strip()), ("", 0))


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
    line, blank = _first_line(raw)
    if not line.strip():
        return None
    cells = line.split(",")
    if any(c.strip().lstrip("-").isdigit() for c in cells) and len(cells) == len(TIANCHI):
        return Layout(False, TIANCHI)
    return Layout(True, _mapped(raw, cells), skip=blank)


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


def _source_sql(raw: RawFile, shape: Layout, shop: str, numbered: bool | None = None) -> str:
    """The typed lines of the file: the contract's columns, each line's shop (its shop_id, else
    `shop`), its place among the typed lines (`ordinality`), and the file's fields in file order as
    `c0`, `c1`, … (the same vectors: free) for the text of a rejected line. The shop is spliced as a
    literal: a view takes no bound parameter, and a constant costs nothing per line.

    A plain CSV file is read in parallel and its lines are not numbered (WITH ORDINALITY makes the
    reader keep the lines in order, on one core: 25 s instead of 12 s for 100 M lines), unless
    `numbered`; a compressed one is read on one core anyway, and a Parquet file numbers its rows."""
    path = string_literal(raw.path)
    fields = [f"c{i}" for i in range(len(shape.columns))]
    named = ", ".join(f"c{shape.columns.index(c)} as {c}" for c in TIANCHI)
    shop_id = (f"coalesce(nullif(trim(c{shape.columns.index('shop_id')}), ''), {string_literal(shop)})"
               if "shop_id" in shape.columns else string_literal(shop)) + " as shop_id"
    if raw.suffix == ".parquet":
        cast = ", ".join(f"try_cast({_quoted(name)} as {TYPES.get(c, 'VARCHAR')}) as c{i}"
                         for i, (name, c) in enumerate(zip(shape.file_names, shape.columns)))
        return (f"select {named}, {shop_id}, ordinality, {', '.join(fields)} "  # noqa: S608 - literals, checked names
                f"from (select {cast}, file_row_number + 1 as ordinality from read_parquet({path}))")
    numbered = raw.suffix == ".csv.gz" if numbered is None else numbered
    columns = ", ".join(f"'c{i}': {string_literal(TYPES.get(c, 'VARCHAR'))}" for i, c in enumerate(shape.columns))
    return (  # noqa: S608 - the path and names are literals
        f"select {named}, {shop_id}, {'ordinality' if numbered else 'null::bigint as ordinality'}, "
        f"{', '.join(fields)} from read_csv({path}, header={str(shape.header).lower()}, skip={shape.skip}, auto_detect=false, "
        f"delim=',', quote='', escape='', columns={{{columns}}}, store_rejects=true, "
        "rejects_table='event_reject_errors', rejects_scan='event_reject_scans')"
        + (" with ordinality" if numbered else "")
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


Database = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


def load_file(
    con: duckdb.DuckDBPyConnection, raw: RawFile, batch: dt.date, options: ParseOptions, lake_dir: LakeRoot,
    database: Database | None = None, step: str = "",
) -> EventFile:
    """One events file read and judged line by line on `con`, and written pending as its lake file
    (in `step`'s pending folder), its users keyed on the working database `database` opens (default:
    `con` is it). lib/ingest.py does the three parts itself, to key the users of several files in
    one opening of the working database."""
    judged = judge_file(con, raw, batch, options)
    with (database or (lambda: nullcontext(con)))() as working:
        keys = user_keys(working, judged)
    return write_file(con, judged, keys, lake_dir, step)


@dataclass
class Judged:
    """An events file read and judged (`judge_file`): its groups wait in `table` of the connection
    that judged it for its users' keys (`user_keys`), and its rejects for their line numbers."""
    source: _Source
    window: dict
    table: str
    typed_lines: int
    reader: pl.DataFrame
    ruled: pl.DataFrame
    truncated: tuple[int, str] | None
    users: pl.DataFrame  # id, pseudonym

    @property
    def lines(self) -> dict:
        return {k: self.window[k] for k in ("batch_day", "window_start_day", "batch_date", "max_age_days")}


def judge_file(
    con: duckdb.DuckDBPyConnection, raw: RawFile, batch: dt.date, options: ParseOptions, table: str = "event_groups_0"
) -> Judged:
    """One events file read and judged line by line on `con`, which needs nothing of the working
    database: its groups are kept as `table`, its users pseudonymised."""
    shape = layout(raw)
    window = _window(batch, options)
    source = _Source(con, raw, shape or Layout(False, TIANCHI), _shop(raw, options), empty=shape is None)
    judged = Judged(source, window, table, 0, pl.DataFrame(), pl.DataFrame(), None, pl.DataFrame())
    for name in ("event_reject_errors", "event_reject_scans", table):
        con.execute(f"drop table if exists {name}")
    try:
        source.view()
        con.execute(_raw_line_macro(source.shape))
        run_sql(con, "events/lines")
        run_sql(con, "events/groups", judged.lines)
        ((judged.typed_lines, _, _),) = fetch_sql(con, "events/counts")
        judged.reader = _reader_rejects(con, source.shape)
        judged.ruled = con.sql(sql_text("events/rule_rejects")).pl()
        # a file of a header alone has no event to lose, its header's line break missing or not
        has_events = judged.typed_lines + judged.reader.height > 0
        if has_events and raw.suffix == ".csv":
            judged.truncated = _truncated_line(source, judged.reader, judged.lines)
        inner, outer = padded_keys(options.pii_key)
        run_sql(con, "events/user_ids")
        judged.users = con.sql(sql_text("parse/pseudonyms"), params={"inner": inner, "outer": outer}).pl()
        con.execute(f"alter table event_groups rename to {table}")
    except duckdb.Error as exc:
        raise FileError(f"{raw.name}: {_first_line_of(exc)}") from None
    finally:
        _drop_file_objects(con)
    return judged


def user_keys(con: duckdb.DuckDBPyConnection, judged: Judged) -> pl.DataFrame:
    """The key of each of a judged file's users, from staging.event_users on the working database
    `con`, which gains the pseudonyms it did not know (add-only: sql/events/)."""
    con.register("event_file_users", judged.users)
    try:
        run_sql(con, "events/new_users")
        run_sql(con, "events/insert_users")
        return con.sql(sql_text("events/user_keys")).pl()
    except duckdb.Error as exc:
        raise FileError(f"{judged.source.raw.name}: {_first_line_of(exc)}") from None
    finally:
        con.execute("drop table if exists event_new_users")
        con.unregister("event_file_users")


def write_file(con: duckdb.DuckDBPyConnection, judged: Judged, keys: pl.DataFrame, lake_dir: LakeRoot, step: str = "") -> EventFile:
    """A judged file's lake rows, its users by `keys`, written pending (in `step`'s folder), and its
    rejected lines numbered; its groups' table dropped."""
    source, raw = judged.source, judged.source.raw
    pending = pending_target(con, lake_dir, "events", raw.name, step)
    try:
        con.execute(f"alter table {judged.table} rename to event_groups")
        con.register("event_user_keys", keys)
        con.execute(
            f"copy ({sql_text('events/lake_rows')}) to {string_literal(pending)} "
            "(format parquet, compression zstd, compression_level 1)",
            {**{k: judged.window[k] for k in ("batch_date", "window_start")}, "file_name": raw.name},
        )
        ((_, loaded, _),) = fetch_sql(con, "events/counts")
        con.execute("drop table event_groups")  # its memory, before Polars looks for rejects
        con.unregister("event_user_keys")
        # the file's own view and macros again, for a second read of it that numbers its rejected lines
        source.view()
        con.execute(_raw_line_macro(source.shape))
        run_sql(con, "events/lines")
        ruled = _numbered(source, judged.reader, judged.ruled, judged.typed_lines, judged.lines)
        rejects = _all_rejects(judged.reader, ruled, judged.truncated, source.shape)
    except duckdb.Error as exc:
        raise FileError(f"{raw.name}: {_first_line_of(exc)}") from None
    finally:
        con.unregister("event_user_keys")
        con.execute(f"drop table if exists {judged.table}")
        _drop_file_objects(con)
    return EventFile(rows_read=loaded + rejects.height, rows_loaded=loaded, rejects=rejects)


def _drop_file_objects(con: duckdb.DuckDBPyConnection) -> None:
    """What reading one file made on `con` (but the table its groups wait in)."""
    con.execute("drop macro table if exists event_lines")
    con.execute("drop macro if exists event_raw_line")
    for view in ("ids", "event_source"):
        con.execute(f"drop view if exists {view}")
    for table in ("event_groups", "event_reject_errors", "event_reject_scans"):
        con.execute(f"drop table if exists {table}")


@contextmanager
def connect(config: Mapping[str, str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB in memory of its own to parse events on (`config`: its memory limit, its spill
    folder…), with the pipeline's macros: reading and judging a file needs nothing of the working
    database, which is opened only for the users' keys (`load_file`)."""
    con = duckdb.connect(":memory:", config=dict(config or {}))
    try:
        run_script(con, "setup/create_macros")
        yield con
    finally:
        con.close()


@dataclass
class _Source:
    """The file behind the view event_source, as sql/events/lines.sql reads it."""
    con: duckdb.DuckDBPyConnection
    raw: RawFile
    shape: Layout
    shop: str
    empty: bool = False

    def view(self, numbered: bool | None = None, raw: RawFile | None = None, header: bool | None = None) -> None:
        """event_source over the file (or `raw`, a file of the same columns, with a `header` line or
        not), numbered or not."""
        shape = self.shape if header is None else Layout(header, self.shape.columns, self.shape.file_names)
        sql = _empty_source() if self.empty else _source_sql(raw or self.raw, shape, self.shop, numbered)
        self.con.execute(f"create or replace temp view event_source as {sql}")

    @cached_property
    def physical_lines(self) -> int:
        """Counted once per file: its truncated last line and its blank lines both need it."""
        return _physical_lines(self.raw)

    @property
    def numbered(self) -> bool:
        return self.empty or self.raw.suffix != ".csv"

    @property
    def header_lines(self) -> int:
        return 1 if self.shape.header else 0


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


def _numbered(source: _Source, reader: pl.DataFrame, ruled: pl.DataFrame, typed_lines: int, lines: dict) -> pl.DataFrame:
    """The lines a rule rejected (`ruled`, their groups) with their physical line numbers: from their
    place among the typed lines when the reader numbered them, else found in the file by their values,
    else numbered by a second, ordered read of the file."""
    if not ruled.height:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    if not source.numbered:
        found = _found_by_values(source, ruled, set(reader["line"].to_list()))
        if found is not None:
            return found
        source.view(numbered=True)
        ruled = source.con.sql(sql_text("events/numbered_rejects"), params=lines).pl()
    # The lines the reader did not type: its rejects, and blank lines (skipped without a trace). The
    # typed line k follows those of them that have fewer than k typed lines before them.
    skipped = reader["line"].to_numpy().astype(np.int64)
    if source.raw.suffix in (".csv", ".csv.gz"):
        skipped = np.union1d(skipped, _blank_lines(source, source.header_lines + typed_lines + reader.height))
    before = skipped - 1 - source.header_lines - np.arange(len(skipped))
    ordinality = ruled["ordinality"].to_numpy()
    numbers = ordinality + source.header_lines + np.searchsorted(before, ordinality - 1, side="right")
    return pl.DataFrame({"line": numbers, "reason": ruled["reason"], "raw_line": ruled["raw_line"]}, schema=REJECT_SCHEMA)


def _found_by_values(source: _Source, ruled: pl.DataFrame, reader_lines: set[int]) -> pl.DataFrame | None:
    """The rejected lines found in a plain CSV file by the values they were typed to. Polars reads
    every physical line as a row, blank or broken ones too, so a row's index is its line number:
    100 M lines in ~3 s reading the user and the timestamp alone, ~6 s reading every column, against
    ~25 s for DuckDB's ordered read. The user and the timestamp are tried first, every column when
    they name more lines than the groups hold; None when neither finds exactly those lines (a value
    Polars reads otherwise than DuckDB)."""
    columns = source.shape.columns
    values = _typed_values(ruled, source.shape)
    for keys in ((columns.index("user_id"), columns.index("timestamp")), tuple(columns.index(c) for c in TIANCHI)):
        fields = [f"c{i}" for i in keys]
        found = (
            _numbered_rows(source)
            .select("line", *fields)
            .join(values.select(*fields, "reason", "raw_line").lazy(), on=fields, how="inner", nulls_equal=True)
            .filter(~pl.col("line").is_in(sorted(reader_lines)))
            .select(pl.col("line").cast(pl.Int64), "reason", "raw_line")
            .collect(engine="streaming")
        )
        if found.height == ruled["lines"].sum() and found["line"].n_unique() == found.height:
            return found
    return None


def _numbered_rows(source: _Source) -> pl.LazyFrame:
    """Every physical line of a plain CSV file below its header as a row of typed fields `c<i>`, with
    its line number."""
    schema = source.shape.polars_schema
    return pl.scan_csv(
        source.raw.path, has_header=False, skip_rows=source.header_lines, schema=schema, quote_char=None,
        ignore_errors=True, truncate_ragged_lines=True, missing_columns="insert",
    ).with_row_index("line", offset=1 + source.header_lines)


def _typed_values(ruled: pl.DataFrame, shape: Layout) -> pl.DataFrame:
    """The values each group of rejected lines was typed to, as fields `c<i>`: read back from its line
    as read (the fields' text in file order, an empty one null; no field holds a comma, since the
    reader splits on every one), its user from the group."""
    user = shape.user_position
    rows = []
    for user_id, raw_line, reason in ruled.select("user_id", "raw_line", "reason").iter_rows():
        cells = raw_line.split(",")
        rows.append({
            **{f"c{i}": _typed_cell(cell, shape.columns[i]) for i, cell in enumerate(cells) if i != user},
            f"c{user}": user_id, "reason": reason, "raw_line": raw_line,
        })
    schema = shape.polars_schema
    return pl.DataFrame(rows, schema={**schema, "reason": pl.String, "raw_line": pl.String})


def _typed_cell(cell: str, column: str) -> int | str | None:
    if cell == "":
        return None
    return int(cell) if TYPES.get(column) == "BIGINT" else cell


def _all_rejects(
    reader: pl.DataFrame, ruled: pl.DataFrame, truncated: tuple[int, str] | None, shape: Layout
) -> pl.DataFrame:
    """Every rejected line of the file: the reader's, the rules', and a truncated last line."""
    rejects = [reader, ruled]
    if truncated:
        line, text = truncated
        rejects = [r.filter(pl.col("line") != line) for r in rejects]
        rejects.append(pl.DataFrame({"line": [line], "reason": [TRUNCATED], "raw_line": [_masked(text, shape)]}, schema=REJECT_SCHEMA))
    return pl.concat(rejects).sort("line")


def _truncated_line(source: _Source, reader: pl.DataFrame, lines: dict) -> tuple[int, str] | None:
    """A last line without its line break, cut short by a transfer most likely: (its line number, its
    text), what it gave taken back out of event_groups. None when the file ends as it should."""
    raw = source.raw
    size = os.path.getsize(raw.path)
    with open(raw.path, "rb") as file:
        file.seek(max(0, size - FIRST_LINE_BYTES))
        tail = file.read()
    if not tail or tail.endswith(b"\n"):
        return None
    text = tail.rsplit(b"\n", 1)[-1]
    line = source.physical_lines
    if line not in set(reader["line"].to_list()):  # typed: read that line alone to know what it gave
        handle, name = tempfile.mkstemp(suffix=".csv")
        alone = Path(name)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(text + b"\n")
            source.view(numbered=False, raw=RawFile(raw.source, alone, raw.name), header=False)
            run_sql(source.con, "events/last_line", lines)
            run_script(source.con, "events/take_back_last")
        finally:
            alone.unlink(missing_ok=True)
    return line, text.decode("utf-8", errors="replace")


BLOCK = 16 * 2**20


def _open_text(raw: RawFile):
    return gzip.open(raw.path, "rb") if raw.suffix == ".csv.gz" else open(raw.path, "rb")


def _physical_lines(raw: RawFile) -> int:
    """The file's lines, the last one counted with or without its line break: one count of line
    breaks (~1 GB/s)."""
    breaks, last = 0, b"\n"
    with _open_text(raw) as file:
        while block := file.read(BLOCK):
            breaks, last = breaks + block.count(b"\n"), block[-1:]
    return breaks + (last != b"\n")


def _blank_lines(source: _Source, not_blank: int) -> np.ndarray:
    """The line numbers of the file's blank lines, given how many lines are not blank: none when its
    lines are that many, else found block by block."""
    raw = source.raw
    if source.physical_lines == not_blank:
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

