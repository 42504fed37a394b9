"""Reference data shipped with the project (contract §5), exposed to SQL as `default_<name>` views.

A user's file in data/raw/reference/ replaces the default rows with the same key; the staging SQL
does the merge, so the rule lives in one place per table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

DEFAULTS_DIR = Path(__file__).parent / "defaults"
# 双11 began in 2009; default campaign days are listed for every year from then on.
CAMPAIGN_YEARS = range(2009, 2041)


def _csv(name: str) -> pl.DataFrame:
    return pl.read_csv(DEFAULTS_DIR / f"{name}.csv", infer_schema=False)


def default_campaigns() -> pl.DataFrame:
    days = _csv("campaigns").with_columns(pl.col("month", "day").cast(pl.Int32))
    years = pl.DataFrame({"year": list(CAMPAIGN_YEARS)}, schema={"year": pl.Int32})
    return (
        days.join(years, how="cross")
        .select("campaign", pl.date("year", "month", "day").alias("start_date"))
        .with_columns(end_date=pl.col("start_date"))
        .sort("start_date")
    )


def default_frames() -> dict[str, pl.DataFrame]:
    """The shipped reference rows, by the view name the SQL reads them as (either engine)."""
    return {
        "default_channels": _csv("channels"),
        "default_couriers": _csv("couriers").with_row_index("priority"),
        "default_courier_codes": _csv("courier_codes"),
        "default_campaigns": default_campaigns(),
    }


def register_defaults(con: duckdb.DuckDBPyConnection) -> None:
    for view, rows in default_frames().items():
        con.register(view, rows)
