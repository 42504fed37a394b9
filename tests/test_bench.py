"""The benchmark's comparison scripts compute exactly the pipeline's quarterly_shop_kpis, and its
equality gate catches a difference of one cent, one rate or one row."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import polars as pl
import pytest

from conftest import Deployment
from pipelines.sample import SampleSpec, write_sample

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import compare  # noqa: E402
import events as event_log  # noqa: E402
import floor_duckdb  # noqa: E402
import pandas_kpis  # noqa: E402
import render  # noqa: E402

# Two quarters of orders, a history of traffic and courier files before them, every shop canonical.
WORKLOAD = SampleSpec(
    seed=3, start=dt.date(2024, 9, 20), days=20, orders_per_day=6, shops=3, history_days=12,
    couriers=10, regions=9, seller_centre_shop=False,
)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("bench"))
    write_sample(WORKLOAD, deployment.raw)
    assert deployment.run().success
    return deployment


@pytest.mark.slow
def test_the_workload_options_shape_the_files(published):
    couriers = pl.read_csv(sorted((published.raw / "courier").glob("express_volume_*.csv"))[0])
    assert couriers["快递公司"].n_unique() == 10 and couriers["区域"].n_unique() == 9
    traffic = sorted(p.name for p in (published.raw / "traffic").iterdir())
    assert traffic[0] == "traffic_shop01_2024-09-14.csv"  # 12 days of history before 09-20, weekly files
    assert not list((published.raw / "orders").glob("ExportOrderList*"))  # no seller-centre GBK shop


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "args"), [(floor_duckdb, ()), (floor_duckdb, ("256MB",)), (pandas_kpis, ())],
    ids=["floor", "floor within a memory limit", "pandas"],
)
def test_comparison_scripts_compute_the_published_shop_kpis(published, script, args, tmp_path):
    script.main(published.raw, tmp_path / "kpis.parquet", *args)
    expected = compare.published_kpis(published.warehouse)
    assert sorted(expected["quarter"].unique()) == ["2024Q3", "2024Q4"]
    assert compare.differences(expected, compare.read(tmp_path / "kpis.parquet")) == []


@pytest.mark.slow
def test_the_equality_gate_sees_a_cent_a_rate_and_a_row(published):
    expected = compare.published_kpis(published.warehouse)
    first = (pl.col("quarter") == expected["quarter"][0]) & (pl.col("shop_id") == expected["shop_id"][0])
    cent = expected.with_columns(gmv=pl.when(first).then(pl.col("gmv").cast(pl.Float64) + 0.01).otherwise(pl.col("gmv")))
    rate = expected.with_columns(conversion_rate=pl.when(first).then(pl.col("conversion_rate") * (1 + 1e-6)).otherwise(pl.col("conversion_rate")))
    assert compare.differences(expected, expected) == []
    assert any(d.startswith("gmv at") for d in compare.differences(expected, cent))
    assert any(d.startswith("conversion_rate at") for d in compare.differences(expected, rate))
    assert compare.differences(expected, expected.filter(~first))[0].startswith("rows differ")
    with pytest.raises(AssertionError, match="does not compute"):
        compare.assert_same(expected, cent, "a script")


def test_the_engines_gate_wants_every_mart_equal_value_for_value():
    # bench/spark.py's gate between DuckDB's and Spark's marts, on hand-made tables: the same rows in
    # another order pass, a double within 1e-9 relative passes; a cent, a double beyond 1e-9, a
    # count, a type, a row or a whole table more or less each fail.
    from decimal import Decimal

    kpis = pl.DataFrame(
        {"quarter": ["2024Q4", "2024Q4"], "shop_id": ["s1", "s2"], "gmv": [Decimal("10.05"), Decimal("7.00")],
         "orders": [3, 2], "rate": [1 / 3, None]},
        schema_overrides={"gmv": pl.Decimal(18, 2)},
    )
    ours = {"quarterly_shop_kpis": kpis, "empty": kpis.clear()}

    def theirs(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
        return {**ours, "quarterly_shop_kpis": frame}

    def first(column: str, value) -> pl.DataFrame:
        return kpis.with_columns(pl.when(pl.col("shop_id") == "s1").then(value).otherwise(pl.col(column)).alias(column))

    assert compare.tables_differences(ours, theirs(kpis.reverse())) == []
    assert compare.tables_differences(ours, theirs(first("rate", pl.col("rate") * (1 + 1e-10)))) == []
    cent = compare.tables_differences(ours, theirs(first("gmv", pl.lit(Decimal("10.06")).cast(pl.Decimal(18, 2)))))
    assert cent == ["quarterly_shop_kpis: gmv in row 0 of 2 (sorted): expected 10.05, got 10.06"]
    assert compare.tables_differences(ours, theirs(first("rate", pl.col("rate") * (1 + 1e-8))))[0].startswith(
        "quarterly_shop_kpis: rate in row 0")
    assert compare.tables_differences(ours, theirs(first("rate", pl.lit(None, pl.Float64))))[0].startswith(
        "quarterly_shop_kpis: rate in row 0")
    assert compare.tables_differences(ours, theirs(first("orders", pl.lit(4))))[0].startswith("quarterly_shop_kpis: orders in row 0")
    assert compare.tables_differences(ours, theirs(kpis.with_columns(pl.col("gmv").cast(pl.Float64))))[0].startswith(
        "quarterly_shop_kpis: columns differ")
    assert compare.tables_differences(ours, theirs(kpis.head(1))) == ["quarterly_shop_kpis: 2 rows expected, got 1"]
    assert compare.tables_differences(ours, {"quarterly_shop_kpis": kpis}) == ["empty: only in the expected tables"]


@pytest.mark.slow
def test_one_file_a_day_holds_the_same_orders_in_a_file_per_day(published, tmp_path):
    import run as bench_run

    raw = bench_run.one_file_a_day(published.raw, tmp_path / "wide")
    days = sorted(p.name for p in (raw / "orders").iterdir())
    assert days[0] == "orders_all_2024-09-20.csv" and len(days) == 20  # WORKLOAD: 20 days, 3 shops each
    floor_duckdb.main(raw, tmp_path / "kpis.parquet")
    assert compare.differences(compare.published_kpis(published.warehouse), compare.read(tmp_path / "kpis.parquet")) == []
    assert sorted(p.name for p in (raw / "traffic").iterdir()) == sorted(p.name for p in (published.raw / "traffic").iterdir())


@pytest.mark.slow
def test_the_bounds_measure_every_part_and_leave_the_working_database_alone(published, tmp_path):
    import hashlib

    import bounds
    from click.testing import CliRunner

    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "raw").symlink_to(published.raw)
    (tmp_path / "full" / "state").symlink_to(published.state)
    database = published.state / "pipeline.duckdb"
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    done = CliRunner().invoke(bounds.main, ["--work", str(tmp_path), "--repeat", "3"])
    assert done.exit_code == 0, done.output
    table = [line for line in done.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(table) == 10
    for line in table:
        # a part of a tiny fixture may take less than the table's last digit: the median is checked,
        # not the size of a time
        name, median, runs = (cell.strip() for cell in line.strip("|").split("|"))
        seconds = sorted(runs.split(", "), key=float)
        assert len(seconds) == 3 and median == seconds[1] and float(seconds[0]) >= 0, line
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    missing = CliRunner().invoke(bounds.main, ["--work", str(tmp_path / "nothing")])
    assert missing.exit_code != 0 and "run `make bench` first" in missing.output


def test_a_relative_work_folder_is_made_absolute(tmp_path, monkeypatch):
    # the fresh-clone figures run commands inside the clone (cwd), so a relative --work folder
    # would name a path that does not exist from there
    import run as bench_run

    monkeypatch.chdir(tmp_path)
    ctx = bench_run.main.make_context("run.py", ["--work", "out1m"])
    assert ctx.params["work"] == tmp_path / "out1m"


def test_peak_memory_counts_a_child_process_beside_its_parent(tmp_path):
    # A run with the GX worker is two processes at once: wait4's peak is the larger one alone, the
    # measured peak their sum. Parent and child each hold 200 MiB, together for a second.
    import run

    hold = "b = bytearray(200 * 2**20); b[::4096] = bytes(len(b[::4096])); "
    child = tmp_path / "child.py"
    child.write_text(hold.replace("bytes(", "b'\\x01' * (") + "import time; time.sleep(1.5)\n")
    parent = tmp_path / "parent.py"
    parent.write_text(hold.replace("bytes(", "b'\\x01' * (") + f"import subprocess, sys; subprocess.run([sys.executable, {str(child)!r}])\n")
    sample = run.measure([sys.executable, str(parent)])
    assert sample.peak_rss >= 390 * 2**20


def test_cpu_time_counts_a_child_its_parent_never_waits_for(tmp_path):
    # Spark's JVM is such a child: the run exits without waiting for it, so wait4 never reports its
    # CPU time; the sampled tree does. The child spends 0.5 s of CPU (not wall) time, says so, and
    # lives on while the parent leaves without waiting.
    import run

    done = tmp_path / "spent"
    child = tmp_path / "child.py"
    child.write_text(f"import time, pathlib\nwhile time.process_time() < 0.5: pass\npathlib.Path({str(done)!r}).touch()\n"
                     "time.sleep(2)\n")
    parent = tmp_path / "parent.py"
    parent.write_text(f"import os, pathlib, subprocess, sys, time\nsubprocess.Popen([sys.executable, {str(child)!r}])\n"
                      f"while not pathlib.Path({str(done)!r}).exists(): time.sleep(0.05)\ntime.sleep(0.5)\nos._exit(0)\n")
    assert run.measure([sys.executable, str(parent)]).cpu_seconds >= 0.45  # /proc counts in ticks of 10 ms


def test_the_benchmarks_page_is_rendered_from_the_results(monkeypatch, tmp_path):
    # A hand-made report: one target met of two, a measure with no memory figure, numbers to group
    # and to round; without notes the page ends after the stage table's paragraph.
    report = {
        "command": "make bench ORDERS=1000000", "date": "2026-12-05", "elapsed": 1805.0, "repeat": 3,
        "history_orders": 25000,
        "machine": {"cores": "2", "cpu": "AMD EPYC", "memory": "23.54 GiB", "python": "3.11.7", "versions": "duckdb 2.0.1"},
        "workload": {"orders": 1234567, "order_rows": 3000000, "files": 3008, "bytes_on_disk": 4955866221},
        "targets": [
            {"name": "1. a", "wanted": "≤ 3×", "measured": "4.9×", "met": False},
            {"name": "5. b", "wanted": "≤ 3 s", "measured": "0.38 s", "met": True},
        ],
        "measures": [
            {"name": "full rebuild", "seconds": 158.04, "peak_rss": 3 * 2**29, "samples": [171.774, 158.04, 157]},
            {"name": "GBK export, loaded", "seconds": 23.5, "peak_rss": 0, "samples": [23.5]},
        ],
        "breakdown": {"parse/clean": 54.73, "Dagster overhead": 6.06},
    }
    monkeypatch.setattr(render, "HERE", tmp_path)  # a folder without notes.md
    (tmp_path / "templates").symlink_to(BENCH / "templates")
    page = render.markdown(report)
    lines = page.split("\n")
    assert lines[4] == "Produced by `make bench ORDERS=1000000` on 2026-12-05, in 30 minutes."
    assert "1,234,567 orders of 20 shops" in lines[7] and "3,000,000 rows" in lines[7]
    assert "3,008 files, 4.96 GB of canonical" in lines[7] and "the median of 3 runs" in lines[8]
    assert "(25,000 orders a quarter)" in page
    assert lines[10:16] == [
        "## Targets: 1 of 2 met", "", "| target | wanted | measured | met |", "| --- | --- | --- | --- |",
        "| 1. a | ≤ 3× | 4.9× | **not yet** |", "| 5. b | ≤ 3 s | 0.38 s | yes |",
    ]
    assert lines[17:23] == [
        "## Measurements", "", "| what | median | peak RSS | runs (s) |", "| --- | ---: | ---: | --- |",
        "| full rebuild | 158.04 s | 1.50 GiB | 171.77, 158.04, 157.00 |", "| GBK export, loaded | 23.50 s | – | 23.50 |",
    ]
    stages = lines.index("## Where the full rebuild's time goes")
    assert lines[stages + 2:stages + 6] == [
        "| stage | seconds (median) |", "| --- | ---: |", "| parse/clean | 54.7 |", "| Dagster overhead | 6.1 |",
    ]
    assert page.endswith("(interpreter and imports, planning, event storage).\n")
    (tmp_path / "notes.md").write_text("\n## Reading the results\n\nBy hand.\n\n", encoding="utf-8")
    assert render.markdown(report) == page + "\n\n## Reading the results\n\nBy hand.\n"


# The behaviour events (issue #16): the generated log and the floor's funnel.

CHINA = dt.timezone(dt.timedelta(hours=8))


def china(*moment: int) -> int:
    """Unix seconds of a moment written in China time (year, month, day[, hour, minute, second])."""
    return int(dt.datetime(*moment, tzinfo=CHINA).timestamp())


def python_funnel(path: Path, batch: dt.date, shop: str) -> dict[str, dict]:
    """quarterly_funnel of one log by the csv module and sets: the floor's independent reference."""
    import csv
    from collections import defaultdict

    quarters: dict[str, dict] = defaultdict(lambda: {"pv": 0, "users": set(), "cart": set(), "fav": set(), "buy": defaultdict(set)})
    with path.open(newline="") as fh:
        for user, _item, _category, behavior, ts in csv.reader(fh):
            day = dt.datetime.fromtimestamp(int(ts), CHINA).date()
            if not batch - dt.timedelta(days=31) <= day <= batch:
                continue
            q = quarters[f"{day.year}Q{(day.month - 1) // 3 + 1}"]
            q["users"].add(user)
            if behavior == "pv":
                q["pv"] += 1
            elif behavior == "buy":
                q["buy"][user].add(day)
            else:
                q[behavior].add(user)
    return {
        quarter: {
            "quarter": quarter, "shop_id": shop, "pv": q["pv"], "uv": len(q["users"]), "cart_users": len(q["cart"]),
            "fav_users": len(q["fav"]), "buyers": len(q["buy"]), "conversion_rate": len(q["buy"]) / len(q["users"]),
            "repeat_buyers": sum(len(days) >= 2 for days in q["buy"].values()),
            "repurchase_rate": sum(len(days) >= 2 for days in q["buy"].values()) / len(q["buy"]) if q["buy"] else None,
        }
        for quarter, q in quarters.items()
    }


