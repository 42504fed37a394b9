"""The marts of one quarter for the people who work in Excel (`taobao-ops export`), read from the
published warehouse (opened read-only) and written under the reports folder:

    out/Q/taobao-ops-Q.xlsx       xlsx: one sheet per mart, and a sheet of definitions
    out/Q/csv/<mart>.csv          csv: one file per mart, UTF-8 with a byte-order mark
    out/Q/parquet/<mart>.parquet  parquet: one file per mart, the warehouse's column types

A sheet has two header rows, the column's Chinese name from the glossary above its name in the
warehouse, frozen with a filter on them; numbers are stored as numbers, formatted by the kind the
glossary gives the column. Each file is written under a temporary name and renamed, so a reader
never finds half a file under the final name.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .formats import show
from .glossary import TABLES, Column, column_of
from .quarters import check_quarter, workbook_name
from .sql import connect_read_only, fetch_frame
from .tables import MARTS, QUARTER

FORMATS = ("xlsx", "csv", "parquet")
DEFINITIONS = "定义 Definitions"
# Excel's number format of each kind of value the glossary names (assets/lib/formats.py shows the same
# kinds on the pages): money with two decimals, rates as percentages, days as dates.
NUMBER_FORMATS = {
    "money": "#,##0.00", "count": "#,##0", "percent": "0.0%", "ratio": "0.00", "hours": "0.0", "day": "yyyy-mm-dd",
    "text": "General",
}
HEADER_ROWS = 2  # 中文 above the column's name
WIDEST = 60  # characters: a longer cell wraps (the definitions) or is cut off on screen, as Excel does
BUSY_SECONDS = 30.0  # how long to wait for a run that is publishing the warehouse


def export_quarter(warehouse: Path, quarter: str, out: Path, file_format: str, fiscal_start_month: int = 1) -> list[Path]:
    """Write `quarter`'s marts in `file_format` (one of FORMATS) under out/quarter; the files written.
    A bad label, a missing file or a quarter the warehouse does not have: ValueError or
    FileNotFoundError, as for the report."""
    if file_format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {file_format!r}")
    check_quarter(warehouse, quarter)
    frames = read_marts(warehouse, quarter, fiscal_start_month)
    folder = out / quarter
    if file_format == "xlsx":
        return [write_workbook(frames, folder / workbook_name(quarter))]
    return [write_file(frame, folder / file_format / f"{name}.{file_format}") for name, frame in frames.items()]


def read_marts(warehouse: Path, quarter: str, fiscal_start_month: int) -> dict[str, pl.DataFrame]:
    """Each mart's rows of the quarter, in the order of tables.MARTS, each in the order of its key."""
    con = connect_read_only(warehouse, wait_seconds=BUSY_SECONDS)
    if con is None:
        raise ValueError(f"{warehouse} is being written by another process: try again when its run has published")
    with con:
        return {
            name: fetch_frame(
                con, "export/quarter_rows" if mart.quarter_of == QUARTER else "export/month_rows",
                {"mart": f"marts.{name}", "quarter": quarter, "fiscal_start_month": fiscal_start_month},
            )
            for name, mart in MARTS.items()
        }


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary name beside `path` to write to, renamed to `path` when the block ends without an
    error (a rename within a folder is atomic) and removed when it fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_file(frame: pl.DataFrame, path: Path) -> Path:
    """One mart as CSV or Parquet (by the suffix). CSV starts with a byte-order mark: Excel takes a
    file without one for the system's code page (GBK on Chinese Windows) and garbles the Chinese."""
    with _replacing(path) as temporary:
        if path.suffix == ".csv":
            frame.write_csv(temporary, include_bom=True)
        else:
            frame.write_parquet(temporary)
    return path


def write_workbook(frames: dict[str, pl.DataFrame], path: Path) -> Path:
    """One sheet per mart (named as the mart), then the definitions of their columns."""
    book = Workbook(write_only=True)
    for name, frame in frames.items():
        _mart_sheet(book.create_sheet(name), f"marts.{name}", frame)
    _definitions_sheet(book.create_sheet(DEFINITIONS), frames)
    with _replacing(path) as temporary:
        book.save(temporary)
    return path


def kind_of(table: str, column: str) -> str:
    """How the glossary shows the column (a key of NUMBER_FORMATS); text for one it does not define."""
    defined = column_of(table, column)
    return defined.shown_as if defined else "text"


def _mart_sheet(sheet, table: str, frame: pl.DataFrame) -> None:
    rows = frame.rows()
    headers = [[(column_of(table, c) or Column("", "")).zh for c in frame.columns], frame.columns]
    shown = [[show(c, value, table) for c, value in zip(frame.columns, row)] for row in rows]
    _layout(sheet, [*headers, *shown])
    if rows:
        last = get_column_letter(len(frame.columns))
        sheet.auto_filter.ref = f"A{HEADER_ROWS}:{last}{HEADER_ROWS + len(rows)}"
    bold = Font(bold=True)
    for header in headers:
        sheet.append([_cell(sheet, text, font=bold) for text in header])
    formats = [NUMBER_FORMATS[kind_of(table, c)] for c in frame.columns]
    for row in rows:
        sheet.append([value if value is None else _cell(sheet, value, number_format)
                      for value, number_format in zip(row, formats)])


def _definitions_sheet(sheet, frames: dict[str, pl.DataFrame]) -> None:
    """table, column, 中文, meaning, macro: a row for each mart (its column empty), then one for each
    of its columns, with the glossary's words; the meaning wraps."""
    rows = [("表 table", "列 column", "中文", "定义 meaning", "宏 macro")]
    for name, frame in frames.items():
        table = f"marts.{name}"
        rows.append((table, "", *TABLES[table], ""))
        for column in frame.columns:
            defined = column_of(table, column)
            rows.append((table, column, defined.zh, defined.en, defined.defined_by or "") if defined
                        else (table, column, "", "", ""))
    _layout(sheet, rows, header_rows=1)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    sheet.append([_cell(sheet, text, font=bold) for text in rows[0]])
    for row in rows[1:]:
        sheet.append([_cell(sheet, text, alignment=wrap) for text in row])


def _layout(sheet, shown: list[list[str]], header_rows: int = HEADER_ROWS) -> None:
    """Each column as wide as its widest shown text (at most WIDEST), and the header rows frozen.
    A write-only sheet takes both before its first row."""
    for index, texts in enumerate(zip(*shown), start=1):
        widest = max(display_width(text) for text in texts)
        sheet.column_dimensions[get_column_letter(index)].width = min(widest + 2, WIDEST)
    sheet.freeze_panes = f"A{header_rows + 1}"


def display_width(text: str) -> int:
    """Columns of a fixed-width font the text takes: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _cell(sheet, value, number_format: str | None = None, font: Font | None = None, alignment: Alignment | None = None):
    cell = WriteOnlyCell(sheet, value=value)
    if number_format:
        cell.number_format = number_format
    if font:
        cell.font = font
    if alignment:
        cell.alignment = alignment
    return cell
