"""Which quarters a build of a mart changed (contract §6: restatement of past quarters).

Before a mart is built its rows are kept aside (only those of the quarters computed, build_quarters,
when it recomputes some quarters: the others are left as they are); afterwards the two versions
are compared row by row on the table's key. A quarter that existed before and now has other numbers, or rows added or
removed, is restated; the reason names the columns that changed. A quarter seen for the first time
is new, not restated. Only identifiers are spliced into the SQL here, never values.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from .sql import column_names, identifier, string_literal, table_exists

BEFORE = "_mart_before_rebuild"


def _rows(table: str, quarter_of: str, within: bool) -> str:
    """The rows of marts.<table> compared: all, or those of the quarters in build_quarters."""
    rows = f"select * from marts.{identifier(table)}"
    return f"{rows} where {quarter_of} in (select quarter from build_quarters)" if within else rows


def _bound(quarter_of: str, fiscal_start_month: int) -> dict | None:
    return {"fiscal_start_month": fiscal_start_month} if "$fiscal_start_month" in quarter_of else None


def keep_previous(
    con: duckdb.DuckDBPyConnection, table: str, quarter_of: str = "quarter", fiscal_start_month: int = 1,
    within: bool = False,
) -> bool:
    """Set the current rows aside (`within`: those of the quarters in build_quarters); False when
    the mart does not exist yet."""
    exists = table_exists(con, "marts", table)
    if exists:
        con.execute(
            f"create or replace temp table {BEFORE} as {_rows(table, quarter_of, within)}",
            _bound(quarter_of, fiscal_start_month) if within else None,  # the whole table names no quarter
        )
    return exists


def changed_quarters(
    con: duckdb.DuckDBPyConnection,
    table: str,
    keys: tuple[str, ...],
    quarter_of: str,
    current: str | None,
    fiscal_start_month: int,
    within: bool = False,
) -> list[tuple[str, str]]:
    """(quarter, reason) for every past quarter of the previous version whose rows changed.

    `quarter_of` is the SQL expression giving a row's quarter label from its own columns. `current`
    is the quarter of the newest batch: its numbers move with every daily batch, which is no
    restatement, unless an earlier quarter was restated in the same rebuild (then what changed in
    the current quarter is derived from it: QoQ, returning buyers, years to date). `within`: as
    for `keep_previous`."""
    rows = _quarter_changes(con, table, keys, quarter_of, fiscal_start_month, within)
    con.execute(f"drop table if exists {BEFORE}")
    reasons = [(quarter, _reason(added, removed, changed)) for quarter, added, removed, changed in rows]
    if current is None:
        return reasons
    past = [(q, r) for q, r in reasons if q < current]
    return past + [(q, f"{r} (derived from a restated earlier quarter)") for q, r in reasons if q >= current] if past else []


def _quarter_changes(
    con: duckdb.DuckDBPyConnection, table: str, keys: tuple[str, ...], quarter_of: str, fiscal_start_month: int,
    within: bool,
) -> list[tuple[str, int, int, list[str]]]:
    """(quarter, rows added, rows removed, columns changed) of each quarter of the previous version
    (the BEFORE table) whose rows differ from the table's now, keys matched null-safe."""
    before = set(column_names(con, "main", BEFORE))  # a temp table sits in schema main of database temp
    # a column added or dropped by a new version of the code is not a change in the data
    values = [c for c in column_names(con, "marts", table) if c not in keys and c in before]
    join = " and ".join(f"o.{identifier(k)} is not distinct from n.{identifier(k)}" for k in keys)
    changes = ", ".join(
        f"case when o.{identifier(c)} is distinct from n.{identifier(c)} then {string_literal(c)} end" for c in values
    )
    return con.execute(
        f"""
        with
        old as (select *, {quarter_of} as _quarter, true as _present from {BEFORE}),
        new as (select *, {quarter_of} as _quarter, true as _present from ({_rows(table, quarter_of, within)})),
        pairs as (
            select
                coalesce(o._quarter, n._quarter) as quarter,
                o._present is null as added,
                n._present is null as removed,
                list_filter([{changes}], lambda c: c is not null) as changed
            from old as o
            full join new as n on {join}
        ),
        per_quarter as (
            select
                quarter,
                count(*) filter (where added) as added,
                count(*) filter (where removed) as removed,
                list_sort(list_distinct(flatten(list(changed) filter (where not added and not removed))))
                    as changed
            from pairs
            group by quarter
        )
        select quarter, added, removed, changed
        from per_quarter
        where quarter in (select _quarter from old) and (added > 0 or removed > 0 or len(changed) > 0)
        order by quarter
        """,
        _bound(quarter_of, fiscal_start_month),
    ).fetchall()


def _reason(added: int, removed: int, changed: list[str]) -> str:
    """What changed in a quarter, as audit.restatements says it."""
    parts = []
    if changed:
        parts.append("changed: " + ", ".join(changed))
    if added:
        parts.append(f"{added} row(s) added")
    if removed:
        parts.append(f"{removed} row(s) removed")
    return "; ".join(parts)


def current_quarter(con: duckdb.DuckDBPyConnection, fiscal_start_month: int) -> str | None:
    """The quarter of the newest batch date loaded so far: the one still in progress."""
    return con.execute(
        "select quarter_label(quarter_start(max(batch_date), $m), $m) from audit.loads "
        "where outcome = 'loaded' and batch_date is not null",
        {"m": fiscal_start_month},
    ).fetchall()[0][0]


def record(con: duckdb.DuckDBPyConnection, run_id: str, table: str, restated: list[tuple[str, str]]) -> None:
    if not restated:
        return
    now = dt.datetime.now()
    con.executemany(
        "insert into audit.restatements (run_id, table_name, quarter, reason, restated_at) values (?, ?, ?, ?, ?)",
        [(run_id, f"marts.{table}", quarter, reason, now) for quarter, reason in restated],
    )
