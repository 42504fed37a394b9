"""The sample generator: deterministic, follows the contract, and reproduces the shipped sample."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from assets.lib.files import RawFile, discover, read_grid
from pipelines.cli import main
from pipelines.sample import SampleSpec, write_sample

PROJECT = Path(__file__).resolve().parents[1]
EVENT_COLUMNS = ("user_id", "item_id", "category_id", "behavior", "timestamp")
SMALL = SampleSpec(seed=3, start=dt.date(2024, 9, 20), days=60, orders_per_day=4, shops=3, events_per_day=30)


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
    # what `make sample` runs: the command's defaults
    assert CliRunner().invoke(main, ["sample", "--out", str(tmp_path)]).exit_code == 0
    assert digests(tmp_path) == digests(PROJECT / "data" / "raw")


def test_events_leave_every_other_file_as_it_was(tmp_path):
    write_sample(SMALL, tmp_path / "events")
    write_sample(SampleSpec(**{**SMALL.__dict__, "events_per_day": 0}), tmp_path / "none")
    with_events = digests(tmp_path / "events")
    assert not (tmp_path / "none" / "events").exists()
    assert {k: v for k, v in with_events.items() if not k.startswith("events/")} == digests(tmp_path / "none")
    # one log a week per shop, the last day of the week its batch date: 2024-09-20 + 7k - 1, and the
    # last week cut at the 60th day, 2024-11-18
    names = sorted(k for k in with_events if k.startswith("events/shop02/"))
    assert names[0] == "events/shop02/events_2024-09-26.csv" and names[-1] == "events/shop02/events_2024-11-18.csv"
    assert len(names) == 9


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


def test_events_come_in_every_accepted_format_as_the_tianchi_layout(tmp_path):
    write_sample(SMALL, tmp_path)
    logs = discover(tmp_path, "events")
    assert {f.suffix for f in logs} == {".csv", ".csv.gz", ".parquet"}
    assert {f.name.split("/")[0] for f in logs} == {"shop01", "shop02", "shop03"}
    plain = next(f for f in logs if f.suffix == ".csv")
    first = plain.path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert len(first) == 5 and all(first[i].isdigit() for i in (0, 1, 2, 4)) and first[3] in ("pv", "cart", "fav", "buy")
    frame = pl.concat(
        [pl.read_parquet(f.path) for f in logs if f.suffix == ".parquet"]
        + [pl.read_csv(f.path, has_header=False, new_columns=list(EVENT_COLUMNS)) for f in logs if f.suffix != ".parquet"]
    )
    assert frame.columns == list(EVENT_COLUMNS)
    # every event on a China day of the sample: 2024-09-20 00:00 +08:00 is 2024-09-19 16:00 UTC
    first_second = int(dt.datetime(2024, 9, 19, 16, tzinfo=dt.timezone.utc).timestamp())
    assert frame["timestamp"].min() >= first_second and frame["timestamp"].max() < first_second + 60 * 86400
    counts = frame["behavior"].value_counts().sort("count", descending=True)
    assert counts["behavior"].to_list() == ["pv", "cart", "fav", "buy"]
    assert counts["count"][0] > 10 * counts["count"][1]
