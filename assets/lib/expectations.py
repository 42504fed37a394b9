"""Great Expectations suites, run in an ephemeral context on a pandas batch (stack-notes §1).

GX is imported inside the functions: it costs seconds to import and only the checks need it, so a
run with nothing new to validate never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .parse import LAKE_SCHEMAS, PHONE, lake_schema
from .reference import STATUSES


WARNING = {"severity": "warning"}  # an expectation whose failure warns instead of holding back
RATES = ("refund_rate", "bounce_rate", "mobile_uv_share", "mobile_gmv_share", "repurchase_rate")


@dataclass
class SuiteResult:
    suite: str
    success: bool  # no error-level expectation failed
    evaluated: int
    failed: list[dict]  # expectation, column, severity, unexpected_count, sample, error

    @property
    def errors(self) -> list[dict]:
        return [f for f in self.failed if f["severity"] == "error"]


def _not_null(E, *columns: str) -> list:
    return [E.ExpectColumnToExist(column=c) for c in columns] + [
        E.ExpectColumnValuesToNotBeNull(column=c) for c in columns
    ]


def _at_least_zero(E, *columns: str) -> list:
    return [E.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in columns]


def _a_not_below_b(E, a: str, b: str) -> object:
    return E.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=a, column_B=b, or_equal=True, ignore_row_if="either_value_is_missing"
    )


def _orders_batch(gx) -> list:
    E = gx.expectations
    return [
        *_not_null(E, "order_id", "buyer_id", "status", "created_at", "total_amount", "shop_id"),
        E.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES)),
        E.ExpectColumnValuesToMatchRegex(column="buyer_id", regex=r"^[0-9a-f]{64}$"),
        *_at_least_zero(E, "total_amount", "paid_amount", "refund_amount", "item_count"),
        _a_not_below_b(E, "paid_amount", "refund_amount"),
        _a_not_below_b(E, "paid_at", "created_at"),
        _a_not_below_b(E, "shipped_at", "paid_at"),
        _a_not_below_b(E, "completed_at", "shipped_at"),
        E.ExpectCompoundColumnsToBeUnique(column_list=["file_name", "line"]),
        E.ExpectCompoundColumnsToBeUnique(column_list=["file_name", "shop_id", "order_id"], meta=WARNING),
    ]


def _traffic_batch(gx) -> list:
    E = gx.expectations
    return [
        *_not_null(E, "date", "shop_id", "channel", "device", "pv", "uv", "visits", "ad_spend"),
        E.ExpectColumnValuesToBeInSet(column="device", value_set=["mobile", "pc", "all"]),
        *_at_least_zero(E, "pv", "uv", "visits", "bounced_visits", "ad_spend", "cart_users", "fav_users"),
        _a_not_below_b(E, "pv", "uv"),
        _a_not_below_b(E, "visits", "bounced_visits"),
        E.ExpectCompoundColumnsToBeUnique(column_list=["file_name", "date", "shop_id", "channel", "device"], meta=WARNING),
    ]


def _courier_batch(gx) -> list:
    E = gx.expectations
    return [
        *_not_null(E, "period_start", "period_end", "courier", "region", "collected"),
        *_at_least_zero(E, "collected", "delivered", "returned", "late", "complaints"),
        _a_not_below_b(E, "period_end", "period_start"),
        E.ExpectCompoundColumnsToBeUnique(
            column_list=["file_name", "period_start", "period_end", "courier", "region"], meta=WARNING
        ),
    ]


def _staging_orders(gx) -> list:
    """The current rows of the orders this run touched: one per order, no personal data."""
    E = gx.expectations
    return [
        E.ExpectCompoundColumnsToBeUnique(column_list=["shop_id", "order_id"]),
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
        E.ExpectCompoundColumnsToBeUnique(column_list=["quarter", "shop_id"]),
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


# Rows a suite does not judge: 生意参谋's total rows are kept but exempt from the row rules (§3).
EXEMPT = {"traffic_batch": pl.col("is_total")}

SUITES = {
    "orders_batch": _orders_batch,
    "traffic_batch": _traffic_batch,
    "courier_batch": _courier_batch,
    "staging_orders": _staging_orders,
    "quarterly_shop_kpis": _shop_kpis,
    "reconciliation": _reconciliation,
    "channel_shares": _channel_shares,
}


def _schema_failures(suite_name: str, frame: pl.DataFrame) -> list[dict]:
    """Columns and types of a batch against the lake schema. Checked on the Polars frame: GX's type
    expectations do not understand the pyarrow-backed pandas dtypes the batch is handed over in."""
    source = suite_name.removesuffix("_batch")
    if source not in LAKE_SCHEMAS or not suite_name.endswith("_batch"):
        return []
    wanted = lake_schema(source)
    wrong = [f"{c}: {frame.schema.get(c)} (want {t})" for c, t in wanted.items() if frame.schema.get(c) != t]
    if not wrong:
        return []
    return [{"expectation": "columns_and_types", "column": "*", "severity": "error",
             "unexpected_count": len(wrong), "sample": wrong[:5], "error": None}]


_DEFINITIONS: dict[tuple, object] = {}


def _definition(suite_name: str):
    """The suite's validation definition in an ephemeral context, built once per process."""
    builder = SUITES[suite_name]
    key = (suite_name, builder)
    if key not in _DEFINITIONS:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        batch = (
            context.data_sources.add_pandas("lake")
            .add_dataframe_asset(suite_name)
            .add_batch_definition_whole_dataframe("batch")
        )
        suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
        for expectation in builder(gx):
            suite.add_expectation(expectation)
        _DEFINITIONS[key] = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
        )
    return _DEFINITIONS[key]


def _pandas(frame: pl.DataFrame):
    """The batch as GX's pandas engine runs fastest: numbers, dates and times as NumPy columns (its
    range checks are vectorised only for NumPy dtypes; a null becomes NaN/NaT, which GX skips as
    missing), text as Arrow-backed columns. Money as float: GX's comparisons do not take Decimal,
    and exactness is not at stake in a range check."""
    numeric = [name for name, dtype in frame.schema.items() if dtype.is_numeric() or dtype.is_temporal()]
    pandas_frame = frame.drop(numeric).to_pandas(use_pyarrow_extension_array=True)
    for name in numeric:
        column = frame[name].cast(pl.Float64) if frame[name].dtype == pl.Decimal else frame[name]
        pandas_frame[name] = column.to_numpy()
    return pandas_frame[frame.columns]


def validate(suite_name: str, frame: pl.DataFrame) -> SuiteResult:
    schema_failures = _schema_failures(suite_name, frame)
    if suite_name in EXEMPT:
        frame = frame.filter(~EXEMPT[suite_name])
    definition = _definition(suite_name)
    result = definition.run(batch_parameters={"dataframe": _pandas(frame)}, result_format="BASIC")
    failed = []
    for r in result.results:
        if r.success:
            continue
        kwargs = r.expectation_config.kwargs
        failed.append(
            {
                "expectation": r.expectation_config.type,
                "column": kwargs.get("column") or kwargs.get("column_A") or kwargs.get("column_list"),
                "severity": (r.expectation_config.meta or {}).get("severity", "error"),
                "unexpected_count": (r.result or {}).get("unexpected_count"),
                "sample": [str(x) for x in ((r.result or {}).get("partial_unexpected_list") or [])[:5]],
                "error": (r.exception_info or {}).get("exception_message"),
            }
        )
    failed = schema_failures + failed
    errors = [f for f in failed if f["severity"] == "error"]
    return SuiteResult(suite_name, not errors, len(result.results) + 1, failed)
