"""Finding raw files, dating them, and turning their bytes into a table of strings (contract §1)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import polars as pl

from .limits import DEFAULT_LIMITS, LIMIT_SETTINGS, ReadLimits
from .schema import FOLDERS, SOURCES
from .text import normalize, normalize_header

ACCEPTED_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".xlsx", ".xls")
EXCEL_SUFFIXES = (".xlsx", ".xls")
# How far down a spreadsheet the header row may be (生意参谋 puts title lines above it).
EXCEL_HEADER_SEARCH_ROWS = 30
_BOM = b"\xef\xbb\xbf"
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})|(\d{4})(\d{2})(\d{2})")


class FileError(Exception):
    """A file that cannot be read at all; it is quarantined (contract §7)."""


_LIMIT_TEXT = {"max_file_mb": "{} MiB", "max_columns": "{:,} columns", "max_line_kb": "{} KiB", "max_gzip_ratio": "{}:1"}


def _over(name: str, what: str, limits: ReadLimits, field: str) -> FileError:
    """The quarantine reason of a file over a limit: what it holds, the limit, the setting."""
    limit = _LIMIT_TEXT[field].format(getattr(limits, field))
    return FileError(f"{name}: {what}, over the limit of {limit} ({LIMIT_SETTINGS[field]})")


@dataclass(frozen=True)
class RawFile:
    source: str
    path: Path
    name: str  # path relative to the source folder: the unit of replacement

    @property
    def suffix(self) -> str:
        return ".csv.gz" if self.path.name.lower().endswith(".csv.gz") else self.path.suffix.lower()


def discover(raw_dir: Path, source: str, keep: Callable[[str], bool] | None = None) -> list[RawFile]:
    """Every file of a source (whose name `keep` accepts, when given), hidden files and Office
    lock files left out, sorted by name."""
    return [RawFile(source, Path(path), name) for name, path in source_files(raw_dir, source, keep)]


def source_files(raw_dir: Path, source: str, keep: Callable[[str], bool] | None = None) -> list[tuple[str, str]]:
    """(name, path) of what `discover` finds, sorted by name. A daily run lists every file of the
    history (8,528 for a year), so the folder is walked with `os.scandir`, whose entries know their
    type without a `stat` each, and nothing is built for a file the caller does not keep."""
    folder = raw_dir / FOLDERS[source]
    if not folder.is_dir():
        return []
    reference = FOLDERS[source] == "reference"
    return sorted(
        (name, path)
        for name, path in _walk(str(folder), "")
        if (not reference or name.rsplit("/", 1)[-1].lower().startswith(source)) and (keep is None or keep(name))
    )


def _walk(folder: str, prefix: str):
    """(name relative to the source folder, path) of each file below `folder`; names starting with
    `.` or `~$` are skipped with everything under them, and symbolic links to folders are not
    followed (as `Path.rglob` does). A folder that cannot be listed stops the caller with its path
    (`PermissionError`), where `rglob` skipped it and its files without a word."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith((".", "~$")):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(entry.path, f"{prefix}{entry.name}/")
            elif entry.is_file():
                yield f"{prefix}{entry.name}", entry.path


def batch_date(name: str) -> dt.date:
    """The first valid date written in a file name: `YYYY-MM-DD` or `YYYYMMDD`."""
    for match in _DATE_IN_NAME.finditer(name.rsplit("/", 1)[-1]):
        y, m, d = (g for g in match.groups() if g is not None)
        try:
            return dt.date(int(y), int(m), int(d))
        except ValueError:
            continue
    raise FileError(f"{name}: no date (YYYY-MM-DD or YYYYMMDD) in the file name")


def sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def decode(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) or, failing that, GB18030 (a superset of GBK)."""
    return _decoded(data, name)[0]


def _decoded(data: bytes, name: str) -> tuple[str, bool]:
    """`decode`, and whether the bytes were UTF-8."""
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), False
    except UnicodeDecodeError as exc:
        raise FileError(
            f"{name}: undecodable bytes at offset {exc.start}: neither UTF-8 nor GBK/GB18030"
        ) from None


@dataclass
class Grid:
    """A file as rows of strings: header cells, the data rows, and each row's physical line."""

    header: list[str]
    rows: pl.DataFrame  # columns c0..cN (String), plus `line` (Int64) and `field_count_error`


class Underestimated(Exception):
    """A .gz unpacked to more than the `expected` bytes its reader was given room for."""


