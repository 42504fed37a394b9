"""Great Expectations suites: what each layer's rows must hold. They run as SQL inside the
pipeline's DuckDB (gx_sql.py); the builders take the GX module so that importing this file does not
import GX (seconds), which a run with nothing new to validate never does.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from .gx_sql import not_below, unique_key
from .parse import LAKE_SCHEMAS, PHONE, lake_schema
from .reference import STATUSES
from .sql import run_sql
from .tables import MARTS


WARNING = {"severity": "warning"}  # an expectation whose failure warns instead of holding back
RATES = ("refund_rate", "bounce_rate", "mobile_uv_share", "mobile_gmv_share", "repurchase_rate")


@dataclass
class SuiteResult:
    suite: str
    success: bool  # no error-level expectation failed
    evaluated: int
    failed: list[dict]  # expectation, column, severity, unexpected_count, sample, error
    rows: int = 0  # rows judged

    @property
    def errors(self) -> list[dict]:
        return [f for f in self.failed if f["severity"] == "error"]


def _not_null(E, *columns: str) -> list:
    return [E.ExpectColumnToExist(column=c) for c in columns] + [
        E.ExpectColumnValuesToNotBeNull(column=c) for c in columns
    ]


def _at_least_zero(E, *columns: str) -> list:
    return [E.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in columns]


def _unique(*columns: str, **options) -> object:
    return unique_key(list(columns), **options)


def _orders_batch(gx) -> list:
    E = gx.expectations
    return [
        *_not_null(E, "order_id", "buyer_id", "status", "created_at", "total_amount", "shop_id"),
        E.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES)),
        E.ExpectColumnValuesToMatchRegex(column="buyer_id", regex=r"^[0-9a-f]{64}$"),
        *_at_least_zero(E, "total_amount", "paid_amount", "refund_amount", "item_count"),
        not_below("paid_amount", "refund_amount"),
        not_below("paid_at", "created_at"),
        not_below("shipped_at", "paid_at"),
        not_below("completed_at", "shipped_at"),
        _unique("file_name", "line"),
        _unique("file_name", "shop_id", "order_id", meta=WARNING),
    ]


def _traffic_batch(gx) -> list:
    E = gx.expectations
    return [
        *_not_null(E, "date", "shop_id", "channel", "device", "pv", "uv", "visits", "ad_spend"),
        E.ExpectColumnValuesToBeInSet(column="device", value_set=["mobile", "pc", "all"]),
        *_at_least_zero(E, "pv", "uv", "visits", "bounced_visits", "ad_spend", "cart_users", "fav_users"),
        not_below("pv", "uv"),
        not_below("visits", "bounced_visits"),
        _unique("file_name", "date", "shop_id", "channel", "device", meta=WARNING),
    ]


def _courier_batch(gx) -> list:
    E = gx.expectations
    return [
        *_not_null(E, "period_start", "period_end", "courier", "region", "collected"),
        *_at_least_zero(E, "collected", "delivered", "returned", "late", "complaints"),
        not_below("period_end", "period_start"),
        _unique("file_name", "period_start", "period_end", "courier", "region", meta=WARNING),
    ]


def _events_batch(gx) -> list:
    """A new events file's rows (per China day, shop and user): the behaviours are the lake's four
    count columns (its schema, the suite's first rule, holds them to exactly pv, cart, fav, buy), each
    day within the file's window, ids present."""
    E = gx.expectations
    return [
        *_not_null(E, "date", "shop_id", "user_key", "pv", "cart", "fav", "buy", "window_start", "batch_date"),
        *_at_least_zero(E, "pv", "cart", "fav", "buy"),
        not_below("batch_date", "date"),
        not_below("date", "window_start"),
        _unique("file_name", "date", "shop_id", "user_key"),
    ]


def _funnel(gx) -> list:
    """The funnel's steps hold their order: no step has more users than the visitors."""
    E = gx.expectations
    return [
        not_below("uv", "cart_users"),
        not_below("uv", "fav_users"),
        not_below("uv", "buyers"),
        not_below("buyers", "repeat_buyers"),
        *[E.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1) for c in ("conversion_rate", "repurchase_rate")],
        *_at_least_zero(E, "pv", "uv"),
    ]


