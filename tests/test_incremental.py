"""Staging follows the new data: staging.orders, staging.paid_orders and staging.courier_names merge
what is new, the tables an orders batch does not touch are left as they are, and every run ends up
exactly where a rebuild from every file would."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from pipelines.sample import SampleSpec, write_sample
from conftest import Deployment

SPEC = SampleSpec(seed=3, start=dt.date(2024, 9, 20), days=20, orders_per_day=6, shops=3)
LAST = [SPEC.start + dt.timedelta(days=SPEC.days - i) for i in (3, 2, 1)]  # 10-07, 10-08, 10-09
LATE = SPEC.start + dt.timedelta(days=8)  # 09-28: a batch that arrives after later ones
TABLES = (
    "staging.orders", "staging.paid_orders", "staging.buyer_quarters", "staging.courier_names", "staging.traffic",
    "staging.courier",
    "staging.courier_days", "staging.targets", "staging.paid_days", "marts.quarterly_shop_kpis",
    "marts.quarterly_region_kpis", "marts.quarterly_courier_kpis", "marts.quarterly_category_kpis",
    "marts.quarterly_campaign_kpis", "marts.monthly_target_tracking", "audit.month_digests",
)
TRACKED = ("orders", "paid_orders", "courier_names", "traffic", "courier", "courier_days", "targets", "event_days")


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
    """tracked staging table -> how this run built it (rebuild | merge | unchanged; a table the run
    left out, since nothing it reads was new, is unchanged)."""
    out = dict.fromkeys(TRACKED, "unchanged")
    for event in result.get_asset_materialization_events():
        key = event.asset_key.to_user_string()
        metadata = event.step_materialization_data.materialization.metadata
        if key.startswith("staging/") and "build" in metadata:
            out[key.split("/")[1]] = metadata["build"].value
    return out


def mart_builds(result) -> dict[str, str]:
    """mart -> how this run built it (rebuild | quarters | unchanged; a mart the run left out is
    unchanged)."""
    from assets.marts import MARTS

    return {
        **dict.fromkeys(MARTS, "unchanged"),
        **{
            e.asset_key.path[-1]: e.step_materialization_data.materialization.metadata["build"].value
            for e in result.get_asset_materialization_events()
            if e.asset_key.path[0] == "marts"
        },
    }


def expect(**modes: str) -> dict[str, str]:
    """Every tracked staging table `unchanged` but those named."""
    return {t: modes.get(t, "unchanged") for t in TRACKED}


# Buyer keys are numbered in the order buyers arrive, so a merged table and a rebuilt one may give
# a buyer different keys: the tables keyed by buyer are compared with each key mapped back to its
# buyer_id (a key that maps to the wrong buyer shows up as a different row).
BY_BUYER = {
    "staging.paid_orders": "select p.* exclude (buyer_key), b.buyer_id "
    "from staging.paid_orders as p left join staging.buyers as b using (buyer_key) order by all",
    "staging.buyer_quarters": "select q.* exclude (buyer_key), b.buyer_id "
    "from staging.buyer_quarters as q left join staging.buyers as b using (buyer_key) order by all",
    # what the merges moved them by must be what the whole tables give (paid orders hold buyer keys,
    # numbered in another order by each deployment)
    "audit.month_digests": "select * from audit.month_digests where table_name <> 'paid_orders' order by all",
}


def snapshot(deployment: Deployment) -> dict[str, list[tuple]]:
    keys = deployment.query(
        "select count(*), count(distinct buyer_id), count(distinct buyer_key), count(buyer_key) from staging.buyers"
    )[0]
    assert keys[0] == keys[1] == keys[2] == keys[3], f"staging.buyers must map buyers and keys one to one: {keys}"
    return {t: deployment.query(BY_BUYER.get(t, f"select * from {t} order by all")) for t in TABLES}  # noqa: S608


def built_from(raw: Path, root: Path) -> Deployment:
    """A deployment at `root` built in one run from a copy of the raw folder `raw`."""
    whole = Deployment(root)
    copy(raw, whole.raw)
    assert whole.run().success
    return whole


@pytest.mark.slow
def test_merged_runs_end_where_a_rebuild_does(source, tmp_path):
    held = {day: orders_of(source, day) for day in [LATE, *LAST]}
    assert all(held.values())
    step = Deployment(tmp_path / "step")
    copy(source, step.raw, {p for files in held.values() for p in files})
    first = step.run()
    assert first.success and builds(first) == dict.fromkeys(TRACKED, "rebuild")
    # every table built carries its column lineage for the UI (tests/test_sql_lineage.py)
    lineage = {
        e.asset_key.to_user_string(): e.step_materialization_data.materialization.metadata.get("dagster/column_lineage")
        for e in first.get_asset_materialization_events()
        if e.asset_key.path[0] in ("staging", "audit", "marts")
    }
    assert len(lineage) == 22 and all(lineage.values())
    assert [d.column_name for d in lineage["marts/quarterly_shop_kpis"].value.deps_by_column["gmv"]] == ["paid_amount"]

    # Day by day; the late 09-28 batch arrives with 10-08 and must lose to newer rows of its orders.
    for days in ([LAST[0]], [LAST[1], LATE], [LAST[2]]):
        for day in days:
            for path in held[day]:
                shutil.copy2(path, step.raw / "orders" / path.name)
        result = step.run()
        # an orders batch leaves traffic, courier and targets alone (their inputs did not change)
        assert result.success and builds(result) == expect(orders="merge", paid_orders="merge", courier_names="merge")
        # every mart reads the orders but the courier table, which reads courier_days alone, and the
        # funnel, which reads the event logs alone
        marts = mart_builds(result)
        apart = {"quarterly_courier_kpis", "quarterly_funnel"}
        assert len(marts) == 9 and {m for m, b in marts.items() if b == "unchanged"} == apart
        # and they compute the quarters of the new rows, not the whole table
        assert {b for m, b in marts.items() if m not in apart} == {"quarters"}

    nothing_new = step.run()
    if nothing_new is not None:  # a run with nothing new to load may run no step at all
        assert nothing_new.success and builds(nothing_new) == expect()
        assert set(mart_builds(nothing_new).values()) == {"unchanged"}  # no quarter recomputed

    merged, whole = snapshot(step), snapshot(built_from(source, tmp_path / "whole"))
    for table in TABLES:
        assert merged[table] == whole[table], table
    assert len(merged["staging.orders"]) == 278  # every order of the sample, once


@pytest.mark.slow
def test_a_replaced_file_or_a_new_mapping_rebuilds(source, tmp_path):
    deployment = built_from(source, tmp_path / "d")

    # A corrected export of an old batch, one order fewer: rows of the old version must go.
    path = next(p for p in orders_of(deployment.raw, LATE) if p.name.startswith("orders_") and p.suffix == ".csv")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    replaced = deployment.run()
    assert replaced.success and builds(replaced) == expect(orders="rebuild", paid_orders="rebuild", courier_names="rebuild")

    (deployment.raw / "reference" / "shops.csv").write_text(
        "alias,shop_id\n杭州小铺旗舰店,shop01\nshop02,shop02_renamed\n", encoding="utf-8"
    )
    remapped = deployment.run()
    # the event logs' shops are mapped too
    assert remapped.success and builds(remapped) == expect(
        orders="rebuild", paid_orders="rebuild", traffic="rebuild", targets="rebuild", event_days="rebuild"
    )
    assert deployment.query("select count(*) from staging.paid_orders where shop_id = 'shop02'") == [(0,)]

    assert snapshot(deployment) == snapshot(built_from(deployment.raw, tmp_path / "whole"))


@pytest.mark.slow
def test_a_new_courier_name_in_an_orders_batch_reaches_the_courier_tables(source, tmp_path):
    deployment = built_from(source, tmp_path / "d")
    before = dict(deployment.query("select courier_name, courier from staging.courier_names"))
    assert "丰网速运" not in before

    # One order of a new day, shipped by a spelling no file used before (an alias of no code).
    (deployment.raw / "orders" / "orders_shop01_2024-10-10.csv").write_text(
        "order_id,shop_id,buyer_id,status,created_at,paid_at,shipped_at,completed_at,total_amount,paid_amount,"
        "refund_amount,item_count,category,channel,is_mobile,province,city,district,courier,tracking_no,"
        "rural_station_id\n"
        "3999999999999999999,shop01,tb_9_000001,WAIT_BUYER_CONFIRM_GOODS,2024-10-10T09:00:00+08:00,"
        "2024-10-10T09:01:00+08:00,2024-10-10T15:00:00+08:00,,50.0,50.0,0.0,1,女装/连衣裙,直通车,true,"
        "浙江省,杭州市,西湖区,丰网速运,FW0001,\n",
        encoding="utf-8",
    )
    result = deployment.run()
    # a new name maps no name that was there before: the tables that look names up merge or stay
    assert result.success and builds(result) == expect(orders="merge", paid_orders="merge", courier_names="merge")
    after = dict(deployment.query("select courier_name, courier from staging.courier_names"))
    assert after == {**before, "丰网速运": "丰网速运"}  # kept as given: no alias matches it
    assert deployment.query(
        "select courier from staging.orders where order_id = '3999999999999999999'"
    ) == [("丰网速运",)]

    assert snapshot(deployment) == snapshot(built_from(deployment.raw, tmp_path / "whole"))


@pytest.mark.slow
def test_a_lake_file_the_courier_names_have_not_seen_yet_is_mapped_once_they_have(source, tmp_path):
    # Two runs taking turns step by step: run B's raw step writes a lake file with a new courier
    # spelling after run A built staging.courier_names and before A builds orders and courier. A's
    # tables cannot map the name yet; once the names have it, the next build must (it stayed
    # unmapped: the names' reference had not changed).
    import polars as pl
    from dagster_duckdb import DuckDBResource

    from assets.db import working_db
    from assets.lib.defaults import register_defaults
    from assets.lib.incremental import build_courier_names, build_orders, build_when_changed

    deployment = built_from(source, tmp_path / "d")
    settings = deployment.settings()
    lake = settings.lake_dir
    orders = pl.read_parquet(sorted((lake / "orders").glob("*.parquet"))[0]).head(1)
    orders.with_columns(
        order_id=pl.lit("3999999999999999999"), courier=pl.lit("中通快递新"), file_name=pl.lit("orders_x_2024-10-10.csv")
    ).write_parquet(lake / "orders" / "orders_x_2024-10-10.csv.0000000000.parquet")
    courier = pl.read_parquet(sorted((lake / "courier").glob("*.parquet"))[0]).head(1)
    courier.with_columns(courier=pl.lit("中通快递新"), region=pl.lit("新区"), file_name=pl.lit("c_2024-10-10.csv")).write_parquet(
        lake / "courier" / "c_2024-10-10.csv.0000000000.parquet"
    )

    def build_courier(con):
        return build_when_changed(con, "courier", lake, ("staging/courier",), settings.sql_params())

    with working_db(settings, DuckDBResource(database=str(settings.working_db))) as con:
        register_defaults(con)
        build_orders(con, lake)  # run A: the name is not in staging.courier_names yet
        build_courier(con)
        assert build_courier_names(con, lake).mode == "merge"  # run B
        assert build_orders(con, lake).mode == "rebuild" and build_courier(con).mode == "rebuild"
        (code,) = con.execute("select courier from staging.courier_names where courier_name = '中通快递新'").fetchone()
        assert code != "中通快递新"  # an alias of a known company
        assert con.execute(
            "select courier from staging.orders where order_id = '3999999999999999999'"
        ).fetchall() == [(code,)]
        assert con.execute("select count(*) from staging.courier where courier_name = '中通快递新'").fetchall() == [(1,)]
        # and once caught up, the lookup's new names alone rebuild nothing
        assert build_orders(con, lake).mode == "unchanged" and build_courier(con).mode == "unchanged"


def test_an_orders_current_row_is_the_greatest_version_with_a_null_batch_date_lowest():
    # Versions of three orders (batch date, file, line), worked by hand: x1's greatest batch date
    # wins over a greater file name; x2's null batch date loses to any date; x3 has only null
    # batch dates, so the greater (file name, line) wins, here line 9 of the same file. The files'
    # places in the list read (file_index) are the reverse of their rank: they do not decide.
    import duckdb

    from assets.lib.sql import run_script, run_sql

    con = duckdb.connect()
    for script in ("setup/create_schemas", "setup/create_macros", "setup/create_metrics"):
        run_script(con, script)
    con.execute("create table staging.shops (alias varchar, shop_id varchar)")
    con.execute("create table staging.courier_names (courier_name varchar, courier varchar, is_mapped boolean)")
    con.execute("create table staging.channels (channel varchar, channel_group varchar, defined_in varchar)")
    versions = [
        ("x1", "2024-07-02", "a.csv", 2, "paid"), ("x1", "2024-07-01", "z.csv", 5, "pending"),
        ("x2", None, "z.csv", 7, "pending"), ("x2", "2024-06-01", "a.csv", 3, "paid"),
        ("x3", None, "b.csv", 2, "pending"), ("x3", None, "b.csv", 9, "paid"),
    ]
    con.execute(
        "create table orders_source as select order_id, 'S' as shop_id, 'b' as buyer_id, status, "
        "null::timestamp as created_at, null::timestamp as paid_at, null::timestamp as shipped_at, "
        "null::timestamp as completed_at, 1.0 as total_amount, 1.0 as paid_amount, 0.0 as refund_amount, "
        "1 as item_count, null::varchar as category, null::varchar as channel, null::boolean as is_mobile, "
        "null::varchar as province, null::varchar as city, null::varchar as district, null::varchar as courier, "
        "null::varchar as tracking_no, null::varchar as rural_station_id, batch_date::date as batch_date, "
        "file_name, line::bigint as line, row_number() over () as row_id, "
        # a lake file holds one raw file (one batch date and file name), at any place in the list
        # of files read: here numbered in the reverse of the order versions rank by
        "dense_rank() over (order by file_name desc, batch_date desc nulls last) as file_index "
        "from (values " + ", ".join("(?, ?, ?, ?, ?)" for _ in versions) + ") "
        "as v(order_id, batch_date, file_name, line, status)",
        [value for version in versions for value in version],
    )
    run_sql(con, "staging/orders_current")
    assert con.execute("select order_id, file_name, line, status from orders_current order by order_id").fetchall() == [
        ("x1", "a.csv", 2, "paid"), ("x2", "a.csv", 3, "paid"), ("x3", "b.csv", 9, "paid"),
    ]


def test_a_paid_order_whose_buyer_has_no_key_stops_the_build():
    # Distinct buyers are counted by key: a paid order without one would be left out of every count.
    import duckdb

    from assets.lib.incremental import _require_buyer_keys

    con = duckdb.connect()
    con.execute("create table added as select * from (values ('o1', 7::bigint), ('o2', null), ('o3', null)) t(order_id, buyer_key)")
    with pytest.raises(RuntimeError, match="2 paid orders in added have no buyer key in staging.buyers"):
        _require_buyer_keys(con, "added")
    con.execute("update added set buyer_key = 8 where buyer_key is null")
    _require_buyer_keys(con, "added")


@pytest.mark.parametrize(("threshold", "vacuumed"), [(0.6, False), (0.4, True)])
def test_a_merge_vacuums_once_the_rows_deleted_since_the_last_vacuum_are_a_large_share(
    tmp_path, monkeypatch, threshold, vacuumed
):
    # 300,000 rows in three row groups of 100,000; earlier merges (not vacuuming) deleted every
    # second one: half the stored rows. A merge below the threshold leaves them stored, through
    # its commit and a later checkpoint; at or above it the merge vacuums (DuckDB merges row groups,
    # so fewer rows are stored; how many is its call) and what is left stored becomes the baseline,
    # so the share deleted since is 0.
    import duckdb

    from assets.lib import incremental
    from assets.lib.sql import run_script, transaction

    monkeypatch.setattr(incremental, "VACUUM_AT_DELETED_SHARE", threshold)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    run_script(con, "setup/create_schemas")
    incremental.defer_vacuum(con)  # as every connection to the working database does
    con.execute("create table staging.t (i bigint)")
    for start in (0, 100_000, 200_000):
        con.execute("insert into staging.t select range from range(?, ?)", [start, start + 100_000])
        con.execute("checkpoint")
    con.execute("delete from staging.t where i % 2 = 0")
    con.execute("checkpoint")
    assert incremental.deleted_share(con, "staging.t") == 0.5
    with incremental.vacuum_when_due(con, "staging.t"), transaction(con):
        con.execute("delete from staging.t where i < 20_000")
    con.execute("create table staging.other as select 1 as i")  # a later change, checkpointed on close
    assert con.execute("select current_setting('max_vacuum_tasks')").fetchone() == (0,)
    assert (incremental.deleted_share(con, "staging.t") == 0) is vacuumed
    con.close()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as again:
        (stored,) = again.execute("select estimated_size from duckdb_tables() where table_name = 't'").fetchone()
        assert (stored < 300_000) is vacuumed, stored
        assert again.execute("select count(*), sum(i) from staging.t").fetchone() == (140_000, sum(range(20_001, 300_000, 2)))


def test_deleted_rows_a_vacuum_could_not_reclaim_do_not_make_every_merge_vacuum(tmp_path):
    # A vacuum leaves thinly spread deletions stored; they are the table's baseline, so only rows
    # deleted after it count towards the next vacuum.
    import duckdb

    from assets.lib import incremental
    from assets.lib.sql import run_script

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    run_script(con, "setup/create_schemas")
    incremental.defer_vacuum(con)
    con.execute("create table staging.t as select range as i from range(1000)")
    con.execute("delete from staging.t where i < 200")  # 200 of 1,000 stored rows
    con.execute("checkpoint")
    assert incremental.deleted_share(con, "staging.t") == 0.2
    con.execute("insert or replace into audit.vacuum_baselines values ('staging.t', 150)")
    assert incremental.deleted_share(con, "staging.t") == 0.05  # 50 deleted since
    incremental.record_vacuum_baseline(con, "staging.t")
    assert incremental.deleted_share(con, "staging.t") == 0.0
    assert con.execute("select * from audit.vacuum_baselines").fetchall() == [("staging.t", 200)]


def test_a_table_rebuilt_in_a_transaction_counts_no_row_deleted(tmp_path):
    # A rebuild creates its table and records the baseline in one transaction, where DuckDB
    # reports no row stored yet: a baseline of minus the table's rows made the first merge after
    # every rebuild vacuum (a share deleted of 1.0 instead of 0.0).
    import duckdb

    from assets.lib import incremental
    from assets.lib.sql import run_script, transaction

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    run_script(con, "setup/create_schemas")
    incremental.defer_vacuum(con)
    with transaction(con):
        con.execute("create or replace table staging.t as select range as i from range(1000)")
        incremental.record_vacuum_baseline(con, "staging.t")
    assert incremental.deleted_share(con, "staging.t") == 0.0
    con.execute("delete from staging.t where i < 50")
    con.execute("checkpoint")
    assert incremental.deleted_share(con, "staging.t") == 0.05


def test_a_merge_large_enough_for_duckdb_to_checkpoint_at_its_commit_still_vacuums_when_due(tmp_path):
    # 1,000,000 rows of 14 columns, a ninth deleted by earlier merges (due at 10 %); the merge
    # replaces another ninth. Its commit is over DuckDB's checkpoint threshold, so DuckDB
    # checkpoints right there: vacuuming must already be allowed then, or the deleted rows stay
    # (1,111,111 stored, as if nothing had been vacuumed).
    import duckdb

    from assets.lib import incremental
    from assets.lib.sql import run_script, transaction

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    run_script(con, "setup/create_schemas")
    incremental.defer_vacuum(con)
    text = ", ".join(f"md5((range * {k})::varchar) as c{k}" for k in range(13))
    con.execute(f"create table staging.t as select range as i, {text} from range(1000000)")  # noqa: S608
    con.execute("checkpoint")
    con.execute("delete from staging.t where i % 9 = 0")
    con.execute("checkpoint")
    with incremental.vacuum_when_due(con, "staging.t"), transaction(con):
        con.execute("create temp table replaced as select * from staging.t where i % 9 = 1")
        con.execute("delete from staging.t where i % 9 = 1")
        con.execute("insert into staging.t select * from replaced")
    (stored,) = con.execute("select estimated_size from duckdb_tables() where table_name = 't'").fetchone()
    assert stored < 1_111_111
    assert con.execute("select count(*) from staging.t").fetchone() == (888_888,)


@pytest.mark.slow
def test_a_buyer_keeps_its_key_when_paid_orders_is_rebuilt(source, tmp_path):
    # Keys given by a rebuild, then by a merge (the last day), then a replaced file rebuilds
    # staging.paid_orders: every buyer keeps the key it had, so unchanged rows stay the same rows.
    deployment = Deployment(tmp_path / "d")
    last = set(orders_of(source, LAST[-1]))
    copy(source, deployment.raw, skip=last)
    assert deployment.run().success
    # a rebuild leaves no deleted row: the first merge after it must not vacuum
    assert deployment.query("select * from audit.vacuum_baselines order by 1") == [
        ("staging.orders", 0), ("staging.paid_orders", 0)
    ]
    copy(source, deployment.raw)
    merged = deployment.run()
    assert merged.success and builds(merged)["paid_orders"] == "merge"
    keys = dict(deployment.query("select buyer_id, buyer_key from staging.buyers"))

    path = next(p for p in orders_of(deployment.raw, LATE) if p.name.startswith("orders_") and p.suffix == ".csv")
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-1]))
    rebuilt = deployment.run()
    assert rebuilt.success and builds(rebuilt)["paid_orders"] == "rebuild"
    after = dict(deployment.query("select buyer_id, buyer_key from staging.buyers"))
    assert {buyer: after.get(buyer) for buyer in keys} == keys
    assert len(set(after.values())) == len(after)


@pytest.mark.slow
def test_a_mart_follows_the_sql_of_the_state_it_reads(source, tmp_path, monkeypatch):
    # The channel mart reads staging.channel_quarters, kept with staging.paid_orders: the month
    # digests follow paid_orders' rows, which a change to the state's SQL leaves as they are, so the
    # mart must see that SQL itself (else it would keep the numbers of the old SQL).
    import duckdb

    from assets.lib import incremental
    from assets.lib.sql import sql_text

    deployment = built_from(source, tmp_path / "d")
    params = deployment.settings().sql_params()
    with duckdb.connect(str(deployment.state / "pipeline.duckdb"), read_only=True) as con:
        assert incremental.mart_plan(con, "quarterly_channel_kpis", params).mode == "unchanged"
        changed = {"staging/channel_quarters": sql_text("staging/channel_quarters") + "\n-- another version\n"}
        monkeypatch.setattr(incremental, "sql_text", lambda name: changed.get(name) or sql_text(name))
        plan = incremental.mart_plan(con, "quarterly_channel_kpis", params)
    assert plan.mode == "rebuild", plan.reason
