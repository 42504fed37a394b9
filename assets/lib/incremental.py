"""Tables that follow the new data instead of the history.

The staging tables below and every mart record what they were built from (audit.staging_inputs):
every lake file with its version (size, modification time and inode: a reload replaces the file) and a
`reference` fingerprint of their SQL, the parameters it binds, and the version of each staging
table they read (`_version`).

- staging.orders, staging.paid_orders and staging.courier_names merge the rows of lake files that
  are new since they were built;
- staging.traffic, staging.courier, staging.courier_days, staging.targets and the marts are left as
  they are when nothing they read changed, and rebuilt otherwise;
- anything else (a file replaced or removed, a mapping or the SQL changed, the table missing)
  rebuilds the table from the whole lake.

What a table reads (its lakes and the staging tables upstream) is what its SQL reads (`inputs_of`,
derived at build time into sql/lineage.json): the Dagster graph takes its edges from the same place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import polars as pl

from .lake import LakeRoot, attach, batch_files, file_versions, register_lake
from .parse import empty_rows
from .lineage_file import derived_from
from .sql import fetch_sql, identifier, row_count, run_script, run_sql, sql_text, table_exists, transaction

REFERENCE = "reference"
SETUP_SQL = ("setup/create_schemas", "setup/create_macros", "setup/create_metrics")
COURIER_NAMES_SQL = ("staging/courier_names_mapped", "staging/courier_names", "staging/courier_names_merge")
ORDERS_SQL = ("staging/orders_current", "staging/orders", "staging/orders_new", "staging/orders_matches",
              "staging/orders_replaced", "staging/orders_merge_delete", "staging/orders_added",
              "staging/orders_merge_insert")
# The sales of each (quarter, shop, channel), (quarter, shop, region) and (day, shop, category,
# device), kept with staging.paid_orders: built whole with it, and moved by what each merge into it
# changed (paid_orders_delta; its rows added and replaced), so that the marts neither count the
# distinct buyers of a quarter again every day nor sum its paid orders again.
GROUP_STATES = ("channel_quarters", "region_quarters", "paid_days")
GROUP_STATE_SQL = ("staging/paid_orders_delta",
                   *(f"staging/{t}{step}" for t in GROUP_STATES for step in ("", "_changes", "_merge")))
# staging.paid_orders, the buyers' keys and the states built with it (MAINTAINED_WITH)
PAID_SQL = ("staging/buyers", "staging/buyers_insert", "staging/buyers_without_key",
            "staging/paid_order_rows", "staging/paid_orders", "staging/orders_of_touched_files",
            "staging/buyers_of_touched_files",
            "staging/paid_orders_matches", "staging/paid_orders_replaced", "staging/paid_orders_merge_delete",
            "staging/paid_orders_added", "staging/paid_orders_merge_insert", "staging/buyer_quarter_rows", "staging/buyer_quarters",
            "staging/buyer_quarters_touched", "staging/buyer_quarters_merge_delete",
            "staging/buyer_quarters_merge_insert", *GROUP_STATE_SQL)
# staging.event_days and the two states kept with it: the distinct users of each (shop, quarter)
# for the funnel, and the daily traffic of event logs.
EVENT_STATES = ("event_user_quarters", "event_traffic")
EVENTS_SQL = ("staging/event_days_added", "staging/event_days", "staging/event_days_insert",
              "staging/event_user_quarter_rows", "staging/event_user_quarters",
              "staging/event_user_quarters_changes", "staging/event_user_quarters_merge",
              "staging/event_traffic_rows", "staging/event_traffic", "staging/event_traffic_merge")
# Tables kept up to date together with another one, in the same transaction: the marts reading them
# follow that table's changes (staging.buyer_quarters, the distinct-buyer state, follows every merge
# of staging.paid_orders: only the buyers whose paid orders changed are counted again).
MAINTAINED_WITH = {"buyer_quarters": "paid_orders", "buyers": "paid_orders",
                   **dict.fromkeys(GROUP_STATES, "paid_orders"), **dict.fromkeys(EVENT_STATES, "event_days")}
# The SQL those tables are kept with: a mart reading one follows its month digests of the table it
# is kept with, and this SQL (the digests follow the rows of staging.paid_orders, not the states).
MAINTAINED_SQL = {"paid_orders": PAID_SQL, "event_days": EVENTS_SQL}
# The staging tables the marts read by quarter, each with the date column whose month files a row
# (a quarter of a mart is computed from the rows of its months); audit.month_digests follows them.
DIGESTED = {"orders": "shipped_at", "paid_orders": "paid_day", "traffic": "date", "courier_days": "day",
            "targets": "month", "event_days": "date"}
DIGEST_SQL = ("staging/delete_month_digests", "staging/insert_month_digests", "staging/merge_month_digests")
# The views of the lake register_lake names lake_<source>.
LAKE_VIEW_PREFIX = "lake_"
# The reference rows shipped with the code (lib/defaults.py): part of no lake, no table upstream.
SHIPPED_VIEW_PREFIX = "default_"
# The relations the builders below register for their SQL, and what they are rows of.
REGISTERED = {
    "orders_source": ("lake_orders",),  # build_orders: the orders lake files, all or the new ones
    "courier_name_source": ("lake_orders", "lake_courier"),  # build_courier_names: their courier names
    "touched_files": ("staging.orders",),  # build_paid_orders: the files merged into staging.orders since
    "event_day_source": ("lake_events",),  # build_event_days: the events lake files, all or the new ones
}
# The columns a registered relation has beyond those of the relations it holds rows of (`_with_row_ids`).
REGISTERED_COLUMNS = {"orders_source": ("file_index", "row_id")}
# DuckDB vacuums deleted rows at a checkpoint, rewriting the row groups that hold them; a checkpoint
# that does not vacuum leaves them to the next one that does, whatever table that one writes. A
# merge deletes the old rows of the orders it replaces, spread over the history: with 365 days of
# history the checkpoint after a merge into staging.orders took 0.7-0.86 s, 0.02-0.03 s without
# vacuuming. So the working database's connections do not vacuum (defer_vacuum), and a merge
# vacuums once the rows deleted since the table's last vacuum are this share of its stored rows.
VACUUM_AT_DELETED_SHARE = 0.1


def _stored_and_live(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    schema, name = table.split(".")
    ((_, stored),) = fetch_sql(con, "audit/table_info", {"schema": schema, "table": name})
    return stored, row_count(con, schema, name)


def deleted_share(con: duckdb.DuckDBPyConnection, table: str) -> float:
    """The share of the table's (schema.table) stored rows deleted since its last vacuum."""
    stored, live = _stored_and_live(con, table)
    baseline = fetch_sql(con, "staging/vacuum_baseline", {"table_name": table})[0][0]
    return max(0, stored - live - baseline) / stored if stored else 0.0


