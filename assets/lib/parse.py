"""Turn one raw file into typed rows for the lake plus its rejects (contract §1–§4, §7).

Parsing is pure: a file's bytes and the settings in, two frames and counts out. Nothing here touches
the database, so batches parse in parallel and a test can call it on a few lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from . import values as v
from .files import FileError, Grid
from .pii import pseudonymize_column
from .reference import STATUS_MAP, courier_expr, courier_known_expr, province_expr
from .schema import SOURCES, UNIT_SCALE, Column, Kind
from .text import clean_text, normalize, normalize_header


@dataclass(frozen=True)
class ParseOptions:
    pii_key: str
    default_shop: str = "default"
    shop_aliases: dict[str, str] = field(default_factory=dict)
    courier_aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class Parsed:
    rows: pl.DataFrame
    rejects: pl.DataFrame  # line, reason, raw_line
    rows_read: int
    notes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Mapped:
    index: int
    priority: int
    header: str
    unit: str | None


REJECT_SCHEMA = {"line": pl.Int64, "reason": pl.String, "raw_line": pl.String}
MASK = "***"


def map_header(header: list[str], columns: tuple[Column, ...], name: str) -> dict[str, list[_Mapped]]:
    """Which file columns feed each canonical column, best first; quarantines a file missing one."""
    lookup: dict[str, tuple[str, int]] = {}
    for col in columns:
        for priority, alias in enumerate(col.header_names):
            lookup.setdefault(normalize(alias).lower(), (col.name, priority))
    mapped: dict[str, list[_Mapped]] = {}
    for index, cell in enumerate(header):
        key, unit = normalize_header(cell)
        if key in lookup:
            canonical, priority = lookup[key]
            mapped.setdefault(canonical, []).append(_Mapped(index, priority, cell, unit))
    for canonical in mapped:
        mapped[canonical].sort(key=lambda m: (m.priority, m.index))
    missing = [c for c in columns if c.required and c.name not in mapped]
    if missing:
        names = ", ".join(f"'{c.name}'" + (f" ({' / '.join(c.aliases)})" if c.aliases else "") for c in missing)
        raise FileError(f"{name}: missing required column {names}")
    return mapped


def _source_text(col: Column, feeds: list[_Mapped]) -> pl.Expr:
    """The first fed column with a value, row by row; Taobao's blank-means-no applied first."""
    exprs = []
    for m in feeds:
        cell = clean_text(pl.col(f"c{m.index}"))
        fill = col.blank_means.get(normalize_header(m.header)[0])
        exprs.append(cell.fill_null(pl.lit(fill)) if fill is not None else cell)
    if not exprs:
        return pl.lit(None, pl.String)
    return pl.coalesce(exprs) if len(exprs) > 1 else exprs[0]


_PARSERS = {
    Kind.ID: v.parse_id,
    Kind.TIMESTAMP: v.parse_timestamp,
    Kind.DATE: v.parse_date,
    Kind.MONEY: v.parse_money,
    Kind.INT: v.parse_int,
    Kind.RATE: v.parse_rate,
    Kind.BOOL: v.parse_bool,
    Kind.DEVICE: v.parse_device,
}


def _typed(col: Column, feeds: list[_Mapped]) -> tuple[pl.Expr, pl.Expr | None]:
    """The typed value of a column and the reason a present value could not be read."""
    text = pl.col(f"_raw_{col.name}")
    if col.kind in (Kind.STRING, Kind.ADDRESS, Kind.STATUS, Kind.PERSONAL):
        return text, None
    parsed = _PARSERS[col.kind](text)
    if col.kind is Kind.INT and feeds and feeds[0].unit:
        scale = UNIT_SCALE.get(feeds[0].unit)
        if scale is None:
            raise FileError(f"unknown unit '{feeds[0].unit}' in column '{feeds[0].header}'")
        parsed = parsed * scale
    if col.kind is Kind.ID:
        invalid = (
            pl.when(v.is_scientific_id(text))
            .then(pl.format("{}: id in scientific notation '{}' (digits were lost)", pl.lit(col.name), text))
        )
    else:
        invalid = pl.when(text.is_not_null() & parsed.is_null()).then(
            pl.format("{}: not a valid {} '{}'", pl.lit(col.name), pl.lit(col.kind.value), text.str.slice(0, 60))
        )
    return parsed, invalid


def _check(condition: pl.Expr, reason: str) -> pl.Expr:
    """A row rule: the reason when the condition is false; a null operand passes."""
    return pl.when(condition.fill_null(True).not_()).then(pl.lit(reason))


