"""What the SQL files read, taken from the SQL itself: the relations a table's files read (its
inputs in the Dagster graph and for the incremental planner), and where each column they build
comes from (the column lineage the Dagster UI shows), written to sql/lineage.json.

Build time only: `make lineage` (`python -m assets.lib.sql_lineage --write`) derives the file
again, and tests/test_sql_lineage.py fails while it is stale. Runs and the definitions read the
file (lineage_file.py) and never import this module or sqlglot.

Parsed with sqlglot (DuckDB dialect). DuckDB's own parser could not serve: `get_table_names` binds
the statement, so it fails on whatever the catalog lacks (the macros, the temp tables, the
schemas: 43 of the 82 staging, mart and audit files), and `json_serialize_sql` takes a SELECT
only, not the CREATE/INSERT/MERGE of a build. Each file is parsed once per process (`statements`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from functools import cache

import duckdb
import sqlglot
import sqlglot.lineage
from sqlglot import exp

from .defaults import register_defaults
from .incremental import (
    LAKE_VIEW_PREFIX, MAINTAINED_WITH, REGISTERED, REGISTERED_COLUMNS, SHIPPED_VIEW_PREFIX, Inputs, mart_sql,
)
from .lineage_file import LINEAGE_FILE, REGENERATE, render, sql_digest
from .parse import LAKE_SCHEMAS, lake_schema
from .sql import sql_text
from .tables import MARTS, TABLES

DIALECT = "duckdb"
QUERY_TABLE = "query_table"  # DuckDB's table function reading the relation a string names


@cache
def statements(name: str) -> tuple[exp.Expr, ...]:
    """The statements of sql/<name>.sql, parsed."""
    return tuple(s for s in sqlglot.parse(sql_text(name), read=DIALECT) if s is not None)


def relation_name(table: exp.Table) -> str:
    """`schema.name`, or `name` for a relation of no schema (a temp table, a registered frame)."""
    return ".".join(part.lower() for part in (table.db, table.name) if part)


def _target(statement: exp.Expr) -> exp.Table | None:
    """The relation a CREATE, INSERT, DELETE or MERGE writes (a macro is no relation)."""
    if isinstance(statement, exp.Create) and statement.kind == "MACRO":
        return None
    if isinstance(statement, (exp.Create, exp.Insert, exp.Delete, exp.Merge)):
        target = statement.this
        return target.this if isinstance(target, exp.Schema) else target
    return None


@cache
def table_macros(names: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], exp.Query]]:
    """The table macros (`create macro f(p, ...) as table select ...`) the files define: name ->
    (parameters, body)."""
    return {
        s.this.this.name.lower(): (tuple(p.name.lower() for p in s.this.expressions), s.expression)
        for name in names
        for s in statements(name)
        if isinstance(s, exp.Create) and s.kind == "MACRO" and isinstance(s.expression, exp.Query)
    }


def _string(arg: exp.Expr) -> str | None:
    return arg.name.lower() if isinstance(arg, exp.Literal) and arg.is_string else None


def _expand_call(table: exp.Table, macros: dict) -> exp.Expr:
    """A table function call in a FROM as the relation it reads: `query_table('schema.name')` as
    that table, a table macro's call as its body (a subquery) over the relations and values its
    caller passed. Any other call (a built-in like range, a relation named by a bound parameter,
    `query_table($table)`, which only the caller knows) is left as it is."""
    call = table.this
    function = call.name.lower()
    alias = table.args.get("alias")
    if function == QUERY_TABLE and (named := _string(call.expressions[0])) is not None:
        relation = exp.to_table(named)
        relation.set("alias", alias.copy() if alias else None)
        return relation
    if function not in macros:
        return table
    params, body = macros[function]
    passed = dict(zip(params, call.expressions))

    def substitute(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in passed:
            return passed[node.name.lower()].copy()
        return node

    rows = expanded(body.transform(substitute), macros)
    return exp.Subquery(this=rows, alias=alias.copy() if alias else exp.TableAlias(this=exp.to_identifier(function)))


def expanded(statement: exp.Expr, macros: dict) -> exp.Expr:
    """The statement with its table function calls as the relations they read (`_expand_call`)."""
    return statement.transform(
        lambda node: _expand_call(node, macros) if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous)
        else node
    )


def _reads(statement: exp.Expr, macros: dict) -> Iterator[str]:
    if isinstance(statement, exp.Create) and statement.kind == "MACRO":
        return  # its body reads what its callers pass it
    statement = expanded(statement, macros)
    target = _target(statement)
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for table in statement.find_all(exp.Table):
        if table is target or isinstance(table.this, exp.Func):
            continue  # a built-in table function (range, unnest) or an unbound query_table: no relation
        if table.db or table.name.lower() not in ctes:
            yield relation_name(table)


@cache
def reads(names: tuple[str, ...]) -> frozenset[str]:
    """The relations the statements of these SQL files read, but those the files write themselves
    (the table they build, the temp tables and views of its steps, the state kept with it)."""
    macros = table_macros(names)
    read, written = set(), set()
    for name in names:
        for statement in statements(name):
            read.update(_reads(statement, macros))
            if (target := _target(statement)) is not None:
                written.add(relation_name(target))
    return frozenset(read - written)


Column = tuple[str, str]  # (relation, column)
ROW_ID = "rowid"
MAIN = "main"  # the schema a relation named without one is qualified with while parsing


class Catalog:
    """The relations SQL files build, run in their build order: each relation's columns and, for
    each, the columns of the relations it is computed from (a column an expression reads, a join
    key or a filter are not among them: sqlglot's lineage of the select)."""

    def __init__(self, columns: dict[str, tuple[str, ...]], sources: dict[str, dict[str, set[Column]]]):
        self.columns = dict(columns)  # relation -> its columns, in order
        self.sources = {relation: dict(by_column) for relation, by_column in sources.items()}

    def run(self, names: tuple[str, ...]) -> None:
        """Take in the relations the files' CREATE ... AS and INSERT ... SELECT statements write."""
        macros = table_macros(names)
        for name in names:
            for statement in statements(name):
                if (target := _target(statement)) is None or isinstance(statement, (exp.Delete, exp.Merge)):
                    continue
                relation = relation_name(target)
                query = statement.expression
                if isinstance(statement.this, exp.Schema) and not isinstance(query, exp.Query):  # columns listed
                    self.columns[relation] = tuple(c.name.lower() for c in statement.this.expressions)
                    self.sources[relation] = {}
                elif isinstance(query, exp.Query):
                    self._take(relation, expanded(query, macros), into=isinstance(statement, exp.Insert))

    def _take(self, relation: str, query: exp.Query, into: bool) -> None:
        selected = self._column_sources(query)
        if not into:
            self.columns[relation] = tuple(selected)
            self.sources[relation] = {c: set(s) for c, s in selected.items()}
            return
        known = self.sources.setdefault(relation, {})
        # INSERT ... SELECT fills the table's columns by position
        for column, sources in zip(self.columns.get(relation, tuple(selected)), selected.values()):
            known.setdefault(column, set()).update(sources)

    def _schema(self) -> dict:
        schema: dict[str, dict[str, dict[str, str]]] = {}
        for relation, columns in self.columns.items():
            db, _, table = relation.rpartition(".")
            schema.setdefault(db or MAIN, {})[table] = dict.fromkeys(columns, "unknown")
        return schema

    def _column_sources(self, query: exp.Query) -> dict[str, set[Column]]:
        """Each output column of the query -> the (relation, column) it is computed from."""
        # DuckDB's row id is no column a table lists (the merges match rows by it)
        query = query.transform(lambda n: exp.null() if isinstance(n, exp.Column) and n.name.lower() == ROW_ID else n)
        nodes = sqlglot.lineage.lineage(None, query, self._schema(), dialect=DIALECT, db=MAIN, trim_selects=False)
        return {
            column.lower(): {
                (relation_name(n.source).removeprefix(f"{MAIN}."), n.name.rpartition(".")[2].lower())
                for n in node.walk()
                if not n.downstream and isinstance(n.source, exp.Table)
            }
            for column, node in nodes.items()
        }

    def origins(self, relation: str, column: str, stop: set[str]) -> set[Column]:
        """The columns of the relations in `stop` that relation.column is computed from, through
        every relation between (those that reach none of them give nothing)."""
        found, seen, todo = set(), set(), [(relation, column)]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if current[0] in stop and current[0] != relation:
                found.add(current)
            else:
                todo.extend(self.sources.get(current[0], {}).get(current[1], ()))
        return found


def inputs_read(sql: tuple[str, ...]) -> Inputs:
    """What a table built by these SQL files reads, from the relations the SQL names: the lakes
    (their views, or relations a builder registers from their files), and the staging tables
    (MAINTAINED_WITH: a state stands for the table it is kept with)."""
    lakes, upstream = set(), set()
    for relation in (r for read in reads(sql) for r in REGISTERED.get(read, (read,))):
        schema, _, table = relation.rpartition(".")
        if schema == "staging":
            upstream.add(MAINTAINED_WITH.get(table, table))
        elif not schema and relation.startswith(LAKE_VIEW_PREFIX):
            lakes.add(relation.removeprefix(LAKE_VIEW_PREFIX))
        elif schema or not relation.startswith(SHIPPED_VIEW_PREFIX):
            raise ValueError(f"{', '.join(sql)} read(s) {relation}: no lake, staging table or registered relation")
    return Inputs(tuple(sorted(lakes)), tuple(sorted(upstream)))


MART_ROWS = "mart_rows"  # the temp table a mart's SQL computes its rows into (assets/marts.py)


def _builds() -> list[tuple[str, tuple[str, ...], str]]:
    """Every staging and mart asset in build order: its key, its SQL files, the relation they build."""
    return [
        *((f"{t.key_prefix}/{n}", t.sql_files(n), f"{t.key_prefix}.{n}") for n, t in TABLES.items()),
        *((f"marts/{m}", mart_sql(m), MART_ROWS) for m in MARTS),
    ]


def _shipped_columns(views: set[str]) -> dict[str, tuple[str, ...]]:
    """The columns of the reference rows shipped with the code (lib/defaults.py)."""
    with duckdb.connect() as con:
        register_defaults(con)
        return {v: tuple(name for name, *_ in con.execute(f"describe {v}").fetchall()) for v in views}  # noqa: S608


def _register(catalog: Catalog) -> None:
    """The relations builders register (incremental.REGISTERED), as the columns of the relations
    they hold rows of, once those are known."""
    for relation, holds in REGISTERED.items():
        if all(h in catalog.columns for h in holds):
            columns = tuple(dict.fromkeys(c for h in holds for c in catalog.columns[h]))
            catalog.columns[relation] = columns + REGISTERED_COLUMNS.get(relation, ())
            catalog.sources[relation] = {c: {(h, c) for h in holds if c in catalog.columns[h]} for c in columns}


def derive() -> dict:
    """The document of sql/lineage.json, from the SQL files as they are: each staging and mart
    asset's SQL files, the lakes and staging tables they read, and each column's lineage (the
    columns of raw/<source> and of the staging tables upstream it is computed from, traced through
    temp tables and the states kept with a table)."""
    builds = _builds()
    lakes = {f"{LAKE_VIEW_PREFIX}{s}": tuple(lake_schema(s)) for s in LAKE_SCHEMAS}
    shipped = {r for _, sql, _ in builds for r in reads(sql) if r.startswith(SHIPPED_VIEW_PREFIX)}
    catalog = Catalog({**lakes, **_shipped_columns(shipped)}, {})
    assets = {f"{LAKE_VIEW_PREFIX}{s}": f"raw/{s}" for s in LAKE_SCHEMAS}
    assets.update({built: key for key, _, built in builds if built != MART_ROWS})
    derived = {}
    for key, sql, built in builds:
        _register(catalog)
        catalog.run(sql)
        read = inputs_read(sql)
        derived[key] = {
            "sql": list(sql),
            "lakes": list(read.lakes),
            "upstream": list(read.upstream),
            "columns": {  # in the table's order
                column: sorted(
                    f"{assets[relation]}.{name}" for relation, name in catalog.origins(built, column, set(assets))
                )
                for column in catalog.columns[built]
            },
        }
    return {
        "generated_by": f"{REGENERATE} (python -m assets.lib.sql_lineage --write): do not edit",
        "sql_digest": sql_digest(name for _, sql, _ in builds for name in sql),
        "assets": dict(sorted(derived.items())),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m assets.lib.sql_lineage", description="The lineage of the SQL files, derived with sqlglot."
    )
    parser.add_argument("--write", action="store_true", help=f"write {LINEAGE_FILE} (default: print it)")
    text = render(derive())
    if parser.parse_args(argv).write:
        LINEAGE_FILE.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