def record_vacuum_baseline(con: duckdb.DuckDBPyConnection, table: str, deleted_rows: int | None = None) -> None:
    """The deleted rows the table stores now count as left by its last vacuum (or rebuild).

    A rebuild passes 0: a table just created stores no deleted row, and within the transaction
    that creates it DuckDB reports none stored at all (a baseline of minus its rows, once, made
    the first merge after every rebuild vacuum: 0.8 s with a year of history)."""
    if deleted_rows is None:
        stored, live = _stored_and_live(con, table)
        deleted_rows = max(0, stored - live)
    run_sql(con, "staging/record_vacuum_baseline", {"table_name": table, "deleted_rows": deleted_rows})


def defer_vacuum(con: duckdb.DuckDBPyConnection) -> None:
    """This connection's checkpoints leave deleted rows in place (vacuum_when_due vacuums them).
    The setting is the database instance's: every connection of this process to the file shares it."""
    con.execute("set max_vacuum_tasks = 0")


@contextmanager
def vacuum_when_due(con: duckdb.DuckDBPyConnection, table: str) -> Iterator[None]:
    """A merge into `table` (schema.table) on a connection that defers vacuuming. When the rows
    deleted since the table's last vacuum have reached VACUUM_AT_DELETED_SHARE of its stored rows,
    vacuuming is allowed for the merge, whose checkpoint (DuckDB's own at a large commit, or the one
    here) then vacuums every table; what it leaves stored becomes the table's baseline. Decided
    before the merge: a large commit checkpoints before anything after it could allow vacuuming."""
    due = deleted_share(con, table) >= VACUUM_AT_DELETED_SHARE
    if due:
        con.execute("reset max_vacuum_tasks")
    try:
        yield
        if due:
            con.execute("checkpoint")
            record_vacuum_baseline(con, table)
    finally:
        if due:
            defer_vacuum(con)


