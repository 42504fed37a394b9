"""`taobao-ops`: run the pipeline through Dagster, or write a sample of raw exports."""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from assets.lib import gx_worker
from assets.lib.collector import collector_paused

if TYPE_CHECKING:
    from dagster import DagsterInstance, ExecuteInProcessResult, JobExecutionResult

    from .batches import RunPlan
    from .settings import Deployment

# Wide enough for the quarterly table when output goes to a file or a CI log.
console = Console(width=None if sys.stdout.isatty() else 200)


@click.group()
def main() -> None:
    """Taobao/Tmall shop exports -> DuckDB -> quarterly operations numbers."""


@main.command()
@click.option("--raw-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Drop folder of raw exports [env TAOBAO_OPS_RAW_DIR; default data/raw].")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Working database, lake and load state [env TAOBAO_OPS_STATE_DIR; default data/state].")
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The published analysts' file [env TAOBAO_OPS_WAREHOUSE; default data/warehouse.duckdb].")
@click.option("--from", "first", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First batch date to load [default: the earliest with a file not loaded yet].")
@click.option("--to", "last", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last batch date to load [default: the latest with a file not loaded yet].")
@click.option("--quiet", is_flag=True, help="Print only problems, not the tables.")
def run(
    raw_dir: Path | None, state_dir: Path | None, warehouse: Path | None,
    first: dt.datetime | None, last: dt.datetime | None, quiet: bool,
) -> None:
    """Load new raw files, rebuild the marts, validate and publish; print the quarterly summary.

    All the batch dates asked for run as one run (a backfill), recorded in Dagster's run history
    (DAGSTER_HOME). Exit code 0 on success; 1 when a check failed or a file was quarantined (the
    rest is still published when checks allow)."""
    deployment = _deployment(raw_dir=raw_dir, state_dir=state_dir, warehouse_path=warehouse)
    if not deployment.settings.raw.is_dir():
        raise click.ClickException(
            f"raw folder {deployment.settings.raw} does not exist (set --raw-dir or TAOBAO_OPS_RAW_DIR)"
        )
    started = time.perf_counter()
    plan = _plan(deployment, first and first.date(), last and last.date())
    if plan.current:
        _say_nothing_new(deployment, plan, quiet, time.perf_counter() - started)
        sys.exit(0)
    result, instance, elapsed = _execute(deployment, plan, quiet)
    _print_outcome(deployment, plan, result, instance, elapsed, quiet)
    sys.exit(0 if result.success else 1)


def _deployment(**options: Path | None) -> Deployment:
    """The settings of this command, read once: its options, then the environment, then defaults.
    A variable that cannot be read (a month that is not a number) is said in one message."""
    from .settings import Deployment

    try:
        return Deployment.from_environment(**options)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _plan(deployment: Deployment, first: dt.date | None, last: dt.date | None) -> RunPlan:
    """What the run covers (pipelines/batches.py); `current` when nothing is new."""
    from .batches import plan_run

    def fed_by(sources: list[str]):
        return _definitions().fed_by(sources)

    try:
        return plan_run(deployment.settings, _unpartitioned, first, last, fed_by)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _say_nothing_new(deployment: Deployment, plan: RunPlan, quiet: bool, seconds: float) -> None:
    from .summary import print_tables, summary_tables

    warehouse = deployment.settings.warehouse
    if not quiet:
        print_tables(console, *summary_tables(warehouse))
    console.print(
        f"Nothing new: every file in {deployment.settings.raw} is loaded and {warehouse} is current "
        f"(published by run {plan.current.run_id[:8]}); checked in {seconds:.1f}s",
        soft_wrap=True,
    )


def _execute(
    deployment: Deployment, plan: RunPlan, quiet: bool
) -> tuple[ExecuteInProcessResult | JobExecutionResult, DagsterInstance, float]:
    """Run the pipeline job as `plan` says (in this process, or on the multiprocess executor); its
    result, the instance that recorded it and the seconds it took."""
    from .settings import open_instance, run_tags

    multiprocess = deployment.execution.multiprocess
    if not multiprocess:  # the steps' processes would not see it
        # a small run's suites are judged in the GX worker, which imports GX meanwhile
        gx_worker.start_for(plan.new_bytes, deployment.settings.state, deployment.duckdb_memory_limit)
    with collector_paused():
        instance = open_instance(deployment.dagster_home)
    if quiet:  # its warnings are printed below, one line each; its errors are among the problems
        logging.getLogger("assets").setLevel(logging.CRITICAL)
    arguments = {
        **plan.arguments,
        "tags": {**plan.arguments.get("tags", {}), **run_tags()},
        # --quiet: one line per problem, printed below; not Dagster's log of them with stack traces
        "run_config": {"loggers": {"console": {"config": {"log_level": "CRITICAL" if quiet else "WARNING"}}}},
    }
    started = time.perf_counter()
    with console.status(f"Running the pipeline, {plan.label} (load → staging → marts → checks → publish)…"):
        if multiprocess:
            result = _execute_in_processes(deployment, instance, arguments)
        else:
            job = _definitions().deployment_defs(deployment).resolve_job_def("pipeline")
            result = job.execute_in_process(instance=instance, raise_on_error=False, **arguments)
    return result, instance, time.perf_counter() - started


def _execute_in_processes(deployment: Deployment, instance: DagsterInstance, arguments: dict) -> JobExecutionResult:
    """The pipeline job on the multiprocess executor: each step in a process of its own, which
    rebuilds the job (definitions.deployment_job) from the environment and this command's folders."""
    from dagster import build_reconstructable_job, execute_job

    from assets.lib.settings import PATHS

    job = build_reconstructable_job(
        "pipelines.definitions", "deployment_job",
        reconstructable_kwargs={field: getattr(deployment.settings, field) for field in sorted(PATHS)},
    )
    with execute_job(job, instance=instance, raise_on_error=False, **arguments) as result:
        return result


def _print_outcome(
    deployment: Deployment, plan: RunPlan, result: ExecuteInProcessResult | JobExecutionResult, instance: DagsterInstance, elapsed: float,
    quiet: bool,
) -> None:
    """The run's steps, files and tables (unless quiet), then one line per problem and its status."""
    from .summary import load_report, mart_sizes, print_tables, summary_tables

    warehouse = deployment.settings.warehouse
    report = load_report(deployment.settings.working_db, result.run_id)
    if not quiet:
        console.print("Steps: " + ", ".join(f"{k} {s:.1f}s" for k, s in _step_seconds(result)))
        print_tables(console, report.files)
        if warehouse.exists():
            print_tables(console, *summary_tables(warehouse))
            console.print(mart_sizes(warehouse))
    for table, quarter, reason in report.restated:
        console.print(f"[yellow]restated[/] {table} {quarter}: {reason}")
    for kind, source, value, rows in report.unmapped:
        console.print(
            f"[yellow]unmapped[/] {kind} '{value}' in {source}: {rows:,} row(s) kept as given"
            + (", grouped as other" if kind == "channel" else "")
            + f" (map it in reference/{'channels' if kind == 'channel' else 'couriers'}.csv)"
        )
    if quiet:  # the warnings Dagster's console would have shown (its logger is quiet: see above)
        for message in _warnings(instance, result.run_id):
            console.print(f"[yellow]warning[/] {message}", soft_wrap=True)
    for source, name, error in report.failed:
        console.print(f"[red]quarantined[/] {source}/{name}: {error}")
    for problem in _problems(result):
        console.print(f"[red]failed[/] {problem}")
    status = "[green]succeeded[/]" if result.success else "[red]failed[/]"
    console.print(
        f"Run {result.run_id[:8]} ({plan.label}) {status} in {elapsed:.1f}s"
        + (f"; published {warehouse}" if warehouse.exists() else "")
    )


@functools.cache
def _definitions():
    """The Dagster definitions module, imported once with the cyclic collector paused and what it
    built then frozen out of its collections (collector.collector_paused): it lives as long as the
    run. Later calls return it, freezing nothing the run made meanwhile."""
    from assets.lib.lineage_file import StaleLineage

    try:
        with collector_paused():
            from . import definitions
    except StaleLineage as exc:  # SQL edited since `make lineage`: one line, not a traceback
        raise click.ClickException(str(exc)) from exc
    return definitions


class _Unpartitioned:
    """The unpartitioned assets' keys, imported from the definitions only when a run needs them."""

    def __iter__(self):
        return iter(_definitions().UNPARTITIONED)


_unpartitioned = _Unpartitioned()


def _step_seconds(result) -> list[tuple[str, float]]:
    return [
        (event.step_key.replace("__", "/"), event.step_success_data.duration_ms / 1000)
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS"
    ]


def _warnings(instance, run_id: str) -> list[str]:
    """The run's warnings as its steps logged them (an empty file replacing rows, repeated keys…),
    one line each."""
    return [
        entry.user_message.splitlines()[0]
        for entry in instance.all_logs(run_id)
        if entry.dagster_event is None and entry.level == logging.WARNING and entry.user_message
    ]


def _problems(result) -> list[str]:
    """Failed steps and failed checks of a run, one line each."""
    lines = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            lines.append(f"step {event.step_key}: {error.message.strip() if error else 'failed'}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                lines.append(
                    f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}: "
                    f"{evaluation.description or 'did not pass'}"
                )
    return lines


@main.command()
@click.argument("quarter")
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The published file to read [env TAOBAO_OPS_WAREHOUSE; default data/warehouse.duckdb].")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the reports [env TAOBAO_OPS_REPORTS_DIR; default reports].")
def report(quarter: str, warehouse: Path | None, out: Path | None) -> None:
    """Write the quarterly operations review (季度运营总结) of QUARTER, e.g. 2024Q3 (FY2025Q1 with
    fiscal quarters): OUT/QUARTER/index.html and report.md for all shops, and one per shop."""
    from assets.lib.report import write_report

    settings = _deployment(warehouse_path=warehouse, reports_dir=out).settings
    started = time.perf_counter()
    try:
        with console.status(f"Writing the {quarter} report…"):
            files = write_report(
                settings.warehouse, quarter.upper(), settings.reports, settings.fiscal_year_start_month,
                settings.summary_rules(),
            )
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    from rich.markdown import Markdown

    from assets.lib.report import SUMMARY_FILE

    pages = [f for f in files if f.suffix in (".html", ".md", ".xlsx") and f.name != SUMMARY_FILE]
    for page in pages:
        console.print(f"  {page}")
    charts = sum(f.suffix == ".png" for f in files)
    console.print(f"Wrote {len(pages) - 1} pages, the workbook and {charts} charts in {time.perf_counter() - started:.1f}s")
    summary = settings.reports / quarter.upper() / SUMMARY_FILE
    console.print(f"\n数据总结 {quarter.upper()}, all shops (every sentence's sources: the pages' notes)\n")
    console.print(Markdown(summary.read_text(encoding="utf-8")))