def parse_grid(grid: Grid, source: str, name: str, batch: dt.date, options: ParseOptions) -> Parsed:
    columns = SOURCES[source]
    if not grid.header:
        return Parsed(_empty(source), pl.DataFrame(schema=REJECT_SCHEMA), 0)
    mapped = map_header(grid.header, columns, name)
    frame = grid.rows.with_columns(
        [_source_text(col, mapped.get(col.name, [])).alias(f"_raw_{col.name}") for col in columns]
    )
    reasons: list[pl.Expr] = [pl.col("field_count_error")]
    typed: list[pl.Expr] = []
    for col in columns:
        if col.kind is Kind.PERSONAL:
            continue
        value, invalid = _typed(col, mapped.get(col.name, []))
        typed.append(value.alias(col.name))
        if invalid is not None:
            reasons.append(invalid)
        if col.required:
            reasons.append(pl.when(pl.col(f"_raw_{col.name}").is_null()).then(pl.lit(f"{col.name}: missing")))
    frame = frame.with_columns(typed)
    frame, rules, notes = _SOURCE_RULES[source](frame, batch, options)
    frame = frame.with_columns(
        _reason=pl.concat_list([*reasons, *rules]).list.drop_nulls().list.join("; ")
    )
    bad = pl.col("_reason") != ""
    rejects = frame.filter(bad).select(
        "line", pl.col("_reason").alias("reason"), _raw_line(grid, mapped, columns).alias("raw_line")
    )
    rows = frame.filter(~bad)
    if source == "orders":
        notes["masked_buyer_ids"] = rows.filter(pl.col("buyer_id").str.contains("*", literal=True)).height
        rows = pseudonymize_column(rows, "buyer_id", options.pii_key)
    rows = rows.select(
        *_OUTPUT_COLUMNS[source],
        pl.lit(batch).alias("batch_date"),
        pl.lit(name).alias("file_name"),
        "line",
    ).cast({**LAKE_SCHEMAS[source], **LINEAGE_SCHEMA})
    rows = rows.drop("parts", strict=False)
    return Parsed(rows, rejects, grid.rows.height, notes)


def _raw_line(grid: Grid, mapped: dict[str, list[_Mapped]], columns: tuple[Column, ...]) -> pl.Expr:
    """The row as it was, personal data masked (contract §7)."""
    personal = {
        m.index
        for col in columns
        if col.kind in (Kind.PERSONAL, Kind.ADDRESS) or col.name == "buyer_id"
        for m in mapped.get(col.name, [])
    }
    cells = [
        pl.lit(MASK) if i in personal else pl.col(f"c{i}").fill_null("")
        for i in range(len(grid.header))
    ]
    return pl.concat_str(cells, separator=",")


def _orders(frame: pl.DataFrame, batch: dt.date, options: ParseOptions):
    status_text = pl.col("_raw_status").str.to_lowercase().str.replace_all(r"\s", "")
    status = status_text.replace_strict(STATUS_MAP, default=None, return_dtype=pl.String)
    paid = pl.col("paid_amount").fill_null(v.parse_money(pl.lit("0")))
    refund = pl.col("refund_amount").fill_null(v.parse_money(pl.lit("0")))
    frame = frame.with_columns(
        parts=pl.col("address").str.replace_all(r"\s+", " ").str.split(" ")
    ).with_columns(
        shop_id=_shop(options),
        status=pl.when((status == "closed") & (paid > 0) & (refund == paid)).then(pl.lit("refunded")).otherwise(status),
        paid_amount=paid,
        refund_amount=refund,
        item_count=pl.col("item_count").fill_null(1),
        province=province_expr(pl.coalesce(pl.col("province"), pl.col("parts").list.get(0, null_on_oob=True))),
        city=pl.coalesce(pl.col("city"), pl.col("parts").list.get(1, null_on_oob=True)),
        district=pl.coalesce(pl.col("district"), pl.col("parts").list.get(2, null_on_oob=True)),
        courier=courier_expr(pl.col("courier"), options.courier_aliases),
    )
    limit = dt.datetime.combine(batch + dt.timedelta(days=2), dt.time())
    stamps = ("created_at", "paid_at", "shipped_at", "completed_at")
    rules = [
        pl.when(pl.col("_raw_status").is_not_null() & status.is_null()).then(
            pl.format("status: unknown status '{}'", pl.col("_raw_status"))
        ),
        _check(pl.col("total_amount") >= 0, "total_amount: negative"),
        _check(pl.col("paid_amount") >= 0, "paid_amount: negative"),
        _check(pl.col("refund_amount") >= 0, "refund_amount: negative"),
        _check(pl.col("refund_amount") <= pl.col("paid_amount"), "refund_amount above paid_amount"),
        _check(
            pl.col("paid_at").is_null() | pl.col("_raw_paid_amount").is_not_null(),
            "paid_amount: missing while paid_at is set",
        ),
        _check(pl.col("paid_at") >= pl.col("created_at"), "paid_at before created_at"),
        _check(pl.col("shipped_at") >= pl.col("paid_at"), "shipped_at before paid_at"),
        _check(pl.col("completed_at") >= pl.col("shipped_at"), "completed_at before shipped_at"),
        *[_check(pl.col(c) < limit, f"{c}: after the batch date {batch} (+1 day of grace)") for c in stamps],
    ]
    known = courier_known_expr(pl.col("_raw_courier"), pl.col("courier"), options.courier_aliases)
    notes = {"unknown_couriers": frame.filter(~known).height}
    return frame, rules, notes


