"""The daily schedule, the file sensor, and what one run covers: exactly the new batches."""

from __future__ import annotations

import datetime as dt
import os
import time

import duckdb
import pytest
from dagster import DagsterInstance, build_schedule_context, build_sensor_context

from pipelines.batches import RANGE_END_TAG, RANGE_START_TAG, plan_run
from pipelines.definitions import UNPARTITIONED, defs
from pipelines.settings import Deployment

SENSOR = defs.resolve_sensor_def("new_raw_files")
SCHEDULE = defs.resolve_schedule_def("daily")
ORDER = (
    "order_id,shop_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount,is_mobile\n"
    "{id},A,b9,paid,{day} 10:00,{day} 10:05,100.00,100.00,1\n"
)


def order_file(day: str, order_id: str = "n1") -> str:
    return ORDER.format(id=order_id, day=day)


EXPORTED = 1_720_000_000  # 2024-07-03: a drop's mtime, set explicitly (two drops in a row may share a clock tick)


def drop_at(deployment, relative: str, content: str, mtime: int):
    """An export written with a stated modification time."""
    path = deployment.drop(relative, content)
    os.utime(path, (mtime, mtime))
    return path


def rewrite_keeping_mtime(path, content: bytes) -> None:
    """Rewrite a file in place and put its mtime back (cp -p, rsync -t): only its ctime still tells,
    and the scan keys on it. The kernel stamps ctime from a coarse clock (a jiffy here, a second or
    two on some file systems): the mtime is put back until the ctime has left the one before the
    write, so the outcome never depends on that resolution."""
    before = path.stat()
    path.write_bytes(content)
    deadline = time.monotonic() + 10
    while True:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        if path.stat().st_ctime_ns != before.st_ctime_ns:
            break
        assert time.monotonic() < deadline, f"the ctime of {path} did not move in 10 s"
        time.sleep(0.001)
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns


@pytest.fixture
def today(monkeypatch):
    """China's date as the batch dates read it, fixed by the test (`today(dt.date(...))`): a test
    that read the clock twice would fail when midnight passed in between."""
    from assets.lib import batch_dates

    def set_today(day: dt.date) -> None:
        monkeypatch.setattr(batch_dates, "_today", lambda: day)

    return set_today


def tick(deployment, cursor=None):
    context = build_sensor_context(cursor=cursor, resources={"settings": deployment.settings()}, definitions=defs)
    return SENSOR.evaluate_tick(context)


def requested(data) -> list[tuple]:
    """Each run request as (partition, range start, range end, selected assets or None)."""
    return [
        (
            r.partition_key, r.tags.get(RANGE_START_TAG), r.tags.get(RANGE_END_TAG),
            None if r.asset_selection is None else {k.to_user_string() for k in r.asset_selection},
        )
        for r in data.run_requests
    ]


def test_sensor_new_file_runs_its_batch_same_file_nothing_changed_file_once_more(empty):
    name = "orders/orders_2024-07-05.csv"
    path = drop_at(empty, name, order_file("2024-07-05"), EXPORTED)
    first = tick(empty)
    assert requested(first) == [("2024-07-05", None, None, None)]

    again = tick(empty, first.cursor)
    assert again.run_requests == [] and "no new or changed files" in again.skip_message

    os.utime(path, (EXPORTED + 1, EXPORTED + 1))  # same bytes, touched
    touched = tick(empty, again.cursor)
    assert touched.run_requests == []

    drop_at(empty, name, order_file("2024-07-05", "n2"), EXPORTED + 2)  # a corrected export, same size
    changed = tick(empty, touched.cursor)
    assert requested(changed) == [("2024-07-05", None, None, None)]
    assert changed.run_requests[0].run_key != first.run_requests[0].run_key  # not deduplicated away
    assert tick(empty, changed.cursor).run_requests == []

    # the first bytes back again (A -> B -> A): a run again, under a key Dagster has not seen
    drop_at(empty, name, order_file("2024-07-05"), EXPORTED + 3)
    back = tick(empty, changed.cursor)
    assert requested(back) == [("2024-07-05", None, None, None)]
    assert back.run_requests[0].run_key not in {first.run_requests[0].run_key, changed.run_requests[0].run_key}

    # rewritten with the same size and the old mtime put back (cp -p, rsync -t): still seen
    rewrite_keeping_mtime(path, order_file("2024-07-05", "n3").encode())  # same length as n1/n2
    assert requested(tick(empty, back.cursor)) == [("2024-07-05", None, None, None)]


