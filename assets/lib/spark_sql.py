"""The Spark SQL of staging and marts, translated from their DuckDB SQL at build time (`make lineage`)
into the committed `sql/spark/`: one definition, two engines.

Each statement is parsed in DuckDB's dialect with sqlglot, its macros (sql/setup, and the table
macros of sql/staging) expanded in place, its parameters that name tables spliced, and the few
DuckDB constructs Spark has no word for rewritten into ones with the same meaning (below); then it
is written in Spark's dialect, its value parameters left bound (`:fiscal_start_month`, which
`SparkSession.sql(..., args=...)` binds). Like `sql_lineage.py`, a build-time tool: runs read the
committed files and never import sqlglot (tests/test_spark_sql.py fails when a file is stale or a
mart has none).
"""

from __future__ import annotations

import shutil
from functools import cache

import sqlglot
from sqlglot import exp

from .spark_plan import SPARK_DIR, SPARK_FILES, TABLE_PARAMS
from .sql import SQL_DIR, sql_text

MACRO_FILES = ("setup/create_macros", "setup/create_metrics")
HEADER = "-- Generated from sql/{name}.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.\n"


def _table_macro_files() -> list[str]:
    """The files of sql/staging that define a (temp, table) macro the rebuilds call."""
    return [
        f"staging/{path.stem}" for path in sorted((SQL_DIR / "staging").glob("*.sql"))
        if " macro " in path.read_text(encoding="utf-8")
    ]


@cache
def _macros() -> dict[str, tuple[list[str], exp.Expression]]:
    """name -> (parameter names, body) of every macro, scalar and table."""
    found = {}
    for name in (*MACRO_FILES, *_table_macro_files()):
        for statement in sqlglot.parse(sql_text(name), read="duckdb"):
            if isinstance(statement, exp.Create) and statement.args.get("kind") == "MACRO":
                udf = statement.this
                found[udf.this.name.lower()] = ([p.name for p in udf.expressions], statement.expression)
    return found


def _substitute(body: exp.Expression, names: list[str], args: list[exp.Expression]) -> exp.Expression:
    """The macro's body with each parameter replaced by its argument."""
    values = dict(zip(names, args, strict=True))

    def swap(node):
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            value = values[node.name].copy()
            return value if isinstance(value, exp.Literal) else exp.paren(value)
        return node

    return body.copy().transform(swap)


def _table_argument(arg: exp.Expression) -> str:
    if isinstance(arg, exp.Literal) and arg.is_string:
        return arg.this
    raise ValueError(f"a table macro's table argument must be a table name in quotes, not {arg.sql('duckdb')}")


def _expand_macros(tree: exp.Expression) -> exp.Expression:
    """Every macro call replaced by its body, until none is left (macros call macros)."""
    macros = _macros()

    def expand(node):
        if isinstance(node, exp.Anonymous) and node.name.lower() in macros:
            names, body = macros[node.name.lower()]
            if isinstance(body, exp.Query):  # a table macro: its body as a subquery
                return node  # expanded where it stands in FROM, below
            return exp.paren(_expand_macros(_substitute(body, names, list(node.expressions))))
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous) and node.this.name.lower() in macros:
            names, body = macros[node.this.name.lower()]
            args = list(node.this.expressions)
            tables = {n: a for n, a in zip(names, args, strict=True) if isinstance(a, exp.Literal) and a.is_string}
            scalars = [n for n in names if n not in tables]
            query = _expand_macros(_substitute(body, scalars, [a for n, a in zip(names, args) if n in scalars]))
            query = _replace_query_tables(query, {n: _table_argument(a) for n, a in tables.items()})
            alias = node.alias or node.this.name.lower()
            return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias)))
        return node

    return tree.transform(expand)


def _replace_query_tables(tree: exp.Expression, tables: dict[str, str]) -> exp.Expression:
    """`query_table(name)` (DuckDB: the table a string names) as the table it names."""

    def swap(node):
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous) and node.this.name.lower() == "query_table":
            (arg,) = node.this.expressions
            if isinstance(arg, exp.Column) and arg.name in tables:
                table = tables[arg.name]
            elif isinstance(arg, exp.Placeholder) and arg.name in tables:
                table = tables[arg.name]
            elif isinstance(arg, exp.Literal) and arg.is_string:
                table = arg.this
            else:
                raise ValueError(f"query_table of {arg.sql('duckdb')}: no table given for it")
            replaced = exp.to_table(table)
            if node.alias:
                replaced.set("alias", exp.TableAlias(this=exp.to_identifier(node.alias)))
            return replaced
        return node

    return tree.transform(swap)