@main.command()
@click.argument("sql", required=False)
# the formats are query.WRITERS' and "table", named here so that the command's start imports no more
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table",
              show_default=True, help="A terminal table, or text for scripts.")
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The published file to read [env TAOBAO_OPS_WAREHOUSE; default data/warehouse.duckdb].")
def query(sql: str | None, fmt: str, warehouse: Path | None) -> None:
    """Run SQL on the published file, read-only; without SQL, list the marts and what each holds.

    \b
    taobao-ops query
    taobao-ops query "select * from marts.quarterly_shop_kpis where quarter = '2024Q4'"
    taobao-ops query --format csv "select * from marts.quarterly_channel_kpis" > channels.csv"""
    from . import query as queries

    settings = _deployment(warehouse_path=warehouse).settings
    try:
        result = queries.run(settings.warehouse, sql) if sql else queries.marts(settings.warehouse)
    except queries.QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    if fmt != "table":
        click.echo(queries.WRITERS[fmt](result), nl=False)
        return
    from rich.table import Table

    table = Table(*result.columns, show_lines=False)
    for row in result.rows[: queries.TABLE_ROWS]:
        table.add_row(*map(queries.plain, row))
    console.print(table)
    if not sql:
        console.print("staging.* and audit.* can be queried too; a column's meaning: "
                      "select column_name, comment from duckdb_columns() where table_name = '…'")
        return
    hidden = len(result.rows) - queries.TABLE_ROWS
    console.print(f"{len(result.rows):,} rows" + (f", the first {queries.TABLE_ROWS:,} shown: --format csv gives all" if hidden > 0 else ""))


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2024-07-01", show_default=True)
@click.option("--days", type=int, default=184, show_default=True)
@click.option("--orders-per-day", type=int, default=10, show_default=True, help="Per shop.")
@click.option("--shops", type=int, default=3, show_default=True)
@click.option("--history-days", type=int, default=0, show_default=True,
              help="Traffic and courier files also cover this many days before --start.")
