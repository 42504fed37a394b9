"""What the Spark engine runs (assets/lib/spark_engine.py): each staging table's statements when it
is built whole, and each mart's. Their Spark SQL is in sql/spark/, translated from the DuckDB SQL of
the same names (assets/lib/spark_sql.py); the merges that only DuckDB's incremental builds run have
no Spark form: Spark builds every table whole, from the whole lake."""

from __future__ import annotations

from .sql import SQL_DIR
from .tables import MARTS, TABLES

SPARK_DIR = SQL_DIR / "spark"

# The statements that build each staging table whole, in order (assets/lib/incremental.py runs the
# same ones when it rebuilds one); by default the table's own SQL.
REBUILD = {
    "courier_names": ("staging/courier_names_mapped", "staging/courier_names"),
    "orders": ("staging/orders_current", "staging/orders"),
    "event_days": ("staging/event_days_added", "staging/event_days", "staging/event_user_quarters",
                   "staging/event_traffic"),
    "paid_orders": ("staging/buyers", "staging/buyers_insert", "staging/paid_orders", "staging/buyer_quarters",
                    "staging/channel_quarters", "staging/region_quarters", "staging/paid_days"),
}
# The parameters that name a table rather than bind a value, as the rebuild sets them.
TABLE_PARAMS = {"staging/buyers_insert": {"orders": "staging.orders"}}


def staging_steps(name: str) -> tuple[str, ...]:
    return REBUILD.get(name) or TABLES[name].sql_files(name)


def mart_steps(name: str) -> tuple[str, ...]:
    return ("marts/build_quarters", f"marts/{name}")


SPARK_FILES = tuple(dict.fromkeys(
    [*(s for name in TABLES for s in staging_steps(name)), *(s for name in MARTS for s in mart_steps(name))]
))
