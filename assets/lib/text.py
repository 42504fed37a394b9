"""Text normalisation shared by headers and values (contract §0 "Names")."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

NULL_TOKENS = ("", "-", "--")
# Longer text is no name, category or channel: most likely a broken export; refused, not stored.
MAX_TEXT_CHARS = 1000
# Text a spreadsheet would run as a formula when the published data is opened in one (=cmd|…).
FORMULA = r"^[=+@]"
# A mainland mobile number: personal data that has no place in a category, channel or shop name.
PHONE = r"(?:^|\D)1[3-9]\d{9}(?:\D|$)"
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


# Text NFKC leaves as it is: ASCII and the CJK unified ideographs (no compatibility forms).
_NFKC_STABLE = r"^[\x00-\x7F\x{4E00}-\x{9FFF}]*$"


def nfkc_stable(expr: pl.Expr) -> pl.Expr:
    """True when NFKC would change no value of the column (one pass, cheaper than normalising)."""
    return expr.str.contains(_NFKC_STABLE).fill_null(True).all()


def clean_text(expr: pl.Expr, nfkc: bool = True) -> pl.Expr:
    """A string column with the contract's normalisation and null tokens applied; `nfkc=False`
    only for a column known to be NFKC-stable (see nfkc_stable)."""
    cleaned = (expr.str.normalize("NFKC") if nfkc else expr).str.strip_chars()
    return pl.when(cleaned.is_in(NULL_TOKENS)).then(None).otherwise(cleaned)
