"""Great Expectations run as SQL inside the pipeline's DuckDB (stack-notes §1, "GX pushed down").

GX's SQL datasource is handed cursors of the pipeline's own connection: a second `duckdb.connect`
to the same file with another configuration is refused, and a cursor is a second handle on the
same open database. Every expectation becomes an aggregate query inside DuckDB, so no row is
converted to pandas and DuckDB spills within its memory limit instead.

A cursor is another connection: it sees tables and views of the database, not the TEMP objects or
registered frames of the pipeline's connection. What a session validates is therefore a real
table or view (the `scratch` schema), dropped by its caller afterwards.

GX is imported by `GxSession()` only, once per process: it costs seconds, and a run with nothing
new to validate must not pay for it.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import re
import sys
import threading
import types
from contextlib import contextmanager
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .collector import collector_paused
from .sql import CHECK_VIEWS, identifier, string_literal

if TYPE_CHECKING:
    import duckdb

    from .expectations import SuiteResult

_installed = False
_installing = threading.Lock()

# The rows a suite judges from a copy in memory (about 200 MB of orders): every scan of a view runs
# its query again, which costs more than the copy for small batches (a batch of many small files
# is opened once); a larger batch is judged through a view, where a copy would spill to disk.
COPY_JUDGED_ROWS = 1_000_000

# Modules GX executes when it is imported, for expectations this project never runs: the chart and
# the distributions of expect_column_kl_divergence_to_be_less_than and the KS-test metrics (4.4 s
# of GX's 9.4 s import measured here). They stand in as modules that import the real one the first
# time anything of theirs is used.
DEFERRED = ("altair", "scipy.stats")
# GX imports pyspark when it is installed (the `spark` extra) for its Spark datasources, which the
# suites never use: 0.54 s more of GX's import, and pyspark prints to stdout. GX's own import sees
# it missing; the Spark engine imports it as usual.
HIDDEN = ("pyspark",)


@contextmanager
def _hidden(names: tuple[str, ...]):
    """`import` of these raises ImportError inside the block, unless one is imported already."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


class _Deferred(types.ModuleType):
    def __getattr__(self, attribute: str):
        return getattr(_load(self.__name__), attribute)


def _load(name: str) -> types.ModuleType:
    stand_in = sys.modules.pop(name)
    try:
        real = importlib.import_module(name)
    except BaseException:
        sys.modules[name] = stand_in
        raise
    vars(stand_in).update(vars(real))  # whoever holds the stand-in now holds the real contents
    return real