@dataclass(frozen=True)
class Inputs:
    lakes: tuple[str, ...]  # raw sources whose lake files it reads
    upstream: tuple[str, ...]  # staging tables it reads (a state read as the table it is kept with)


def inputs_of(sql: tuple[str, ...]) -> Inputs:
    """What a table built by these SQL files reads: the lakes and staging tables its SQL names,
    as sql_lineage.inputs_read derived them (sql/lineage.json)."""
    entry = derived_from(sql)
    return Inputs(tuple(entry["lakes"]), tuple(entry["upstream"]))


@dataclass(frozen=True)
class Plan:
    mode: str  # "rebuild" | "merge" | "unchanged"; a mart: "rebuild" | "quarters" | "unchanged"
    new_files: list[str]  # lake files to merge
    inputs: dict[str, str]  # what the table reflects once built
    reason: str
    touched_months: tuple[str, ...] = ()  # a mart: months whose rows changed in what it reads
    months: tuple[str, ...] = ()  # a mart: every month it reads, now or when last built


def _sql_fingerprint(names: tuple[str, ...]) -> str:
    """The SQL a table is built with, the macros it calls (setup scripts) and the month digests it
    keeps (a change there must compute them again)."""
    return hashlib.sha256("".join(sql_text(n) for n in (*SETUP_SQL, *DIGEST_SQL, *names)).encode()).hexdigest()[:16]


