"""The Dagster code location loads, and its shape is pinned so an accidental change shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from pipelines.definitions import defs

PROJECT = Path(__file__).resolve().parents[1]
MARTS = (
    "quarterly_shop_kpis", "quarterly_channel_kpis", "monthly_target_tracking", "quarterly_campaign_kpis",
    "quarterly_courier_kpis", "quarterly_courier_service", "quarterly_region_kpis", "quarterly_category_kpis",
    "quarterly_funnel",
)


def test_definitions_validate_with_the_dagster_cli(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "pipelines.definitions"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_asset_graph_layers_and_lineage():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    sources = ("orders", "traffic", "courier", "events", "targets", "channels", "couriers", "campaigns", "shops")
    assert keys == {
        *(f"raw/{s}" for s in sources),
        *(f"staging/{t}" for t in ("orders", "traffic", "courier", "targets", "channels", "couriers",
                                    "campaigns", "shops", "courier_names", "paid_orders", "courier_days",
                                    "event_days")),
        "audit/unmapped_values",
        *(f"marts/{m}" for m in MARTS),
        "publish/warehouse",
        "report/quarterly_report",
    }
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name == key.path[0], key
        assert node.description, key
        assert node.kinds, key
    parents = {p.to_user_string() for p in graph.get(AssetKey(["marts", "quarterly_shop_kpis"])).parent_keys}
    assert parents == {"staging/paid_orders", "staging/traffic", "staging/targets"}
    parents = {p.to_user_string() for p in graph.get(AssetKey(["staging", "orders"])).parent_keys}
    assert parents == {"raw/orders", "staging/shops", "staging/channels", "staging/courier_names"}
    parents = {p.to_user_string() for p in graph.get(AssetKey(["marts", "quarterly_funnel"])).parent_keys}
    assert parents == {"staging/event_days"}
    parents = {p.to_user_string() for p in graph.get(AssetKey(["staging", "traffic"])).parent_keys}
    assert parents == {"raw/traffic", "staging/shops", "staging/channels", "staging/event_days"}
    publish_parents = {p.to_user_string() for p in graph.get(AssetKey(["publish", "warehouse"])).parent_keys}
    assert publish_parents == {*(f"marts/{m}" for m in MARTS), "audit/unmapped_values"}
    report_parents = {p.to_user_string() for p in graph.get(AssetKey(["report", "quarterly_report"])).parent_keys}
    assert report_parents == {"publish/warehouse"}


def test_checks_are_attached_and_blocking():
    from assets.lib.tables import MARTS as MART_TABLES

    graph = defs.resolve_asset_graph()
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert checks == {
        ("raw/orders", "orders_batch_expectations"),
        ("raw/traffic", "traffic_batch_expectations"),
        ("raw/courier", "courier_batch_expectations"),
        ("raw/events", "events_batch_expectations"),
        ("staging/orders", "staging_orders_expectations"),
        ("marts/quarterly_shop_kpis", "quarterly_shop_kpis_expectations"),
        ("marts/quarterly_channel_kpis", "channel_uv_shares_sum_to_one"),
        ("marts/quarterly_courier_kpis", "courier_totals_reconcile"),
        ("marts/quarterly_funnel", "quarterly_funnel_expectations"),
        ("publish/warehouse", "all_files_readable"),
    } | {(f"marts/{mart}", f"{mart}_key") for mart in MART_TABLES}
    assert len(MART_TABLES) == len(MARTS) == 9  # every mart has its key check
    for key in graph.asset_check_keys:
        assert graph.get_check_spec(key).blocking, key


def test_settings_come_from_the_environment_not_the_ui():
    settings = defs.resources["settings"]
    # the secret is referenced by name, so the Dagster UI never shows its value
    assert "TAOBAO_OPS_PII_KEY" in repr(settings.pii_key)


def test_the_glossary_page_matches_the_code():
    from assets.lib.glossary import markdown

    assert (PROJECT / "docs" / "metrics.md").read_text(encoding="utf-8") == markdown(), (
        "docs/metrics.md is stale: run `taobao-ops glossary --out docs/metrics.md`"
    )


def test_the_quality_page_counts_the_expectations_of_each_suite():
    import re

    import great_expectations as gx

    from assets.lib.expectations import SUITES

    page = (PROJECT / "docs" / "quality.md").read_text(encoding="utf-8")
    documented = {m[0]: int(m[1]) for m in re.findall(r"^\| `(\w+)` \|.*\| (\d+) \|$", page, re.MULTILINE)}
    assert documented == {name: len(build(gx)) for name, build in SUITES.items()}


def test_loading_the_definitions_does_not_import_great_expectations():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, pipelines.definitions; print('great_expectations' in sys.modules)"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )
    assert done.stdout.strip() == "False", done.stderr


def test_dated_sources_are_partitioned_by_batch_date_and_backfill_in_one_run():
    from dagster import BackfillPolicy

    graph = defs.resolve_asset_graph()
    partitioned = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).partitions_def}
    assert partitioned == {"raw/orders", "raw/traffic", "raw/courier", "raw/events", "report/quarterly_report"}
    partitioned -= {"report/quarterly_report"}  # by quarter, in its own job
    for key in partitioned:
        node = graph.get(AssetKey.from_user_string(key))
        assert node.partitions_def.get_first_partition_key() == "2024-01-01"
        assert node.partitions_def.timezone == "Asia/Shanghai"
        assert node.backfill_policy == BackfillPolicy.single_run()


def test_schedule_and_sensor_target_the_pipeline():
    assert [s.name for s in defs.schedules] == ["daily"]
    assert [s.name for s in defs.sensors] == ["new_raw_files"]
    assert defs.resolve_schedule_def("daily").job_name == "pipeline"
    assert defs.resolve_sensor_def("new_raw_files").job_name == "pipeline"


def test_comments_already_in_place_are_not_written_again(tmp_path):
    # A comment changes the table's catalog entry, and the next checkpoint then rewrites the metadata
    # of the table (0.65 s at publish with 10 M orders): a second pass with nothing to change must
    # write nothing, so nothing reaches the write-ahead log.
    import duckdb

    from assets.lib.glossary import COLUMNS, apply_comments, comment_text

    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.quarterly_shop_kpis (quarter varchar, gmv decimal(18, 2), extra int)")
    assert apply_comments(con, "marts", "quarterly_shop_kpis") == ["extra"]
    con.execute("checkpoint")
    wal = tmp_path / "w.duckdb.wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert apply_comments(con, "marts", "quarterly_shop_kpis") == ["extra"]
    assert not wal.exists() or wal.stat().st_size == 0
    assert con.execute(
        "select comment from duckdb_columns() where table_name = 'quarterly_shop_kpis' and column_name = 'gmv'"
    ).fetchone() == (comment_text(*COLUMNS["gmv"]),)
    con.execute("comment on column marts.quarterly_shop_kpis.gmv is 'stale'")
    apply_comments(con, "marts", "quarterly_shop_kpis")
    assert con.execute(
        "select comment from duckdb_columns() where table_name = 'quarterly_shop_kpis' and column_name = 'gmv'"
    ).fetchone() == (comment_text(*COLUMNS["gmv"]),)