def _defer(name: str) -> None:
    """Put a stand-in for `name` in sys.modules, unless it is imported already. An `import` finds
    it there (its spec says it is not initializing), so GX's import does not run the module."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _Deferred(name)
    stand_in.__spec__ = spec
    if spec.submodule_search_locations is not None:
        stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = stand_in


def install() -> None:
    """Two fixes to GX on duckdb-engine, installed once per process before GX builds an engine.

    1. Buffer every result as soon as its statement ran. GX returns a result after its `with
       engine.connect()` block; closing that connection rolls back on the same DuckDB connection
       that holds the pending result, so a later `fetchall()` returned [] and every expectation
       failed with `IndexError` (GX#10738, GX#11579).
    2. Regular expressions. GX 1.24 knows no regex function for DuckDB ("Regex is not supported
       for dialect duckdb"): both regex expectations raised instead of judging. DuckDB's
       `regexp_matches` is a search (the pattern anywhere in the value), which is what GX's
       pandas engine does (`str.contains`), so a pattern means the same on both engines; values
       shorter than the pattern's shortest match are not searched (`min_match_length`)."""
    global _installed
    with _installing:  # a thread may be installing it ahead of need (install_meanwhile)
        if _installed:
            return
        with collector_paused():
            _install()
        _installed = True


def install_meanwhile() -> Future:
    """`install` (GX's import, ~1.3 s of Python) in another thread, for a caller with work of its
    own that leaves the interpreter free (Polars parsing files); `install` waits for it."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gx-import")
    try:
        return pool.submit(install)
    finally:
        pool.shutdown(wait=False)


def _install() -> None:
    for name in DEFERRED:
        _defer(name)
    with _hidden(HIDDEN):
        import great_expectations  # noqa: F401
    import duckdb_engine
    import sqlalchemy as sa
    from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy

    class BufferedExecutionContext(duckdb_engine.Dialect.execution_ctx_cls):
        def post_exec(self):
            super().post_exec()
            if self.cursor.description is not None:
                self.cursor_fetch_strategy = FullyBufferedCursorFetchStrategy(self.cursor)

    duckdb_engine.Dialect.execution_ctx_cls = BufferedExecutionContext

    import great_expectations.expectations.metrics as metrics_package
    from great_expectations.expectations.metrics import util

    original = util.get_dialect_regex_expression

    def regex_expression(column, regex, dialect, positive=True):
        is_duckdb = isinstance(dialect, duckdb_engine.Dialect) or (
            isinstance(dialect, type) and issubclass(dialect, duckdb_engine.Dialect)
        )
        if not is_duckdb:
            return original(column, regex, dialect, positive)
        matches = sa.func.regexp_matches(column, sa.literal(regex))
        width = min_match_length(regex)
        if width > 1:
            # A value shorter than any match cannot match: the length test spares the regex engine
            # most cells. A CASE, because DuckDB evaluates its THEN only for the rows it selects
            # (inside GX's NOT, an AND searched every value); a null value stays null.
            matches = sa.case((sa.func.length(column) < width, sa.false()), else_=matches)
        return matches if positive else sa.not_(matches)

    # The metrics import the function by name: replace every module's reference to it.
    import importlib
    import pkgutil
    import sys

    for info in pkgutil.walk_packages(metrics_package.__path__, metrics_package.__name__ + "."):
        if "regex" in info.name:
            importlib.import_module(info.name)
    for name, module in list(sys.modules.items()):
        if name.startswith("great_expectations.") and getattr(module, "get_dialect_regex_expression", None) is original:
            module.get_dialect_regex_expression = regex_expression
    _define_expectations()


def min_match_length(regex: str) -> int:
    """The fewest characters a match of `regex` spans; 0 when Python's parser cannot tell.

    The phone-number pattern needs 11 and the text columns it guards hold a few: the staging suite
    on 10.2 M orders spent 2.6 s in its eight searches, 0.1 s with the length test first."""
    try:
        return int(re._parser.parse(regex).getwidth()[0])
    except Exception:  # a pattern only RE2 reads, or a Python without the parser: no length test
        return 0


_UniqueKey = None  # the expectation classes, defined once GX is imported
_PairNotBelow = None
SAMPLE_METRIC = "unexpected_rows_query.table"
SAMPLE_KEYS = 20


def _define_expectations() -> None:
    """Two expectations that GX answers with one query each, as DuckDB runs it best. A custom SQL
    expectation is GX's own extension point (UnexpectedRowsExpectation); asked only pass or fail,
    these run the count of unexpected rows alone, and when it failed, list up to 20 of them.

    `ExpectColumnsToBeAUniqueKey`: no two rows share the values of `column_list`, found by a
    GROUP BY ... HAVING count(*) > 1 in DuckDB (of the key's hash first, see `unique_key`). GX's
    ExpectCompoundColumnsToBeUnique joins every row back to the grouped counts, and lists the
    unexpected rows with a second such query: 34.6 and 25.5 s for the two keys of a 27.9 M-row
    orders batch, where the GROUP BY alone takes 6.4 and 10.0 s.

    `ExpectColumnPairValuesAToBeNotBelowB`: A >= B wherever both are present. GX's
    ExpectColumnPairValuesAToBeGreaterThanB (or_equal, either value missing ignored) counts the
    rows it ignores and the unexpected ones in two scans each: 4.5 s for the four pairs of a
    27.9 M-row orders batch, against 0.4-0.6 s for one scan of each pair."""
    global _UniqueKey, _PairNotBelow
    from great_expectations.expectations import UnexpectedRowsExpectation
    from great_expectations.validator.metric_configuration import MetricConfiguration

    class _UnexpectedRowsSample(UnexpectedRowsExpectation):
        def get_validation_dependencies(self, execution_engine=None, runtime_configuration=None):
            dependencies = super().get_validation_dependencies(execution_engine, runtime_configuration)
            table = dependencies.get_metric_configuration(SAMPLE_METRIC)
            dependencies.remove_metric_configuration(SAMPLE_METRIC)
            if dependencies.result_format.get("result_format") != "BOOLEAN_ONLY":
                # the sample only, not every unexpected row: the buffered results fetch all rows
                query = f"{self.unexpected_rows_query} limit {SAMPLE_KEYS}"
                dependencies.set_metric_configuration(SAMPLE_METRIC, MetricConfiguration(
                    SAMPLE_METRIC, table.metric_domain_kwargs, {**table.metric_value_kwargs, "unexpected_rows_query": query}
                ))
            return dependencies

        def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
            unexpected = metrics["unexpected_rows_query.row_count"]
            rows = metrics.get(SAMPLE_METRIC)
            if rows is None:
                return {"success": unexpected == 0}
            return {
                "success": unexpected == 0,
                "result": {
                    "observed_value": unexpected, "unexpected_count": unexpected,
                    "partial_unexpected_list": [self._describe(row) for row in rows],
                },
            }

    class ExpectColumnsToBeAUniqueKey(_UnexpectedRowsSample):
        column_list: list[str]

        def _describe(self, row) -> str:
            return ", ".join(str(row[c]) for c in self.column_list) + f" (x{row['copies']})"

    class ExpectColumnPairValuesAToBeNotBelowB(_UnexpectedRowsSample):
        column_A: str
        column_B: str

        def _describe(self, row) -> str:
            return f"{row[self.column_A]} < {row[self.column_B]}"

    _UniqueKey, _PairNotBelow = ExpectColumnsToBeAUniqueKey, ExpectColumnPairValuesAToBeNotBelowB


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def unique_key(columns: list[str], **options):
    """The expectation that `columns` identify a row (GX must be imported: a suite builder's)."""
    install()
    if not all(_IDENTIFIER.match(c) for c in columns):
        raise ValueError(f"not column names: {columns!r}")
    key = ", ".join(columns)
    # Keys are grouped exactly only where their 64-bit hash repeats: grouping the hashes alone is
    # the cheap pass (27.9 M orders rows: 2.4 and 3.1 s against 5.9 and 9.7 s for the two keys
    # grouped as they are), and when no hash repeats DuckDB skips the second scan. Equal keys have
    # equal hashes, so no repeated key is missed; a collision only sends its rows to the exact pass.
    query = (  # noqa: S608 - checked names
        f"with repeated as (select hash({key}) as h from {{batch}} group by h having count(*) > 1) "
        f"select {key}, count(*) as copies from {{batch}} where hash({key}) in (select h from repeated) "
        f"group by {key} having count(*) > 1"
    )
    return _UniqueKey(column_list=list(columns), unexpected_rows_query=query, **options)


def not_below(a: str, b: str, **options):
    """The expectation that column `a` is at least column `b` wherever both are present (GX must be
    imported: a suite builder's)."""
    install()
    if not (_IDENTIFIER.match(a) and _IDENTIFIER.match(b)):
        raise ValueError(f"not column names: {a!r}, {b!r}")
    query = f"select {a}, {b} from {{batch}} where {a} < {b}"  # noqa: S608 - checked names
    return _PairNotBelow(column_A=a, column_B=b, unexpected_rows_query=query, **options)


@dataclass(frozen=True)
class _Definition:
    name: str
    batch: object  # GX's BatchDefinition of the relation, whole table
    suite: object  # GX's ExpectationSuite, not saved in the context


# What a session may be asked to validate: a table or view of the scratch database, or a view of
# the working database's check views (sql.create_check_relation), named in SQL text because
# DuckDB cannot bind an identifier.
_RELATION = re.compile(rf"^(?:scratch|{CHECK_VIEWS})\.[a-z_][a-z0-9_]*$")


class GxSession:
    """An ephemeral GX context whose SQL datasource runs on `con`'s database. Use it as a context
    manager: closing it closes every cursor GX was handed, which must happen before `con` closes
    (an open cursor keeps the database file, and its lock, open)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        install()
        import duckdb_engine
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self._con = con
        self._cursors: list = []
        self._definitions: dict[tuple[str, str], _Definition] = {}
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)

        database, views = con.execute(
            "select current_database(), count(*) from duckdb_schemas() "
            "where database_name = current_database() and schema_name = $views",
            {"views": CHECK_VIEWS},
        ).fetchone()
        # The working database's `main` first: DuckDB resolves a name of the form schema.table in
        # the first entry's database. The check views' schema only while it exists (a search path
        # naming a missing schema is refused).
        search_path = ",".join(["main", "scratch.main", *([CHECK_VIEWS] if views else [])])

        def creator():
            cursor = con.cursor()
            # A cursor starts in the instance's own database: in the one `con` uses, the check
            # views find the tables they read.
            cursor.execute(f"use {identifier(database)}")
            # GX reads a table asset's columns with an unqualified `select * from <table>`: the
            # search path lets that find the scratch table or check view. (A query asset instead
            # made GX run the whole query once, and the buffered result held every row in Python:
            # 5 GB at 2.8 M.)
            cursor.execute(f"set search_path = {string_literal(search_path)}")
            self._cursors.append(cursor)
            return duckdb_engine.ConnectionWrapper(cursor)

        # The URL only selects the dialect: every connection comes from `creator`.
        self.datasource = self.context.data_sources.add_sql(
            name="working_db", connection_string="duckdb:///:memory:", kwargs={"creator": creator}
        )

    def __enter__(self) -> GxSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        engine = getattr(self.datasource, "_execution_engine", None)
        if engine is not None:
            engine.engine.dispose()
        if getattr(self.datasource, "_engine", None) is not None:
            self.datasource._engine.dispose()
        for cursor in self._cursors:
            cursor.close()
        self._cursors.clear()

    def _definition(self, suite_name: str, relation: str) -> _Definition:
        """The batch of `relation` and the suite, built once per session. The suite is handed to
        GX's Validator as it is, not saved in the context: saving it first made each expectation
        added rewrite the stored suite (0.3 s of building the seven suites), and a validation
        definition would store every result in the throwaway context too."""
        from .expectations import SUITES

        key = (suite_name, relation)
        if key not in self._definitions:
            if not _RELATION.match(relation):
                raise ValueError(f"not a scratch table or view: {relation!r}")
            name = f"{suite_name}__{relation.replace('.', '__')}"
            schema, table = relation.split(".")
            batch = self.datasource.add_table_asset(
                name=name, table_name=table, schema_name=schema
            ).add_batch_definition_whole_table("all")
            suite = self._gx.ExpectationSuite(name=name, expectations=list(SUITES[suite_name](self._gx)))
            self._definitions[key] = _Definition(name, batch, suite)
        return self._definitions[key]

    def run(self, suite_name: str, relation: str, extra_failures: list[dict] = ()) -> SuiteResult:
        """The suite on every row of `relation` (a table or view), in one validation run."""
        from .expectations import SuiteResult

        from great_expectations.validator.v1_validator import Validator

        definition = self._definition(suite_name, relation)
        result = Validator(batch_definition=definition.batch, result_format="BOOLEAN_ONLY").validate_expectation_suite(
            definition.suite
        )
        ((rows,),) = self._con.execute(f"select count(*) from {relation}").fetchall()  # noqa: S608 - checked in _definition
        failed = list(extra_failures)
        for r in self._details(definition, [r for r in result.results if not r.success]):
            kwargs = r.expectation_config.kwargs
            details = r.result or {}
            failed.append(
                {
                    "expectation": r.expectation_config.type,
                    "column": kwargs.get("column") or kwargs.get("column_A") or kwargs.get("column_list"),
                    "severity": (r.expectation_config.meta or {}).get("severity", "error"),
                    "unexpected_count": details.get("unexpected_count"),
                    "sample": [str(x) for x in (details.get("partial_unexpected_list") or [])[:5]],
                    "error": _error_message(r.exception_info),
                }
            )
        errors = [f for f in failed if f["severity"] == "error"]
        return SuiteResult(suite_name, not errors, len(result.results) + 1, failed, rows)

    def _details(self, definition: _Definition, failing: list) -> list:
        """Counts and sample rows of the expectations that failed, from a second pass over them
        alone. The first pass asks only pass or fail: GX then bundles the aggregate metrics of a
        suite into a few scans and skips the queries that list unexpected values, which scan the
        whole batch again each (and group it again for a compound key) when nothing is wrong."""
        if not failing:
            return []
        from great_expectations.validator.v1_validator import Validator

        suite = self._gx.ExpectationSuite(
            name=f"{definition.name}__failed",
            expectations=[copy.copy(r.expectation_config.to_domain_obj()) for r in failing],
        )
        detail = Validator(batch_definition=definition.batch, result_format="BASIC")
        return [r for r in detail.validate_expectation_suite(suite).results if not r.success]


def _error_message(info: dict | None) -> str | None:
    """GX reports an expectation that raised either flat or keyed by the metric that raised."""
    if not info:
        return None
    if "exception_message" in info:
        return info["exception_message"]
    return next((v.get("exception_message") for v in info.values() if isinstance(v, dict)), None)


def run_suites(con: duckdb.DuckDBPyConnection, suites: list[str], relations: list[str]) -> list[SuiteResult]:
    """Each suite on its relation (without the suite's exempt rows), in one GX session on `con`."""
    with GxSession(con) as session:
        return [session.run(suite, exempt_view(con, suite, relation)) for suite, relation in zip(suites, relations)]


def exempt_view(con: duckdb.DuckDBPyConnection, suite_name: str, relation: str) -> str:
    """The relation a suite judges: `relation` itself, or a view of it without the suite's exempt
    rows (expectations.EXEMPT). A view, not a TEMP one: GX's cursors must see it."""
    from .expectations import EXEMPT

    column = EXEMPT.get(suite_name)
    if column is None:
        return relation
    if not _RELATION.match(relation) or not re.fullmatch(r"[a-z_][a-z0-9_]*", column):
        raise ValueError(f"not an identifier: {relation!r}, {column!r}")
    view = judged_view(relation)
    con.execute(f"create or replace view {view} as select * from {relation} where not {column}")  # noqa: S608 - checked identifiers
    return view


def judged_view(relation: str) -> str:
    """The name `exempt_view` gives its view of `relation`."""
    return f"{relation}_judged"
