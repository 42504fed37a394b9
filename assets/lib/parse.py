"""Turn one raw file into typed rows for the lake plus its rejects (contract §1–§4, §7).

Parsing is pure: a file's bytes and the settings in, two frames and counts out. Nothing here touches
the database, so batches parse in parallel and a test can call it on a few lines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field

import polars as pl

from . import values as v
from .files import FileError, Grid
from .limits import DEFAULT_LIMITS, ReadLimits
from .pii import pseudonymize_column
from .reference import STATUS_MAP, address_parts, province_expr
from .schema import SOURCES, UNIT_SCALE, Column, Kind
from .fastpath import strict_parts
from .text import FORMULA, MAX_TEXT_CHARS, PHONE, clean_text, nfkc_stable, normalize, normalize_header


# Bump when parsing changes what a file yields: every file is then parsed again on the next run.
PARSER_VERSION = "2"


@dataclass(frozen=True)
class ParseOptions:
    pii_key: str
    default_shop: str = "default"
    # Events more than this many days before their file's batch date are rejected (contract §8).
    events_max_age_days: int = 31
    # What one file may hold before it is quarantined unread; not in the fingerprint: a file over a
    # limit yields nothing, and is read again by the next run (a raised limit takes it then).
    limits: ReadLimits = DEFAULT_LIMITS

    @property
    def fingerprint(self) -> str:
        """Changes when the same bytes would parse to other rows (parser, key, default shop).

        The key enters only through an HMAC, so the fingerprint reveals nothing about it."""
        key_mark = hmac.new(self.pii_key.encode("utf-8"), b"taobao-ops fingerprint", hashlib.sha256).hexdigest()
        text = f"{PARSER_VERSION}|{key_mark}|{self.default_shop}|{self.events_max_age_days}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Parsed:
    rows: pl.DataFrame
    rejects: pl.DataFrame  # (file_name,) line, reason, raw_line
    rows_read: int
    notes: dict[str, int] = field(default_factory=dict)
    notes_by_file: pl.DataFrame | None = None


@dataclass(frozen=True)
class _Mapped:
    index: int
    priority: int
    header: str
    unit: str | None


REJECT_SCHEMA = {"line": pl.Int64, "reason": pl.String, "raw_line": pl.String}
MASK = "***"


def map_header(header: list[str], columns: tuple[Column, ...]) -> dict[str, list[_Mapped]]:
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
        raise FileError(f"missing required column {names}")
    return mapped


def _source_text(col: Column, feeds: list[_Mapped], nfkc_stable_cells: set[str]) -> pl.Expr:
    """The first fed column with a value, row by row; Taobao's blank-means-no applied first."""
    exprs = []
    for m in feeds:
        cell = clean_text(pl.col(f"c{m.index}"), nfkc=f"c{m.index}" not in nfkc_stable_cells)
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
    Kind.MONTH: v.parse_month,
}


def _nfkc_stable_cells(rows: pl.DataFrame, cells: set[str]) -> set[str]:
    """Which of these cell columns NFKC would leave unchanged in every row (so it can be skipped)."""
    cells = sorted(cells)
    if not cells or not rows.height:
        return set()
    return {c for c, ok in rows.select([nfkc_stable(pl.col(c)).alias(c) for c in cells]).row(0, named=True).items() if ok}


def _typed(col: Column, feeds: list[_Mapped]) -> tuple[pl.Expr, pl.Expr | None]:
    """The typed value of a column by the contract parser, and the reason a present value could not
    be read."""
    text = pl.col(f"_raw_{col.name}")
    if col.kind in (Kind.ADDRESS, Kind.STATUS, Kind.PERSONAL):
        return text, None
    if col.kind is Kind.STRING:
        invalid = (
            pl.when(text.str.len_chars() > MAX_TEXT_CHARS)
            .then(pl.lit(f"{col.name}: longer than {MAX_TEXT_CHARS} characters"))
            .when(text.str.contains(FORMULA))
            .then(pl.lit(f"{col.name}: spreadsheet formula text"))
            .when(text.str.contains(PHONE))
            .then(pl.lit(f"{col.name}: holds a phone number (personal data)"))
        )
        return text, invalid
    parsed = _PARSERS[col.kind](text)
    scale = UNIT_SCALE.get(feeds[0].unit) if feeds and feeds[0].unit else None
    if col.kind is Kind.INT and scale:  # 万件 / 亿件; any other unit in a header is only a label
        parsed = v.parse_scaled_int(text, scale)
    shown = pl.lit("") if col.personal else pl.format(" '{}'", text.str.slice(0, 60))
    if col.kind is Kind.ID:
        invalid = (
            pl.when(text.str.len_chars() > MAX_TEXT_CHARS)
            .then(pl.lit(f"{col.name}: longer than {MAX_TEXT_CHARS} characters"))
            .when(text.str.contains(FORMULA) & ~text.str.contains(r'^="[^"]*"$'))
            .then(pl.lit(f"{col.name}: spreadsheet formula text"))
            .when(v.is_scientific_id(text))
            .then(pl.format("{}: id in scientific notation{} (digits were lost)", pl.lit(col.name), shown))
            .when(text.is_not_null() & parsed.is_null())
            .then(pl.lit(f"{col.name}: missing (empty id)"))
        )
    else:
        invalid = pl.when(text.is_not_null() & parsed.is_null()).then(
            pl.format("{}: not a valid {}{}", pl.lit(col.name), pl.lit(col.kind.value), shown)
        )
    return parsed, invalid


