"""Strict reads: columns already in their one canonical form skip the per-cell normalisation.

The contract parser (parse.py) cleans every cell (NFKC, trimming, null tokens) and then reads it by
the closed list of accepted forms (values.py). An ERP export writes each column in one canonical
form (`2024-10-01T22:08:02+08:00`, `159.8`, `tb_1_000001`, `true`), for which cleaning changes
nothing and the reading is one cast. A column of a parsed chunk *reads strictly* when every cell is
empty or has its kind's strict form below; such a column takes its text as it is and its typed
value from the cast, and gives no per-cell reason. Every other column (a single `-`, `="…"`,
full-width digit, space, `¥`, `1,234` or `1.2E+18` is enough) goes through the contract parser.

A strict form accepts only text the contract parser reads to the same value and passes unchanged
(no NFKC change, no surrounding space, no null token, no wrapper, sign or separator), so both ways
give the same rows, rejects and reasons; the row rules are not here, they run on either result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import polars as pl

from . import values as v
from .schema import UNIT_SCALE, Column, Kind
from .text import MAX_TEXT_CHARS, PHONE, normalize_header

_CJK = r"\x{4E00}-\x{9FFF}"  # CJK unified ideographs: NFKC leaves them, none is white space
# Text that cleaning leaves as it is: printable ASCII and CJK, no space at either end; not starting
# with `-` (the null tokens `-`, `--`) or `=`, `+`, `@` (formula text, `=`-wrapped ids).
_TEXT = rf"^[\x21-\x2A\x2C\x2E-\x3C\x3E\x3F\x41-\x7E{_CJK}](?:[\x20-\x7E{_CJK}]*[\x21-\x7E{_CJK}])?$"
# Ids: digits only, or a letter, `_` or ideograph first (so never scientific notation, a `'` or
# tab prefix, a wrapper or a formula).
_ID = rf"^[0-9]+$|^[A-Za-z_{_CJK}][0-9A-Za-z_.\-{_CJK}]*$"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"[0-9]{2}:[0-9]{2}:[0-9]{2}"


@dataclass(frozen=True)
class StrictForm:
    """One exact text form of a kind: the cells it takes and their typed value (null where the
    text has the form but no value, e.g. `2024-02-30`: such a column is not strict)."""

    pattern: str
    value: Callable[[pl.Expr], pl.Expr]


def _text_value(text: pl.Expr) -> pl.Expr:
    return text


def _long_text_refused(text: pl.Expr) -> pl.Expr:
    """Text the contract parser refuses with a reason (too long; a phone number in a text column)."""
    return pl.when((text.str.len_chars() <= MAX_TEXT_CHARS) & ~text.str.contains(PHONE)).then(text)


def _offset_time(text: pl.Expr) -> pl.Expr:
    """`…T08:11:23-05:30`: the instant, as naive China time."""
    utc = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_unit="us", strict=False)
    return utc.dt.replace_time_zone(None) + pl.duration(minutes=v.CHINA_OFFSET_MINUTES)


def _fraction(text: pl.Expr) -> pl.Expr:
    """`0.453`: a rate written as the fraction itself, at most 1."""
    value = text.cast(pl.Float64, strict=False)
    return pl.when(value <= 1).then(value)


def _naive(fmt: str) -> Callable[[pl.Expr], pl.Expr]:
    return lambda text: text.str.to_datetime(fmt, time_unit="us", strict=False)


FORMS: dict[Kind, tuple[StrictForm, ...]] = {
    Kind.ID: (StrictForm(_ID, lambda t: pl.when(t.str.len_chars() <= MAX_TEXT_CHARS).then(t)),),
    Kind.STRING: (StrictForm(_TEXT, _long_text_refused),),
    Kind.STATUS: (StrictForm(_TEXT, _text_value),),  # mapped by the orders rules, as on the full path
    # The first form a column's first value has is the one all its values must have.
    Kind.TIMESTAMP: (
        StrictForm(rf"^{_DATE}T{_TIME}\+08:00$", _naive("%Y-%m-%dT%H:%M:%S+08:00")),  # China time
        StrictForm(rf"^{_DATE} {_TIME}$", _naive("%Y-%m-%d %H:%M:%S")),
        StrictForm(rf"^{_DATE}T{_TIME}$", _naive("%Y-%m-%dT%H:%M:%S")),
        StrictForm(rf"^{_DATE}T{_TIME}[+-][0-9]{{2}}:[0-9]{{2}}$", _offset_time),
        StrictForm(rf"^{_DATE}$", _naive("%Y-%m-%d")),
    ),
    Kind.DATE: (StrictForm(rf"^{_DATE}$", lambda t: t.str.to_date("%Y-%m-%d", strict=False)),),
    # At most 16 integer digits and 2 decimals: DECIMAL(18,2) holds it exactly.
    Kind.MONEY: (StrictForm(r"^-?[0-9]{1,16}(?:\.[0-9]{1,2})?$", lambda t: t.cast(v.MONEY, strict=False)),),
    Kind.INT: (StrictForm(r"^-?[0-9]{1,18}$", lambda t: t.cast(pl.Int64, strict=False)),),
    Kind.RATE: (StrictForm(r"^[01](?:\.[0-9]+)?$", _fraction),),
    Kind.BOOL: (StrictForm(r"^(?:true|false|1|0)$", lambda t: t.is_in(("true", "1"))),),
    Kind.DEVICE: (StrictForm(r"^(?:mobile|pc|all)$", lambda t: t.fill_null(pl.lit("all"))),),
}
# Kinds whose strict value is the text itself (no typed column).
TEXT_KINDS = (Kind.ID, Kind.STRING, Kind.STATUS)


def eligible(col: Column, feeds: list) -> bool:
    """A column one file column feeds, with no meaning beyond its cells (Taobao's blank-means-no,
    a unit that scales counts): only then is its value the cell's value."""
    if col.kind not in FORMS or len(feeds) != 1:
        return False
    feed = feeds[0]
    if normalize_header(feed.header)[0] in col.blank_means:
        return False
    return not (col.kind is Kind.INT and feed.unit in UNIT_SCALE)