def floor_funnel(file: Path, tmp_path: Path) -> dict[str, dict]:
    event_log.floor(file, tmp_path / "funnel.parquet", "256MB")
    return {row["quarter"]: row for row in compare.read(tmp_path / "funnel.parquet").to_dicts()}


def test_the_event_generator_is_deterministic_and_streams_whole_users_in_time_order(tmp_path, monkeypatch):
    monkeypatch.setattr(event_log, "CHUNK_ROWS", 500)  # 2,000 events of 20 users: several chunks
    first, again, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    event_log.write_events(first, 2_000, seed=4)
    event_log.write_events(again, 2_000, seed=4)
    event_log.write_events(other, 2_000, seed=5)
    assert first.read_bytes() == again.read_bytes() != other.read_bytes()
    rows = [line.split(",") for line in first.read_text().splitlines()]
    assert len(rows) == 2_000 and all(len(r) == 5 for r in rows)  # no header, five columns
    keys = [(int(r[0]), int(r[4])) for r in rows]
    assert keys == sorted(keys) and len({k[0] for k in keys}) == 20  # by user, then time
    assert {r[3] for r in rows} == {"pv", "cart", "fav", "buy"}
    days = {dt.datetime.fromtimestamp(k[1], CHINA).date() for k in keys}
    assert min(days) >= dt.date(2017, 11, 25) - dt.timedelta(days=40) and max(days) <= dt.date(2017, 12, 8)