def _check(condition: pl.Expr, reason: str) -> pl.Expr:
    """A row rule: the reason when the condition is false; a null operand passes."""
    return pl.when(condition.fill_null(True).not_()).then(pl.lit(reason))


def parse_grid(
    grid: Grid, source: str, name: str, batch: dt.date | None, options: ParseOptions, *, fast_path: bool = True
) -> Parsed:
    """One file's rows, typed and checked (see parse_batches)."""
    if not grid.header:
        return Parsed(empty_rows(source), pl.DataFrame(schema=REJECT_SCHEMA), 0)
    rows = grid.rows.with_columns(file_name=pl.lit(name), batch_date=pl.lit(batch, pl.Date))
    try:
        parsed = parse_batches(grid.header, rows, source, options, fast_path=fast_path)
    except FileError as exc:
        raise FileError(f"{name}: {exc}") from None
    parsed.rejects = parsed.rejects.drop("file_name")
    parsed.notes = {k: int(v) for k, v in parsed.notes_by_file.drop("file_name").sum().row(0, named=True).items()}
    return parsed


def parse_batches(
    header: list[str], rows: pl.DataFrame, source: str, options: ParseOptions, *, fast_path: bool = True
) -> Parsed:
    """Rows of one or more files that share a header, typed and checked in one pass.

    `rows` holds the cells c0..cN and `line`, `field_count_error`, `file_name`, `batch_date`.
    Parsing many small files together costs one query plan instead of one per file. Columns that
    read strictly (fastpath.py) skip the per-cell normalisation, file by file; `fast_path=False`
    sends every column through the contract parser, which gives the same result."""
    if rows.height > SLICE_ROWS:
        return _in_slices(header, rows, source, options, fast_path)
    columns = SOURCES[source]
    mapped = map_header(header, columns)
    if not fast_path:
        return _parse(header, mapped, rows, set(), source, options, skip_stable_nfkc=False)
    parts = [_parse(header, mapped, frame, strict, source, options) for frame, strict in strict_parts(rows, columns, mapped)]
    if len(parts) == 1:
        return parts[0]
    # Rows in the order of the chunk: its files are contiguous, lines ascending within each.
    order = {name: i for i, name in enumerate(rows["file_name"].unique(maintain_order=True))}
    in_order = [pl.col("file_name").replace_strict(order, return_dtype=pl.Int64), pl.col("line")]
    return Parsed(
        pl.concat([p.rows for p in parts]).sort(in_order),
        pl.concat([p.rejects for p in parts]).sort(in_order),
        rows.height,
        notes_by_file=pl.concat([p.notes_by_file for p in parts]),
    )


# Rows parsed in one pass at most. Parsing costs ~1.1 KB a row at its peak, the rows it gives ~140
# bytes (1.23 M rows of 10 short fields: 1.3 GB, whole); a chunk is at most CHUNK_ROWS rows, but
# one file is never split between chunks, so a large file is parsed in slices.
SLICE_ROWS = 250_000


