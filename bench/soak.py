"""The soak: a year of daily runs in a row, checked against rebuilds, with its curves.

    make soak                          # 365 days, ~2,100 orders a day (3 shops)
    python bench/soak.py --days 60     # shorter

A year of generated exports (the sample generator: orders with their later status batches, late
refunds among them; traffic; courier volume; a GBK seller-centre shop) is dropped one batch date at
a time, each followed by `taobao-ops run`, as the daily schedule would. Every 30th day an earlier
orders file is re-exported with its last order left out (a replaced file). Every `--check-every`
days and on the last, a new deployment rebuilds everything from the same raw folder and every
mart of the two published files must be equal, value for value.

Per run it records the wall time, the state's size on disk (working database, lake, published file
and its previous copy) and the most file descriptors the run's process held at once (sampled every
50 ms). Writes bench/out/soak/soak.json and docs/soak.png, and prints whether the curves stay flat:
the median run time of the last 30 days against the first 30 after the first week, state bytes per
day of data, and the descriptors' range.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
import duckdb

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from assets.lib.sql import identifier  # noqa: E402
from pipelines.sample import SampleSpec, write_sample  # noqa: E402

TAOBAO_OPS = str(Path(sys.executable).with_name("taobao-ops"))
START = dt.date(2024, 1, 1)


def env(root: Path) -> dict[str, str]:
    return {
        **os.environ, "DAGSTER_HOME": str(root / "dagster"), "TAOBAO_OPS_RAW_DIR": str(root / "raw"),
        "TAOBAO_OPS_STATE_DIR": str(root / "state"), "TAOBAO_OPS_WAREHOUSE": str(root / "warehouse.duckdb"),
        "TAOBAO_OPS_AUTOMATION": "off", "TAOBAO_OPS_PII_KEY": "soak-key",
    }


def run(root: Path) -> tuple[float, int]:
    """`taobao-ops run --quiet` on a deployment: its wall time and the most descriptors it held."""
    started = time.perf_counter()
    process = subprocess.Popen([TAOBAO_OPS, "run", "--quiet"], env=env(root), cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    most = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            try:
                most[0] = max(most[0], len(os.listdir(f"/proc/{process.pid}/fd")))
            except OSError:
                pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.communicate()[0]
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"run in {root} exited {process.returncode}:\n{output[-3000:]}")
    return seconds, most[0]


def size(root: Path) -> int:
    paths = [root / "state", root / "warehouse.duckdb", root / "warehouse.duckdb.previous"]
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return total


def marts(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [n for (n,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
        return {n: con.execute(f"select * from marts.{identifier(n)} order by all").fetchall() for n in names}


def batches(source: Path) -> dict[dt.date, list[Path]]:
    """Every generated file by its batch date (reference files under the first day)."""
    from assets.lib.files import FileError, batch_date

    by_day: dict[dt.date, list[Path]] = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        try:
            day = batch_date(path.name)
        except FileError:
            day = START
        by_day.setdefault(max(day, START), []).append(path)
    return by_day


def drop(path: Path, source: Path, raw: Path) -> None:
    target = raw / path.relative_to(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)


def replace_file(raw: Path, day: dt.date) -> str | None:
    """Re-export an orders file of ten days before without its last order: a replaced file."""
    earlier = f"{day - dt.timedelta(days=10):%Y-%m-%d}"
    for path in sorted((raw / "orders").rglob(f"*{earlier}*.csv")):
        lines = path.read_bytes().splitlines(keepends=True)
        if len(lines) > 2:
            path.write_bytes(b"".join(lines[:-1]))
            return str(path.relative_to(raw))
    return None


@click.command()
@click.option("--days", default=365, show_default=True, type=click.IntRange(min=1))
@click.option("--orders-per-day", default=700, show_default=True, help="Per shop; 3 shops.")
@click.option("--check-every", default=30, show_default=True, help="Days between rebuild checks.")
@click.option("--work", type=click.Path(path_type=Path), default=PROJECT / "bench" / "out" / "soak")
@click.option("--plot", type=click.Path(path_type=Path), default=PROJECT / "docs" / "soak.png")
def main(days: int, orders_per_day: int, check_every: int, work: Path, plot: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    generated = work / "generated"
    spec = SampleSpec(seed=11, start=START, days=days, orders_per_day=orders_per_day, shops=3)
    print(f"soak: generating {days} days ({orders_per_day * 3:,} orders a day)…", flush=True)
    stats = write_sample(spec, generated)
    by_day = batches(generated)
    daily = work / "daily"
    rows, checks = [], []
    started = time.perf_counter()
    for i in range(days):
        day = START + dt.timedelta(days=i)
        for path in by_day.get(day, []):
            drop(path, generated, daily / "raw")
        replaced = replace_file(daily / "raw", day) if i and i % 30 == 0 else None
        seconds, fds = run(daily)
        rows.append({"day": i + 1, "date": day.isoformat(), "seconds": round(seconds, 3), "state_bytes": size(daily),
                     "max_fds": fds, "replaced": replaced})
        if (i + 1) % check_every == 0 or i + 1 == days:
            rebuilt = work / "rebuilt"
            shutil.rmtree(rebuilt, ignore_errors=True)
            shutil.copytree(daily / "raw", rebuilt / "raw")
            rebuild_seconds, _ = run(rebuilt)
            same = marts(daily / "warehouse.duckdb") == marts(rebuilt / "warehouse.duckdb")
            checks.append({"day": i + 1, "equal": same, "rebuild_seconds": round(rebuild_seconds, 2)})
            if not same:
                raise SystemExit(f"day {i + 1}: the marts differ from a rebuild ({rebuilt})")
        if (i + 1) % 10 == 0:
            print(f"  day {i + 1}/{days}: {seconds:.2f} s, state {rows[-1]['state_bytes'] / 2**20:,.0f} MiB, "
                  f"{fds} fds; {len(checks)} rebuild check(s) equal; {(time.perf_counter() - started) / 60:.1f} min",
                  flush=True)
    summary = summarise(rows, checks, stats)
    (work / "soak.json").write_text(json.dumps({"summary": summary, "runs": rows, "checks": checks}, indent=1))
    draw(rows, checks, plot)
    print(json.dumps(summary, indent=1))


def summarise(rows: list[dict], checks: list[dict], stats: dict) -> dict:
    settled = rows[7:] if len(rows) > 37 else rows  # the first week builds the first quarter's files up
    first, last = settled[:30], settled[-30:]
    per_day = [(b["state_bytes"] - a["state_bytes"]) for a, b in zip(rows, rows[1:])]
    return {
        "days": len(rows), "orders": stats.get("orders"), "rebuild_checks": len(checks),
        "all_equal": all(c["equal"] for c in checks),
        "median_seconds_first_30": round(statistics.median(r["seconds"] for r in first), 3),
        "median_seconds_last_30": round(statistics.median(r["seconds"] for r in last), 3),
        "state_mib_end": round(rows[-1]["state_bytes"] / 2**20, 1),
        "state_growth_mib_per_day_median": round(statistics.median(per_day) / 2**20, 3) if per_day else 0,
        "max_fds_range": [min(r["max_fds"] for r in rows), max(r["max_fds"] for r in rows)],
    }


def draw(rows: list[dict], checks: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [r["day"] for r in rows]
    figure, axes = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True)
    axes[0].plot(days, [r["seconds"] for r in rows], lw=0.8)
    axes[0].set_ylabel("run time (s)")
    axes[0].set_ylim(bottom=0)
    for c in checks:
        axes[0].axvline(c["day"], color="green" if c["equal"] else "red", lw=0.5, alpha=0.5)
    axes[1].plot(days, [r["state_bytes"] / 2**20 for r in rows], lw=0.8, color="tab:orange")
    axes[1].set_ylabel("state on disk (MiB)")
    axes[1].set_ylim(bottom=0)
    axes[2].plot(days, [r["max_fds"] for r in rows], lw=0.8, color="tab:purple")
    axes[2].set_ylabel("open files (max)")
    axes[2].set_ylim(bottom=0)
    axes[2].set_xlabel("day (one `taobao-ops run` a day; green lines: marts equal to a rebuild)")
    figure.suptitle(f"Soak: {len(rows)} daily runs in a row")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)


if __name__ == "__main__":
    main()