def _staging_orders(gx) -> list:
    """The current rows of the orders this run touched: one per order, no personal data."""
    E = gx.expectations
    return [
        _unique("shop_id", "order_id"),
        E.ExpectColumnValuesToMatchRegex(column="buyer_id", regex=r"^[0-9a-f]{64}$"),
        *[
            E.ExpectColumnValuesToNotMatchRegex(column=c, regex=PHONE)
            for c in ("shop_id", "category", "channel", "province", "city", "district", "rural_station_id", "courier_name")
        ],
        E.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES)),
    ]


def _shop_kpis(gx) -> list:
    E = gx.expectations
    return [
        *[E.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1) for c in RATES],
        *_at_least_zero(E, "gmv", "paid_orders", "paid_buyers", "uv_days", "conversion_rate", "new_buyers"),
    ]


def _reconciliation(gx) -> list:
    """Frames of (key, mart value, source value): the two must be equal."""
    E = gx.expectations
    return [E.ExpectColumnPairValuesToBeEqual(column_A="mart_value", column_B="source_value")]


def _channel_shares(gx) -> list:
    E = gx.expectations
    return [E.ExpectColumnValuesToBeBetween(column="uv_share_sum", min_value=1 - 1e-9, max_value=1 + 1e-9)]


def _mart_key(mart: str):
    """A mart's key suite: one row per key (lib/tables.py), no part of it null that the contract
    does not let be null."""
    def suite(gx) -> list:
        grain = MARTS[mart]
        return [_unique(*grain.keys), *_not_null(gx.expectations, *grain.never_null)]

    return suite


def key_suite(mart: str) -> str:
    return f"{mart}_key"


# Rows a suite does not judge: 生意参谋's total rows are kept but exempt from the row rules (§3).
# The value is a boolean column of the batch; its rows where it is true are left out.
EXEMPT = {"traffic_batch": "is_total"}

SUITES = {
    "orders_batch": _orders_batch,
    "traffic_batch": _traffic_batch,
    "courier_batch": _courier_batch,
    "events_batch": _events_batch,
    "staging_orders": _staging_orders,
    "quarterly_shop_kpis": _shop_kpis,
    "quarterly_funnel": _funnel,
    "reconciliation": _reconciliation,
    "channel_shares": _channel_shares,
    **{key_suite(mart): _mart_key(mart) for mart in MARTS},
}


def schema_failures(suite_name: str, schema: dict[str, pl.DataType]) -> list[dict]:
    """Columns and types of a batch against the lake schema (a batch suite's first rule). Checked
    on the schema itself: GX's type expectations compare SQL type names, not the lake's types."""
    source = suite_name.removesuffix("_batch")
    if source not in LAKE_SCHEMAS or not suite_name.endswith("_batch"):
        return []
    wanted = lake_schema(source)
    wrong = [f"{c}: {schema.get(c)} (want {t})" for c, t in wanted.items() if schema.get(c) != t]
    if not wrong:
        return []
    return [{"expectation": "columns_and_types", "column": "*", "severity": "error",
             "unexpected_count": len(wrong), "sample": wrong[:5], "error": None}]


def validate(suite_name: str, frame: pl.DataFrame) -> SuiteResult:
    """A suite on a Polars frame, through the same SQL path as the pipeline: the frame becomes a
    table of a throwaway in-memory DuckDB. For small frames (tests, one-off checks)."""
    from .gx_sql import GxSession, exempt_view

    con = duckdb.connect()
    try:
        run_sql(con, "checks/create_scratch_schema")
        con.register("frame", frame)
        con.execute("create table scratch.rows as select * from frame")
        con.unregister("frame")
        relation = exempt_view(con, suite_name, "scratch.rows")
        with GxSession(con) as session:
            return session.run(suite_name, relation, schema_failures(suite_name, dict(frame.schema)))
    finally:
        con.close()
