"""What one raw file may hold (settings), apart from the reader so that settings load without it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadLimits:
    """What one raw file may hold, checked before its rows are read, so that whatever a file holds
    the run stays within its memory bound (docs/operations.md, "Limits on one file"). A file over a
    limit is quarantined with the limit it broke and the setting that raises it.

    The reader holds a file's text whole and makes a column per header field: a 1 MB header line
    took 5.2 GB, a gzip bomb ~2.1 bytes of memory per unpacked byte. The defaults are far above
    real exports (a large shop's day of orders is tens of MB with 40-80 columns and lines under
    2 KB) and keep one file's read within a few times `max_file_mb`."""

    max_file_mb: int = 128  # the file's text (a compressed file unpacked), in MiB
    max_columns: int = 1_000  # fields of the header line
    max_line_kb: int = 1_024  # a physical line, in KiB (a field cannot be longer)
    max_gzip_ratio: int = 100  # unpacked bytes per compressed byte (text compresses 4-20:1)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb << 20

    @property
    def max_line_bytes(self) -> int:
        return self.max_line_kb << 10

    @property
    def max_cells(self) -> int:
        """Cells a CSV (lines × header columns) or Parquet file may hold: a cell costs at least
        CELL_BYTES as text."""
        return self.max_file_bytes // CELL_BYTES

    @property
    def max_careful_bytes(self) -> int:
        """Text the careful reader may take (a file Polars' reader cannot: a quoted line break, a
        lone CR): it costs ~16 times the text (95 MiB: a run of 1.87 GB; 122 MiB: 2.25 GB)."""
        return self.max_file_bytes * 3 // 4

    @property
    def max_workbook_cells(self) -> int:
        """Cells a workbook's sheet may span: its reader makes a dense grid of ~52 bytes a cell
        (16 M cells: 0.87 GB; 33 M: 1.73 GB); 128 MiB gives 8,388,608. An .xls sheet is not
        measured: it has at most 65,536 rows × 256 columns (a 5.6 KB .xls naming its last cell took
        the reader to 1.07 GB)."""
        return self.max_file_bytes // WORKBOOK_CELL_BYTES

    def max_unpacked(self, packed: int) -> int:
        """Bytes a compressed file of `packed` bytes may unpack to: the ratio limit, never below
        RATIO_FLOOR_BYTES (a small file of repeated lines may pack 1,000:1 and costs nothing)."""
        return max(RATIO_FLOOR_BYTES, self.max_gzip_ratio * packed)


RATIO_FLOOR_BYTES = 16 << 20
CELL_BYTES = 8
WORKBOOK_CELL_BYTES = 16


DEFAULT_LIMITS = ReadLimits()
# The setting that raises each limit (pipelines/settings.py).
LIMIT_SETTINGS = {
    "max_file_mb": "TAOBAO_OPS_MAX_FILE_MB",
    "max_columns": "TAOBAO_OPS_MAX_COLUMNS",
    "max_line_kb": "TAOBAO_OPS_MAX_LINE_KB",
    "max_gzip_ratio": "TAOBAO_OPS_MAX_GZIP_RATIO",
}
