"""The GX worker: the suites of a run with little new data judged in a second process, with the
same results as in the run's own process."""

from __future__ import annotations

import datetime as dt
import os
import signal
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from assets.lib.batch_gate import judge_pending
from conftest import Deployment, orders_batch


def write(path, frame: pl.DataFrame) -> str:
    frame.write_parquet(path)
    return str(path)


def scratch_objects() -> list[tuple]:
    """Tables and views left in the in-memory `scratch` database of this process's DuckDB instance,
    which lives as long as the process: a check's relation left there would clash with the next."""
    from assets import db

    if db._instance is None:
        return []
    with db._instance.cursor() as cursor:
        return cursor.execute(
            "select table_name from duckdb_tables() where database_name = 'scratch' "
            "union all select view_name from duckdb_views() where database_name = 'scratch' and not internal"
        ).fetchall()


@pytest.fixture
def bad_batch(tmp_path):
    """Three pending files of orders; the second's order refunds more than it was paid, the third
    pays before it was created."""
    return {
        "a.csv": write(tmp_path / "a.parquet", orders_batch(file_name="a.csv")),
        "b.csv": write(tmp_path / "b.parquet", orders_batch(
            order_id="2", file_name="b.csv", refund_amount=Decimal("12.50"),
        )),
        "c.csv": write(tmp_path / "c.parquet", orders_batch(
            order_id="3", file_name="c.csv", paid_at=dt.datetime(2024, 7, 1, 8),
        )),
    }


@pytest.mark.parametrize("copy", [True, False], ids=["copied", "through-a-view"])
def test_the_worker_holds_back_the_files_the_run_would_with_the_same_counts_and_samples(gx_worker_on, tmp_path, bad_batch, copy):
    gx_worker_on.start(gx_worker_on.config(tmp_path, "256MB"))
    held_back, results = gx_worker_on.call("judge_files", "orders_batch", bad_batch, copy)

    con = duckdb.connect()
    try:
        expected = judge_pending(con, "orders_batch", bad_batch, copy)
    finally:
        con.close()
    assert (held_back, results) == expected
    assert held_back == {
        "b.csv": "held back: its rows failed the orders_batch suite "
        "(expect_column_pair_values_a_to_be_not_below_b on paid_amount)",
        "c.csv": "held back: its rows failed the orders_batch suite "
        "(expect_column_pair_values_a_to_be_not_below_b on paid_at)",
    }
    whole = results[0]
    assert (whole.rows, whole.success) == (3, False)
    failed = {f["column"]: f for f in whole.failed}
    assert (failed["paid_amount"]["unexpected_count"], failed["paid_amount"]["sample"]) == (1, ["10.00 < 12.50"])
    assert (failed["paid_at"]["unexpected_count"], failed["paid_at"]["sample"]) == (
        1, ["2024-07-01 08:00:00 < 2024-07-01 09:00:00"],
    )


def test_an_error_inside_the_worker_is_raised_with_its_traceback(gx_worker_on, tmp_path):
    gx_worker_on.start(gx_worker_on.config(tmp_path, "256MB"))
    with pytest.raises(RuntimeError, match="judge_files failed in the GX worker:(.|\n)*IOException"):
        gx_worker_on.call("judge_files", "orders_batch", {"x.csv": str(tmp_path / "missing.parquet")}, True)
    # and it serves the next request
    assert gx_worker_on.call("judge_relations", [], []) == []


def test_a_worker_that_died_is_an_error_naming_it(gx_worker_on, tmp_path):
    gx_worker_on.start(gx_worker_on.config(tmp_path, "256MB"))
    gx_worker_on._process.send_signal(signal.SIGKILL)
    gx_worker_on._process.wait()
    with pytest.raises(RuntimeError, match="the GX worker is not running"):
        gx_worker_on.call("judge_relations", [], [])


