"""A late batch restates exactly the quarters it touches, and the run says so (contract §6)."""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import FIXTURES, Deployment

pytestmark = pytest.mark.slow
HEADER = "order_id,shop_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount,refund_amount\n"


def restated(deployment, result):
    return deployment.query(
        "select table_name, quarter, reason from audit.restatements where run_id = ? order by all", [result.run_id]
    )


@pytest.fixture
def q4_current(tmp_path):
    """The tiny fixture with a Q4 batch on top: 2024Q3 is past, 2024Q4 current."""
    deployment = Deployment(tmp_path)
    shutil.copytree(FIXTURES / "tiny", deployment.raw)
    deployment.drop("orders/orders_2024-10-08.csv", HEADER + "q1,A,b1,paid,2024-10-08 09:00,2024-10-08 09:01,60,60,0\n")
    first = deployment.run()
    assert first.success and restated(deployment, first) == []  # a first build restates nothing
    return deployment


def test_a_late_refund_restates_q3_while_q4_is_current(q4_current):
    q4_current.drop(
        "orders/orders_2024-11-20.csv",
        HEADER.replace("\n", ",is_mobile\n") + "o1,A,b1,refunded,2024-07-01 09:00,2024-07-01 09:05,210.00,200.00,200.00,1\n",
    )
    result = q4_current.run()
    assert result.success
    assert restated(q4_current, result) == [
        ("marts.quarterly_category_kpis", "2024Q3", "changed: refund_rate"),
        ("marts.quarterly_shop_kpis", "2024Q3", "changed: net_sales, refund_amount, refund_rate"),
    ]
    # refunds stay in the quarter of payment: Q4's numbers, QoQ included, did not move
    assert q4_current.query(
        "select refund_amount, gmv_qoq from marts.quarterly_shop_kpis where quarter = '2024Q4' and shop_id = 'A'"
    ) == [(0, pytest.approx(60 / 430 - 1))]


def test_a_late_payment_restates_its_quarter_and_the_growth_of_the_next(q4_current):
    q4_current.drop("orders/orders_2024-11-21.csv", HEADER + "late,A,b5,paid,2024-09-30 22:00,2024-09-30 22:30,70,70,0\n")
    result = q4_current.run()
    assert {(t, q) for t, q, _ in restated(q4_current, result) if t == "marts.quarterly_shop_kpis"} == {
        ("marts.quarterly_shop_kpis", "2024Q3"),
        ("marts.quarterly_shop_kpis", "2024Q4"),  # its gmv_qoq is derived from Q3
    }
    (q4_reason,) = [r for t, q, r in restated(q4_current, result) if t == "marts.quarterly_shop_kpis" and q == "2024Q4"]
    assert q4_reason == "changed: gmv_qoq (derived from a restated earlier quarter)"


def test_a_corrected_traffic_day_restates_only_its_quarter(q4_current):
    path = q4_current.raw / "traffic" / "traffic_2024-07-31.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2024-07-03,B,手淘搜索,mobile,10,5,5,0,,0",
                                                           "2024-07-03,B,手淘搜索,mobile,10,8,8,0,,0"), encoding="utf-8")
    result = q4_current.run()
    rows = restated(q4_current, result)
    assert {(t, q) for t, q, _ in rows} == {
        ("marts.quarterly_shop_kpis", "2024Q3"),
        ("marts.quarterly_channel_kpis", "2024Q3"),
    }


def test_a_run_that_changes_nothing_restates_nothing(q4_current):
    result = q4_current.run()
    # (a run with nothing new to load may run no step at all)
    assert result is None or (result.success and restated(q4_current, result) == [])


def test_a_new_batch_in_the_current_quarter_is_no_restatement(q4_current):
    q4_current.drop("orders/orders_2024-10-09.csv", HEADER + "q2,A,b2,paid,2024-10-09 09:00,2024-10-09 09:01,40,40,0\n")
    result = q4_current.run()
    assert result.success and restated(q4_current, result) == []
    assert q4_current.query(
        "select gmv from marts.quarterly_shop_kpis where quarter = '2024Q4' and shop_id = 'A'"
    ) == [(pytest.approx(100),)]


def test_a_mart_column_added_by_new_code_is_not_a_restatement(q4_current, monkeypatch):
    import duckdb

    with duckdb.connect(str(q4_current.state / "pipeline.duckdb")) as con:
        con.execute("alter table marts.quarterly_category_kpis drop column items")  # as an older version had it
    # A batch of the current quarter: the mart computes that quarter, and takes the new column in
    # every quarter (the quarter's rows alone would not fit the table).
    q4_current.drop("orders/orders_2024-10-09.csv", HEADER + "q2,A,b2,paid,2024-10-09 09:00,2024-10-09 09:01,40,40,0\n")
    result = q4_current.run()
    assert result.success and restated(q4_current, result) == []
    # one item an order (no item_count column): o0 in Q2; o1, o2, o4, o6 in Q3; q1, q2 in Q4
    assert q4_current.query("select quarter, items from marts.quarterly_category_kpis order by all") == [
        ("2024Q2", 1), ("2024Q3", 4), ("2024Q4", 2),
    ]


