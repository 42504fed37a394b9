"""`make bench-spark`: the full rebuild on DuckDB and on Spark, side by side (issue #17).

    .venv/bin/python bench/spark.py [--orders 10000000] [--repeat 1] [--master local[2]] [--conf "spark.driver.memory=6g"]

The workload of `make bench` (bench/workload.py, from its cache under bench/out) in one raw folder,
linked into two deployments that differ only in TAOBAO_OPS_ENGINE. Each round runs `taobao-ops run`
on an empty state with DuckDB, then with Spark: wall time and the peak RSS of the process tree (the
Spark JVM is a child of the run) and its CPU time, the staging and marts steps' time from the run's
event log, the load average before and after. After every round, every mart the Spark run published must equal the
DuckDB run's, value for value, or the bench stops with exit status 1 before the page is written.
The results go to bench/out/results/spark.json (and spark-<orders>.json) and, under "spark", into
docs/benchmarks.json, from which docs/benchmarks.md is rendered again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

import click

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import compare  # noqa: E402
import run  # noqa: E402

DOCS = run.PROJECT / "docs"


def engine_settings(master: str, conf: str) -> dict[str, dict[str, str]]:
    """The TAOBAO_OPS_* settings of each engine's deployment."""
    return {
        "duckdb": {"TAOBAO_OPS_ENGINE": "duckdb"},
        "spark": {"TAOBAO_OPS_ENGINE": "spark", "TAOBAO_OPS_SPARK_MASTER": master, "TAOBAO_OPS_SPARK_CONF": conf},
    }


def one_run(engine: str, d: run.Deployment) -> dict:
    """`taobao-ops run` on an empty state: its figures and its step breakdown."""
    d.reset()
    load_before = os.getloadavg()[0]
    sample = d.run()
    stages = run.breakdown(d.home, sample.seconds)
    return {
        "engine": engine, "seconds": sample.seconds, "cpu_seconds": sample.cpu_seconds, "peak_rss": sample.peak_rss,
        "staging_marts": stages["staging"] + stages["marts"], "breakdown": stages,
        "load_before": load_before, "load_after": os.getloadavg()[0],
    }


def summary(engine: str, runs: list[dict]) -> dict:
    """An engine's row: median times (wall, staging + marts, CPU), the highest peak, every run's time."""
    mine = [r for r in runs if r["engine"] == engine]
    return {
        "engine": engine, "seconds": statistics.median(r["seconds"] for r in mine),
        "staging_marts": statistics.median(r["staging_marts"] for r in mine),
        "cpu_seconds": statistics.median(r["cpu_seconds"] for r in mine),
        "peak_rss": max(r["peak_rss"] for r in mine), "samples": [r["seconds"] for r in mine],
        "breakdown": {k: statistics.median(r["breakdown"][k] for r in mine) for k in mine[0]["breakdown"]},
    }


def render_docs(section: dict) -> None:
    """docs/benchmarks.json with this Spark section, and docs/benchmarks.md rendered from it (as
    bench/render.py prints it)."""
    from render import markdown

    report = json.loads((DOCS / "benchmarks.json").read_text(encoding="utf-8"))
    report["spark"] = section
    (DOCS / "benchmarks.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (DOCS / "benchmarks.md").write_text(markdown(report) + "\n", encoding="utf-8")


@click.command()
@click.option("--orders", type=int, default=10_000_000, show_default=True, help="Orders in the workload's quarter.")
@click.option("--repeat", type=int, default=1, show_default=True, help="Rounds of one run per engine (the median is reported).")
@click.option("--master", default="local[2]", show_default=True, help="TAOBAO_OPS_SPARK_MASTER of the Spark runs.")
@click.option("--conf", default="spark.driver.memory=6g", show_default=True, help="TAOBAO_OPS_SPARK_CONF of the Spark runs.")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path, resolve_path=True), default=BENCH / "out", show_default=True,
              help="Cached workloads and deployments (large).")
@click.option("--docs/--no-docs", "docs", default=True, show_default=True,
              help="Write the section into docs/benchmarks.json and render docs/benchmarks.md.")
def main(orders: int, repeat: int, master: str, conf: str, work: Path, docs: bool) -> None:
    """Measure both engines in alternation, check the marts are equal, write the results."""
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    _, raw, workload = run.prepare_workload(orders, work)
    deployments = {engine: run.deployment(work / f"engine-{engine}-{orders}", raw, **settings)
                   for engine, settings in engine_settings(master, conf).items()}
    results = work / "results"
    results.mkdir(exist_ok=True)
    runs: list[dict] = []
    error = None
    for i in range(repeat):
        for engine, d in deployments.items():
            run.console.print(f"Round {i + 1}/{repeat}: taobao-ops run with {engine} on an empty state…")
            runs.append(one_run(engine, d))
            run.console.print(f"  {runs[-1]['seconds']:.1f} s (staging + marts {runs[-1]['staging_marts']:.1f} s, "
                              f"CPU {runs[-1]['cpu_seconds']:.1f} s), "
                              f"peak {run.gib(runs[-1]['peak_rss'])}, load {runs[-1]['load_before']:.1f} → {runs[-1]['load_after']:.1f}")
        duckdb_marts = compare.published_schema(deployments["duckdb"].warehouse)
        problems = compare.tables_differences(duckdb_marts, compare.published_schema(deployments["spark"].warehouse))
        if problems:
            error = "the marts Spark published differ from DuckDB's: " + "; ".join(problems)
            break
    section = {
        "date": dt.date.today().isoformat(), "machine": run.machine(), "orders": orders, "repeat": repeat,
        "master": master, "conf": conf, "workload": workload,
        "engines": [summary(engine, runs) for engine in deployments] if error is None else [],
        "marts": {name: frame.height for name, frame in duckdb_marts.items()}, "runs": runs, "error": error,
        "command": " ".join(["make bench-spark", *(f"ORDERS={orders}",) * (orders != 10_000_000),
                             *(f"SPARK_REPEAT={repeat}",) * (repeat != 1)]),
        "elapsed": time.perf_counter() - started,
    }
    for name in (f"spark-{orders}.json", "spark.json"):  # this size's, and the last (what `make bench` keeps)
        (results / name).write_text(json.dumps(section, indent=2, ensure_ascii=False), encoding="utf-8")
    if error is not None:
        raise click.ClickException(error)
    if docs:
        render_docs(section)
    for row in section["engines"]:
        run.console.print(f"{row['engine']}: {row['seconds']:.1f} s, staging + marts {row['staging_marts']:.1f} s, "
                          f"CPU {row['cpu_seconds']:.1f} s, "
                          f"peak {run.gib(row['peak_rss'])}")
    run.console.print(f"{len(section['marts'])} marts equal; wrote {results / 'spark.json'}")


if __name__ == "__main__":
    main()
