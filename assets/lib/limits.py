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

    max_file_mb: int = 256  # the file's text (a compressed file unpacked), in MiB
    max_columns: int = 1_000  # fields of the header line
    max_line_kb: int = 1_024  # a physical line, in KiB (a field cannot be longer)
    max_gzip_ratio: int = 100  # unpacked bytes per compressed byte (text compresses 4-20:1)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb << 20

    @property
    def max_line_bytes(self) -> int:
        return self.max_line_kb << 10


DEFAULT_LIMITS = ReadLimits()
# The setting that raises each limit (pipelines/settings.py).
LIMIT_SETTINGS = {
    "max_file_mb": "TAOBAO_OPS_MAX_FILE_MB",
    "max_columns": "TAOBAO_OPS_MAX_COLUMNS",
    "max_line_kb": "TAOBAO_OPS_MAX_LINE_KB",
    "max_gzip_ratio": "TAOBAO_OPS_MAX_GZIP_RATIO",
}