def test_sensor_loses_no_file_when_several_arrive_in_one_tick(empty):
    cursor = tick(empty).cursor  # nothing yet
    empty.drop("orders/orders_2024-07-02.csv", order_file("2024-07-02"))
    empty.drop("traffic/traffic_2024-07-03.csv", "date,shop_id,channel,device,uv,pv\n2024-07-03,A,搜索,mobile,5,9\n")
    empty.drop("orders/orders_2024-07-09.csv", order_file("2024-07-09"))
    data = tick(empty, cursor)
    # one run from the first date to the last, gaps and all: never a run per day
    assert requested(data) == [(None, "2024-07-02", "2024-07-09", None)]


def test_sensor_reference_change_runs_the_unpartitioned_assets(empty):
    cursor = tick(empty).cursor
    empty.drop("reference/targets.csv", "shop_id,month,target_gmv\nA,2024-07,1000\n")
    (partition, start, end, selection) = requested(tick(empty, cursor))[0]
    assert (partition, start, end) == (None, None, None)
    assert selection == {k.to_user_string() for k in UNPARTITIONED}
    assert "raw/targets" in selection and "raw/orders" not in selection and "publish/warehouse" in selection


def run_request(deployment, request):
    """Execute a run request in process, as the daemon would launch it."""
    from dagster_duckdb import DuckDBResource

    from pipelines.definitions import build_defs

    local = build_defs(deployment.settings(), DuckDBResource(database=str(deployment.state / "pipeline.duckdb")))
    return local.resolve_job_def("pipeline").execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False,
        partition_key=request.partition_key, tags=dict(request.tags), asset_selection=request.asset_selection,
    )


def loads_of(deployment, run_id) -> list[tuple]:
    with duckdb.connect(str(deployment.state / "pipeline.duckdb"), read_only=True) as con:
        return con.execute(
            "select source, file_name, outcome from audit.loads where run_id = ? and source in ('orders', 'traffic')"
            " order by all", [run_id]
        ).fetchall()


@pytest.mark.slow
def test_a_sensor_run_loads_exactly_the_new_files(built):
    cursor = tick(built).cursor  # the files already loaded
    built.drop("orders/orders_2024-08-01.csv", order_file("2024-08-01", "n1"))
    built.drop("orders/orders_2024-08-20.csv", order_file("2024-08-20", "n2"))
    (request,) = tick(built, cursor).run_requests
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2024-08-01", "2024-08-20")
    result = run_request(built, request)
    assert result.success
    # the run looked at those batch dates only: the two new files, none of the July ones
    assert loads_of(built, result.run_id) == [
        ("orders", "orders_2024-08-01.csv", "loaded"), ("orders", "orders_2024-08-20.csv", "loaded"),
    ]
    assert built.query("select count(*) from staging.orders where order_id in ('n1', 'n2')") == [(2,)]


@pytest.mark.slow
def test_schedule_runs_what_is_not_loaded_and_skips_when_all_is(built):
    context = lambda: build_schedule_context(  # noqa: E731
        scheduled_execution_time=dt.datetime(2024, 8, 2, 6, 0), resources={"settings": built.settings()},
        repository_def=defs.get_repository_def(),
    )
    idle = SCHEDULE.evaluate_tick(context())
    assert idle.run_requests == [] and "is loaded" in idle.skip_message

    built.drop("orders/orders_2024-08-01.csv", order_file("2024-08-01"))
    data = SCHEDULE.evaluate_tick(context())
    assert requested(data) == [("2024-08-01", None, None, None)]
    assert run_request(built, data.run_requests[0]).success
    assert SCHEDULE.evaluate_tick(context()).run_requests == []

    # a corrected export of an old batch is new too
    built.drop("orders/orders_2024-07-01.csv", order_file("2024-07-01", "n3"))
    assert requested(SCHEDULE.evaluate_tick(context())) == [("2024-07-01", None, None, None)]