@click.option("--couriers", type=click.IntRange(1, 12), default=8, show_default=True,
              help="Express companies in the courier files.")
@click.option("--regions", type=click.IntRange(min=1), default=7, show_default=True,
              help="Regions in the courier files.")
@click.option("--seller-centre/--canonical-only", default=True, show_default=True,
              help="Write shop01 as the seller centre exports it (GBK, Chinese headers), or every shop canonical.")
@click.option("--events-per-day", type=click.IntRange(min=0), default=100, show_default=True,
              help="Behaviour events a shop logs on a day of average sales (events/); 0 writes none.")
def sample(
    out: Path, seed: int, start: dt.datetime, days: int, orders_per_day: int, shops: int, history_days: int,
    couriers: int, regions: int, seller_centre: bool, events_per_day: int,
) -> None:
    """Write a deterministic sample of raw exports that follows the data contract."""
    from .sample import SampleSpec, write_sample

    spec = SampleSpec(
        seed=seed, start=start.date(), days=days, orders_per_day=orders_per_day, shops=shops,
        history_days=history_days, couriers=couriers, regions=regions, seller_centre_shop=seller_centre,
        events_per_day=events_per_day,
    )
    started = time.perf_counter()
    stats = write_sample(spec, out, progress=console)
    console.print(
        f"Wrote {stats['files']} files ({stats['bytes'] / 1e6:.1f} MB, {stats['orders']:,} orders, "
        f"{stats['order_rows']:,} order rows) to {out} in {time.perf_counter() - started:.1f}s"
    )


