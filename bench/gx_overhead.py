"""What Great Expectations costs a daily run: its import, and the validations of one new batch.

    .venv/bin/python bench/gx_overhead.py

Builds the shipped sample in a temporary deployment, then times two daily runs that each add one
day's order export: one validating as shipped, one with the suites short-circuited. The GX import is
timed in a fresh interpreter, because a scheduled run is a fresh process and pays it once."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dagster import DagsterInstance
from dagster_duckdb import DuckDBResource

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from assets.lib import expectations, gx_sql  # noqa: E402
from assets.resources import PipelineSettings  # noqa: E402
from pipelines.definitions import build_defs  # noqa: E402


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="gx-overhead-"))
    shutil.copytree(PROJECT / "data" / "raw", root / "raw")
    settings = PipelineSettings(
        raw_dir=str(root / "raw"), state_dir=str(root / "state"), warehouse_path=str(root / "w.duckdb"),
        pii_key="bench",
    )
    job = build_defs(settings, DuckDBResource(database=str(root / "state" / "pipeline.duckdb"))).resolve_job_def("pipeline")

    def run() -> float:
        started = time.perf_counter()
        assert job.execute_in_process(instance=DagsterInstance.ephemeral()).success
        return time.perf_counter() - started

    python = sys.executable
    imports = min(seconds([python, "-c", "import great_expectations"]) - seconds([python, "-c", "pass"]) for _ in range(3))
    full = run()
    template = (root / "raw" / "orders" / "orders_shop02_2024-12-31.csv").read_text(encoding="utf-8")

    def daily(day: str) -> float:
        (root / "raw" / "orders" / f"orders_shop02_{day}.csv").write_text(template, encoding="utf-8")
        return run()

    with_gx = [daily(f"2025-01-0{d}") for d in (1, 2, 3)]
    real = gx_sql.GxSession.run
    gx_sql.GxSession.run = lambda self, suite, relation, extra=(): expectations.SuiteResult(suite, True, 0, [])
    try:
        without_gx = [daily(f"2025-01-0{d}") for d in (4, 5, 6)]
    finally:
        gx_sql.GxSession.run = real
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    print(f"full build of the sample (first run, GX imported in it): {full:.1f} s")
    print(f"daily run, one new order file, validated:     {med(with_gx):.2f} s (median of 3)")
    print(f"daily run, one new order file, not validated: {med(without_gx):.2f} s (median of 3)")
    print(f"validation cost per daily run:                {med(with_gx) - med(without_gx):.2f} s")
    print(f"GX import in a fresh process:                 {imports:.1f} s (once per run process)")
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