def test_schedule_is_daily_at_six_in_china_and_off_unless_switched_on(monkeypatch):
    assert SCHEDULE.cron_schedule == "0 6 * * *"
    assert SCHEDULE.execution_timezone == "Asia/Shanghai"
    assert SCHEDULE.default_status.value == "STOPPED" and SENSOR.default_status.value == "STOPPED"
    enabled = lambda kind: Deployment.from_environment().automation.enabled(kind)  # noqa: E731
    monkeypatch.setenv("TAOBAO_OPS_AUTOMATION", "sensor")
    assert enabled("sensor") and not enabled("schedule")
    monkeypatch.setenv("TAOBAO_OPS_AUTOMATION", "ON")
    assert enabled("sensor") and enabled("schedule")
    monkeypatch.setenv("TAOBAO_OPS_AUTOMATION", "sometimes")
    with pytest.raises(ValueError, match="TAOBAO_OPS_AUTOMATION must be"):
        enabled("sensor")


@pytest.mark.slow
def test_a_backfill_of_every_batch_is_one_run_and_a_rerun_needs_no_batch_dates(tiny):
    plan = plan_run(tiny.settings(), UNPARTITIONED)
    # tiny holds batches 2024-06-20 … 2024-07-31
    assert plan.arguments == {"tags": {RANGE_START_TAG: "2024-06-20", RANGE_END_TAG: "2024-07-31"}}
    instance = DagsterInstance.ephemeral()
    result = tiny.run(instance=instance)
    assert result.success
    # one run covering every batch date
    assert (result.dagster_run.tags[RANGE_START_TAG], result.dagster_run.tags[RANGE_END_TAG]) == ("2024-06-20", "2024-07-31")
    materialized = instance.get_materialized_partitions(result.asset_materializations_for_node("raw__orders")[0].asset_key)
    assert {"2024-06-20", "2024-07-01", "2024-07-15", "2024-07-31"} <= materialized
    # nothing new since it published: no run at all
    again = plan_run(tiny.settings(), UNPARTITIONED)
    assert (again.label, again.arguments, again.current.run_id) == ("nothing new", {}, result.run_id)
    assert tiny.run() is None


def keys(selection) -> set[str]:
    return {k.to_user_string() for k in selection}


@pytest.mark.slow
def test_a_run_after_a_publication_materializes_only_what_the_new_files_feed(tiny):
    from pipelines.definitions import fed_by

    assert tiny.run().success
    plan = lambda: plan_run(tiny.settings(), UNPARTITIONED, downstream=fed_by)  # noqa: E731
    tiny.drop("orders/orders_2024-08-01.csv", order_file("2024-08-01"))
    daily = plan()
    assert daily.arguments["tags"] == {RANGE_START_TAG: "2024-08-01", RANGE_END_TAG: "2024-08-01"}
    selected = keys(daily.arguments["asset_selection"])
    assert {"raw/orders", "staging/orders", "staging/paid_orders", "marts/quarterly_shop_kpis", "publish/warehouse"} <= selected
    # what orders do not feed is left alone
    assert not selected & {"raw/traffic", "raw/courier", "raw/shops", "staging/traffic", "staging/targets", "staging/shops"}
    result = tiny.run()
    assert result.success
    stepped = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert "raw__orders" in stepped and "raw__traffic" not in stepped and "staging__traffic" not in stepped
    assert tiny.query("select count(*) from staging.orders where order_id = 'n1'") == [(1,)]
    assert plan().current.run_id == result.run_id

    # a reference file alone: its raw asset and what reads it, no batch dates
    tiny.drop("reference/shops.csv", "alias,shop_id\nA2,A\n")
    shops = plan()
    assert "tags" not in shops.arguments
    assert {"raw/shops", "staging/shops", "staging/orders", "staging/traffic"} <= keys(shops.arguments["asset_selection"])
    assert "raw/orders" not in keys(shops.arguments["asset_selection"])


