"""What the SQL files read, taken from the SQL itself: the relations a table's files read (its
inputs in the Dagster graph and for the incremental planner), and where each column they build
comes from (the column lineage the Dagster UI shows).

Parsed with sqlglot (DuckDB dialect). DuckDB's own parser could not serve: `get_table_names` binds
the statement, so it fails on whatever the catalog lacks (the macros, the temp tables, the
schemas: 43 of the 82 staging, mart and audit files), and `json_serialize_sql` takes a SELECT
only, not the CREATE/INSERT/MERGE of a build. Each file is parsed once per process (`statements`).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import sqlglot
import sqlglot.lineage
from sqlglot import exp

from .sql import sql_text

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
