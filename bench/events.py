"""The behaviour-events benchmark's workload and floor (issue #16).

    python bench/events.py generate OUT.csv N [--seed 1]
    python bench/events.py floor FILE OUT.parquet [--memory-limit 1GB]

`generate` writes N events in the layout of Tianchi's "User Behavior Data from Taobao" (no header:
user_id,item_id,category_id,behavior,timestamp), shaped like the public set: grouped by ascending
user, each user's events in time order; about one user per 100 events (1,000,000 at most), items
with Zipf-like popularity, the behaviour mix pv 89 / cart 5.5 / fav 3 / buy 2.5 %, timestamps over
China days 2017-11-25..2017-12-03, and ~0.01 % stray events up to 40 days before or 5 days after
(some inside the pipeline's 31-day window, some rejected). The same N and seed give the same bytes.
It streams chunks of ~5 M events, so its memory does not grow with N (0.67 GiB, 54 s at 100 M).

`floor` is DuckDB reading that file and counting quarterly_funnel in one query
(bench/events_floor.sql): the least the pipeline's whole path can cost on this source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import click
import duckdb
import numpy as np
import polars as pl

FLOOR_SQL = Path(__file__).with_name("events_floor.sql")

FIRST_DAY = 1511539200  # 2017-11-25 00:00 China time (UTC+8), in Unix seconds
DAYS = 9  # 2017-11-25..2017-12-03, the public set's span
# Where a raw folder holds the file: shop `shop-1`'s log, dated the span's last day (its batch date).
LOG = Path("events/shop-1/events_2017-12-03.csv")
USERS, USER_SPACE = 1_000_000, 1_018_011  # the public set: ~1 M users with ids in 1..1,018,011
ITEMS, ITEM_SPACE, CATEGORIES = 4_000_000, 5_163_070, 9_439
EVENTS_PER_USER = 100  # 100 M events of ~1 M users; smaller files keep that density
EVENTS_PER_ITEM = 25
BEHAVIORS = ["pv", "cart", "fav", "buy"]
MIX = [0.89, 0.055, 0.03, 0.025]
STRAY_SHARE = 1e-4
CHUNK_ROWS = 5_000_000
# The pipeline's default events_max_age_days (contract §8): an event more than this many days
# before its batch date is rejected.
MAX_AGE_DAYS = 31
_DATE_IN_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Catalogue:
    """Who and what the events are about: sorted user ids, item ids, each item's category."""

    users: np.ndarray
    items: np.ndarray
    item_category: np.ndarray


def catalogue(rng: np.random.Generator, events: int) -> Catalogue:
    users = min(USERS, max(1, events // EVENTS_PER_USER))
    items = min(ITEMS, max(1, events // EVENTS_PER_ITEM))
    categories = min(CATEGORIES, items)
    user_ids = np.sort(rng.choice(np.arange(1, USER_SPACE + 1, dtype=np.int64), users, replace=False))
    item_ids = rng.choice(np.arange(1, ITEM_SPACE + 1, dtype=np.int64), items, replace=False)
    category_ids = rng.choice(np.arange(1, ITEM_SPACE + 1, dtype=np.int64), categories, replace=False)
    # categories are skewed too: a few hold many items
    ranks = np.minimum((categories * rng.random(items) ** 2.5).astype(np.int64), categories - 1)
    return Catalogue(user_ids, item_ids, category_ids[ranks])


def events_per_user(rng: np.random.Generator, users: int, events: int) -> np.ndarray:
    """Lognormal activity, scaled to add up to exactly `events` (the remainder of the rounding
    goes one each to the first users)."""
    weights = rng.lognormal(0.0, 1.0, users)
    counts = np.floor(weights / weights.sum() * events).astype(np.int64)
    counts[: events - int(counts.sum())] += 1
    return counts


def timestamps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unix seconds: a day of the span and a diurnal-ish second of it; strays before or after."""
    seconds = FIRST_DAY + rng.integers(0, DAYS, n) * 86400 + (rng.beta(2.2, 1.6, n) * 86400).astype(np.int64)
    stray = rng.random(n) < STRAY_SHARE
    strays = int(stray.sum())
    seconds[stray] = np.where(
        rng.random(strays) < 0.9,
        FIRST_DAY - rng.integers(1, 40 * 86400, strays),
        FIRST_DAY + DAYS * 86400 + rng.integers(0, 5 * 86400, strays),
    )
    return seconds


def chunk(rng: np.random.Generator, world: Catalogue, users: np.ndarray, counts: np.ndarray) -> pl.DataFrame:
    """The events of `users` (`counts` each), by user then time, as the file's columns."""
    n = int(counts.sum())
    user = np.repeat(users, counts)
    popular = np.minimum((len(world.items) * rng.random(n) ** 3).astype(np.int64), len(world.items) - 1)
    behavior = rng.choice(len(BEHAVIORS), n, p=MIX).astype(np.int8)
    ts = timestamps(rng, n)
    order = np.lexsort((ts, user))
    return pl.DataFrame({
        "user_id": user[order],
        "item_id": world.items[popular][order],
        "category_id": world.item_category[popular][order],
        "behavior": pl.Series(behavior[order]).replace_strict(dict(enumerate(BEHAVIORS)), return_dtype=pl.String),
        "timestamp": ts[order],
    })


def write_events(out: Path, events: int, seed: int = 1) -> None:
    """`events` events into the CSV `out`, a chunk of whole users at a time."""
    rng = np.random.default_rng(seed)
    world = catalogue(rng, events)
    counts = events_per_user(rng, len(world.users), events)
    ends = np.cumsum(counts)
    written, first = 0, 0
    with open(out, "wb") as fh:
        while first < len(world.users):
            stop = max(first + 1, int(np.searchsorted(ends, written + CHUNK_ROWS, side="right")))
            chunk(rng, world, world.users[first:stop], counts[first:stop]).write_csv(fh, include_header=False)
            written, first = int(ends[stop - 1]), stop


def cached_raw(cache: Path, events: int, seed: int) -> Path:
    """The raw folder in which the benchmark keeps the file of `events` events and `seed` (at
    `LOG` in it) between runs."""
    return cache / f"events-{events}-seed{seed}" / "raw"


def floor(file: Path, out: Path, memory_limit: str | None = None) -> None:
    """quarterly_funnel of one events file, computed by DuckDB alone, into the Parquet file `out`.
    The shop is the folder holding the file (events/<shop_id>/), the batch date the date in its
    name, as the pipeline reads them."""
    config = {"temp_directory": str(out.parent / ".duckdb-tmp")}
    if memory_limit:
        config["memory_limit"] = memory_limit
    with duckdb.connect(config=config) as con:
        con.execute(
            FLOOR_SQL.read_text(encoding="utf-8"),
            {
                "file": str(file), "shop_id": file.parent.name, "max_age_days": MAX_AGE_DAYS,
                "batch_date": _DATE_IN_NAME.search(file.name).group(0),
            },
        )
        con.execute("copy floor_funnel to $out (format parquet)", {"out": str(out)})


@click.group()
def main() -> None:
    """The events benchmark's generator and floor, each run as its own measured process."""


@main.command("generate")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("events", type=int)
@click.option("--seed", type=int, default=1, show_default=True)
def generate_command(out: Path, events: int, seed: int) -> None:
    write_events(out, events, seed)


@main.command("floor")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--memory-limit", default=None, help="DuckDB's memory limit (its own default: 80% of RAM).")
def floor_command(file: Path, out: Path, memory_limit: str | None) -> None:
    floor(file, out, memory_limit)


if __name__ == "__main__":
    main()