def read_grid(raw: RawFile, limits: ReadLimits = DEFAULT_LIMITS, expected: int | None = None) -> Grid:
    """A raw file's header and rows as text. A .csv.gz that unpacks to more than `expected` bytes
    raises Underestimated as soon as it does (its gzip trailer, which states the size of its last
    member only, said less)."""
    suffix = raw.suffix
    if suffix not in (".csv", ".csv.gz", ".parquet", *EXCEL_SUFFIXES):
        raise FileError(f"{raw.name}: unsupported file type '{suffix}' (accepted: {', '.join(ACCEPTED_SUFFIXES)})")
    size = raw.path.stat().st_size
    if size > limits.max_file_bytes:
        raise _over(raw.name, f"{_mib(size)} on disk", limits, "max_file_mb")
    if suffix == ".parquet":
        return _parquet_grid(raw, limits)
    if suffix in EXCEL_SUFFIXES:
        return _excel_grid(raw, limits)
    data = raw.path.read_bytes()
    if suffix == ".csv.gz":
        data = gunzip(data, raw.name, limits, expected)
    line_feeds = check_text(data, raw.name, limits)
    # UTF-8 bytes go to Polars' reader as they are (decoding to Python text and encoding it back
    # took two thirds of reading a file); it refuses other bytes, and those, like anything it cannot
    # take as one record per line, go the way of decoded text.
    body = _fast_body(data)
    if body is not None:
        grid = _fast_csv_grid(body, line_feeds)
        if grid is not None:
            return _below_lines(grid, data[: len(data) - len(body)].count(b"\n"))
    text, utf8 = _decoded(data, raw.name)
    if "\x00" in text:
        raise FileError(f"{raw.name}: contains NUL bytes; not a text CSV file")
    # the same bytes Polars' reader already refused would be refused again
    return csv_grid(text, raw.name, fast=body is None or not utf8, limits=limits, size=len(data))


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


GZIP_PIECE = 1 << 20  # packed bytes fed to the decompressor at a time
MAX_GZIP_MEMBERS = 100_000  # `cat`-joined gzip files; an export is one member


def gunzip(data: bytes, name: str, limits: ReadLimits = DEFAULT_LIMITS, expected: int | None = None) -> bytes:
    """The unpacked text of a gzip file (every member, as `gzip.decompress` gives it), decompressed
    as a stream that stops at the limits: at most `max_file_mb` unpacked and `max_gzip_ratio` times
    the packed size, so a bomb costs no more memory than the limit. The packed bytes are fed a piece
    at a time, so a file of many members costs time in proportion to its size; at most
    MAX_GZIP_MEMBERS are read."""
    if not data:
        raise FileError(f"{name}: empty (0 bytes): not a gzip file")
    cap = min(limits.max_file_bytes, limits.max_unpacked(len(data)))
    view = memoryview(data)
    parts: list[bytes] = []
    size, members, pos = 0, 1, 0
    member = zlib.decompressobj(wbits=31)  # one gzip member, header and trailer checked
    pending: bytes | memoryview = b""
    try:
        while True:
            if not pending:
                if pos >= len(data):
                    break
                pending, pos = view[pos : pos + GZIP_PIECE], pos + GZIP_PIECE
            part = member.decompress(pending, cap + 1 - size)
            parts.append(part)
            size += len(part)
            if size > cap:
                break
            if expected is not None and size > expected:
                raise Underestimated(f"{name}: unpacks to more than the {expected:,} bytes expected")
            pending = member.unconsumed_tail
            if member.eof:  # what follows, zero bytes skipped (as gzip does), is another member or the end
                pending = member.unused_data.lstrip(b"\x00")
                while not pending and pos < len(data):
                    pending, pos = bytes(view[pos : pos + GZIP_PIECE]).lstrip(b"\x00"), pos + GZIP_PIECE
                if not pending:
                    return b"".join(parts)
                members += 1
                if members > MAX_GZIP_MEMBERS:
                    raise FileError(f"{name}: more than {MAX_GZIP_MEMBERS:,} gzip members; not an export")
                member = zlib.decompressobj(wbits=31)
    except zlib.error as exc:
        raise FileError(f"{name}: not a readable gzip file ({exc})") from None
    if size > cap:
        if cap == limits.max_file_bytes:
            raise _over(name, f"unpacks to more than {_mib(cap)}", limits, "max_file_mb")
        raise _over(name, f"unpacks to more than {limits.max_gzip_ratio} times its {len(data):,} bytes "
                    "(a compression bomb?)", limits, "max_gzip_ratio")
    raise FileError(f"{name}: not a readable gzip file (it ends inside its compressed data)")


