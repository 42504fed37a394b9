"""Text normalisation shared by headers and values (contract §0 "Names")."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

NULL_TOKENS = ("", "-", "--")
_UNIT = re.compile(r"^(?P<name>.*?)\s*\((?P<unit>[^()]*)\)\s*$")


def normalize(value: str) -> str:
    """NFKC, trimmed: full-width `，` equals `,` and `ＡＢ` equals `AB`."""
    return unicodedata.normalize("NFKC", value).strip()


def normalize_header(raw: str) -> tuple[str, str | None]:
    """A header cell as (matching name, unit): BOM, case and a trailing `(unit)` do not count."""
    name = normalize(raw.replace("\ufeff", "")).lower()
    unit = None
    match = _UNIT.match(name)
    if match:
        name, unit = match["name"].strip(), match["unit"].strip()
    return name, unit


def clean_text(expr: pl.Expr) -> pl.Expr:
    """A string column with the contract's normalisation and null tokens applied."""
    cleaned = expr.str.normalize("NFKC").str.strip_chars()
    return pl.when(cleaned.is_in(NULL_TOKENS)).then(None).otherwise(cleaned)
