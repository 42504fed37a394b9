"""The benchmark workload: the sample generator at scale, written once and reused.

One quarter (2024Q4, with 双11) of orders from 20 shops, with the later status batches of each
order; a year (2024) of traffic for those shops, every channel, 2 devices; courier volume of 12
companies x 300 regions daily for the same year. Every shop is a canonical UTF-8 export, so that
the floor (DuckDB's CSV reader, which cannot read GBK) reads the same files as the pipeline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

from pipelines.sample import SampleSpec, write_sample

ORDERS_PER_DAY_PER_10M = 4867  # 20 shops x 92 days x mean day factor 1.117 -> ~10 million orders


def spec(orders: int = 10_000_000, seed: int = 7) -> SampleSpec:
    return SampleSpec(
        seed=seed, start=dt.date(2024, 10, 1), days=92,
        orders_per_day=max(1, round(ORDERS_PER_DAY_PER_10M * orders / 10_000_000)), shops=20,
        history_days=274, couriers=12, regions=300, seller_centre_shop=False,
    )


def key(workload: SampleSpec) -> str:
    fields = {k: str(v) for k, v in dataclasses.asdict(workload).items()}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def ensure(workload: SampleSpec, cache: Path, progress=None) -> tuple[Path, dict]:
    """The workload's raw folder under `cache`, generated unless a complete copy is there."""
    folder = cache / f"workload-{key(workload)}"
    done = folder / "stats.json"
    if not done.exists():
        raw = folder / "raw"
        if raw.exists():
            import shutil

            shutil.rmtree(raw)
        stats = write_sample(workload, raw, progress=progress)
        done.write_text(json.dumps(stats), encoding="utf-8")
    return folder / "raw", json.loads(done.read_text(encoding="utf-8"))