def check_text(data: bytes, name: str, limits: ReadLimits = DEFAULT_LIMITS) -> int | None:
    """Refuse a text with a physical line (and so a field) longer than `max_line_kb`, or a header
    line of more than `max_columns` fields, before any reader makes a column per field. Returns the
    line feeds from the header on when it counted them (for _fast_csv_grid), else None.

    Lines are found by jumping: from each line start, the last line end within the limit is looked
    for (`bytes.rfind`, in C), so a file costs one call per `max_line_kb` of text, not one per line
    (3 ms for 64 MB of the bench's orders). A line may end in `\n` or `\r`."""
    limit, size = limits.max_line_bytes, len(data)
    start = 0
    while size - start > limit:
        end = max(data.rfind(b"\n", start, start + limit + 1), data.rfind(b"\r", start, start + limit + 1))
        if end < 0:
            line = data.count(b"\n", 0, start) + 1
            raise _over(name, f"line {line:,} is longer than {limit:,} bytes", limits, "max_line_kb")
        start = end + 1
    # the header: the first record below the BOM and any blank lines (a quoted field may span lines)
    start = _header_start(data)
    end = _line_end(data, start, start + limit + 1)
    fields = data.count(b",", start, end) + 1
    if fields > limits.max_columns or data.count(b'"', start, start + limit + 1):
        # the delimiter is ASCII, never part of a GBK or UTF-8 character: the lines are read as latin-1
        try:
            fields = len(next(csv.reader(_lines(data, start)), []))
        except csv.Error:  # a lone \r in the record, say: counted by its separators (the readers decide the rest)
            pass
        if fields > limits.max_columns:
            raise _over(name, f"{fields:,} columns in its header", limits, "max_columns")
    # The readers make a cell per field of every line (short lines padded): 50 M lines of "1" in
    # 100 MB took 8.5 GB as a grid. Lines end in \n, or in a lone \r (counted when there is one).
    if size * fields <= limits.max_cells:
        return None
    line_feeds = data.count(b"\n", start)
    lines = max(line_feeds, data.count(b"\r", start)) if b"\r" in data else line_feeds
    lines += not data.endswith((b"\n", b"\r"))  # a last line without its line end
    _check_cells(name, "", lines, fields, limits, "lines")
    return line_feeds


def _line_end(data: bytes, start: int, stop: int) -> int:
    """Where the line from `start` ends (its first \n or \r before `stop`), else `stop`."""
    ends = [i for i in (data.find(b"\n", start, stop), data.find(b"\r", start, stop)) if i >= 0]
    return min(ends, default=stop)


def _lines(data: bytes, start: int):
    """The physical lines of `data` from `start` on, as latin-1 text, read as they are asked for."""
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        yield data[start:end].decode("latin-1")
        start = end


def _header_start(data: bytes) -> int:
    """Where the header line starts: below the BOM and any blank lines."""
    start = len(_BOM) if data.startswith(_BOM) else 0
    while start < len(data) and data[start] in b"\r\n":
        start += 1
    return start


def _fast_body(data: bytes) -> bytes | None:
    """The bytes below the BOM and any blank lines above the header, for Polars' reader; None for
    text with NULs or that may be blank (blank files are read as decoded text)."""
    body = data[_header_start(data):]
    if b"\x00" in body or not body[:1024].decode("utf-8", errors="ignore").strip():
        return None
    return body


def csv_grid(text: str, name: str, fast: bool = True, limits: ReadLimits | None = None, size: int = 0) -> Grid:
    """The grid of decoded text: Polars' reader first (unless `fast` is off), else the careful one,
    for at most `limits.max_careful_bytes` of text (`size` bytes)."""
    if not text.strip():
        return Grid([], pl.DataFrame())
    body = text.lstrip("\r\n")  # blank lines above the header: skipped, but still counted
    grid = _fast_csv_grid(body.encode("utf-8")) if fast else None
    if grid is None:
        if limits is not None and size > limits.max_careful_bytes:
            raise _over(name, f"{_mib(size)} that only the careful reader takes (a quoted line break, a lone CR), "
                        f"more than {_mib(limits.max_careful_bytes)} for it", limits, "max_file_mb")
        grid = _careful_csv_grid(body, name)
    return _below_lines(grid, text[: len(text) - len(body)].count("\n"))


