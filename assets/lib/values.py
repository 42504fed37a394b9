"""Parsers for the closed list of accepted value forms (contract §1), as Polars expressions.

Every parser takes an already cleaned string expression (NFKC, trimmed, null tokens as null) and
returns the typed value, or null where the text is not an accepted form. The caller compares the
result with the input to tell "missing" from "invalid".
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

MONEY = pl.Decimal(18, 2)
CHINA_OFFSET_MINUTES = 8 * 60

_SCIENTIFIC = r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$"
_TIMESTAMP = (
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_id(s: pl.Expr) -> pl.Expr:
    """Plain, `="123"`, or with a leading `'` or tab; scientific notation is not an id."""
    unwrapped = (
        s.str.replace(r'^="(.*)"$', "$1")
        .str.strip_prefix("'")
        .str.strip_chars()
    )
    return (
        pl.when(unwrapped.str.contains(_SCIENTIFIC) | (unwrapped == "") | unwrapped.str.contains(r"^[=+@]"))
        .then(None)
        .otherwise(unwrapped)
    )


def is_scientific_id(s: pl.Expr) -> pl.Expr:
    return s.str.replace(r'^="(.*)"$', "$1").str.strip_prefix("'").str.strip_chars().str.contains(
        _SCIENTIFIC
    )


# Thousands separators only where they belong: `1,234,567.8`, not `1,2,3`.
_GROUPED = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"


def _number_text(s: pl.Expr, money: bool) -> pl.Expr:
    """The number without its currency marks and thousands separators; null if they are misplaced."""
    if money:
        s = s.str.replace_all(r"[¥元]", "").str.strip_chars()
    return pl.when(~s.str.contains(",") | s.str.contains(_GROUPED)).then(s.str.replace_all(",", ""))


def parse_money(s: pl.Expr) -> pl.Expr:
    """CNY with optional thousands separators and `¥`/`￥`/`元`, exact to the fen.

    More than two decimals round half away from zero (contract §0)."""
    text = _number_text(s, money=True)
    # At most 16 integer digits: DECIMAL(18,2) holds them, and Int64 fen cannot overflow.
    parts = text.str.extract_groups(r"^([+-]?)(\d{1,16})(?:\.(\d*))?$")
    sign = pl.when(parts.struct.field("1") == "-").then(-1).otherwise(1)
    whole = parts.struct.field("2").cast(pl.Int64, strict=False)
    frac = parts.struct.field("3").fill_null("").str.pad_end(3, "0")
    fen = frac.str.slice(0, 2).cast(pl.Int64)
    round_up = (frac.str.slice(2, 1).cast(pl.Int64) >= 5).cast(pl.Int64)
    cents = sign * (whole * 100 + fen + round_up)
    return (cents.cast(pl.Decimal(38, 0)) * pl.lit(Decimal("0.01"))).cast(MONEY)


def parse_int(s: pl.Expr) -> pl.Expr:
    text = _number_text(s, money=False)
    return (
        pl.when(text.str.contains(r"^[+-]?\d+(\.0+)?$"))
        .then(text.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False))
        .otherwise(None)
    )


_DECIMAL = r"^[+-]?\d+(\.\d+)?$"


def parse_scaled_int(s: pl.Expr, scale: int) -> pl.Expr:
    """A count given in a header unit (`12.5` in a `(万件)` column is 125,000), rounded to whole items."""
    text = _number_text(s, money=False)
    value = pl.when(text.str.contains(_DECIMAL)).then(text.cast(pl.Float64, strict=False) * scale)
    return value.round(0, mode="half_away_from_zero").cast(pl.Int64)


def parse_rate(s: pl.Expr) -> pl.Expr:
    """`45.3%` or a plain number in [0, 1]."""
    text = _number_text(s, money=False)
    number = text.str.strip_suffix("%")
    value = pl.when(number.str.contains(_DECIMAL)).then(number.cast(pl.Float64, strict=False))
    return (
        pl.when(text.str.ends_with("%"))
        .then(value / 100)
        .when(value.is_between(0, 1))
        .then(value)
        .otherwise(None)
    )


_BOOL_TRUE = ("1", "true", "是", "y", "yes", "手机订单")
_BOOL_FALSE = ("0", "false", "否", "n", "no")


def parse_bool(s: pl.Expr) -> pl.Expr:
    low = s.str.to_lowercase()
    return pl.when(low.is_in(_BOOL_TRUE)).then(True).when(low.is_in(_BOOL_FALSE)).then(False).otherwise(None)


def parse_timestamp(s: pl.Expr) -> pl.Expr:
    """Any accepted timestamp form, as a naive datetime in China time (Asia/Shanghai)."""
    unix = s.str.contains(r"^\d{10}$|^\d{13}$")
    epoch = s.cast(pl.Int64, strict=False)
    epoch_ms = pl.when(s.str.len_chars() == 10).then(epoch * 1000).otherwise(epoch)
    from_unix = pl.from_epoch(epoch_ms, time_unit="ms").cast(pl.Datetime("us")) + pl.duration(
        minutes=CHINA_OFFSET_MINUTES
    )

    g = s.str.extract_groups(_TIMESTAMP)
    field = g.struct.field

    def pad(name: str, default: str = "0") -> pl.Expr:
        return field(name).fill_null(default).str.pad_start(2, "0")

    text = pl.concat_str(
        field("1"), pl.lit("-"), pad("2"), pl.lit("-"), pad("3"), pl.lit(" "),
        pad("4"), pl.lit(":"), pad("5"), pl.lit(":"), pad("6"),
    )
    naive = text.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)
    fraction_us = field("7").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64).fill_null(0)
    offset = field("8")
    offset_digits = offset.str.replace_all(":", "")
    offset_minutes = (
        pl.when(offset == "Z")
        .then(0)
        .when(offset.is_not_null())
        .then(
            (offset_digits.str.slice(1, 2).cast(pl.Int64) * 60
             + offset_digits.str.slice(3, 2).replace("", "0").fill_null("0").cast(pl.Int64))
            * pl.when(offset_digits.str.starts_with("-")).then(-1).otherwise(1)
        )
        .otherwise(CHINA_OFFSET_MINUTES)
    )
    from_text = (
        naive
        + pl.duration(microseconds=fraction_us)
        + pl.duration(minutes=CHINA_OFFSET_MINUTES - offset_minutes)
    )
    return pl.when(unix).then(from_unix).otherwise(from_text)


def parse_date(s: pl.Expr) -> pl.Expr:
    return parse_timestamp(s).dt.date()


_DEVICE = {
    "mobile": ("mobile", "无线", "无线端", "手机", "移动端", "app"),
    "pc": ("pc", "pc端", "电脑"),
    "all": ("all", "所有终端", "全部"),
}


def parse_device(s: pl.Expr) -> pl.Expr:
    low = s.str.to_lowercase()
    expr = pl.when(s.is_null()).then(pl.lit("all"))
    for device, names in _DEVICE.items():
        expr = expr.when(low.is_in(names)).then(pl.lit(device))
    return expr.otherwise(None)


def parse_month(s: pl.Expr) -> pl.Expr:
    """`2024-07` or `2024/7` as the first day of the month."""
    g = s.str.extract_groups(r"^(\d{4})[-/](\d{1,2})$")
    text = pl.concat_str(g.struct.field("1"), pl.lit("-"), g.struct.field("2").str.pad_start(2, "0"), pl.lit("-01"))
    return text.str.to_date("%Y-%m-%d", strict=False)