@pytest.mark.slow
def test_a_run_that_loaded_and_did_not_publish_is_followed_by_a_whole_refresh(tiny):
    from dagster import AssetKey
    from dagster_duckdb import DuckDBResource

    from pipelines.definitions import build_defs, fed_by

    assert tiny.run().success
    tiny.drop("orders/orders_2024-08-01.csv", order_file("2024-08-01"))
    # a run that stops after loading (as one whose check fails does)
    defs_ = build_defs(tiny.settings(), DuckDBResource(database=str(tiny.state / "pipeline.duckdb")))
    partial = defs_.resolve_job_def("pipeline").execute_in_process(
        instance=DagsterInstance.ephemeral(), partition_key="2024-08-01", asset_selection=[AssetKey(["raw", "orders"])],
    )
    assert partial.success
    after = plan_run(tiny.settings(), UNPARTITIONED, downstream=fed_by)
    # nothing left to load, but staging and the warehouse lag behind the lake: everything runs
    assert after.current is None
    assert after.arguments == {"asset_selection": list(UNPARTITIONED)}
    assert tiny.run().success
    assert tiny.query("select count(*) from staging.orders where order_id = 'n1'") == [(1,)]
    assert tiny.run() is None


@pytest.mark.slow
@pytest.mark.parametrize("change", ["settings", "warehouse"])
def test_the_publication_is_not_current_after_new_settings_or_a_touched_warehouse(tiny, change):
    assert tiny.run().success
    overrides = {}
    if change == "settings":
        overrides = {"fiscal_year_start_month": 4}
    else:
        tiny.warehouse.unlink()
    plan = plan_run(tiny.settings(**overrides), UNPARTITIONED)
    assert plan.current is None and plan.label == "no new batch dates"


def test_undated_file_is_taken_up_by_the_latest_batch_date(empty, today):
    today(dt.date(2025, 1, 15))
    empty.drop("orders/orders_undated.csv", "order_id\n1\n")
    assert requested(tick(empty)) == [("2025-01-15", None, None, None)]


@pytest.mark.slow
def test_an_undated_file_does_not_stretch_a_run_to_today(built):
    """It is quarantined by whichever run looks at the raw orders; it must not turn a run of one
    batch date into two years of partitions (it did: undated counted as today's batch)."""
    cursor = tick(built).cursor
    built.drop("orders/orders_2024-11-20.csv", order_file("2024-11-20"))
    built.drop("orders/orders_undated.csv", "order_id\n1\n")
    plan = plan_run(built.settings(), UNPARTITIONED)
    assert plan.arguments == {"tags": {RANGE_START_TAG: "2024-11-20", RANGE_END_TAG: "2024-11-20"}}
    assert requested(tick(built, cursor)) == [("2024-11-20", None, None, None)]
    result = built.run()
    assert not result.success  # the undated file fails the run, naming it
    with duckdb.connect(str(built.state / "pipeline.duckdb"), read_only=True) as con:
        assert con.execute(
            "select file_name, outcome from audit.loads where run_id = ? and source = 'orders' order by 1",
            [result.run_id],
        ).fetchall() == [("orders_2024-11-20.csv", "loaded"), ("orders_undated.csv", "failed")]