# DuckDB's 128-bit integers (file ranks shifted above a line number; a quarter's days as bits) have
# no Spark type: a shift by a constant becomes the same product in a 38-digit decimal.
def _hugeint_shift(node):
    if (isinstance(node, exp.BitwiseLeftShift) and isinstance(node.this, exp.Cast)
            and node.this.to.this == exp.DataType.Type.INT128 and isinstance(node.expression, exp.Literal)):
        return exp.Mul(this=exp.cast(node.this.this, "DECIMAL(38, 0)"),
                       expression=exp.Literal.number(2 ** int(node.expression.this)))
    return node


def _bits_counted(node):
    """bit_count(bit_or(1 << position)) counts the distinct positions set: Spark counts them."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "bit_count" or isinstance(node, exp.BitwiseCount):
        (inner,) = [node.this] if isinstance(node, exp.BitwiseCount) else node.expressions
        filtered = inner if isinstance(inner, exp.Filter) else None
        aggregate = filtered.this if filtered else inner
        if isinstance(aggregate, (exp.BitwiseOrAgg,)) or (isinstance(aggregate, exp.Anonymous) and aggregate.name.lower() == "bit_or"):
            shifted = aggregate.this if isinstance(aggregate, exp.BitwiseOrAgg) else aggregate.expressions[0]
            if isinstance(shifted, exp.BitwiseLeftShift) and shifted.this.find(exp.Literal).this == "1":
                counted = exp.Count(this=exp.Distinct(expressions=[shifted.expression.copy()]))
                return exp.Filter(this=counted, expression=filtered.expression.copy()) if filtered else counted
    return node


def _hash(node):
    """DuckDB's hash of several values tells (null, 'a') from ('a', null); Spark's hashes skip nulls:
    each value goes in with whether it is null."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
        parts = []
        for arg in node.expressions:
            parts += [arg.copy(), exp.Is(this=arg.copy(), expression=exp.Null())]
        return exp.Anonymous(this="xxhash64", expressions=parts)
    return node


def _functions(node):
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == "to_months":
            return exp.Anonymous(this="make_ym_interval", expressions=[exp.Literal.number(0), *node.expressions])
        if name == "error":
            return exp.Anonymous(this="raise_error", expressions=node.expressions)
    if isinstance(node, exp.Window) and not node.args.get("order") and isinstance(node.this, exp.RowNumber):
        # DuckDB numbers the rows of OVER () in no stated order; Spark asks for one
        node.set("order", exp.Order(expressions=[exp.Ordered(this=exp.Anonymous(this="monotonically_increasing_id"))]))
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
    return node


def _cast_each(node):
    """`unnest(list)::t`: Spark takes no generator inside a cast; the list's items are cast instead."""
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Explode):
        items = exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[node.to.copy()], nested=True)
        return exp.Explode(this=exp.Cast(this=node.this.this.copy(), to=items))
    return node


def _epoch(node):
    """epoch(t) is t's seconds since 1970, epoch(a - b) the seconds between: both in Spark from
    t's microseconds (a date at midnight UTC, the engine's session time zone)."""
    if isinstance(node, exp.TimeToUnix):
        times = [node.this.this, node.this.expression] if isinstance(node.this, exp.Sub) else [node.this]
        micros = [exp.Anonymous(this="unix_micros", expressions=[exp.cast(t.copy(), "TIMESTAMP")]) for t in times]
        value = micros[0] if len(micros) == 1 else exp.paren(exp.Sub(this=micros[0], expression=micros[1]))
        return exp.Div(this=exp.cast(value, "DOUBLE"), expression=exp.Literal.number(1000000))
    return node


def _columns_of(table: str) -> list[str]:
    if table.startswith("lake_"):
        from .parse import lake_schema

        return list(lake_schema(table.removeprefix("lake_")))
    raise ValueError(f"* EXCLUDE over {table}: its columns are not known to the translation")


def _star_exclude(select: exp.Expression) -> exp.Expression:
    """`t.* exclude (a, b)` as t's other columns, named (Spark has no EXCLUDE)."""
    if not isinstance(select, exp.Select):
        return select
    aliases = {}
    for source in [select.args.get("from_"), *(select.args.get("joins") or [])]:
        if source is not None:
            table = source.this if not isinstance(source, exp.Table) else source
            if isinstance(table, exp.Table):
                aliases[table.alias_or_name] = table.name
    projections = []
    for item in select.expressions:
        star = item.this if isinstance(item, exp.Column) and isinstance(item.this, exp.Star) else item
        excluded = star.args.get("except_") or star.args.get("except") if isinstance(star, exp.Star) else None
        if excluded:
            alias = item.table if isinstance(item, exp.Column) else next(iter(aliases))
            drop = {e.name for e in excluded}
            projections += [exp.column(c, table=alias) for c in _columns_of(aliases[alias]) if c not in drop]
        else:
            projections.append(item)
    select.set("expressions", projections)
    return select