def test_the_events_floor_counts_what_plain_python_counts_on_a_generated_log(tmp_path):
    log = tmp_path / "raw" / event_log.LOG
    log.parent.mkdir(parents=True)
    event_log.write_events(log, 2_000, seed=2)
    expected = python_funnel(log, dt.date(2017, 12, 3), "shop-1")
    assert list(expected) == ["2017Q4"] and expected["2017Q4"]["repeat_buyers"] > 0  # the test has teeth
    # a rate is one division of the same two counts on both sides: equal to the last bit
    assert floor_funnel(log, tmp_path) == expected


def test_the_events_floor_keeps_the_china_day_window_and_splits_quarters(tmp_path):
    # Batch 2018-01-10: China days 2017-12-10..2018-01-10 count, across 2017Q4 and 2018Q1.
    lines = [
        (1, "pv", china(2017, 12, 10)),  # the window's first second
        (1, "buy", china(2017, 12, 20, 12)), (1, "buy", china(2017, 12, 20, 18)),  # one day: not a repeat
        (1, "buy", china(2018, 1, 2, 7)),  # 2018-01-01 in UTC
        (1, "buy", china(2018, 1, 10, 23, 59, 59)),  # the window's last second: a repeat buyer in 2018Q1
        (2, "pv", china(2017, 12, 9, 23, 59, 59)),  # a second before the window: rejected
        (2, "cart", china(2018, 1, 11)),  # after the batch date: rejected
        (2, "fav", china(2018, 1, 5)), (2, "pv", china(2018, 1, 5, 1)), (2, "pv", china(2018, 1, 6)),
        (3, "buy", china(2017, 12, 31, 23, 59, 59)),
        (3, "buy", china(2018, 1, 1)),  # 2017-12-31 in UTC: a buyer in each quarter, a repeat in neither
        (4, "cart", china(2017, 12, 16, 0, 30)),
    ]
    log = tmp_path / "raw" / "events" / "shop-9" / "events_2018-01-10.csv"
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"{user},7,8,{behavior},{ts}\n" for user, behavior, ts in lines))
    assert floor_funnel(log, tmp_path) == {
        "2017Q4": {"quarter": "2017Q4", "shop_id": "shop-9", "pv": 1, "uv": 3, "cart_users": 1, "fav_users": 0,
                   "buyers": 2, "conversion_rate": 2 / 3, "repeat_buyers": 0, "repurchase_rate": 0.0},
        "2018Q1": {"quarter": "2018Q1", "shop_id": "shop-9", "pv": 2, "uv": 3, "cart_users": 0, "fav_users": 1,
                   "buyers": 2, "conversion_rate": 2 / 3, "repeat_buyers": 1, "repurchase_rate": 0.5},
    }
    assert python_funnel(log, dt.date(2018, 1, 10), "shop-9") == floor_funnel(log, tmp_path)


