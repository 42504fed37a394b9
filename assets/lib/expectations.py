"""Great Expectations suites, run in an ephemeral context on a pandas batch (stack-notes §1).

GX is imported inside the functions: it costs ~3 s to import and only the checks need it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .reference import STATUSES


@dataclass
class SuiteResult:
    suite: str
    success: bool
    evaluated: int
    failed: list[dict]  # expectation, column, unexpected_count, sample


def _orders_expectations(gx) -> list:
    E = gx.expectations
    required = ("order_id", "buyer_id", "status", "created_at", "total_amount", "shop_id")
    exps: list = [E.ExpectColumnToExist(column=c) for c in required]
    exps += [E.ExpectColumnValuesToNotBeNull(column=c) for c in required]
    exps += [
        E.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES)),
        E.ExpectColumnValuesToMatchRegex(column="buyer_id", regex=r"^[0-9a-f]{64}$"),
        E.ExpectColumnValuesToBeBetween(column="total_amount", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="paid_amount", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="refund_amount", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="item_count", min_value=0),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="paid_amount", column_B="refund_amount", or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="paid_at", column_B="created_at", or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        E.ExpectCompoundColumnsToBeUnique(column_list=["file_name", "line"]),
    ]
    return exps


SUITES = {"orders_batch": _orders_expectations}


def validate(suite_name: str, frame: pl.DataFrame) -> SuiteResult:
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
    for expectation in SUITES[suite_name](gx):
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
    )
    # Money as float: GX's comparisons do not take Decimal; exactness is not at stake in a range check.
    pandas_frame = frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64)).to_pandas(
        use_pyarrow_extension_array=True
    )
    result = definition.run(batch_parameters={"dataframe": pandas_frame}, result_format="SUMMARY")
    failed = []
    for r in result.results:
        if r.success:
            continue
        kwargs = r.expectation_config.kwargs
        failed.append(
            {
                "expectation": r.expectation_config.type,
                "column": kwargs.get("column") or kwargs.get("column_A") or kwargs.get("column_list"),
                "unexpected_count": (r.result or {}).get("unexpected_count"),
                "sample": [str(x) for x in ((r.result or {}).get("partial_unexpected_list") or [])[:5]],
                "error": (r.exception_info or {}).get("exception_message"),
            }
        )
    return SuiteResult(suite_name, bool(result.success), len(result.results), failed)