def _union_by_name(node):
    """UNION ALL BY NAME of two selects whose columns already line up by name is a plain UNION ALL."""
    if isinstance(node, exp.Union) and node.args.get("by_name"):
        left, right = (_output_names(node.this), _output_names(node.expression))
        if left != right:
            raise ValueError(f"UNION BY NAME of columns in another order: {left} against {right}")
        node.set("by_name", None)
    return node


def _output_names(query: exp.Expression) -> list[str]:
    select = query
    if isinstance(query, exp.Select) and len(query.expressions) == 1 and isinstance(query.expressions[0], exp.Star):
        name = query.args["from_"].this.name
        select = query.find_ancestor(exp.With) or query.parent
        while select is not None and not isinstance(select, exp.Query):
            select = select.parent
        ctes = {c.alias: c.this for c in (select.args.get("with_") or exp.With()).expressions} if select else {}
        select = ctes.get(name)
        if select is None:
            raise ValueError(f"UNION BY NAME over {name}: its columns are not written out")
    return [e.alias_or_name for e in select.expressions]


# DuckDB's words rewritten into Spark's, in this order, after the macros are expanded.
RULES = (_hugeint_shift, _bits_counted, _hash, _functions, _cast_each, _epoch, _union_by_name, _star_exclude)


def _flat_names(node):
    """`staging.orders` -> `staging__orders`: the Spark engine keeps every table as a temporary
    view over its Parquet (assets/lib/spark_engine.py), and those have no schema."""
    if isinstance(node, exp.Table) and node.db and not isinstance(node.this, exp.Anonymous):
        flat = exp.to_table(f"{node.db}__{node.name}")
        if node.alias:
            flat.set("alias", node.args["alias"].copy())
        return flat
    return node


def _statement(tree: exp.Expression) -> tuple[str, str, exp.Expression]:
    """One DuckDB statement as what the Spark engine does: (action, relation, query)."""
    if isinstance(tree, exp.Create):
        kind = tree.args.get("kind")
        properties = (tree.args.get("properties") or exp.Properties()).expressions
        temporary = any(isinstance(p, exp.TemporaryProperty) for p in properties)
        target = tree.this
        if isinstance(target, exp.Schema):  # create table t (columns): no rows, those columns
            columns = [exp.alias_(exp.cast(exp.Null(), c.args["kind"]), c.name) for c in target.expressions]
            return "table_if_missing", target.this.name, exp.select(*columns).where(exp.false())
        if kind == "VIEW" or (kind == "TABLE" and temporary):
            return "view", target.name, tree.expression
        if kind == "TABLE":
            return "table", target.name, tree.expression
    if isinstance(tree, exp.Insert):
        return "insert", tree.this.name, tree.expression
    raise ValueError(f"no Spark form for the statement {tree.sql('duckdb')[:80]}")


def translate(name: str) -> list[tuple[str, str, str]]:
    """The Spark statements of sql/<name>.sql: (action, relation, Spark SQL query)."""
    out = []
    for tree in sqlglot.parse(sql_text(name), read="duckdb"):
        if tree is None:
            continue
        tree = _replace_query_tables(tree, TABLE_PARAMS.get(name, {}))
        tree = _expand_macros(tree)
        for rule in (*RULES, _flat_names):
            tree = tree.transform(rule)
        action, relation, query = _statement(tree)
        out.append((action, relation, query.sql(dialect="spark", pretty=True, comments=False)))
    return out


SEPARATOR = "\n;\n"


def generated(name: str) -> str:
    return HEADER.format(name=name) + SEPARATOR.join(
        f"-- {action} {relation}\n{query}" for action, relation, query in translate(name)
    ) + "\n"


def write_all() -> list[str]:
    """sql/spark/ written anew from the DuckDB SQL; the files written."""
    written = []
    for name in SPARK_FILES:
        target = SPARK_DIR / f"{name}.sql"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(generated(name), encoding="utf-8")
        written.append(name)
    return written


def main() -> None:
    shutil.rmtree(SPARK_DIR, ignore_errors=True)
    print(f"{len(write_all())} Spark SQL files written to {SPARK_DIR}")


if __name__ == "__main__":
    main()