def test_a_new_fiscal_setting_rebuilds_every_mart_whole(q4_current):
    # The fiscal year's start is a parameter of every mart: each is rebuilt whole, the monthly one
    # included (its quarter of a month binds the setting). April start: 2024-06 is FY2025Q1,
    # 2024-07..09 FY2025Q2, 2024-10 FY2025Q3.
    from dagster_duckdb import DuckDBResource

    from assets.db import working_db
    from assets.marts import MARTS, build_mart

    settings = q4_current.settings(fiscal_year_start_month=4)
    with working_db(settings, DuckDBResource(database=str(settings.working_db))) as con:
        modes = {name: build_mart(con, name, settings.sql_params(), "fiscal")[0].mode for name in MARTS}
        assert set(modes.values()) == {"rebuild"}
        assert con.execute("select distinct quarter from marts.quarterly_shop_kpis order by 1").fetchall() == [
            ("FY2025Q1",), ("FY2025Q2",), ("FY2025Q3",),
        ]
        assert con.execute("select month, ytd_gmv from marts.monthly_target_tracking where shop_id = 'A' "
                           "and month >= '2024-06' order by month").fetchall()[0] == ("2024-06", 100)


KILL_IN_MART_WRITE = """
import os, signal, sys
from pathlib import Path
from conftest import Deployment  # tests/ on PYTHONPATH, as pytest puts it on sys.path
from assets.lib import restatements

real = restatements.record


def record(con, run_id, name, restated):
    real(con, run_id, name, restated)
    if name == "quarterly_shop_kpis":  # its rows replaced and its restatements written, not committed
        os.kill(os.getpid(), signal.SIGKILL)


restatements.record = record
Deployment(Path(sys.argv[1])).run()
"""


def test_a_kill_inside_a_mart_write_loses_nothing_and_the_next_run_records_it_all(q4_current, tmp_path_factory):
    """A mart's rows, its audit.restatements rows and the record of its inputs are one commit: a
    run killed (SIGKILL) between the restatements and that commit leaves the mart and the audit as
    they were, and the next run writes both (the same as a run never killed)."""
    import subprocess
    import sys
    from pathlib import Path

    late = HEADER.replace("\n", ",is_mobile\n") + "o1,A,b1,refunded,2024-07-01 09:00,2024-07-01 09:05,210.00,200.00,200.00,1\n"
    control = Deployment(tmp_path_factory.mktemp("control"))
    shutil.copytree(q4_current.raw, control.raw)
    assert control.run().success
    q4_current.drop("orders/orders_2024-11-20.csv", late)
    control.drop("orders/orders_2024-11-20.csv", late)

    def working(sql: str) -> list[tuple]:  # the working database: what a killed run left, unpublished
        import duckdb

        with duckdb.connect(str(q4_current.state / "pipeline.duckdb"), read_only=True) as con:
            return con.execute(sql).fetchall()

    mart = "select * from marts.quarterly_shop_kpis order by all"
    recorded = "select * from audit.staging_inputs where table_name = 'marts.quarterly_shop_kpis' order by all"
    before, inputs = working(mart), working(recorded)
    assert before and inputs
    killed = subprocess.run(
        [sys.executable, "-c", KILL_IN_MART_WRITE, str(q4_current.root)],
        cwd=Path(__file__).parents[1], env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
        capture_output=True, text=True, timeout=600,
    )
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert working(mart) == before and working(recorded) == inputs
    assert working("select count(*) from audit.restatements where table_name = 'marts.quarterly_shop_kpis'") == [(0,)]

    again, reference = q4_current.run(), control.run()
    assert again.success and reference.success
    # every restatement recorded once, by the killed run (marts committed before the kill) or the next
    everything = "select table_name, quarter, reason from audit.restatements order by all"
    assert q4_current.query(everything) == control.query(everything) == [
        ("marts.quarterly_category_kpis", "2024Q3", "changed: refund_rate"),
        ("marts.quarterly_shop_kpis", "2024Q3", "changed: net_sales, refund_amount, refund_rate"),
    ]
    for mart in ("quarterly_shop_kpis", "quarterly_category_kpis"):
        sql = f"select * from marts.{mart} order by all"
        assert q4_current.query(sql) == control.query(sql)
