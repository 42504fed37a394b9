"""The benchmark's comparison scripts compute exactly the pipeline's quarterly_shop_kpis, and its
equality gate catches a difference of one cent, one rate or one row."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import polars as pl
import pytest

from conftest import Deployment
from pipelines.sample import SampleSpec, write_sample

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import compare  # noqa: E402
import floor_duckdb  # noqa: E402
import pandas_kpis  # noqa: E402

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
