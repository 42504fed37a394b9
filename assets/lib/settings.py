"""The settings of one deployment as a plain typed object, without Dagster.

`assets/resources.py` makes the same fields a Dagster resource (each asset receives it, the UI
shows it); planning a run, which must not import Dagster when there is nothing new, uses this."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from .limits import DEFAULT_LIMITS, ReadLimits

if TYPE_CHECKING:
    from .parse import ParseOptions


class Settings(BaseModel):
    """Folders and options of one deployment; two deployments with other folders never meet."""

    raw_dir: str = Field(description="Drop folder of raw exports (orders/, traffic/, courier/, reference/).")
    state_dir: str = Field(description="What the pipeline keeps between runs: working database, lake.")
    warehouse_path: str = Field(description="The analysts' DuckDB file, replaced atomically on publish.")
    reports_dir: str = Field(default="reports", description="Where the quarterly reports are written.")
    pii_key: str = Field(description="Secret key of the buyer pseudonyms (HMAC-SHA256).")
    default_shop: str = Field(default="default", description="shop_id of files without a shop column.")
    fiscal_year_start_month: int = Field(
        default=1, description="Month the fiscal year starts: 1 = calendar quarters; 4 = Alibaba's."
    )
    # What one raw file may hold before it is quarantined unread (files.ReadLimits).
    max_file_mb: int = Field(default=DEFAULT_LIMITS.max_file_mb, description="Largest text of one raw file (unpacked), MiB.")
    max_columns: int = Field(default=DEFAULT_LIMITS.max_columns, description="Most fields in a raw file's header line.")
    max_line_kb: int = Field(default=DEFAULT_LIMITS.max_line_kb, description="Longest physical line of a raw file, KiB.")
    max_gzip_ratio: int = Field(
        default=DEFAULT_LIMITS.max_gzip_ratio, description="Most unpacked bytes per packed byte of a compressed file."
    )

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir)

    @property
    def lake_dir(self) -> Path:
        return Path(self.state_dir) / "lake"

    @property
    def working_db(self) -> Path:
        return Path(self.state_dir) / "pipeline.duckdb"

    @property
    def warehouse(self) -> Path:
        return Path(self.warehouse_path)

    @property
    def reports(self) -> Path:
        return Path(self.reports_dir)

    def sql_params(self) -> dict:
        month = self.fiscal_year_start_month
        if not 1 <= month <= 12:
            raise ValueError(f"fiscal_year_start_month must be 1..12, not {month}")
        return {"fiscal_start_month": month}

    def parse_options(self) -> ParseOptions:
        from .parse import ParseOptions

        return ParseOptions(pii_key=self.pii_key, default_shop=self.default_shop, limits=self.read_limits())

    def read_limits(self) -> ReadLimits:
        for field in ("max_file_mb", "max_columns", "max_line_kb", "max_gzip_ratio"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be at least 1, not {getattr(self, field)}")
        return ReadLimits(
            max_file_mb=self.max_file_mb, max_columns=self.max_columns,
            max_line_kb=self.max_line_kb, max_gzip_ratio=self.max_gzip_ratio,
        )