def test_the_committed_results_render_as_committed():
    docs = BENCH.parent / "docs"
    report = json.loads((docs / "benchmarks.json").read_text(encoding="utf-8"))
    # the committed page was printed by `bench/render.py`, whose print adds one line feed
    assert render.markdown(report) + "\n" == (docs / "benchmarks.md").read_text(encoding="utf-8")
    # without the events figures, the page has no events section (no error either)
    without = render.markdown({k: v for k, v in report.items() if k != "events"})
    assert "## Behaviour events" in render.markdown(report) and "## Behaviour events" not in without


def test_the_events_section_shows_the_throughput_the_funnel_and_an_error(monkeypatch, tmp_path):
    report = json.loads((BENCH.parent / "docs" / "benchmarks.json").read_text(encoding="utf-8"))
    report["events"] = {
        "events": 100_000_000, "seed": 1, "file": "events/shop-1/events_2017-12-03.csv", "bytes_on_disk": 3_664_241_630,
        "measures": [
            {"name": "floor (DuckDB within 1GB)", "seconds": 10.0, "peak_rss": 3 * 2**28, "samples": [10.0, 9.5, 11.25]},
            {"name": "whole path (taobao-ops run)", "seconds": 16.0, "peak_rss": 2**30, "samples": [16.0]},
        ],
        "funnel": [{"quarter": "2017Q4", "shop_id": "shop-1", "pv": 88998953, "uv": 999991, "cart_users": 880535,
                    "fav_users": 766505, "buyers": 724599, "conversion_rate": 0.724605521449693, "repeat_buyers": 468571,
                    "repurchase_rate": 0.6466624988441882}],
        "error": None, "events_per_second": 6_250_000.0, "floor_events_per_second": 10_000_000.0, "ratio": 1.6,
        "peak_rss": 2**30,
    }
    monkeypatch.setattr(render, "HERE", tmp_path)  # a folder without notes.md
    (tmp_path / "templates").symlink_to(BENCH / "templates")
    lines = render.markdown(report).split("\n")
    section = lines[lines.index("## Behaviour events"):]
    assert section[2].startswith("100,000,000 events in one log (`events/shop-1/events_2017-12-03.csv`, 3.66 GB of CSV)")
    assert section[4:8] == [
        "| what | median | peak RSS | events/s | runs (s) |", "| --- | ---: | ---: | ---: | --- |",
        "| floor (DuckDB within 1GB) | 10.00 s | 0.75 GiB | 10,000,000 | 10.00, 9.50, 11.25 |",
        "| whole path (taobao-ops run) | 16.00 s | 1.00 GiB | 6,250,000 | 16.00 |",
    ]
    assert section[9] == "The whole path: 6,250,000 events/s, 1.60× the floor's time, peak 1.00 GiB."
    assert "| 2017Q4 | shop-1 | 88,998,953 | 999,991 | 880,535 | 766,505 | 724,599 | 0.7246 | 468,571 | 0.6467 |" in section
    assert not any("Error" in line for line in section)
    report["events"]["error"] = "the published warehouse has no marts.quarterly_funnel"
    assert "**Error: the published warehouse has no marts.quarterly_funnel**" in render.markdown(report).split("\n")