def _below_lines(grid: Grid, skipped: int) -> Grid:
    """The grid of a text whose first `skipped` (blank) lines were cut off: its rows' line numbers
    count them."""
    if skipped:
        grid.rows = grid.rows.with_columns(pl.col("line") + skipped)
    return grid


def _fast_csv_grid(data: bytes, line_feeds: int | None = None) -> Grid | None:
    """Polars' reader on UTF-8 text; valid only when every record is one physical line and none is
    too long. Not for lines ending in a lone `\r`, which it takes for one line (the careful reader
    splits them). `line_feeds`: the text's count of \n, when known."""
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    try:
        frame = pl.read_csv(io.BytesIO(data), has_header=False, infer_schema=False, empty_string_is_null=False)
    except pl.exceptions.PolarsError:
        return None
    # a row per physical line, blank lines too (dropped below), none after the last line end: a
    # quoted line break makes fewer. (Trailing blank lines once sent a file to the careful reader:
    # a 122 MiB .csv.gz ending in one read in 5.8 s instead of 0.5 s, and took 2.25 GB.)
    if frame.height != (data.count(b"\n") if line_feeds is None else line_feeds) + (not data.endswith(b"\n")):
        return None
    header = [h or "" for h in frame.row(0)]
    body = frame.slice(1)
    body.columns = [f"c{i}" for i in range(body.width)]
    body = body.with_columns(
        line=pl.int_range(2, body.height + 2, dtype=pl.Int64),
        field_count_error=pl.lit(None, pl.String),
    )
    return Grid(header, _drop_blank(body))


# Up to this many rows, blank lines are found by joining each row's fields (one expression; on
# the sample's small daily files 0.3 ms a file against 1.4 ms for a test of each field); beyond it,
# by a test of each field, cheaper per row (files of ~14,000 rows: 10.6 against 12.7 ms read with
# the join) and with no joined copy of the rows in memory.
JOIN_BLANK_TEST_ROWS = 2_000


def _drop_blank(body: pl.DataFrame) -> pl.DataFrame:
    """A line with no value in any field is not a record: its fields are all null or empty.

    Only a line whose first field is empty can be blank: when none is (an export's first column is
    its key), one test of that column settles it (a million rows of orders: 0.29 s for a test of
    every field, most of reading them)."""
    fields = [c for c in body.columns if c.startswith("c")]
    if not fields or not (body[fields[0]].fill_null("") == "").any():
        return body
    if body.height <= JOIN_BLANK_TEST_ROWS:
        return body.filter(pl.concat_str([pl.col(c) for c in fields], ignore_nulls=True) != "")
    return body.filter(pl.any_horizontal([pl.col(c).fill_null("") != "" for c in fields]))