def _traffic(frame: pl.DataFrame, batch: dt.date, options: ParseOptions):
    visits = pl.col("visits").fill_null(pl.col("uv"))
    from_rate = (pl.col("bounce_rate") * visits).round(0, mode="half_away_from_zero").cast(pl.Int64)
    frame = frame.with_columns(
        shop_id=_shop(options),
        visits=visits,
        bounced_visits=pl.coalesce(pl.col("bounced_visits"), from_rate),
        ad_spend=pl.col("ad_spend").fill_null(v.parse_money(pl.lit("0"))),
    )
    counts = ("pv", "uv", "visits", "bounced_visits", "cart_users", "fav_users")
    rules = [
        *[_check(pl.col(c) >= 0, f"{c}: negative") for c in counts],
        _check(pl.col("uv") <= pl.col("pv"), "uv above pv"),
        _check(pl.col("bounced_visits") <= pl.col("visits"), "bounced_visits above visits"),
        _check(pl.col("ad_spend") >= 0, "ad_spend: negative"),
        _check(pl.col("date") <= batch, f"date: after the batch date {batch}"),
    ]
    return frame, rules, {}


def _courier(frame: pl.DataFrame, batch: dt.date, options: ParseOptions):
    frame = frame.with_columns(
        period_end=pl.col("period_end").fill_null(pl.col("period_start")),
        courier_name=pl.col("courier"),
        courier=courier_expr(pl.col("courier"), options.courier_aliases),
        region=pl.col("region").fill_null("全国"),
        returned=pl.col("returned").fill_null(0),
        late=pl.col("late").fill_null(0),
        complaints=pl.col("complaints").fill_null(0),
    )
    counts = ("collected", "delivered", "returned", "late", "complaints")
    rules = [
        *[_check(pl.col(c) >= 0, f"{c}: negative") for c in counts],
        _check(pl.col("period_end") >= pl.col("period_start"), "period_end before period_start"),
        _check(pl.col("period_end") <= batch, f"period_end: after the batch date {batch}"),
    ]
    known = courier_known_expr(pl.col("courier_name"), pl.col("courier"), options.courier_aliases)
    return frame, rules, {"unknown_couriers": frame.filter(~known).height}


def _shop(options: ParseOptions) -> pl.Expr:
    shop = pl.col("shop_id").fill_null(pl.lit(options.default_shop))
    if not options.shop_aliases:
        return shop
    aliases = {normalize(k): s for k, s in options.shop_aliases.items()}
    return shop.replace_strict(aliases, default=shop, return_dtype=pl.String)


_SOURCE_RULES = {"orders": _orders, "traffic": _traffic, "courier": _courier}

_OUTPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": (
        "shop_id", "order_id", "buyer_id", "status", "created_at", "paid_at", "shipped_at",
        "completed_at", "total_amount", "paid_amount", "refund_amount", "item_count", "category",
        "channel", "is_mobile", "province", "city", "district", "courier", "tracking_no",
        "rural_station_id",
    ),
    "traffic": (
        "date", "shop_id", "channel", "device", "pv", "uv", "visits", "bounced_visits",
        "ad_spend", "cart_users", "fav_users",
    ),
    "courier": (
        "period_start", "period_end", "courier", "courier_name", "region", "collected",
        "delivered", "returned", "late", "complaints",
    ),
}

LAKE_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "orders": {
        "shop_id": pl.String, "order_id": pl.String, "buyer_id": pl.String, "status": pl.String,
        "created_at": pl.Datetime("us"), "paid_at": pl.Datetime("us"), "shipped_at": pl.Datetime("us"),
        "completed_at": pl.Datetime("us"), "total_amount": v.MONEY, "paid_amount": v.MONEY,
        "refund_amount": v.MONEY, "item_count": pl.Int64, "category": pl.String, "channel": pl.String,
        "is_mobile": pl.Boolean, "province": pl.String, "city": pl.String, "district": pl.String,
        "courier": pl.String, "tracking_no": pl.String, "rural_station_id": pl.String,
    },
    "traffic": {
        "date": pl.Date, "shop_id": pl.String, "channel": pl.String, "device": pl.String,
        "pv": pl.Int64, "uv": pl.Int64, "visits": pl.Int64, "bounced_visits": pl.Int64,
        "ad_spend": v.MONEY, "cart_users": pl.Int64, "fav_users": pl.Int64,
    },
    "courier": {
        "period_start": pl.Date, "period_end": pl.Date, "courier": pl.String, "courier_name": pl.String,
        "region": pl.String, "collected": pl.Int64, "delivered": pl.Int64, "returned": pl.Int64,
        "late": pl.Int64, "complaints": pl.Int64,
    },
}
LINEAGE_SCHEMA = {"batch_date": pl.Date, "file_name": pl.String, "line": pl.Int64}


def _empty(source: str) -> pl.DataFrame:
    return pl.DataFrame(schema={**LAKE_SCHEMAS[source], **LINEAGE_SCHEMA})