def digest_months(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """audit.month_digests of staging.<table> computed from the whole table (after a rebuild)."""
    if table not in DIGESTED:
        return
    run_sql(con, "staging/delete_month_digests", {"table_name": table})
    run_sql(con, "staging/insert_month_digests",
            {"table_name": table, "table": f"staging.{table}", "month_column": DIGESTED[table]})


def merge_digests(con: duckdb.DuckDBPyConnection, table: str, added: str, removed: str) -> None:
    """audit.month_digests of staging.<table> moved by the rows a merge added and removed (temp
    tables), so that a month's digest stays what a computation over the whole table gives."""
    run_sql(con, "staging/merge_month_digests",
            {"table_name": table, "month_column": DIGESTED[table], "added": added, "removed": removed})


def lake_inputs(lake_dir: LakeRoot, *sources: str) -> dict[str, str]:
    """Every lake file of the sources with its version."""
    return {path: version for source in sources for path, version in file_versions(lake_dir, source).items()}


# Tables that only gain rows between rebuilds, each new row a function of its key and the table's
# reference: a table looking keys up in one is affected by its reference, not by its new rows, as
# long as the lookup holds every lake file the table is built from. (staging.courier_names: a
# name's code depends only on the name and staging.couriers.)
LOOKUPS = ("courier_names",)


def _version(con: duckdb.DuckDBPyConnection, table: str, lake: dict[str, str]) -> str:
    """What a table built from staging.<table> and the lake files `lake` needs to know of it:

    - a lookup's reference, when the lookup was built from every one of those files; else (another
      run's file landed between the two steps) its content, so that the table is rebuilt once the
      lookup has caught up;
    - the inputs a table built here was built from (its content is a function of them, and 10M
      rows would take seconds to hash);
    - else its content, as a count and an order-independent hash."""
    recorded = dict(fetch_sql(con, "audit/staging_inputs", {"table_name": table}))
    if table in LOOKUPS and recorded and all(recorded.get(path) == v for path, v in lake.items() if path != REFERENCE):
        return recorded[REFERENCE]
    if recorded and table not in LOOKUPS:
        return hashlib.sha256(repr(sorted(recorded.items())).encode()).hexdigest()[:16]
    ((rows, digest),) = fetch_sql(con, "staging/table_digest", {"table": f"staging.{table}"})
    return f"{rows}:{digest}"


def reference(
    con: duckdb.DuckDBPyConnection, sql: tuple[str, ...], upstream: tuple[str, ...], params: dict | None = None,
    lake: dict[str, str] | None = None,
) -> str:
    """The SQL a table is built with, the parameters it binds, and what it reads of the staging
    tables upstream (their version, given the lake files `lake` the table reads)."""
    bound = sorted((k, str(v)) for k, v in (params or {}).items() if any(f"${k}" in sql_text(n) for n in sql))
    return "/".join([_sql_fingerprint(sql), *(_version(con, u, lake or {}) for u in upstream), repr(bound)])


def plan(
    con: duckdb.DuckDBPyConnection, table: str, inputs: dict[str, str], merge: bool = True, schema: str = "staging"
) -> Plan:
    """Rebuild, merge the new lake files, or nothing, for <schema>.<table> given its inputs now
    (new lake files rebuild a table that cannot `merge`)."""
    before = dict(fetch_sql(con, "audit/staging_inputs", {"table_name": recorded_as(schema, table)}))
    if not table_exists(con, schema, table) or not before:
        return Plan("rebuild", [], inputs, "first build")
    if before.get(REFERENCE) != inputs[REFERENCE]:
        return Plan("rebuild", [], inputs, "its SQL, a parameter or a staging table it reads changed")
    changed = [p for p, v in before.items() if p != REFERENCE and inputs.get(p) != v]
    if changed:
        return Plan("rebuild", [], inputs, f"{len(changed)} lake file(s) replaced or removed")
    new = sorted(p for p in inputs if p not in before)
    if not new:
        return Plan("unchanged", [], inputs, "nothing it reads changed")
    if not merge:
        return Plan("rebuild", [], inputs, f"{len(new)} new lake file(s)")
    return Plan("merge", new, inputs, f"{len(new)} new lake file(s)")


def plan_staging(
    con: duckdb.DuckDBPyConnection, table: str, lake_dir: LakeRoot, sql: tuple[str, ...], params: dict | None = None,
    merge: bool = True,
) -> Plan:
    """`plan` for staging.<table> built by `sql` from the lake files and the staging tables it
    reads (whose versions depend on those files: `_version`)."""
    read = inputs_of(sql)
    attach(con, lake_dir)  # the builds that plan here read lake files on `con`
    inputs = lake_inputs(lake_dir, *read.lakes)
    inputs[REFERENCE] = reference(con, sql, read.upstream, params, lake=inputs)
    return plan(con, table, inputs, merge=merge)


def recorded_as(schema: str, table: str) -> str:
    """audit.staging_inputs names a staging table by its name, any other by schema.name."""
    return table if schema == "staging" else f"{schema}.{table}"


def forget_build(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """What was recorded of `table`'s last build (as recorded_as names it) no longer holds: another
    engine built it. Its next build here has nothing to compare with, and builds it whole."""
    run_sql(con, "audit/replace_staging_inputs", {"table_name": table})


def _record(con: duckdb.DuckDBPyConnection, table: str, inputs: dict[str, str]) -> None:
    frame = pl.DataFrame(
        {"table_name": [table] * len(inputs), "input": list(inputs), "version": list(inputs.values())},
        schema={"table_name": pl.String, "input": pl.String, "version": pl.String},
    )
    con.register("new_staging_inputs", frame)
    try:
        forget_build(con, table)
        run_sql(con, "audit/insert_staging_inputs")
    finally:
        con.unregister("new_staging_inputs")


def _with_row_ids(con: duckdb.DuckDBPyConnection, files: list[str], source: str):
    """The rows of these lake files, each with `file_index` (the file's place in `files`) and `row_id`:
    that and the row's place in the file, as one integer (the same in every scan of the relation)."""
    if not files:
        return empty_rows(source).with_columns(file_index=pl.lit(None, pl.Int64), row_id=pl.lit(None, pl.Int64))
    rows = con.read_parquet(files, union_by_name=True)
    return rows.select("*, file_index::bigint as file_index, (file_index::bigint << 32) | file_row_number as row_id")


def build_orders(con: duckdb.DuckDBPyConnection, lake_dir: LakeRoot) -> Plan:
    """staging.orders, merged from the new lake files or rebuilt from the whole lake."""
    p = plan_staging(con, "orders", lake_dir, ORDERS_SQL)
    if p.mode == "unchanged":
        return p
    files = p.new_files if p.mode == "merge" else batch_files(lake_dir, "orders")
    con.register("orders_source", _with_row_ids(con, files, "orders"))
    try:
        run_sql(con, "staging/orders_current")
        if p.mode == "rebuild":
            with transaction(con):
                run_sql(con, "staging/orders")
                digest_months(con, "orders")
                record_vacuum_baseline(con, "staging.orders", deleted_rows=0)
                _record(con, "orders", p.inputs)
        else:
            with vacuum_when_due(con, "staging.orders"), transaction(con):
                for step in ("orders_new", "orders_matches", "orders_replaced", "orders_added"):
                    run_sql(con, f"staging/{step}")
                # before the delete: orders_replaced is a view of the rows it deletes
                merge_digests(con, "orders", "orders_added", "orders_replaced")
                for step in ("orders_merge_delete", "orders_merge_insert"):
                    run_sql(con, f"staging/{step}")
                _record(con, "orders", p.inputs)
    finally:
        for view in ("orders_current", "orders_replaced"):
            con.execute(f"drop view if exists {view}")
        for temp in ("orders_new", "orders_matches", "orders_added"):
            con.execute(f"drop table if exists {temp}")
        con.unregister("orders_source")
    return p


def build_paid_orders(con: duckdb.DuckDBPyConnection, params: dict) -> Plan:
    """staging.paid_orders from staging.orders, with staging.buyers (the buyers' integer keys) and
    staging.buyer_quarters: merged for the orders of the files staging.orders merged since (and the
    buyers of those orders), rebuilt when staging.orders was rebuilt since."""
    (followed,) = inputs_of(PAID_SQL).upstream  # staging.orders: its lake files are the ones merged
    orders = dict(fetch_sql(con, "audit/staging_inputs", {"table_name": followed}))
    inputs = {
        **orders,
        REFERENCE: f"{orders.get(REFERENCE, '')}:{_sql_fingerprint(PAID_SQL)}:{params['fiscal_start_month']}",
    }
    p = plan(con, "paid_orders", inputs)
    if p.mode == "unchanged":
        return p
    run_sql(con, "staging/paid_order_rows")
    run_sql(con, "staging/buyer_quarter_rows")
    touched = (
        con.read_parquet(p.new_files, union_by_name=True).select("file_name, batch_date").distinct()
        if p.mode == "merge"
        else None
    )
    try:
        if p.mode == "rebuild":
            _rebuild_paid_orders(con, params, p)
        else:
            _merge_paid_orders(con, params, p, touched)
    finally:
        con.execute("drop view if exists paid_orders_of_buyers_touched")
        for temp in ("orders_of_touched_files", "buyers_of_touched_files", "paid_orders_matches",
                     "paid_orders_replaced", "paid_orders_added", "buyers_touched", "paid_orders_delta",
                     "paid_orders_of_delta_buyers", *(f"{state}_changes" for state in GROUP_STATES)):
            con.execute(f"drop table if exists {temp}")
        if touched is not None:
            con.unregister("touched_files")
    return p


def _rebuild_paid_orders(con: duckdb.DuckDBPyConnection, params: dict, p: Plan) -> None:
    """staging.paid_orders, its buyers and its states built whole, in one transaction."""
    with transaction(con):
        run_sql(con, "staging/buyers")
        run_sql(con, "staging/buyers_insert", {"orders": "staging.orders"})
        run_sql(con, "staging/paid_orders", params)
        _require_buyer_keys(con, "staging.paid_orders")
        run_sql(con, "staging/buyer_quarters")
        for state in GROUP_STATES:
            run_sql(con, f"staging/{state}")
        digest_months(con, "paid_orders")
        record_vacuum_baseline(con, "staging.paid_orders", deleted_rows=0)
        _record(con, "paid_orders", p.inputs)


def _merge_paid_orders(con: duckdb.DuckDBPyConnection, params: dict, p: Plan, touched) -> None:
    """The paid orders of the `touched` lake files merged, with their buyers and the states moved by
    what the merge changed, in one transaction (temp tables dropped by the caller)."""
    # staging.buyer_quarters, a fifth of the size, loses every row of the buyers touched (5 % of
    # it a day with 365 days of history): vacuumed with paid_orders, not on its own account.
    with vacuum_when_due(con, "staging.paid_orders"), transaction(con):
        con.register("touched_files", touched)
        run_sql(con, "staging/orders_of_touched_files")
        run_sql(con, "staging/buyers_of_touched_files")
        for step in ("paid_orders_matches", "paid_orders_replaced", "paid_orders_merge_delete",
                     "paid_orders_added"):
            run_sql(con, f"staging/{step}", params)
        _require_buyer_keys(con, "paid_orders_added")
        for step in ("paid_orders_merge_insert", "buyer_quarters_touched", "buyer_quarters_merge_delete",
                     "buyer_quarters_merge_insert"):
            run_sql(con, f"staging/{step}", params)
        run_sql(con, "staging/paid_orders_delta")
        for state in GROUP_STATES:
            run_sql(con, f"staging/{state}_changes")
            run_sql(con, f"staging/{state}_merge")
        merge_digests(con, "paid_orders", "paid_orders_added", "paid_orders_replaced")
        _record(con, "paid_orders", p.inputs)


def _require_buyer_keys(con: duckdb.DuckDBPyConnection, paid: str) -> None:
    """Every paid order of `paid` has its buyer's key, or the distinct-buyer counts would miss it."""
    missing = fetch_sql(con, "staging/buyers_without_key", {"paid": paid})[0][0]
    if missing:
        raise RuntimeError(f"{missing} paid orders in {paid} have no buyer key in staging.buyers")


def build_courier_names(con: duckdb.DuckDBPyConnection, lake_dir: LakeRoot) -> Plan:
    """staging.courier_names: the names of new lake files added to it (a name's code depends only on
    the name and staging.couriers), or rebuilt from every orders and courier file."""
    p = plan_staging(con, "courier_names", lake_dir, COURIER_NAMES_SQL)
    if p.mode == "unchanged":
        return p
    files = p.new_files if p.mode == "merge" else [f for f in p.inputs if f != REFERENCE]
    source = (
        con.read_parquet(files, union_by_name=True).select("courier")
        if files
        else con.sql("select null::varchar as courier where false")
    )
    con.register("courier_name_source", source)
    try:
        run_sql(con, "staging/courier_names_mapped")
        with transaction(con):
            run_sql(con, "staging/courier_names" if p.mode == "rebuild" else "staging/courier_names_merge")
            _record(con, "courier_names", p.inputs)
    finally:
        con.execute("drop view if exists courier_names_mapped")
        con.unregister("courier_name_source")
    return p


def build_event_days(con: duckdb.DuckDBPyConnection, lake_dir: LakeRoot, params: dict) -> Plan:
    """staging.event_days with its states (EVENT_STATES): the rows of new events lake files added, and
    the states moved by what they add to the users and days they touch; rebuilt from the whole lake
    when a file was replaced or removed, or the SQL or the shop aliases changed."""
    p = plan_staging(con, "event_days", lake_dir, EVENTS_SQL, params)
    if p.mode == "unchanged":
        return p
    files = p.new_files if p.mode == "merge" else batch_files(lake_dir, "events")
    con.register("event_day_source", con.read_parquet(files, union_by_name=True) if files else empty_rows("events"))
    try:
        run_sql(con, "staging/event_days_added", params)
        for macro in ("event_user_quarter_rows", "event_traffic_rows"):
            run_sql(con, f"staging/{macro}")
        with transaction(con):
            if p.mode == "rebuild":
                for step in ("event_days", *EVENT_STATES):
                    run_sql(con, f"staging/{step}")
                digest_months(con, "event_days")
            else:  # the users' state moves by the new rows before they join the rows it looks up
                for step in ("event_user_quarters_changes", "event_user_quarters_merge"):
                    run_script(con, f"staging/{step}")
                run_sql(con, "staging/event_days_insert")
                run_script(con, "staging/event_traffic_merge")
                con.execute("create or replace temp table event_days_removed as select * from event_days_added where false")
                merge_digests(con, "event_days", "event_days_added", "event_days_removed")
            _record(con, "event_days", p.inputs)
    finally:
        for temp in ("event_days_added", "event_days_removed", "event_buy_days_held", "event_user_quarters_changes",
                     "event_days_touched", "event_days_of_days_touched"):
            con.execute(f"drop table if exists {temp}")
        con.unregister("event_day_source")
    return p


def build_when_changed(
    con: duckdb.DuckDBPyConnection, table: str, lake_dir: LakeRoot, sql: tuple[str, ...], params: dict
) -> Plan:
    """staging.<table> rebuilt by its SQL when a lake file or a staging table it reads changed (or
    its SQL did); left as it is otherwise."""
    p = plan_staging(con, table, lake_dir, sql, params, merge=False)
    if p.mode == "unchanged":
        return p
    for source in inputs_of(sql).lakes:
        register_lake(con, lake_dir, source)
    with transaction(con):
        for name in sql:
            run_sql(con, name, params)
        digest_months(con, table)
        _record(con, table, p.inputs)
    return p


def mart_sql(mart: str) -> tuple[str, ...]:
    """The SQL computing marts.<mart>: its rows, in the quarters build_quarters names."""
    return ("marts/build_quarters", f"marts/{mart}")


def mart_plan(con: duckdb.DuckDBPyConnection, mart: str, params: dict) -> Plan:
    """What marts.<mart> must compute: the quarters of the months whose digests (audit.month_digests)
    differ from those it was built from (`quarters`), every quarter when its SQL, a parameter or a
    small staging table it reads whole changed (`rebuild`), or nothing. Record the plan's inputs
    with `record_mart` once the table is built."""
    sql = mart_sql(mart)
    upstream = inputs_of(sql).upstream
    digested = tuple(u for u in upstream if u in DIGESTED)
    whole = tuple(u for u in upstream if u not in DIGESTED)
    states = [_sql_fingerprint(MAINTAINED_SQL[u]) for u in digested if u in MAINTAINED_SQL]
    inputs = {REFERENCE: f"{reference(con, sql, whole, params)}/{','.join(digested)}/{','.join(states)}"}
    for table, month, rows, digest in fetch_sql(con, "staging/month_digests", {"table_names": list(digested)}):
        inputs[f"{table}:{month}"] = f"{rows}:{digest}"
    before = dict(fetch_sql(con, "audit/staging_inputs", {"table_name": recorded_as("marts", mart)}))

    def months(keys) -> tuple[str, ...]:
        return tuple(sorted({k.split(":", 1)[1] for k in keys if k != REFERENCE}))

    if not table_exists(con, "marts", mart) or not before:
        return Plan("rebuild", [], inputs, "first build", months(inputs), months(inputs))
    if before.get(REFERENCE) != inputs[REFERENCE]:
        reason = "its SQL, a parameter or a staging table it reads whole changed"
        return Plan("rebuild", [], inputs, reason, months(inputs), months(inputs))
    touched = months(k for k in before.keys() | inputs.keys() if before.get(k) != inputs.get(k))
    if not touched:
        return Plan("unchanged", [], inputs, "nothing it reads changed")
    return Plan("quarters", [], inputs, f"rows of {len(touched)} month(s) changed: {', '.join(m[:7] for m in touched)}",
                touched, months(before.keys() | inputs.keys()))


def record_mart(con: duckdb.DuckDBPyConnection, mart: str, p: Plan) -> None:
    _record(con, recorded_as("marts", mart), p.inputs)


def replace_mart_rows(con: duckdb.DuckDBPyConnection, mart: str, quarter_of: str, params: dict, whole: bool) -> None:
    """marts.<mart> takes the rows its SQL computed (temp table mart_rows): all of them, or those of
    the quarters in build_quarters in place of the ones it held. `quarter_of` is the SQL giving a
    row's quarter label; only identifiers and that constant are spliced, never values."""
    table = f"marts.{identifier(mart)}"
    if whole:
        con.execute(f"create or replace table {table} as select * from mart_rows")  # noqa: S608
        return
    bound = {k: v for k, v in params.items() if f"${k}" in quarter_of} or None
    con.execute(f"delete from {table} where {quarter_of} in (select quarter from build_quarters)", bound)  # noqa: S608
    con.execute(f"insert into {table} by name select * from mart_rows")  # noqa: S608