def test_the_spark_section_shows_both_engines_side_by_side(monkeypatch, tmp_path):
    report = json.loads((BENCH.parent / "docs" / "benchmarks.json").read_text(encoding="utf-8"))
    engines = [("duckdb", 20.0, 12.5, 30.0, 2**30, [20.0, 21.25]), ("spark", 250.0, 230.0, 420.0, 3 * 2**30, [250.0, 260.0])]
    report["spark"] = {
        "command": "make bench-spark ORDERS=1000000 SPARK_REPEAT=2", "date": "2026-12-05", "repeat": 2,
        "master": "local[2]", "conf": "spark.driver.memory=6g", "machine": {"cores": "2"},
        "workload": {"orders": 1_020_232, "bytes_on_disk": 568_172_605}, "marts": {"a": 3, "b": 0},
        "engines": [{"engine": e, "seconds": s, "staging_marts": sm, "cpu_seconds": c, "peak_rss": p, "samples": r}
                    for e, s, sm, c, p, r in engines],
        "runs": [{"load_before": load} for load in (3.5, 4.25, 3.0, 5.0)], "error": None,
    }
    monkeypatch.setattr(render, "HERE", tmp_path)  # a folder without notes.md
    (tmp_path / "templates").symlink_to(BENCH / "templates")
    lines = render.markdown(report).split("\n")
    section = lines[lines.index("## Spark beside DuckDB"):]
    assert section[2].startswith("`make bench-spark ORDERS=1000000 SPARK_REPEAT=2` on 2026-12-05: the workload of `make bench` (`bench/workload.py`) at "
                                 "1,020,232 orders (0.57 GB of CSV)")
    assert "master `local[2]`, `TAOBAO_OPS_SPARK_CONF=\"spark.driver.memory=6g\"`" in section[2]
    assert "2 rounds of one run each" in section[2] and "the same 2 marts" in section[2]
    assert section[4:8] == [
        "| engine | full rebuild | staging + marts | everything else | CPU time | peak RSS | runs (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        "| duckdb | 20.0 s | 12.5 s | 7.5 s | 30.0 s | 1.00 GiB | 20.0, 21.2 |",
        "| spark | 250.0 s | 230.0 s | 20.0 s | 420.0 s | 3.00 GiB | 250.0, 260.0 |",
    ]
    assert section[9].startswith("Spark's full rebuild took 12.5× DuckDB's wall time and 14.0× its CPU time, its staging and marts 18.4×")
    assert section[9].endswith("before each run: 3.5, 4.2, 3.0, 5.0, on 2 cores shared with other work.")