def cell(index: int) -> pl.Expr:
    """A cell of a strict column as the contract parser's cleaned text: empty is null."""
    c = pl.col(f"c{index}")
    return pl.when(c != "").then(c)


def _form(kind: Kind, sample: str | None) -> StrictForm:
    forms = FORMS[kind]
    if sample is None:
        return forms[0]
    # The patterns are ASCII-only where a kind has several forms, so `re` reads them as Polars does.
    return next((f for f in forms if re.fullmatch(f.pattern.strip("^$"), sample)), forms[0])


def accepted(form: StrictForm, text: pl.Expr, value: pl.Expr | None = None) -> pl.Expr:
    """Per cell (cleaned as `cell` does): empty, or in the form with a value."""
    value = form.value(text) if value is None else value
    return (text.is_null() | (text.str.contains(form.pattern) & value.is_not_null())).fill_null(False)


def _first_values(rows: pl.DataFrame, indexes: list[int], sample_rows: int = 200) -> dict[int, str | None]:
    head = rows.head(sample_rows)
    return {i: next((x for x in head[f"c{i}"] if x), None) for i in indexes}


def _candidates(
    rows: pl.DataFrame, columns: tuple[Column, ...], mapped: dict
) -> tuple[list[pl.Expr], dict[str, pl.Expr]]:
    """For each eligible column: `_raw_<name>` (and `_strict_<name>`, the typed value, for typed
    kinds) to add, and the check that every cell has the column's strict form."""
    eligible_columns = {
        col.name: (col, mapped[col.name][0].index) for col in columns if eligible(col, mapped.get(col.name, []))
    }
    samples = _first_values(rows, [i for col, i in eligible_columns.values() if len(FORMS[col.kind]) > 1])
    exprs, checks = [], {}
    for name, (col, index) in eligible_columns.items():
        form = _form(col.kind, samples.get(index))
        text = pl.col(f"_raw_{name}")
        exprs.append(cell(index).alias(f"_raw_{name}"))
        value = form.value(text)
        if col.kind not in TEXT_KINDS:
            exprs.append(form.value(cell(index)).alias(f"_strict_{name}"))
            value = pl.col(f"_strict_{name}")
        checks[name] = accepted(form, text, value).all().alias(name)
    return exprs, checks


def _without(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    return frame.drop([c for n in names for c in (f"_raw_{n}", f"_strict_{n}")], strict=False)


def read_strictly(rows: pl.DataFrame, columns: tuple[Column, ...], mapped: dict) -> tuple[pl.DataFrame, set[str]]:
    """The chunk with the strict columns read, and their names. One pass computes every
    candidate, one checks them; a column that fails is dropped and left to the contract parser."""
    return strict_parts(rows, columns, mapped, by_file=False)[0]


def strict_parts(
    rows: pl.DataFrame, columns: tuple[Column, ...], mapped: dict, by_file: bool = True
) -> list[tuple[pl.DataFrame, set[str]]]:
    """The chunk read strictly where it can be: one part, or, when some files of it break a
    column the others read strictly, those files apart so that they do not slow the others."""
    exprs, checks = _candidates(rows, columns, mapped)
    if not checks or not rows.height:
        return [(rows, set())]
    frame = rows.with_columns(exprs)
    passed = frame.select(checks.values()).row(0, named=True)
    failed = [name for name, ok in passed.items() if not ok]
    if failed and by_file and "file_name" in rows.columns:
        per_file = frame.group_by("file_name").agg([checks[n] for n in failed])
        clean = per_file.filter(pl.all_horizontal(failed))["file_name"]
        if 0 < clean.len() < per_file.height:
            is_clean = pl.col("file_name").is_in(clean.implode())
            return [read_strictly(rows.filter(is_clean), columns, mapped), read_strictly(rows.filter(~is_clean), columns, mapped)]
    return [(_without(frame, failed), set(checks) - set(failed))]