@main.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: print).")
def glossary(out: Path | None) -> None:
    """The metric glossary (docs/metrics.md), from the definitions the warehouse comments carry."""
    from assets.lib.glossary import markdown

    if out:
        out.write_text(markdown(), encoding="utf-8")
    else:
        click.echo(markdown(), nl=False)


@main.command()
@click.argument("quarter")
@click.option("--format", "file_format", default="xlsx", show_default=True,
              help="xlsx: one workbook, a sheet per mart; csv or parquet: one file per mart.")
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The published file to read [env TAOBAO_OPS_WAREHOUSE; default data/warehouse.duckdb].")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the reports [env TAOBAO_OPS_REPORTS_DIR; default reports].")
def export(quarter: str, file_format: str, warehouse: Path | None, out: Path | None) -> None:
    """Write the marts of QUARTER, e.g. 2024Q4 (FY2025Q1 with fiscal quarters), for Excel and other
    tools: OUT/QUARTER/taobao-ops-QUARTER.xlsx, or OUT/QUARTER/csv/<mart>.csv, or
    OUT/QUARTER/parquet/<mart>.parquet (docs/export.md). `taobao-ops report` writes the workbook too."""
    from assets.lib.export import export_quarter

    settings = _deployment(warehouse_path=warehouse, reports_dir=out).settings
    started = time.perf_counter()
    try:
        with console.status(f"Exporting {quarter.upper()} as {file_format}…"):
            files = export_quarter(settings.warehouse, quarter.upper(), settings.reports, file_format.lower(), settings.fiscal_year_start_month)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    for path in files:
        console.print(f"  {path}", soft_wrap=True)
    console.print(f"Wrote {len(files)} file(s) in {time.perf_counter() - started:.1f}s")


def entry() -> None:
    """The `taobao-ops` command: `main`, then an exit that skips the interpreter's teardown.

    Python frees every object of every module when it exits: with Dagster and GX imported that
    took 0.9-1.0 s of a sample run of 11 s (and as much of a daily run), for memory the operating
    system takes back anyway. Everything a normal exit does for others is done first: threads that
    are not daemons are waited for, the atexit handlers run (logging's flush, DuckDB's and
    SQLAlchemy's clean-ups) and the output is flushed; what a run writes (lake, databases, run
    history) is committed or closed before its command returns."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
