"""What a run prints: the load report, the quarterly shop table and, when event logs feed it, the
funnel, as terminal tables (rich), each value shown as in the report (assets/lib/formats.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from assets.lib.formats import show
from assets.lib.glossary import column_of
from assets.lib.sql import connect_read_only, fetch_sql, identifier, table_exists

SHOP_COLUMNS = (
    ("quarter", "季度"), ("shop_id", "店铺"), ("gmv", "支付金额"), ("target_completion", "目标完成率"),
    ("gmv_qoq", "环比"), ("paid_orders", "订单"), ("paid_buyers", "买家"), ("aov", "客单价"),
    ("uv_days", "访客"), ("conversion_rate", "转化率"), ("mobile_gmv_share", "无线占比"),
    ("refund_rate", "退款率"), ("repurchase_rate", "复购率"), ("roi", "ROI"),
)

FUNNEL = "marts.quarterly_funnel"
FUNNEL_COLUMNS = ("quarter", "shop_id", "pv", "uv", "fav_users", "cart_users", "buyers", "conversion_rate",
                  "repeat_buyers", "repurchase_rate")


@dataclass
class RunReport:
    files: Table
    failed: list[tuple[str, str, str]]
    restated: list[tuple[str, str, str]]
    unmapped: list[tuple[str, str, str, int]]


def load_report(working_db: Path, run_id: str) -> RunReport:
    """The files of a run per source, the files it quarantined, the quarters it restated, and the
    names no reference row maps."""
    # another run may be writing the database right now; its steps are short
    con = connect_read_only(working_db, wait_seconds=600)
    if con is None:
        raise RuntimeError(f"{working_db} stayed locked by another process for 10 minutes")
    with con:
        rows = fetch_sql(con, "audit/load_report", {"run_id": run_id})
        failed = fetch_sql(con, "audit/failed_files_in_run", {"run_id": run_id})
        restated = fetch_sql(con, "audit/restatements_in_run", {"run_id": run_id})
        unmapped = fetch_sql(con, "audit/unmapped_report") if table_exists(con, "audit", "unmapped_values") else []
    table = Table(title="Files this run (audit.loads)", title_justify="left")
    for name in ("source", "loaded", "unchanged", "failed", "rows read", "loaded rows", "rejected rows"):
        table.add_column(name, justify="left" if name == "source" else "right")
    for row in rows:
        table.add_row(*(show(None, v) for v in row))
    return RunReport(table, failed, restated, unmapped)


def mart_sizes(warehouse: Path) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by table_name"
        ).fetchall()
        counts = [(name, con.execute(f"select count(*) from marts.{identifier(name)}").fetchall()[0][0]) for (name,) in rows]
    return "Published marts: " + ", ".join(f"{name} {count:,}" for name, count in counts)


def summary_tables(warehouse: Path) -> list[Table]:
    """The shop table, and the funnel's when the warehouse has one with rows (one connection)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [_shop_table(con), *filter(None, [_funnel_table(con)])]


def funnel_table(warehouse: Path) -> Table | None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return _funnel_table(con)


def _shop_table(con: duckdb.DuckDBPyConnection) -> Table:
    names = ", ".join(c for c, _ in SHOP_COLUMNS)
    rows = con.execute(f"select {names} from marts.quarterly_shop_kpis order by quarter, shop_id").fetchall()
    return _table("marts.quarterly_shop_kpis (季度店铺指标)", SHOP_COLUMNS, rows)


def _funnel_table(con: duckdb.DuckDBPyConnection) -> Table | None:
    if not table_exists(con, "marts", "quarterly_funnel"):
        return None
    names = ", ".join(FUNNEL_COLUMNS)
    rows = con.execute(f"select {names} from {FUNNEL} order by quarter, shop_id").fetchall()  # noqa: S608
    columns = [(c, column_of(FUNNEL, c).zh) for c in FUNNEL_COLUMNS]
    return _table(f"{FUNNEL} (行为漏斗)", columns, rows, FUNNEL) if rows else None


def _table(title: str, columns, rows: list[tuple], defined_in: str | None = None) -> Table:
    """A terminal table of (column, 中文) headers, each value shown as its column (in `defined_in`)."""
    table = Table(title=title, title_justify="left")
    for column, zh in columns:
        table.add_column(f"{zh}\n{column}", justify="left" if column in ("quarter", "shop_id") else "right")
    for row in rows:
        table.add_row(*(show(c, v, defined_in) for (c, _), v in zip(columns, row)))
    return table


def print_tables(console: Console, *tables: Table) -> None:
    for table in tables:
        console.print(table)