def _in_slices(header: list[str], rows: pl.DataFrame, source: str, options: ParseOptions, fast_path: bool) -> Parsed:
    """parse_batches over SLICE_ROWS rows at a time, the same result: rows and rejects in order,
    notes summed per file, and rows repeating a key counted over the whole file (a key can repeat
    across slices)."""
    parts = [
        parse_batches(header, rows.slice(start, SLICE_ROWS), source, options, fast_path=fast_path)
        for start in range(0, rows.height, SLICE_ROWS)
    ]
    good = pl.concat([p.rows for p in parts], rechunk=False)
    notes = pl.concat([p.notes_by_file for p in parts])
    schema = notes.schema
    notes = notes.group_by("file_name", maintain_order=True).sum()
    key = KEYS.get(source)
    if key:
        repeated = (
            good.group_by(["file_name", *key]).len().filter(pl.col("len") > 1)
            .group_by("file_name").agg(pl.col("len").sum().alias("repeated_key_rows"))
        )
        notes = notes.drop("repeated_key_rows").join(repeated, on="file_name", how="left").with_columns(
            pl.col("repeated_key_rows").fill_null(0)
        )
    return Parsed(
        good,
        pl.concat([p.rejects for p in parts], rechunk=False),
        rows.height,
        notes_by_file=notes.select(schema.names()).cast(dict(schema)),
    )


def _parse(
    header: list[str], mapped: dict[str, list[_Mapped]], frame: pl.DataFrame, strict: set[str], source: str,
    options: ParseOptions, skip_stable_nfkc: bool = True,
) -> Parsed:
    """Rows typed (the `strict` columns already read, see fastpath.read_strictly), checked, split."""
    columns = SOURCES[source]
    rows_read = frame.height
    # Personal columns are never read (only masked in raw_line).
    full = [col for col in columns if col.name not in strict and col.kind is not Kind.PERSONAL]
    fed = {f"c{m.index}" for col in full for m in mapped.get(col.name, [])}
    stable = _nfkc_stable_cells(frame, fed) if skip_stable_nfkc else set()
    frame = frame.with_columns(
        [_source_text(col, mapped.get(col.name, []), stable).alias(f"_raw_{col.name}") for col in full]
    )
    reasons: list[pl.Expr] = [pl.col("field_count_error")]
    typed: list[pl.Expr] = []
    for col in columns:
        if col.kind is Kind.PERSONAL:
            continue
        if col.name in strict:  # read by its strict form: no value of it can be invalid
            value, invalid = pl.col(_strict_name(col, frame)), None
        else:
            value, invalid = _typed(col, mapped.get(col.name, []))
        typed.append(value.alias(col.name))
        if invalid is not None:
            reasons.append(invalid)
        if col.required:
            reasons.append(pl.when(pl.col(f"_raw_{col.name}").is_null()).then(pl.lit(f"{col.name}: missing")))
    frame = frame.with_columns(typed)
    frame, rules = _SOURCE_RULES[source](frame, options)
    frame = frame.with_columns(
        _reason=pl.concat_str([*reasons, *rules], separator="; ", ignore_nulls=True)
    )
    bad = pl.col("_reason") != ""
    rejects = frame.filter(bad).select(
        "file_name", "line", pl.col("_reason").alias("reason"),
        _raw_line(header, mapped, columns).alias("raw_line"),
    )
    good = frame.filter(~bad)
    key = KEYS.get(source)
    repeated = pl.col("line").count().over(["file_name", *key]) > 1 if key else pl.lit(False)
    notes = good.with_columns(_repeated=repeated).group_by("file_name").agg(
        pl.col("_repeated").sum().alias("repeated_key_rows"), *_NOTES.get(source, [])
    )
    if source == "orders":
        good = pseudonymize_column(good, "buyer_id", options.pii_key)
    good = good.select(*_OUTPUT_COLUMNS[source], "batch_date", "file_name", "line").cast(
        lake_schema(source)
    )
    return Parsed(good, rejects, rows_read, notes_by_file=notes)


def _strict_name(col: Column, frame: pl.DataFrame) -> str:
    """The column holding a strictly read value: its typed cast, or for text its cell."""
    return f"_strict_{col.name}" if f"_strict_{col.name}" in frame.columns else f"_raw_{col.name}"


def _raw_line(header: list[str], mapped: dict[str, list[_Mapped]], columns: tuple[Column, ...]) -> pl.Expr:
    """The row as it was, with personal data masked (contract §7): personal columns, addresses, and
    every column the contract does not know (an export may carry 支付宝账号 or 买家留言)."""
    shown = {
        m.index
        for col in columns
        if col.kind not in (Kind.PERSONAL, Kind.ADDRESS) and not col.personal
        for m in mapped.get(col.name, [])
    }
    cells = [
        pl.col(f"c{i}").fill_null("") if i in shown else pl.lit(MASK)
        for i in range(len(header))
    ]
    return pl.concat_str(cells, separator=",")


def _after_batch(column: str, limit: pl.Expr, grace: str = "") -> pl.Expr:
    """A value past what the file's batch date allows (a null batch date allows anything)."""
    return pl.when(pl.col(column) >= limit).then(
        pl.format("{}: after the batch date {}" + grace, pl.lit(column), pl.col("batch_date"))
    )


