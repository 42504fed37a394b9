"""What a table reads is taken from its SQL (assets/lib/sql_lineage.py): the relations its files
name, less what they write, and the lakes and staging tables those stand for; derived at build time
into sql/lineage.json, which runs read. Expected values are read off the SQL files by hand."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey

from assets import lineage
from assets.lib import lineage_file, sql, sql_lineage
from assets.lib.incremental import COURIER_NAMES_SQL, ORDERS_SQL, PAID_SQL, Inputs, inputs_of, mart_sql
from assets.lib.lineage_file import LINEAGE_FILE, REGENERATE, StaleLineage, render
from assets.lib.sql_lineage import derive, reads
from conftest import FIXTURES

PROJECT = Path(__file__).resolve().parents[1]


def test_a_file_reads_the_relations_it_names_but_its_ctes_and_its_target():
    # staging/traffic: `create or replace table staging.traffic as with mapped ... latest ...
    # current_rows ... split_by_device ... final ... covered ... from_events` over lake_traffic,
    # staging.shops, staging.channels and the event logs' daily traffic
    assert reads(("staging/traffic",)) == {"lake_traffic", "staging.shops", "staging.channels", "staging.event_traffic"}


def test_the_temp_relations_a_build_writes_are_not_what_it_reads():
    # ORDERS_SQL: orders_current (a temp view over orders_source) -> staging.orders; a merge's
    # orders_new, orders_matches, orders_added and orders_replaced are written by earlier steps,
    # and staging.orders is the table itself.
    assert reads(ORDERS_SQL) == {"orders_source", "staging.shops", "staging.channels", "staging.courier_names"}


def test_a_table_macro_reads_the_relations_its_caller_names():
    # staging/paid_orders: `from paid_order_rows('staging.orders', 'staging.buyers', ...)`, whose
    # body (staging/paid_order_rows) reads query_table(orders) and query_table(buyers).
    names = ("staging/paid_order_rows", "staging/paid_orders")
    assert reads(names) == {"staging.orders", "staging.buyers"}
    # staging/buyer_quarters: buyer_quarter_rows('staging.paid_orders')
    assert reads(("staging/buyer_quarter_rows", "staging/buyer_quarters")) == {"staging.paid_orders"}
    # the macro's definition alone reads nothing: its parameters are not relations
    assert reads(("staging/paid_order_rows",)) == set()


def test_a_relation_bound_as_a_parameter_or_a_table_function_is_no_read():
    # staging/table_digest: `from query_table($table)`, the relation the caller binds
    assert reads(("staging/table_digest",)) == set()
    # marts/quarterly_campaign_kpis reads `range(1, 29) as r(offset_days)`, rows of no relation
    assert "" not in reads(("marts/quarterly_campaign_kpis",))


def test_every_statement_of_a_file_of_several_counts():
    # staging/paid_orders_delta: paid_orders_delta from paid_orders_added and paid_orders_replaced;
    # then paid_orders_of_delta_buyers from staging.paid_orders and paid_orders_delta
    assert reads(("staging/paid_orders_delta",)) == {"paid_orders_added", "paid_orders_replaced", "staging.paid_orders"}


STAGING_INPUTS = {
    # table: (lakes, staging tables), traced from each table's SQL files
    "shops": (("shops",), ()),
    "channels": (("channels",), ()),  # and default_channels, shipped with the code
    "campaigns": (("campaigns",), ()),
    "couriers": (("couriers",), ()),  # staging/couriers and staging/courier_codes
    "courier_names": (("courier", "orders"), ("couriers",)),  # courier_name_source: both lakes' names
    "orders": (("orders",), ("channels", "courier_names", "shops")),  # orders_source: the orders lake
    "event_days": (("events",), ("shops",)),  # event_day_source: the events lake; its states are its own
    "traffic": (("traffic",), ("channels", "event_days", "shops")),  # staging.event_traffic
    "courier": (("courier",), ("courier_names",)),
    "targets": (("targets",), ("shops",)),
    # staging.orders, and touched_files (the files merged into it); buyers, buyer_quarters and the
    # group states are its own
    "paid_orders": ((), ("orders",)),
    "courier_days": ((), ("courier",)),
    "unmapped_values": ((), ("channels", "courier", "courier_names", "orders", "traffic")),
}

MART_UPSTREAM = {
    # staging.paid_days and staging.buyer_quarters are kept with staging.paid_orders
    "quarterly_shop_kpis": ("paid_orders", "targets", "traffic"),
    "quarterly_channel_kpis": ("paid_orders", "traffic"),  # staging.channel_quarters
    "monthly_target_tracking": ("paid_orders", "targets", "traffic"),
    "quarterly_campaign_kpis": ("campaigns", "courier_days", "paid_orders", "targets", "traffic"),
    "quarterly_courier_kpis": ("courier_days",),
    "quarterly_courier_service": ("orders",),
    "quarterly_region_kpis": ("paid_orders",),  # staging.region_quarters
    "quarterly_category_kpis": ("paid_orders",),
    "quarterly_funnel": ("event_days",),  # staging.event_user_quarters
}


def test_each_staging_table_reads_what_its_sql_names():
    from assets.staging import TABLES

    assert {name: table.inputs(name) for name, table in TABLES.items()} == {
        name: Inputs(lakes, upstream) for name, (lakes, upstream) in STAGING_INPUTS.items()
    }
    assert TABLES["orders"].sql_files("orders") == ORDERS_SQL
    assert TABLES["paid_orders"].sql_files("paid_orders") == PAID_SQL
    assert TABLES["courier_names"].sql_files("courier_names") == COURIER_NAMES_SQL


def test_each_mart_reads_what_its_sql_names():
    from assets.marts import MARTS

    assert {name: inputs_of(mart_sql(name)) for name in MARTS} == {
        name: Inputs((), upstream) for name, upstream in MART_UPSTREAM.items()
    }


def test_the_asset_graph_follows_the_sql():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    for name, (lakes, upstream) in STAGING_INPUTS.items():
        prefix = "audit" if name == "unmapped_values" else "staging"
        parents = {p.to_user_string() for p in graph.get(AssetKey([prefix, name])).parent_keys}
        assert parents == {*(f"raw/{s}" for s in lakes), *(f"staging/{u}" for u in upstream)}, name
    for name, upstream in MART_UPSTREAM.items():
        parents = {p.to_user_string() for p in graph.get(AssetKey(["marts", name])).parent_keys}
        assert parents == {f"staging/{u}" for u in upstream}, name


def test_a_relation_no_lake_table_or_builder_provides_stops_the_derivation(monkeypatch):
    # a file reading a relation nothing registers (a typo, a table of another schema) would be an
    # edge missing from the graph: inputs_read refuses it
    for relation in ("marts.quarterly_shop_kpis", "orders_sourse"):
        monkeypatch.setattr(sql_lineage, "reads", lambda sql, r=relation: frozenset({"staging.shops", r}))
        with pytest.raises(ValueError, match=relation):
            sql_lineage.inputs_read(("staging/targets",))


def test_each_file_is_parsed_once():
    sql_lineage.statements.cache_clear()
    reads.cache_clear()
    reads(ORDERS_SQL)
    reads(("staging/orders_current", "staging/orders"))
    assert sql_lineage.statements.cache_info().misses == len(ORDERS_SQL)


def deps(key: str, column: str) -> set[str]:
    from assets.lineage import column_lineage

    lineage = column_lineage()[AssetKey(key.split("/"))]
    return {f"{d.asset_key.to_user_string()}.{d.column_name}" for d in lineage.deps_by_column[column]}


def test_a_mart_column_is_traced_down_to_the_raw_columns():
    # marts/quarterly_shop_kpis: gmv = coalesce(o.gmv, 0) of order_kpis, metric_gmv(gmv) over
    # staging.paid_days, whose gmv is sum(paid_amount) of staging.paid_orders (a state kept with it)
    assert deps("marts/quarterly_shop_kpis", "gmv") == {"staging/paid_orders.paid_amount"}
    # staging.paid_orders: paid_order_rows('staging.orders', ...) selects paid_amount
    assert deps("staging/paid_orders", "paid_amount") == {"staging/orders.paid_amount"}
    # staging.orders: orders_current's o.paid_amount over orders_source, the orders lake files
    assert deps("staging/orders", "paid_amount") == {"raw/orders.paid_amount"}


def test_a_rate_is_fed_by_each_number_it_divides():
    # marts/quarterly_channel_kpis: conversion_rate = rate_conversion(buyer_days, uv_days); buyer_days
    # from staging.channel_quarters' metric_buyer_days(buyer_key, paid_day), uv_days = sum(uv) of traffic
    assert deps("marts/quarterly_channel_kpis", "conversion_rate") == {
        "staging/paid_orders.buyer_key", "staging/paid_orders.paid_day", "staging/traffic.uv",
    }
    # a day no traffic file covers takes its uv from the event logs: distinct user keys
    assert deps("staging/traffic", "uv") == {"raw/traffic.uv", "staging/event_days.user_key"}
    # marts/quarterly_funnel: conversion_rate = rate_funnel_conversion(buyers, uv); buyers counts
    # users with buy events > 0, uv counts user keys, both from staging.event_user_quarters
    assert deps("marts/quarterly_funnel", "conversion_rate") == {"staging/event_days.buy", "staging/event_days.user_key"}
    # marts/quarterly_shop_kpis: refund_rate = rate_refund(refund_amount, gmv), both from paid_days
    assert deps("marts/quarterly_shop_kpis", "refund_rate") == {
        "staging/paid_orders.paid_amount", "staging/paid_orders.refund_amount",
    }


def test_a_mapped_column_is_fed_by_its_lake_column_and_the_mapping():
    # staging.orders: coalesce(s.shop_id, o.shop_id), s the shop aliases of staging.shops
    assert deps("staging/orders", "shop_id") == {"raw/orders.shop_id", "staging/shops.shop_id"}
    # staging.courier_names: the distinct couriers of courier_name_source, the orders' and the
    # courier files' names; its code, coalesce(arg_min(c.courier, c.priority), the name)
    assert deps("staging/courier_names", "courier_name") == {"raw/orders.courier", "raw/courier.courier"}
    assert deps("staging/courier_names", "courier") == {
        "raw/orders.courier", "raw/courier.courier", "staging/couriers.courier", "staging/couriers.priority",
    }


def test_every_column_of_every_table_has_its_lineage():
    from assets.lineage import column_lineage
    from assets.marts import MARTS
    from assets.staging import TABLES

    lineage = column_lineage()
    assert set(lineage) == {
        *(AssetKey([t.key_prefix, n]) for n, t in TABLES.items()), *(AssetKey(["marts", m]) for m in MARTS),
    }
    # marts/quarterly_region_kpis: quarter, shop_id, province, city, district, paid_orders, gmv,
    # paid_buyers and the rural numbers, as its final select lists them
    assert list(lineage[AssetKey(["marts", "quarterly_region_kpis"])].deps_by_column) == [
        "quarter", "shop_id", "province", "city", "district", "paid_orders", "gmv", "paid_buyers",
        "rural_paid_orders", "rural_gmv", "rural_paid_buyers", "rural_station_count",
    ]


def test_the_committed_lineage_is_what_the_sql_gives():
    assert LINEAGE_FILE.read_text(encoding="utf-8") == render(derive()), (
        f"{LINEAGE_FILE.relative_to(PROJECT)} is stale: run `{REGENERATE}` (python -m assets.lib.sql_lineage --write)"
    )


def _forget_the_sql():
    for cached in (
        sql.sql_text, sql_lineage.statements, sql_lineage.table_macros, sql_lineage.reads, lineage_file.derived,
        lineage_file.derived_from, lineage.column_lineage,
    ):
        cached.cache_clear()


@pytest.fixture
def sql_copy(tmp_path, monkeypatch):
    """A copy of sql/, read in place of it: every cache of what the SQL says is emptied before and after."""
    copy = tmp_path / "sql"
    shutil.copytree(sql.SQL_DIR, copy)
    monkeypatch.setattr(sql, "SQL_DIR", copy)
    _forget_the_sql()
    yield copy
    monkeypatch.undo()
    _forget_the_sql()


def test_an_edited_sql_file_changes_the_derivation_and_runs_refuse_the_stale_file(sql_copy):
    # staging.targets without its shop mapping: no join to staging.shops, shop_id as given
    targets = sql_copy / "staging" / "targets.sql"
    text = targets.read_text(encoding="utf-8")
    edits = {
        "coalesce(s.shop_id, t.shop_id) as shop_id": "t.shop_id",
        "left join staging.shops as s on s.alias = t.shop_id": "",
    }
    for before, after in edits.items():
        assert before in text
        text = text.replace(before, after)
    targets.write_text(text, encoding="utf-8")

    committed = json.loads(LINEAGE_FILE.read_text(encoding="utf-8"))
    edited = derive()
    assert edited["sql_digest"] != committed["sql_digest"]
    assert edited["assets"]["staging/targets"]["upstream"] == []  # was ["shops"]
    assert edited["assets"]["staging/targets"]["columns"]["shop_id"] == ["raw/targets.shop_id"]
    # nothing else: its other columns and the marts reading it are the same
    assert edited["assets"]["staging/targets"]["columns"]["target_gmv"] == ["raw/targets.target_gmv"]
    edited["assets"]["staging/targets"] = committed["assets"]["staging/targets"]
    assert edited["assets"] == committed["assets"]
    # a run would plan with the edges of the SQL before the edit: it stops instead
    with pytest.raises(StaleLineage, match=REGENERATE):
        inputs_of(("staging/targets",))


def test_a_comment_or_spacing_edited_needs_no_new_lineage(sql_copy):
    """Comments and the spacing between words read no table: a run goes on without `make lineage`."""
    targets = sql_copy / "staging" / "targets.sql"
    text = targets.read_text(encoding="utf-8")
    targets.write_text("-- a note of the user's\n" + text.replace(" as shop_id", "   as   shop_id"), encoding="utf-8")
    assert inputs_of(("staging/targets",)).upstream == ("shops",)


def test_loading_the_definitions_imports_no_sqlglot():
    script = (
        "import pipelines.definitions as d; d.defs.get_repository_def(); "
        "from assets.lineage import column_lineage; column_lineage(); "
        "import sys; print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlglot'))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_a_run_imports_no_sqlglot(tmp_path):
    shutil.copytree(FIXTURES / "tiny", tmp_path / "raw")
    env = {
        **os.environ,
        "TAOBAO_OPS_RAW_DIR": str(tmp_path / "raw"),
        "TAOBAO_OPS_STATE_DIR": str(tmp_path / "state"),
        "TAOBAO_OPS_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from pipelines.cli import entry; entry()", "run", "--quiet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "assets.lib.lineage_file" in imported  # the run did read the lineage
    assert not {m for m in imported if m.split(".")[0] == "sqlglot" or m.endswith("sql_lineage")}
