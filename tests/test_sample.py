"""The sample generator: deterministic, follows the contract, and reproduces the shipped sample."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl

from assets.lib.files import RawFile, discover, read_grid
from pipelines.sample import SampleSpec, write_sample

PROJECT = Path(__file__).resolve().parents[1]
SMALL = SampleSpec(seed=3, start=dt.date(2024, 9, 20), days=60, orders_per_day=4, shops=3)


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    write_sample(SMALL, tmp_path / "a")
    write_sample(SMALL, tmp_path / "b")
    write_sample(SampleSpec(**{**SMALL.__dict__, "seed": 4}), tmp_path / "c")
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert digests(tmp_path / "a") != digests(tmp_path / "c")


def test_shipped_sample_is_the_generators_default_output(tmp_path):
    write_sample(SampleSpec(), tmp_path)
    assert digests(tmp_path) == digests(PROJECT / "data" / "raw")


def test_sample_has_the_contracts_quirks(tmp_path):
    write_sample(SMALL, tmp_path)
    gbk = sorted((tmp_path / "orders").glob("ExportOrderList*.csv"))
    assert gbk, "the Taobao-style export is missing"
    raw = gbk[-1].read_bytes()
    text = raw.decode("gbk")
    assert raw != text.encode("utf-8")  # really GBK
    assert '="' in text and "元" in text and "订单编号" in text
    assert any(f.name.endswith(".csv.gz") for f in discover(tmp_path, "orders"))
    assert (tmp_path / "reference" / "targets.csv").exists() and (tmp_path / "reference" / "shops.csv").exists()
    # a courier week that straddles the quarter boundary (2024-09-30 / 10-01)
    weeks = [read_grid(f).rows for f in discover(tmp_path, "courier") if "debang" in f.name]
    periods = pl.concat(weeks).select(pl.col("c0"), pl.col("c1")).rows()
    assert ("2024-09-27", "2024-10-03") in periods


def test_orders_move_across_batches(tmp_path):
    write_sample(SMALL, tmp_path)
    frames = []
    for f in discover(tmp_path, "orders"):
        if f.name.startswith("orders_shop02"):
            grid = read_grid(RawFile("orders", f.path, f.name))
            frames.append(grid.rows.select(pl.col("c0").alias("order_id"), pl.col("c3").alias("status")))
    rows = pl.concat(frames)
    per_order = rows.group_by("order_id").agg(pl.col("status"))
    assert per_order.filter(pl.col("status").list.len() >= 2).height > 0.5 * per_order.height
    statuses = set(rows["status"])
    assert {"paid", "shipped", "completed", "refunded"} <= statuses