def _orders(frame: pl.DataFrame, options: ParseOptions):
    status_text = pl.col("_raw_status").str.to_lowercase().str.replace_all(r"\s", "")
    status = status_text.replace_strict(STATUS_MAP, default=None, return_dtype=pl.String)
    paid = pl.col("paid_amount").fill_null(v.parse_money(pl.lit("0")))
    refund = pl.col("refund_amount").fill_null(v.parse_money(pl.lit("0")))
    frame = frame.with_columns(parts=address_parts(pl.col("address"))).with_columns(
        shop_id=_shop(options),
        status=pl.when((status == "closed") & (paid > 0) & (refund == paid)).then(pl.lit("refunded")).otherwise(status),
        paid_amount=paid,
        refund_amount=refund,
        item_count=pl.col("item_count").fill_null(1),
        province=province_expr(pl.coalesce(pl.col("province"), pl.col("parts").struct.field("province"))),
        city=pl.coalesce(pl.col("city"), pl.col("parts").struct.field("city")),
        district=pl.coalesce(pl.col("district"), pl.col("parts").struct.field("district")),
    )
    limit = pl.col("batch_date").cast(pl.Datetime("us")) + pl.duration(days=2)
    stamps = ("created_at", "paid_at", "shipped_at", "completed_at")
    rules = [
        pl.when(pl.col("_raw_status").is_not_null() & status.is_null()).then(
            pl.format("status: unknown status '{}'", pl.col("_raw_status"))
        ),
        _check(pl.col("total_amount") >= 0, "total_amount: negative"),
        _check(pl.col("paid_amount") >= 0, "paid_amount: negative"),
        _check(pl.col("refund_amount") >= 0, "refund_amount: negative"),
        _check(pl.col("item_count") >= 0, "item_count: negative"),
        _check(pl.col("refund_amount") <= pl.col("paid_amount"), "refund_amount above paid_amount"),
        _check(
            pl.col("paid_at").is_null() | pl.col("_raw_paid_amount").is_not_null(),
            "paid_amount: missing while paid_at is set",
        ),
        _check(pl.col("paid_at") >= pl.col("created_at"), "paid_at before created_at"),
        _check(pl.col("shipped_at") >= pl.col("paid_at"), "shipped_at before paid_at"),
        _check(pl.col("completed_at") >= pl.col("shipped_at"), "completed_at before shipped_at"),
        *[_after_batch(c, limit, " (+1 day of grace)") for c in stamps],
    ]
    return frame, rules


# Total rows of a 生意参谋 export: loaded, flagged, left out of staging, exempt from row rules (§3).
TOTAL_CHANNELS = ("汇总", "合计", "总计", "全部")


def _traffic(frame: pl.DataFrame, options: ParseOptions):
    visits = pl.col("visits").fill_null(pl.col("uv"))
    is_total = pl.col("channel").is_in(TOTAL_CHANNELS)
    from_rate = (pl.col("bounce_rate") * visits).round(0, mode="half_away_from_zero").cast(pl.Int64)
    frame = frame.with_columns(
        shop_id=_shop(options),
        visits=visits,
        bounced_visits=pl.coalesce(pl.col("bounced_visits"), from_rate),
        ad_spend=pl.col("ad_spend").fill_null(v.parse_money(pl.lit("0"))),
        is_total=is_total,
    )
    counts = ("pv", "uv", "visits", "bounced_visits", "cart_users", "fav_users")
    rules = [
        *[_check(pl.col(c) >= 0, f"{c}: negative") for c in counts],
        _check(pl.col("uv") <= pl.col("pv"), "uv above pv"),
        _check(pl.col("bounced_visits") <= pl.col("visits"), "bounced_visits above visits"),
        _check(pl.col("ad_spend") >= 0, "ad_spend: negative"),
    ]
    rules = [pl.when(~is_total).then(rule) for rule in rules]
    rules.append(_after_batch("date", pl.col("batch_date") + pl.duration(days=1)))
    return frame, rules


def _courier(frame: pl.DataFrame, options: ParseOptions):
    frame = frame.with_columns(
        period_end=pl.col("period_end").fill_null(pl.col("period_start")),
        region=pl.col("region").fill_null("全国"),
        returned=pl.col("returned").fill_null(0),
        late=pl.col("late").fill_null(0),
        complaints=pl.col("complaints").fill_null(0),
    )
    counts = ("collected", "delivered", "returned", "late", "complaints")
    rules = [
        *[_check(pl.col(c) >= 0, f"{c}: negative") for c in counts],
        _check(pl.col("period_end") >= pl.col("period_start"), "period_end before period_start"),
        _after_batch("period_end", pl.col("batch_date") + pl.duration(days=1)),
    ]
    return frame, rules