def test_the_documented_settings_switch_both_on_and_move_the_schedule(tmp_path):
    """Read when the definitions load, as the daemon and the webserver load them."""
    import subprocess
    import sys

    code = (
        "from pipelines.definitions import defs\n"
        "s, n = defs.resolve_schedule_def('daily'), defs.resolve_sensor_def('new_raw_files')\n"
        "print(s.default_status.value, n.default_status.value, s.cron_schedule, s.execution_timezone)\n"
    )
    env = {
        **os.environ, "DAGSTER_HOME": str(tmp_path), "TAOBAO_OPS_AUTOMATION": "on",
        "TAOBAO_OPS_SCHEDULE": "30 7 * * *", "TAOBAO_OPS_SCHEDULE_TIMEZONE": "Asia/Hong_Kong",
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["RUNNING", "RUNNING", "30", "7", "*", "*", "*", "Asia/Hong_Kong"]


def test_a_run_reaching_the_latest_date_takes_later_files_even_across_midnight(today):
    from dagster import PartitionKeyRange

    from assets.partitions import covers

    name = lambda d: f"orders_{d:%Y-%m-%d}.csv"  # noqa: E731
    # asked for at 23:59 on 03-09 as "up to today", run at 00:01 on 03-10 when that day is yesterday
    today(dt.date(2025, 3, 10))
    assert covers(PartitionKeyRange("2025-03-09", "2025-03-09"), name(dt.date(2025, 3, 12)))
    assert not covers(PartitionKeyRange("2025-03-08", "2025-03-08"), name(dt.date(2025, 3, 12)))
    assert covers(PartitionKeyRange("2024-07-01", "2024-07-31"), name(dt.date(2024, 7, 15)))
    assert not covers(PartitionKeyRange("2024-07-01", "2024-07-31"), name(dt.date(2024, 8, 1)))
    assert covers(PartitionKeyRange("2024-07-01", "2024-07-31"), "orders_undated.csv")


@pytest.mark.slow
def test_one_bound_given_the_other_follows_the_files_and_never_errs(built):
    built.drop("orders/orders_2024-08-01.csv", order_file("2024-08-01"))
    settings = built.settings()
    plan = lambda first=None, last=None: plan_run(  # noqa: E731
        settings, UNPARTITIONED, first and dt.date.fromisoformat(first), last and dt.date.fromisoformat(last)
    ).arguments["tags"]
    assert plan() == {RANGE_START_TAG: "2024-08-01", RANGE_END_TAG: "2024-08-01"}
    assert plan(first="2024-07-20") == {RANGE_START_TAG: "2024-07-20", RANGE_END_TAG: "2024-08-01"}
    # every file not loaded yet is before --from: the run is that one day, not an error
    assert plan(first="2024-09-10") == {RANGE_START_TAG: "2024-09-10", RANGE_END_TAG: "2024-09-10"}
    assert plan(last="2024-06-01") == {RANGE_START_TAG: "2024-06-01", RANGE_END_TAG: "2024-06-01"}
    with pytest.raises(ValueError, match="is after the last"):
        plan(first="2024-09-10", last="2024-09-01")


def test_a_run_hashes_only_the_files_that_changed_since_the_last_scan(tiny, monkeypatch):
    from pipelines import batches

    hashed = []
    real = batches.sha256
    monkeypatch.setattr(batches, "sha256", lambda path: hashed.append(path.name) or real(path))
    first = batches.scan_known(tiny.settings())
    assert len(hashed) == len(first) > 1  # the first scan (of this cache) hashes every file

    hashed.clear()
    assert batches.scan_known(tiny.settings()) == first and hashed == []

    # other bytes of the same size, the mtime put back (cp -p): its ctime moved, so it is hashed again
    path = tiny.raw / "orders" / "orders_2024-07-01.csv"
    data = path.read_bytes()
    changed = data.replace(b"2024-07-01", b"2024-07-02", 1)
    assert changed != data and len(changed) == len(data)
    rewrite_keeping_mtime(path, changed)
    hashed.clear()
    again = batches.scan_known(tiny.settings())
    assert hashed == ["orders_2024-07-01.csv"]
    assert [s for s in again if s.sha256 != dict((f.key, f.sha256) for f in first)[s.key]][0].name == hashed[0]


@pytest.mark.parametrize("now", ["2025-03-10T23:59:59", "2025-03-11T00:00:01"])
def test_the_first_and_last_batch_dates_are_dagsters_own(today, now):
    # computed directly (a run clamps every file name to them), they must be the partitions' keys,
    # on either side of midnight in China: both read at the same instant
    from zoneinfo import ZoneInfo

    from dagster import partition_loading_context

    from assets.partitions import BATCH_DATES, TIMEZONE, clamp, first_key, last_key

    instant = dt.datetime.fromisoformat(now).replace(tzinfo=ZoneInfo(TIMEZONE))
    today(instant.date())
    with partition_loading_context(instant):
        dagsters = (BATCH_DATES.get_first_partition_key(), BATCH_DATES.get_last_partition_key())
    assert (first_key(), last_key()) == dagsters == ("2024-01-01", now[:10])
    assert clamp("2023-06-30") == dagsters[0]
    assert clamp("2999-01-01") == dagsters[1]
