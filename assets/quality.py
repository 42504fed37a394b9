"""Data-quality gates: Great Expectations suites on each new batch, reported as Dagster asset checks.

A raw asset validates its new rows *before* writing them (a blocking check does not undo a write);
the suite's result is the asset's check result, so a failure stops the run before publishing and the
held-back files are validated again on the next run.
"""

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from .lib.expectations import SuiteResult

# The suite that guards each raw source's new batches.
BATCH_SUITES = {"orders": "orders_batch"}
DESCRIPTIONS = {
    "orders_batch": "Great Expectations suite on the order rows this run loads, run before they are "
    "written: required fields, status vocabulary, pseudonymised buyers, amounts, payment after creation.",
}


def check_name(suite: str) -> str:
    return f"{suite}_expectations"


def batch_check_specs(source: str) -> list[AssetCheckSpec]:
    suite = BATCH_SUITES.get(source)
    if suite is None:
        return []
    return [
        AssetCheckSpec(check_name(suite), asset=AssetKey(["raw", source]), blocking=True, description=DESCRIPTIONS[suite])
    ]


def batch_check_result(source: str, results: list[SuiteResult], rows_validated: int) -> AssetCheckResult:
    """All chunks' suite results as one check result, with the failing expectations as metadata."""
    suite = BATCH_SUITES[source]
    failed = [f for r in results for f in r.failed]
    lines = [
        f"- `{f['expectation']}` on `{f['column']}`: {f['unexpected_count']} unexpected, e.g. {f['sample']}"
        + (f" (error: {f['error']})" if f["error"] else "")
        for f in failed
    ]
    passed = all(r.success for r in results)
    return AssetCheckResult(
        asset_key=AssetKey(["raw", source]),
        check_name=check_name(suite),
        passed=passed,
        severity=AssetCheckSeverity.ERROR,
        description=None if passed else f"{len(failed)} expectation(s) of {suite} failed; the batch was held back",
        metadata={
            "suite": suite,
            "rows_validated": rows_validated,
            "expectations_evaluated": sum(r.evaluated for r in results),
            "expectations_failed": len(failed),
            "failed_expectations": MetadataValue.md("\n".join(lines) or "none"),
            "note": "no new rows" if not results else "",
        },
    )