def _shop(options: ParseOptions) -> pl.Expr:
    """The shop as the file gives it (aliases are mapped in staging), or the configured default."""
    return pl.col("shop_id").fill_null(pl.lit(options.default_shop))


def _targets(frame: pl.DataFrame, options: ParseOptions):
    frame = frame.with_columns(shop_id=_shop(options))
    return frame, [_check(pl.col("target_gmv") >= 0, "target_gmv: negative")]


def _campaigns(frame: pl.DataFrame, options: ParseOptions):
    return frame, [_check(pl.col("end_date") >= pl.col("start_date"), "end_date before start_date")]


def _as_given(frame: pl.DataFrame, options: ParseOptions):
    return frame, []


_SOURCE_RULES = {
    "orders": _orders, "traffic": _traffic, "courier": _courier, "targets": _targets,
    "campaigns": _campaigns, "channels": _as_given, "couriers": _as_given, "shops": _as_given,
}

# The key of each source (contract §2–§4): rows repeating a key within one file are loaded, the
# greatest line winning in staging, and counted as a warning.
KEYS = {
    "orders": ("shop_id", "order_id"),
    "traffic": ("date", "shop_id", "channel", "device"),
    "courier": ("period_start", "period_end", "courier", "region"),
}

# Counts per file for the load report (contract §7), over the loaded rows.
_NOTES = {
    "orders": [pl.col("buyer_id").str.contains("*", literal=True).sum().alias("masked_buyer_ids")],
}

_OUTPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": (
        "shop_id", "order_id", "buyer_id", "status", "created_at", "paid_at", "shipped_at",
        "completed_at", "total_amount", "paid_amount", "refund_amount", "item_count", "category",
        "channel", "is_mobile", "province", "city", "district", "courier", "tracking_no",
        "rural_station_id",
    ),
    "traffic": (
        "date", "shop_id", "channel", "device", "pv", "uv", "visits", "bounced_visits",
        "ad_spend", "cart_users", "fav_users", "is_total",
    ),
    "courier": (
        "period_start", "period_end", "courier", "region", "collected",
        "delivered", "returned", "late", "complaints",
    ),
    "targets": ("shop_id", "month", "target_gmv"),
    "channels": ("channel", "channel_group"),
    "couriers": ("alias", "courier"),
    "campaigns": ("campaign", "start_date", "end_date"),
    "shops": ("alias", "shop_id"),
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
        "ad_spend": v.MONEY, "cart_users": pl.Int64, "fav_users": pl.Int64, "is_total": pl.Boolean,
    },
    "courier": {
        "period_start": pl.Date, "period_end": pl.Date, "courier": pl.String, "region": pl.String, "collected": pl.Int64, "delivered": pl.Int64, "returned": pl.Int64,
        "late": pl.Int64, "complaints": pl.Int64,
    },
    "targets": {"shop_id": pl.String, "month": pl.Date, "target_gmv": v.MONEY},
    "channels": {"channel": pl.String, "channel_group": pl.String},
    "couriers": {"alias": pl.String, "courier": pl.String},
    "campaigns": {"campaign": pl.String, "start_date": pl.Date, "end_date": pl.Date},
    "shops": {"alias": pl.String, "shop_id": pl.String},
    # Per (China day, shop, user) the events of each behaviour (assets/lib/events.py), and the first
    # day the file's batch date accepts.
    "events": {
        "date": pl.Date, "shop_id": pl.String, "user_key": pl.Int64, "pv": pl.Int64, "cart": pl.Int64,
        "fav": pl.Int64, "buy": pl.Int64, "window_start": pl.Date,
    },
}
LINEAGE_SCHEMA = {"batch_date": pl.Date, "file_name": pl.String, "line": pl.Int64}
# A lake row of these sources sums lines of its file: it has no line of its own.
AGGREGATED = ("events",)


def lake_schema(source: str) -> dict[str, pl.DataType]:
    """The columns and types of a source's lake files: its facts, then where each row came from."""
    lineage = {k: t for k, t in LINEAGE_SCHEMA.items() if k != "line" or source not in AGGREGATED}
    return {**LAKE_SCHEMAS[source], **lineage}


def empty_rows(source: str) -> pl.DataFrame:
    return pl.DataFrame(schema=lake_schema(source))
