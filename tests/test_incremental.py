"""staging.orders and staging.paid_orders merge what is new instead of rebuilding from the whole lake,
and end up exactly where a rebuild from every file would."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from pipelines.sample import SampleSpec, write_sample
from tests.conftest import Deployment

SPEC = SampleSpec(seed=3, start=dt.date(2024, 9, 20), days=20, orders_per_day=6, shops=3)
LAST = [SPEC.start + dt.timedelta(days=SPEC.days - i) for i in (3, 2, 1)]  # 10-07, 10-08, 10-09
LATE = SPEC.start + dt.timedelta(days=8)  # 09-28: a batch that arrives after later ones
TABLES = ("staging.orders", "staging.paid_orders", "marts.quarterly_shop_kpis", "marts.quarterly_region_kpis")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    write_sample(SPEC, folder)
    return folder


def orders_of(folder: Path, day: dt.date) -> list[Path]:
    return sorted(p for p in (folder / "orders").iterdir() if f"{day:%Y-%m-%d}" in p.name or f"{day:%Y%m%d}" in p.name)


def copy(source: Path, target: Path, skip: set[Path] = frozenset()) -> None:
    for path in source.rglob("*"):
        if path.is_file() and path not in skip:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def builds(result) -> dict[str, str]:
    """staging table -> how this run built it (rebuild | merge | unchanged)."""
    out = {}
    for event in result.get_asset_materialization_events():
        key = event.asset_key.to_user_string()
        metadata = event.step_materialization_data.materialization.metadata
        if key in ("staging/orders", "staging/paid_orders"):
            out[key.split("/")[1]] = metadata["build"].value
    return out


def snapshot(deployment: Deployment) -> dict[str, list[tuple]]:
    return {t: deployment.query(f"select * from {t} order by all") for t in TABLES}  # noqa: S608 - constants


def test_merged_runs_end_where_a_rebuild_does(source, tmp_path):
    held = {day: orders_of(source, day) for day in [LATE, *LAST]}
    assert all(held.values())
    step = Deployment(tmp_path / "step")
    copy(source, step.raw, {p for files in held.values() for p in files})
    first = step.run()
    assert first.success and builds(first) == {"orders": "rebuild", "paid_orders": "rebuild"}

    # Day by day; the late 09-28 batch arrives with 10-08 and must lose to newer rows of its orders.
    for days in ([LAST[0]], [LAST[1], LATE], [LAST[2]]):
        for day in days:
            for path in held[day]:
                shutil.copy2(path, step.raw / "orders" / path.name)
        result = step.run()
        assert result.success and builds(result) == {"orders": "merge", "paid_orders": "merge"}

    nothing_new = step.run()
    assert nothing_new.success and builds(nothing_new) == {"orders": "unchanged", "paid_orders": "unchanged"}

    whole = Deployment(tmp_path / "whole")
    copy(source, whole.raw)
    assert whole.run().success
    merged, rebuilt = snapshot(step), snapshot(whole)
    for table in TABLES:
        assert merged[table] == rebuilt[table], table
    assert len(merged["staging.orders"]) == 278  # every order of the sample, once


def test_a_replaced_file_or_a_new_mapping_rebuilds(source, tmp_path):
    deployment = Deployment(tmp_path / "d")
    copy(source, deployment.raw)
    assert deployment.run().success

    # A corrected export of an old batch, one order fewer: rows of the old version must go.
    path = next(p for p in orders_of(deployment.raw, LATE) if p.name.startswith("orders_") and p.suffix == ".csv")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    replaced = deployment.run()
    assert replaced.success and builds(replaced) == {"orders": "rebuild", "paid_orders": "rebuild"}

    (deployment.raw / "reference" / "shops.csv").write_text(
        "alias,shop_id\n杭州小铺旗舰店,shop01\nshop02,shop02_renamed\n", encoding="utf-8"
    )
    remapped = deployment.run()
    assert remapped.success and builds(remapped) == {"orders": "rebuild", "paid_orders": "rebuild"}
    assert deployment.query("select count(*) from staging.paid_orders where shop_id = 'shop02'") == [(0,)]

    whole = Deployment(tmp_path / "whole")
    copy(deployment.raw, whole.raw)
    assert whole.run().success
    assert snapshot(deployment) == snapshot(whole)
