"""Small user-maintained mapping files in `reference/` (contract §5): `alias -> value` pairs."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .files import FileError, csv_grid, decode
from .text import normalize, normalize_header


def read_pairs(path: Path, key: str, value: str) -> dict[str, str]:
    """The rows of a two-column CSV as a dict; an absent file is an empty mapping."""
    if not path.is_file():
        return {}
    grid = csv_grid(decode(path.read_bytes(), path.name), path.name)
    names = [normalize_header(h)[0] for h in grid.header]
    if key not in names or value not in names:
        raise FileError(f"{path.name}: needs the columns '{key}' and '{value}'")
    k, v = f"c{names.index(key)}", f"c{names.index(value)}"
    pairs = grid.rows.select(pl.col(k), pl.col(v)).rows()
    return {normalize(a): normalize(b) for a, b in pairs if a and b and normalize(a) and normalize(b)}


def shop_aliases(raw_dir: Path) -> dict[str, str]:
    return read_pairs(raw_dir / "reference" / "shops.csv", "alias", "shop_id")


def courier_aliases(raw_dir: Path) -> dict[str, str]:
    return read_pairs(raw_dir / "reference" / "couriers.csv", "alias", "courier")