@pytest.mark.slow
def test_a_small_run_judges_every_suite_in_the_worker_with_the_results_of_one_in_process(
    gx_worker_on, tmp_path, monkeypatch
):
    from assets.lib import gx_worker
    from pipelines.sample import SampleSpec, write_sample

    spec = SampleSpec(seed=5, start=dt.date(2024, 9, 25), days=4, orders_per_day=5, shops=2)
    jobs = []
    call = gx_worker.call
    monkeypatch.setattr(gx_worker, "call", lambda job, *args: jobs.append(job) or call(job, *args))

    def checks(deployment: Deployment) -> dict:
        write_sample(spec, deployment.raw)
        result = deployment.run()
        assert result.success
        evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        return {
            (e.asset_key.to_user_string(), e.check_name):
                (e.passed, {k: v.value for k, v in e.metadata.items() if k in ("rows_validated", "failed")})
            for e in evaluations
        }

    in_worker = checks(Deployment(tmp_path / "worker"))
    assert scratch_objects() == []  # the checks' Parquet views dropped with their tables
    assert jobs.count("judge_files") == 3  # orders, traffic and courier batches
    assert jobs.count("judge_relations") == 2  # the staging check, and the marts' checks in one step
    assert os.getpid() != gx_worker._process.pid

    gx_worker.stop()
    monkeypatch.setattr(gx_worker, "WORKER_MAX_BYTES", 0)
    jobs.clear()
    in_process = checks(Deployment(tmp_path / "process"))
    assert jobs == []
    assert in_worker == in_process and len(in_worker) >= 7
    assert all(passed for passed, _ in in_worker.values())


@pytest.mark.slow
def test_a_raw_step_never_starts_the_worker(gx_worker_on, tmp_path, monkeypatch):
    # Only the whole run's size tells whether its suites fit the worker: a rebuild's small traffic
    # files once started it from their step, and its ~260 MB stayed beside the orders step's peak.
    from assets.lib import gx_worker
    from pipelines.sample import SampleSpec, write_sample

    deployment = Deployment(tmp_path / "d")
    write_sample(SampleSpec(seed=6, start=dt.date(2024, 9, 28), days=2, orders_per_day=3, shops=1), deployment.raw)
    monkeypatch.setattr(gx_worker, "start_for", lambda *args: None)  # as for a run too large for it
    assert deployment.run().success
    assert not gx_worker.running()


@pytest.mark.slow
def test_a_check_with_more_rows_than_a_copy_holds_is_judged_in_the_run_and_leaves_nothing_behind(
    gx_worker_on, tmp_path, monkeypatch
):
    from assets import quality
    from assets.lib import gx_worker
    from pipelines.sample import SampleSpec, write_sample

    jobs = []
    call = gx_worker.call
    monkeypatch.setattr(gx_worker, "call", lambda job, *args: jobs.append(job) or call(job, *args))
    monkeypatch.setattr(quality, "COPY_JUDGED_ROWS", -1)  # every check's rows too many for a copy, even none
    copied = []  # the rows written to Parquet already told there are too many: no copy tried again
    create = quality.create_check_relation
    monkeypatch.setattr(quality, "create_check_relation", lambda *args: copied.append(args) or create(*args))
    deployment = Deployment(tmp_path / "d")
    write_sample(SampleSpec(seed=7, start=dt.date(2024, 9, 28), days=2, orders_per_day=3, shops=1), deployment.raw)
    result = deployment.run()
    assert result.success
    assert gx_worker.running() and "judge_files" in jobs and "judge_relations" not in jobs
    assert copied == []
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    staging = next(e for e in evaluations if e.check_name == "staging_orders_expectations")
    assert not list(deployment.state.glob("check_rows.*"))
    assert scratch_objects() == []
    with duckdb.connect(str(deployment.state / "pipeline.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_schemas() where schema_name = 'check_views'").fetchone() == (0,)
        orders = con.execute("select count(*) from staging.orders").fetchone()[0]
    assert staging.passed and staging.metadata["rows_validated"].value == orders > 0