@pytest.mark.slow
def test_the_events_bench_gates_on_the_published_funnel(tmp_path):
    # 20,000 events through the bench's own path (the generator's and the floor's processes, a fresh
    # deployment, taobao-ops run): equal; then a floor one pv off is reported, not passed over.
    import run as bench_run

    section = bench_run.events_bench(tmp_path, 20_000, repeat=1)
    assert section["error"] is None, section["error"]
    assert [m["name"] for m in section["measures"]] == [
        "generating the file (bench/events.py)", "floor (DuckDB within 1GB)", "whole path (taobao-ops run)"]
    assert section["funnel"][0]["quarter"] == "2017Q4" and sum(f["pv"] for f in section["funnel"]) > 15_000
    assert section["ratio"] > 0 and section["events_per_second"] == pytest.approx(20_000 / section["measures"][2]["seconds"])
    assert [t.met for t in bench_run.events_targets({**section, "error": "x"})] == [False, False]
    floor_file = tmp_path / "results" / "events-floor.parquet"
    compare.read(floor_file).with_columns(pv=pl.col("pv") + 1).write_parquet(floor_file)
    deployment = bench_run.Deployment(tmp_path / "events")
    error = bench_run.events_run(deployment, bench_run.Measure("whole path"), floor_file)
    assert error.startswith("the published quarterly_funnel differs from the floor's: pv at ('2017Q4', 'shop-1')"), error
    assert bench_run.events_bench(tmp_path, 20_000, repeat=1)["measures"][0]["name"] == "floor (DuckDB within 1GB)"  # cached
