"""The floor: bare DuckDB computing quarterly_shop_kpis from a raw folder of canonical exports.

    python bench/floor_duckdb.py RAW_DIR OUT.parquet [MEMORY_LIMIT]

Reads every orders / traffic CSV (plain or gzip), the targets and the shop aliases, and writes the
table to OUT. No Dagster, no lake, no audit, no checks: the cost of parsing plus one query. DuckDB's
own memory limit (80% of RAM) unless MEMORY_LIMIT (e.g. 1GB) is given."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

SQL = Path(__file__).with_name("floor.sql")
# The canonical orders columns, typed as the floor reads them (bound into floor.sql).
ORDER_COLUMNS = {
    "order_id": "varchar", "shop_id": "varchar", "buyer_id": "varchar", "status": "varchar",
    "created_at": "varchar", "paid_at": "timestamptz", "shipped_at": "varchar", "completed_at": "varchar",
    "total_amount": "decimal(18,2)", "paid_amount": "decimal(18,2)", "refund_amount": "decimal(18,2)",
    "item_count": "varchar", "category": "varchar", "channel": "varchar", "is_mobile": "boolean",
    "province": "varchar", "city": "varchar", "district": "varchar", "courier": "varchar",
    "tracking_no": "varchar", "rural_station_id": "varchar",
}


def files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if p.name.endswith((".csv", ".csv.gz")))


def main(raw: Path, out: Path, memory_limit: str | None = None) -> None:
    con = duckdb.connect(config={"memory_limit": memory_limit} if memory_limit else {})
    con.execute(
        SQL.read_text(encoding="utf-8"),
        {
            "orders": files(raw / "orders"),
            "order_columns": ORDER_COLUMNS,
            "traffic": files(raw / "traffic"),
            "targets": str(raw / "reference" / "targets.csv"),
            "shops": str(raw / "reference" / "shops.csv"),
        },
    )
    con.execute("copy floor_kpis to $out (format parquet)", {"out": str(out)})


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), *sys.argv[3:4])
