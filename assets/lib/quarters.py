"""Quarter labels of the published warehouse: what reading a quarter needs (the report and the
export check the same), and where the quarter's workbook is."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from .sql import fetch_sql

QUARTER = re.compile(r"^(FY)?\d{4}Q[1-4]$")


def quarters_in(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [q for (q,) in fetch_sql(con, "report/quarters")]


def check_quarter(warehouse: Path, quarter: str) -> None:
    """What reading `quarter` from `warehouse` needs, each failure its own message naming the label or
    the file: a label like 2024Q3, a file that exists, and the quarter in its shop table."""
    if not QUARTER.match(quarter):
        raise ValueError(f"quarter must look like 2024Q3 (or FY2025Q1 with fiscal quarters), not {quarter!r}")
    if not warehouse.exists():
        raise FileNotFoundError(f"{warehouse} does not exist: run the pipeline first (taobao-ops run)")
    known = quarters_in(warehouse)
    if quarter not in known:
        raise ValueError(f"{warehouse} has no data for {quarter} (quarters in it: {', '.join(known) or 'none'})")


def workbook_name(quarter: str) -> str:
    """The quarter's Excel workbook beside its pages (assets/lib/export.py writes it)."""
    return f"taobao-ops-{quarter}.xlsx"