def _careful_csv_grid(text: str, name: str) -> Grid:
    """Python's csv module: exact physical line numbers, and over-long rows flagged.

    Used when a quoted field spans lines, line endings are not `\n`, or a row has more fields than
    the header. A row with fewer fields is padded with empty ones, as Polars' reader does."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise FileError(f"{name}: cannot read the header line ({exc})") from None
    width = len(header)
    rows, lines, errors = [], [], []
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise FileError(f"{name}: malformed CSV near line {start}: {exc}") from None
        if any(record):
            too_long = len(record) > width
            rows.append((record + [""] * width)[:width])
            lines.append(start)
            errors.append(f"expected {width} fields, found {len(record)}" if too_long else None)
        start = reader.line_num + 1
    columns = {f"c{i}": [r[i] for r in rows] for i in range(width)}
    body = pl.DataFrame(columns, schema={c: pl.String for c in columns}).with_columns(
        line=pl.Series(lines, dtype=pl.Int64), field_count_error=pl.Series(errors, dtype=pl.String)
    )
    return Grid(header, body)


def _parquet_grid(raw: RawFile, limits: ReadLimits = DEFAULT_LIMITS) -> Grid:
    try:
        columns = len(pl.read_parquet_schema(raw.path))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise FileError(f"{raw.name}: not a readable Parquet file ({exc})") from None
    if columns > limits.max_columns:
        raise _over(raw.name, f"{columns:,} columns", limits, "max_columns")
    try:
        rows = pl.scan_parquet(raw.path).select(pl.len()).collect().item()  # from the footer
        _check_cells(raw.name, "", rows, columns, limits)
        frame = pl.read_parquet(raw.path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise FileError(f"{raw.name}: not a readable Parquet file ({exc})") from None
    header = list(frame.columns)
    body = frame.select(
        [
            # a nested column holds nothing the contract reads: it is left empty, not an error
            (pl.lit(None, pl.String) if dtype.is_nested() else pl.col(c).cast(pl.String)).alias(f"c{i}")
            for i, (c, dtype) in enumerate(frame.schema.items())
        ]
    ).with_columns(
        line=pl.int_range(2, frame.height + 2, dtype=pl.Int64), field_count_error=pl.lit(None, pl.String)
    )
    return Grid(header, body)


def _excel_grid(raw: RawFile, limits: ReadLimits = DEFAULT_LIMITS) -> Grid:
    """First sheet of a workbook; the header is the first row holding every required column."""
    import fastexcel

    _check_workbook(raw, limits)
    try:
        sheet = fastexcel.read_excel(str(raw.path)).load_sheet(0, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except Exception as exc:  # fastexcel raises its own error types for every kind of bad workbook
        raise FileError(f"{raw.name}: not a readable spreadsheet ({exc})") from None
    required = [
        {normalize(name).lower() for name in col.header_names} for col in SOURCES[raw.source] if col.required
    ]
    for index, row in enumerate(frame.head(EXCEL_HEADER_SEARCH_ROWS).iter_rows()):
        names = {normalize_header(cell)[0] for cell in row if cell}
        if all(names & options for options in required):
            body = frame.slice(index + 1)
            body.columns = [f"c{i}" for i in range(body.width)]
            body = body.with_columns(
                pl.all().fill_null(""),
                line=pl.int_range(index + 2, index + 2 + body.height, dtype=pl.Int64),
                field_count_error=pl.lit(None, pl.String),
            )
            return Grid([cell or "" for cell in row], _drop_blank(body))
    raise FileError(
        f"{raw.name}: no header row with the required columns in the first {EXCEL_HEADER_SEARCH_ROWS} rows"
    )


def _check_workbook(raw: RawFile, limits: ReadLimits) -> None:
    """An .xlsx is a zip archive: what its members unpack to is known before any is read, and is
    held to the same limits as a gzip file's text; and the reader makes a dense grid out to a
    sheet's furthest cell, so the cells its sheets name are counted too, by a scan of their XML
    (an .xls is held to its size on disk only)."""
    if raw.suffix != ".xlsx" or not zipfile.is_zipfile(raw.path):
        return  # not an archive: the reader says what it is
    try:
        with zipfile.ZipFile(raw.path) as archive:
            members = archive.infolist()
            unpacked = sum(m.file_size for m in members)
            packed = max(1, sum(m.compress_size for m in members))
            if unpacked > limits.max_file_bytes:
                raise _over(raw.name, f"unpacks to {_mib(unpacked)}", limits, "max_file_mb")
            if unpacked > limits.max_unpacked(packed):
                raise _over(raw.name, f"unpacks to {unpacked // packed:,} times its compressed size (a compression bomb?)",
                            limits, "max_gzip_ratio")
            for member in members:
                if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                    rows, columns = _sheet_extent(archive, member, limits.max_file_bytes)
                    if columns > limits.max_columns:
                        raise _over(raw.name, f"{columns:,} columns in {member.filename}", limits, "max_columns")
                    _check_cells(raw.name, f"{member.filename} spans ", rows, columns, limits, most=limits.max_workbook_cells)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise FileError(f"{raw.name}: not a readable spreadsheet ({exc})") from None


def _check_cells(
    name: str, where: str, rows: int, columns: int, limits: ReadLimits, unit: str = "rows", most: int | None = None
) -> None:
    most = limits.max_cells if most is None else most
    if rows * columns > most:
        raise _over(name, f"{where}{rows:,} {unit} × {columns:,} columns, more than {most:,} cells",
                    limits, "max_file_mb")


_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')


def _sheet_extent(archive: zipfile.ZipFile, member: zipfile.ZipInfo, most: int) -> tuple[int, int]:
    """The furthest row and column a sheet's XML names (cell references like `XFD1048576`), read
    as a stream of at most `most` bytes."""
    rows = columns = 0
    tail = b""
    with archive.open(member) as xml:
        read = 0
        while read <= most:
            piece = xml.read(1 << 20)
            if not piece:
                break
            read += len(piece)
            text = tail + piece
            for letters, number in _CELL_REF.findall(text):
                column = 0
                for letter in letters:
                    column = column * 26 + letter - 64
                rows, columns = max(rows, int(number)), max(columns, column)
            tail = text[-24:]
    return rows, columns
