"""`taobao-ops run` from a shell: settings from the environment, Dagster run history, exit codes,
and what the output tells. Each run here is a real subprocess, so there are few of them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from conftest import FIXTURES, Deployment

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-c", "from pipelines.cli import entry; entry()"]


def run_cli(tmp_path: Path, *args: str, cwd: Path | None = None, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TAOBAO_OPS_RAW_DIR": str(tmp_path / "raw"),
        "TAOBAO_OPS_STATE_DIR": str(tmp_path / "state"),
        "TAOBAO_OPS_WAREHOUSE": str(tmp_path / "out" / "warehouse.duckdb"),
        "TAOBAO_OPS_PII_KEY": "cli-test-key",
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    return subprocess.run([CLI[0], *python, *CLI[1:], *args], cwd=cwd or tmp_path, env=env, capture_output=True, text=True, timeout=600)


def test_runs_publish_print_restatements_and_fail_on_a_quarantined_file(tmp_path):
    shutil.copytree(FIXTURES / "tiny", tmp_path / "raw")
    done = run_cli(tmp_path, "run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2024Q3" in done.stdout and "430.00" in done.stdout and "succeeded" in done.stdout
    assert "Published marts: monthly_target_tracking 5," in done.stdout
    assert (tmp_path / "out" / "warehouse.duckdb").exists()
    assert (tmp_path / "state" / "pipeline.duckdb").exists()
    assert (tmp_path / "dagster_home" / "dagster.yaml").exists()  # the project's instance config

    # nothing new: the published file is left as it is, no Dagster run starts (counted below), and
    # neither Dagster nor GX is imported (seconds of a run that has nothing to do)
    published = (tmp_path / "out" / "warehouse.duckdb").stat()
    done = run_cli(tmp_path, "run", "--quiet", python=("-X", "importtime"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Nothing new: every file in" in done.stdout and "is current (published by run" in done.stdout
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "pipelines.batches" in imported
    assert not {m for m in imported if m.split(".")[0] in ("dagster", "great_expectations")}
    assert (tmp_path / "out" / "warehouse.duckdb").stat().st_mtime_ns == published.st_mtime_ns

    # a late refund of a Q3 order, and a file that cannot be dated
    (tmp_path / "raw" / "orders" / "orders_2024-11-20.csv").write_text(
        "order_id,shop_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount,refund_amount,is_mobile\n"
        "o1,A,b1,refunded,2024-07-01 09:00,2024-07-01 09:05,210.00,200.00,200.00,1\n"
        "o1,A,b1,refunded,2024-07-01 09:00,2024-07-01 09:05,210.00,200.00,200.00,1\n"  # a repeated key: a warning
    )
    (tmp_path / "raw" / "orders" / "orders_undated.csv").write_text("order_id\n1\n")
    done = run_cli(tmp_path, "run", "--quiet")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "restated marts.quarterly_shop_kpis 2024Q3: changed: net_sales, refund_amount, refund_rate" in done.stdout
    assert "quarantined orders/orders_undated.csv: orders_undated.csv: no date" in done.stdout
    assert "published" in done.stdout  # the rest is still published
    assert "warning orders_2024-11-20.csv: 2 rows repeat a key within the file" in done.stdout, done.stdout  # quiet, yet said
    # --quiet: one line per problem, and no stack trace (Dagster logged the failed check's whole trace)
    assert "Stack Trace" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert 'File "' not in done.stdout + done.stderr

    from dagster import DagsterEventType, DagsterInstance

    os.environ["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    try:
        with DagsterInstance.get() as instance:
            runs = instance.get_runs()
            planned_events = [
                r.event_log_entry.dagster_event
                for r in instance.get_records_for_run(
                    runs[1].run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED, limit=10_000
                ).records
            ]
    finally:
        del os.environ["DAGSTER_HOME"]
    assert [r.job_name for r in runs] == ["pipeline", "pipeline"]
    assert [r.is_success for r in runs] == [False, True]  # newest first
    # the first run covered several batch dates: one planned event per asset, not per asset and day
    assert runs[1].tags["dagster/asset_partition_range_start"] < runs[1].tags["dagster/asset_partition_range_end"]
    planned = Counter(e.asset_key.to_user_string() for e in planned_events)
    assert planned["raw/orders"] == 1 and set(planned.values()) == {1}


def test_options_override_the_environment_and_unmapped_names_are_reported(tmp_path):
    shutil.copytree(FIXTURES / "marts", tmp_path / "elsewhere")
    done = run_cli(tmp_path, "run", "--quiet", "--raw-dir", "elsewhere", "--warehouse", "w.duckdb")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "w.duckdb").exists()  # relative to the current directory
    assert not (tmp_path / "out" / "warehouse.duckdb").exists()
    assert "unmapped channel 'Weird Channel' in orders: 1 row(s) kept as given, grouped as other" in done.stdout
    assert "unmapped courier 'Pigeon Post' in orders: 1 row(s) kept as given" in done.stdout


def test_relative_paths_in_the_environment_are_taken_from_the_current_directory(tmp_path):
    """Every process of a run (its steps, the GX worker, which starts elsewhere) must agree on them:
    a relative TAOBAO_OPS_STATE_DIR once reached the steps as it was, and the worker, started in
    the project folder, found no lake there."""
    shutil.copytree(FIXTURES / "tiny", tmp_path / "drop")
    relative = {"TAOBAO_OPS_RAW_DIR": "drop", "TAOBAO_OPS_STATE_DIR": "st", "TAOBAO_OPS_WAREHOUSE": "wh.duckdb"}
    env = {**os.environ, **relative, "TAOBAO_OPS_PII_KEY": "cli-test-key", "DAGSTER_HOME": str(tmp_path / "dh")}
    first = subprocess.run([*CLI, "run", "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (tmp_path / "wh.duckdb").exists() and (tmp_path / "st" / "lake").is_dir()
    again = subprocess.run([*CLI, "run", "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "Nothing new" in again.stdout, again.stdout + again.stderr


def test_a_missing_raw_folder_is_a_clear_error(tmp_path):
    done = run_cli(tmp_path, "run", "--raw-dir", str(tmp_path / "nope"))
    assert done.returncode != 0
    assert "raw folder" in done.stderr and "does not exist" in done.stderr


def test_the_quick_exit_still_finishes_threads_atexit_handlers_and_output(tmp_path):
    """`entry` leaves without the interpreter's teardown, but after what a normal exit does for
    others: a thread still writing is waited for, atexit handlers run, buffered output is written,
    and the command's exit code is kept."""
    script = f"""
import atexit, sys, threading, time
from pathlib import Path
out = Path({str(tmp_path)!r})
def late():
    time.sleep(0.2)
    (out / "thread").write_text("done")
threading.Thread(target=late).start()
atexit.register(lambda: (out / "atexit").write_text("done"))
sys.stdout.write("buffered, no newline")
from pipelines.cli import entry
sys.argv = ["taobao-ops"] + sys.argv[1:]
entry()
"""
    ok = subprocess.run([sys.executable, "-c", script, "glossary"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("buffered, no newline") and "quarterly_shop_kpis" in ok.stdout
    assert (tmp_path / "thread").read_text() == "done" and (tmp_path / "atexit").read_text() == "done"
    bad = subprocess.run([sys.executable, "-c", script, "no-such-command"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "No such command" in bad.stderr


def test_two_runs_started_together_take_turns_at_the_database(tmp_path):
    """Both succeed on a new DAGSTER_HOME and neither meets DuckDB's lock: the OS file lock on the
    working database (assets/db.py) makes their steps take turns. The test once compared Dagster's
    step windows (start to success events), which overlapped under load: a window includes the wait
    for the lock (and, then, a `duckdb` concurrency pool whose SQLite slot claim checks and takes a
    slot in two statements let two processes both get one). It compares the holds of the lock each
    step logs, which never overlapped; they do overlap when the lock is taken out.
    (Reference data only, so that the runs are short; both give the batch dates, so that neither finds the other's publication
    current and starts no run.)"""
    (tmp_path / "raw" / "reference").mkdir(parents=True)
    shutil.copy(FIXTURES / "tiny" / "reference" / "targets.csv", tmp_path / "raw" / "reference")
    env = Deployment(tmp_path).environment()
    both = [
        subprocess.Popen([*CLI, "run", "--quiet", "--from", "2024-07-01", "--to", "2024-07-01"], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in both]
    for process, output in zip(both, outputs):
        assert process.returncode == 0, output
        # DuckDB's and SQLite's lock errors ("lock" alone also matches "blocking" or "clock")
        assert "Could not set lock" not in output and "database is locked" not in output, output

    from dagster import DagsterInstance

    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    try:
        with DagsterInstance.get() as instance:
            runs = instance.get_runs()
            holds = {run.run_id: _holds(instance, run.run_id) for run in runs}
        assert len(runs) == 2 and all(r.is_success for r in runs)
    finally:
        del os.environ["DAGSTER_HOME"]
    # the working database was used by one run at a time: every hold of its lock by one run is
    # disjoint from every hold by the other (steps whose Dagster windows overlap still take turns)
    first, second = holds.values()
    assert first and second
    for a in first:
        for b in second:
            assert a[1] <= b[0] or b[1] <= a[0], (a, b, holds)
    with duckdb.connect(str(tmp_path / "state" / "pipeline.duckdb"), read_only=True) as con:
        # each run recorded the targets file: one loaded it, the other found it unchanged
        assert sorted(con.execute(
            "select outcome from audit.loads where source = 'targets'"
        ).fetchall()) == [("loaded",), ("unchanged",)]


def _holds(instance, run_id: str) -> list[tuple[int, int]]:
    """The run's holds of the working database's lock, (from, until) in monotonic ns (assets/db.py)."""
    from assets.db import HELD

    return [
        tuple(map(int, entry.user_message.removeprefix(HELD).split()))
        for entry in instance.all_logs(run_id)
        if entry.user_message.startswith(HELD)
    ]


@pytest.mark.parametrize("status", ["STARTED", "NOT_STARTED"])
def test_a_killed_run_does_not_hold_the_database_for_the_next(tmp_path, status):
    """A `taobao-ops run` killed in the middle of a step leaves its run 'started' (and, in a
    deployment from when the steps were in a `duckdb` concurrency pool, its slot claimed, which
    Dagster never times out); the next run fails it and frees the slot. Killed while starting, its
    run stayed NOT_STARTED for ever: it is failed as well."""
    from dagster import DagsterInstance, DagsterRunStatus

    from pipelines.settings import HOST_TAG, PID_TAG, prepare_dagster_home

    (tmp_path / "raw" / "reference").mkdir(parents=True)
    shutil.copy(FIXTURES / "tiny" / "reference" / "targets.csv", tmp_path / "raw" / "reference")
    env = Deployment(tmp_path).environment()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that is gone
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    try:
        prepare_dagster_home(Path(env["DAGSTER_HOME"]))
        with DagsterInstance.get() as instance:
            import socket

            from pipelines.definitions import defs

            stale = instance.create_run_for_job(
                defs.resolve_job_def("pipeline"), tags={PID_TAG: str(dead.pid), HOST_TAG: socket.gethostname()},
                status=DagsterRunStatus[status],
            )
            instance.event_log_storage.set_concurrency_slots("duckdb", 1)  # as the pool of old deployments
            claimed = instance.event_log_storage.claim_concurrency_slot("duckdb", stale.run_id, "raw__orders")
            assert claimed.is_claimed
    finally:
        del os.environ["DAGSTER_HOME"]
    done = subprocess.run([*CLI, "run", "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    try:
        with DagsterInstance.get() as instance:
            assert instance.get_run_by_id(stale.run_id).status == DagsterRunStatus.FAILURE
            assert instance.event_log_storage.get_concurrency_info("duckdb").claimed_slots == []
    finally:
        del os.environ["DAGSTER_HOME"]


def test_the_run_summary_shows_the_funnel_only_when_event_logs_feed_it(tmp_path):
    import duckdb
    from rich.console import Console

    from pipelines.summary import funnel_table, summary_tables

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.quarterly_shop_kpis as select * from (values ('2024Q4', 'shop01')) "
                    "t(quarter, shop_id) where false")
        for column in ("gmv", "target_completion", "gmv_qoq", "paid_orders", "paid_buyers", "aov", "uv_days",
                       "conversion_rate", "mobile_gmv_share", "refund_rate", "repurchase_rate", "roi"):
            con.execute(f"alter table marts.quarterly_shop_kpis add column {column} double")
        con.execute("create table marts.quarterly_funnel (quarter varchar, shop_id varchar, pv bigint, uv bigint, "
                    "cart_users bigint, fav_users bigint, buyers bigint, conversion_rate double, "
                    "repeat_buyers bigint, repurchase_rate double)")
    assert funnel_table(warehouse) is None and len(summary_tables(warehouse)) == 1  # no rows, no table
    with duckdb.connect(str(warehouse)) as con:
        # 40 visitors, 10 buyers (25.0%), 4 of them on two days (40.0%)
        con.execute("insert into marts.quarterly_funnel values ('2024Q4', 'shop01', 1234, 40, 12, 8, 10, 0.25, 4, 0.4)")
    console = Console(record=True, width=200)
    console.print(summary_tables(warehouse)[1])
    text = console.export_text()
    assert "marts.quarterly_funnel (行为漏斗)" in text and "购买转化率" in text
    assert all(cell in text for cell in ("1,234", "25.0%", "40.0%"))
