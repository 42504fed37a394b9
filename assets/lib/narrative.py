"""数据总结: the first section of every report page, drafted from the page's own numbers by fixed rules.

Each rule reads rows the page already holds (sql/report/*.sql over the marts) and either writes
sentences, each in Chinese and English and each naming its sources (table, key, columns), or writes
nothing when its inputs are missing: a quarter without last year says nothing about YoY. Numbers
are shown as the tables show them (assets/lib/formats.py); a number a rule works out (a shortfall,
a change, a proposed target) carries its formula beside its sources. Thresholds are `SummaryRules`
(settings, docs/report.md). No sentence is free text: every one is a template below filled from rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .formats import percent, show
from .glossary import column_of
from .thresholds import SummaryRules


# -- what a sentence is made of ---------------------------------------------------------------

ALL_SHOPS = "all"  # the key value of a row that adds up every shop (the all-shops page)

# The page table (sql/report/<name>.sql) -> the relation its rows come from, and the columns that
# name a row there. A key column the page's rows lack (quarter, shop_id) is the page's own.
SECTION_SOURCES = {
    "headline": ("marts.quarterly_shop_kpis", ("quarter", "shop_id")),
    "monthly": ("marts.monthly_target_tracking", ("month", "shop_id")),
    "channels": ("marts.quarterly_channel_kpis", ("quarter", "shop_id", "channel_group", "channel")),
    "campaigns": ("marts.quarterly_campaign_kpis", ("quarter", "shop_id", "campaign")),
    "couriers": ("staging.courier_days", ("quarter", "courier")),
    "quality": ("audit.loads", ("quarter", "source")),
    "checks": ("audit.validations", ("check_name",)),
}


@dataclass(frozen=True)
class Source:
    """One row a sentence reads: its relation, its key, the columns read, and the page table
    (sql/report/<section>.sql) that read it."""

    table: str
    key: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    section: str

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key)
        return f"{self.table} [{key}]: {', '.join(self.columns)}"


@dataclass(frozen=True)
class Sentence:
    zh: str
    en: str
    sources: tuple[Source, ...] = ()
    formulas: tuple[str, ...] = ()  # how a number the rule worked out was computed; thresholds used

    @property
    def provenance(self) -> str:
        """The footnote / title text: every source, then every formula."""
        return "; ".join([*map(str, self.sources), *self.formulas])


@dataclass(frozen=True)
class Paragraph:
    topic: str
    zh_title: str
    en_title: str
    sentences: tuple[Sentence, ...]


# -- formatting -------------------------------------------------------------------------------

def _kind(column: str) -> str:
    defined = column_of(None, column)
    return defined.shown_as if defined else "text"


def value(column: str, v) -> str:
    """A value in prose: as the page's tables show it (the glossary's kind), money with ¥."""
    shown = show(column, v)
    return f"¥{shown}" if _kind(column) == "money" and v is not None else shown


def pct(fraction: float) -> str:
    """The size of a change or a threshold, as the pages show a rate."""
    return percent(abs(fraction))


def points(fraction: float) -> tuple[str, str]:
    """A difference of two rates in percentage points, (中文, English)."""
    size = f"{abs(fraction) * 100:.1f}"
    return f"{size} 个百分点", f"{size} pp"


def money_of(amount: Decimal) -> str:
    return value("gmv", amount)


def growth(now, before) -> float | None:
    """now / before − 1, as the warehouse's rate_growth macro: None without either or when before is 0."""
    if now is None or before is None or before == 0:
        return None
    return float(now) / float(before) - 1


def shift_quarter(label: str, quarters: int) -> str:
    """2024Q4 + 1 -> 2025Q1; FY2025Q1 − 1 -> FY2024Q4 (labels of fiscal quarters shift the same way)."""
    prefix, year, q = re.fullmatch(r"(FY)?(\d{4})Q([1-4])", label).groups()
    index = int(year) * 4 + int(q) - 1 + quarters
    return f"{prefix or ''}{index // 4}Q{index % 4 + 1}"


def shift_month(month: str, months: int) -> str:
    year, m = map(int, month.split("-"))
    index = year * 12 + m - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# -- the page being summarised ----------------------------------------------------------------

@dataclass
class Page:
    """The rows of one report page (ReportData's tables as dicts) and the rules' thresholds."""

    quarter: str
    shop: str | None
    tables: dict[str, list[dict]]
    rules: SummaryRules

    def rows(self, name: str) -> list[dict]:
        return self.tables.get(name, [])

    def headline(self, quarter: str) -> dict | None:
        return next((r for r in self.rows("headline") if r["quarter"] == quarter), None)

    def every_row(self, section: str, columns, quarter: str | None = None) -> Source:
        """Every row of the page's table `section` (in `quarter`): keyed by the page alone."""
        return self.source(section, {}, columns, quarter, page_key_only=True)

    def source(self, section: str, row: dict, columns, quarter: str | None = None, page_key_only: bool = False) -> Source:
        table, key_columns = SECTION_SOURCES[section]
        page_key = {"quarter": quarter or self.quarter, "shop_id": self.shop if self.shop is not None else ALL_SHOPS}
        if page_key_only:
            key_columns = [k for k in key_columns if k in page_key]
        key = tuple((k, str(row[k]) if row.get(k) is not None else page_key.get(k, "")) for k in key_columns)
        return Source(table, key, tuple(columns), section)


# -- the rules --------------------------------------------------------------------------------

# What moved: (column, English, +1 when up is better, −1 when down is better); the Chinese name is
# the glossary's.
MOVES = (
    ("gmv", "GMV", 1),
    ("paid_buyers", "paid buyers", 1),
    ("aov", "AOV", 1),
    ("conversion_rate", "conversion", 1),
    ("bounce_rate", "bounce rate", -1),
    ("repurchase_rate", "repurchase rate", 1),
    ("refund_rate", "refund rate", -1),
)
CONTENT_GROUP = "content"  # 淘宝直播, 逛逛, 微淘 (the channel mapping's group)
CHANGE_FORMULA = "变化 change = now / before − 1 (rate_growth), ranked by its size; a rate's change shown in percentage points = now − before"
SHIFT_FORMULA = "占比变化 share change = uv_share now − uv_share before, in percentage points; a channel without a row had no visitors"


def sales(page: Page) -> list[Sentence]:
    now = page.headline(page.quarter)
    if now is None or now.get("gmv") is None:
        return []
    out = []
    if now.get("target_gmv") is not None and now.get("target_completion") is not None:
        out.append(Sentence(
            f"本季度支付金额 {value('gmv', now['gmv'])}，目标 {value('target_gmv', now['target_gmv'])}，"
            f"目标完成率 {value('target_completion', now['target_completion'])}。",
            f"GMV was {value('gmv', now['gmv'])} against a target of {value('target_gmv', now['target_gmv'])}: "
            f"{value('target_completion', now['target_completion'])} of target.",
            (page.source("headline", now, ("gmv", "target_gmv", "target_completion")),),
        ))
    else:  # no target: nothing said about one
        out.append(Sentence(
            f"本季度支付金额 {value('gmv', now['gmv'])}。", f"GMV was {value('gmv', now['gmv'])}.",
            (page.source("headline", now, ("gmv",)),),
        ))
    months = [m for m in page.rows("monthly") if m.get("target_gmv") and m.get("gmv") is not None]  # a target of 0 is none
    missed = [m for m in months if m["gmv"] < m["target_gmv"]]
    if missed:
        zh = "、".join(
            f"{m['month']} 完成 {value('target_completion', m['target_completion'])}"
            f"（{value('gmv', m['gmv'])} / 目标 {value('target_gmv', m['target_gmv'])}，差 {money_of(m['target_gmv'] - m['gmv'])}）"
            for m in missed
        )
        en = ", ".join(
            f"{m['month']} at {value('target_completion', m['target_completion'])} ({value('gmv', m['gmv'])} of "
            f"{value('target_gmv', m['target_gmv'])}, {money_of(m['target_gmv'] - m['gmv'])} short)"
            for m in missed
        )
        out.append(Sentence(
            f"未达成目标的月份：{zh}。", f"Months below target: {en}.",
            tuple(page.source("monthly", m, ("gmv", "target_gmv", "target_completion")) for m in missed),
            ("差 shortfall = target_gmv − gmv",),
        ))
    elif months:
        out.append(Sentence(
            "各月均达成目标。", "Every month met its target.",
            tuple(page.source("monthly", m, ("gmv", "target_gmv")) for m in months),
        ))
    return out


@dataclass(frozen=True)
class Move:
    column: str
    zh: str
    en: str
    better: int
    now: object
    before: object
    change: float  # relative

    @property
    def worse(self) -> bool:
        return self.change * self.better < 0

    def phrase(self) -> tuple[str, str]:
        up = self.change > 0
        span = f"{value(self.column, self.before)} → {value(self.column, self.now)}"
        if _kind(self.column) == "percent":
            zh_size, en_size = points(float(self.now) - float(self.before))
            return (f"{self.zh}{'上升' if up else '下降'} {zh_size}（{span}）",
                    f"{self.en} {'rose' if up else 'fell'} {en_size} ({span})")
        return (f"{self.zh}{'增长' if up else '下降'} {pct(self.change)}（{span}）",
                f"{self.en} {'rose' if up else 'fell'} {pct(self.change)} ({span})")


def moves(page: Page, before_quarter: str) -> list[Move]:
    """The headline metrics' changes from `before_quarter` to the page's quarter, largest first."""
    now, before = page.headline(page.quarter), page.headline(before_quarter)
    if now is None or before is None:
        return []
    found = []
    for column, en, better in MOVES:
        change = growth(now.get(column), before.get(column))
        if change is not None and value(column, now[column]) != value(column, before[column]):
            found.append(Move(column, column_of(None, column).zh, en, better, now[column], before[column], change))
    return sorted(found, key=lambda m: (-abs(m.change), m.column))


def what_moved(page: Page) -> list[Sentence]:
    out = []
    for zh_against, en_against, before_quarter in (("上季度", "the previous quarter", shift_quarter(page.quarter, -1)),
                                                   ("去年同期", "the same quarter last year", shift_quarter(page.quarter, -4))):
        found = moves(page, before_quarter)
        if not found:
            continue
        large = [m for m in found if page.rules.at_least(abs(m.change), page.rules.large_change)][: page.rules.top_changes]
        shown = large or found[:1]
        phrases = [m.phrase() for m in shown]
        sources = (page.source("headline", page.headline(page.quarter), [m.column for m in shown]),
                   page.source("headline", page.headline(before_quarter), [m.column for m in shown], before_quarter))
        formulas = (CHANGE_FORMULA,)
        if large:
            out.append(Sentence(
                f"与{zh_against}（{before_quarter}）相比，" + "；".join(p[0] for p in phrases) + "。",
                f"Against {en_against} ({before_quarter}): " + "; ".join(p[1] for p in phrases) + ".",
                sources, formulas,
            ))
        else:
            threshold = pct(page.rules.large_change)
            out.append(Sentence(
                f"与{zh_against}（{before_quarter}）相比，各项指标变化均小于 {threshold}，变化最大的是{phrases[0][0]}。",
                f"Against {en_against} ({before_quarter}), no metric changed by {threshold} or more; the largest "
                f"change: {phrases[0][1]}.",
                sources, (*formulas, f"large_change = {threshold}"),
            ))
    return out


def channels(page: Page) -> list[Sentence]:
    return channel_shifts(page) + roi_band(page, risks=False) + content_share(page)


def channel_shifts(page: Page) -> list[Sentence]:
    """The channels whose visitor share moved by `channel_shift` or more since the previous quarter
    (gains, then falls, largest first, at most `top_changes`), or that none did, naming the channels
    that grew and shrank most. A channel with no row in one of the quarters had no visitors then.
    Nothing without both quarters' channels."""
    previous_quarter = shift_quarter(page.quarter, -1)
    now = {(r["channel_group"], r["channel"]): r for r in page.rows("channels") if r.get("uv_share") is not None}
    before = {(r["channel_group"], r["channel"]): r for r in page.rows("channels_previous") if r.get("uv_share") is not None}
    if not now or not before:
        return []
    moves = sorted(
        ((now.get(key), before.get(key), (now[key]["uv_share"] if key in now else 0.0)
          - (before[key]["uv_share"] if key in before else 0.0)) for key in now.keys() | before.keys()),
        key=lambda m: (-m[2], (m[0] or m[1])["channel"]),
    )
    rules, threshold = page.rules, points(page.rules.channel_shift)
    formulas = (SHIFT_FORMULA, f"channel_shift = {threshold[1]}")
    large = [m for m in moves if rules.at_least(abs(m[2]), rules.channel_shift)]
    large = ([m for m in large if m[2] > 0] + [m for m in reversed(large) if m[2] < 0])[: rules.top_changes]
    every_row = (page.every_row("channels", ("uv_share",)), page.every_row("channels", ("uv_share",), previous_quarter))
    if not large:  # the channels that grew and shrank most, by name: their shares look alike at 0.1%
        most = [(zh, en, m[0]["channel"]) for zh, en, m, sign in (("上升最多的是", "grew most", moves[0], 1),
                                                                  ("下降最多的是", "shrank most", moves[-1], -1))
                if m[0] is not None and m[2] * sign > 0]
        return [Sentence(
            f"各渠道访客占比与上季度相比变化均小于 {threshold[0]}" + "".join(f"，{zh}{name}" for zh, _, name in most) + "。",
            f"No channel's visitor share moved by {threshold[1]} or more since the previous quarter"
            + "".join(f"; {name} {en}" for _, en, name in most) + ".",
            every_row, formulas,
        )]
    parts, sources = [], []
    for r, b, shift in large:
        (zh_size, en_size), up = points(shift), shift > 0
        span = f"{value('uv_share', b['uv_share']) if b else '无访客'} → {value('uv_share', r['uv_share']) if r else '无访客'}"
        span_en = span.replace("无访客", "none")
        name = (r or b)["channel"]
        parts.append((f"{name}{'上升' if up else '下降'} {zh_size}（{span}）", f"{name} {'up' if up else 'down'} {en_size} ({span_en})"))
        sources += [page.source("channels", r, ("uv_share",)) if r else every_row[0],
                    page.source("channels", b, ("uv_share",), previous_quarter) if b else every_row[1]]
    return [Sentence(
        "与上季度相比，访客占比变化较大的渠道：" + "；".join(p[0] for p in parts) + "。",
        "Channels whose visitor share moved most since the previous quarter: " + "; ".join(p[1] for p in parts) + ".",
        tuple(dict.fromkeys(sources)), formulas,
    )]


def content_share(page: Page) -> list[Sentence]:
    """The content channels' (淘宝直播, 逛逛, 微淘) visitor share, together and each."""
    content = [r for r in page.rows("channels") if r["channel_group"] == CONTENT_GROUP and r.get("uv_share") is not None]
    if not content:
        return []
    total = sum(r["uv_share"] for r in content)
    listed = [f"{r['channel']} {value('uv_share', r['uv_share'])}" for r in content]
    return [Sentence(
        f"内容渠道访客占比合计 {pct(total)}（{'、'.join(listed)}）。",
        f"Content channels drew {pct(total)} of visitors ({', '.join(listed)}).",
        tuple(page.source("channels", r, ("uv_share",)) for r in content),
        ("合计 total = Σ uv_share of channel_group 'content'",),
    )]


def _outside_band(page: Page) -> list[dict]:
    low, high = page.rules.roi_band
    return [c for c in page.rows("channels") if c.get("roi") is not None and not low <= c["roi"] <= high]


def roi_band(page: Page, risks: bool) -> list[Sentence]:
    """Paid channels (ad spend > 0) against the healthy ROI band: those outside it, or that all are inside."""
    paid = [c for c in page.rows("channels") if c.get("roi") is not None]
    if not paid:
        return []
    low, high = page.rules.roi_band
    band = f"{low:g}–{high:g}"
    outside = _outside_band(page)
    formulas = (f"ROI band = {band} (roi_low, roi_high)",)
    if outside:
        zh = "、".join(f"{c['channel']} {value('roi', c['roi'])}" for c in outside)
        en = ", ".join(f"{c['channel']} {value('roi', c['roi'])}" for c in outside)
        return [Sentence(
            f"{'付费渠道 ROI 不在健康区间' if not risks else '付费渠道投入产出偏离健康区间'} {band}：{zh}。",
            f"{'Paid channels with ROI outside the healthy band' if not risks else 'Paid channels out of the healthy ROI band'} {band}: {en}.",
            tuple(page.source("channels", c, ("roi",)) for c in outside), formulas,
        )]
    if risks:
        return []
    return [Sentence(
        f"付费渠道 ROI 均在健康区间 {band} 内。", f"Every paid channel's ROI is inside the healthy band {band}.",
        (page.every_row("channels", ("roi",)),), formulas,
    )]


def campaigns(page: Page) -> list[Sentence]:
    out = []
    by_campaign: dict[str, list[dict]] = {}
    for row in page.rows("campaigns"):
        by_campaign.setdefault(row["campaign"], []).append(row)
    for campaign, rows in by_campaign.items():
        with_base = [r for r in rows if r.get("uplift") is not None]
        if not with_base:
            continue
        if page.shop is not None:
            (r,) = with_base
            out.append(Sentence(
                f"{campaign}（{value('campaign_days', r['campaign_days'])} 天）支付金额 {value('gmv', r['gmv'])}，"
                f"是日常日均 {value('baseline_daily_gmv', r['baseline_daily_gmv'])} 的 {value('uplift', r['uplift'])} 倍。",
                f"{campaign} ({value('campaign_days', r['campaign_days'])} day(s)) took {value('gmv', r['gmv'])}, "
                f"{value('uplift', r['uplift'])}× the daily baseline of {value('baseline_daily_gmv', r['baseline_daily_gmv'])}.",
                (page.source("campaigns", r, ("campaign_days", "gmv", "baseline_daily_gmv", "uplift")),),
            ))
        else:
            zh = "、".join(f"{r['shop_id']} {value('uplift', r['uplift'])} 倍" for r in with_base)
            en = ", ".join(f"{r['shop_id']} {value('uplift', r['uplift'])}×" for r in with_base)
            out.append(Sentence(
                f"{campaign} 活动日销售额相对日常日均的提升：{zh}。",
                f"{campaign} sales against each shop's daily baseline: {en}.",
                tuple(page.source("campaigns", r, ("uplift",)) for r in with_base),
            ))
    return out


def _alarms(page: Page) -> list[tuple[str, str, str, float, list[dict]]]:
    """(column, 中文, English, threshold, couriers above it) for the late and return rates."""
    rules = page.rules
    out = []
    for column, zh, en, threshold in (("late_rate", "超时率", "late rate", rules.late_rate_alarm),
                                      ("return_rate", "退件率", "return rate", rules.return_rate_alarm)):
        rated = [c for c in page.rows("couriers") if c.get(column) is not None]
        if rated:
            out.append((column, zh, en, threshold, [c for c in rated if c[column] > threshold]))
    return out


def logistics(page: Page) -> list[Sentence]:
    couriers = [c for c in page.rows("couriers") if c.get("collected_share") is not None]
    if not couriers:
        return []
    zh = "、".join(
        f"{c['courier']} {value('collected_share', c['collected_share'])}"
        + (f"（峰值日 {value('peak_day', c['peak_day'])}，{value('peak_day_collected', c['peak_day_collected'])} 件）"
           if c.get("peak_day") is not None else "")
        for c in couriers
    )
    en = ", ".join(
        f"{c['courier']} {value('collected_share', c['collected_share'])}"
        + (f" (peak {value('peak_day', c['peak_day'])}, {value('peak_day_collected', c['peak_day_collected'])} parcels)"
           if c.get("peak_day") is not None else "")
        for c in couriers
    )
    every_shop = ("（快递数据不分店铺）", " (courier figures cover every shop)") if page.shop is not None else ("", "")
    out = [Sentence(
        f"各快递揽收占比{every_shop[0]}：{zh}。", f"Couriers' share of parcels collected{every_shop[1]}: {en}.",
        tuple(page.source("couriers", c, ("collected_share", *(("peak_day", "peak_day_collected") if c.get("peak_day") else ())))
              for c in couriers),
    )]
    quiet = []
    for column, zh_name, en_name, threshold, above in _alarms(page):
        if above:
            out.append(_alarm_sentence(page, column, zh_name, en_name, threshold, above))
        else:
            quiet.append((column, zh_name, en_name, threshold))
    if quiet:
        unrated = [c["courier"] for c in page.rows("couriers") if any(c.get(column) is None for column, *_ in quiet)]
        out.append(Sentence(
            "各快递" + "，".join(f"{zh_name}均不高于 {pct(t)}" for _, zh_name, _, t in quiet)
            + (f"（{'、'.join(unrated)} 无此数据）" if unrated else "") + "。",
            "No courier's " + " or ".join(f"{en_name} is above {pct(t)}" for _, _, en_name, t in quiet)
            + (f" ({', '.join(unrated)}: no such figure)" if unrated else "") + ".",
            (page.every_row("couriers", tuple(col for col, *_ in quiet)),),
            tuple(f"{col}_alarm = {pct(t)}" for col, _, _, t in quiet),
        ))
    return out


def _alarm_sentence(page: Page, column: str, zh: str, en: str, threshold: float, above: list[dict]) -> Sentence:
    listed_zh = "、".join(f"{c['courier']} {value(column, c[column])}" for c in above)
    listed_en = ", ".join(f"{c['courier']} {value(column, c[column])}" for c in above)
    return Sentence(
        f"{zh}高于 {pct(threshold)} 的快递：{listed_zh}。", f"Couriers with a {en} above {pct(threshold)}: {listed_en}.",
        tuple(page.source("couriers", c, (column,)) for c in above), (f"{column}_alarm = {pct(threshold)}",),
    )


def risks(page: Page) -> list[Sentence]:
    """存在的问题: each threshold a rule above found crossed, in one place; or that none was."""
    out = []
    now = page.headline(page.quarter)
    if now and now.get("target_completion") is not None and now["target_completion"] < 1:
        out.append(Sentence(
            f"季度目标未完成：{value('gmv', now['gmv'])} / 目标 {value('target_gmv', now['target_gmv'])}，"
            f"完成率 {value('target_completion', now['target_completion'])}，差 {money_of(now['target_gmv'] - now['gmv'])}。",
            f"The quarter's target was missed: {value('gmv', now['gmv'])} of {value('target_gmv', now['target_gmv'])}, "
            f"{value('target_completion', now['target_completion'])}, {money_of(now['target_gmv'] - now['gmv'])} short.",
            (page.source("headline", now, ("gmv", "target_gmv", "target_completion")),),
            ("差 shortfall = target_gmv − gmv",),
        ))
    for zh_against, en_against, before_quarter in (("环比", "QoQ", shift_quarter(page.quarter, -1)),
                                                   ("同比", "YoY", shift_quarter(page.quarter, -4))):
        worse = [m for m in moves(page, before_quarter)
                 if m.worse and page.rules.at_least(abs(m.change), page.rules.large_change)]
        if worse:
            phrases = [m.phrase() for m in worse]
            out.append(Sentence(
                f"{zh_against}恶化：" + "；".join(p[0] for p in phrases) + "。",
                f"Worse {en_against}: " + "; ".join(p[1] for p in phrases) + ".",
                (page.source("headline", now, [m.column for m in worse]),
                 page.source("headline", page.headline(before_quarter), [m.column for m in worse], before_quarter)),
                (CHANGE_FORMULA, f"large_change = {pct(page.rules.large_change)}"),
            ))
    out += roi_band(page, risks=True)
    for column, zh, en, threshold, above in _alarms(page):
        if above:
            out.append(_alarm_sentence(page, column, zh, en, threshold, above))
    for q in page.rows("quality"):
        said = [(column, zh, en) for column, zh, en in (("files_failed", "个文件被隔离", "file(s) quarantined"),
                                                         ("rows_rejected", "行被拒绝", "row(s) rejected")) if q[column]]
        if said:
            every_shop = ("，文件不分店铺", ", the files of every shop") if page.shop is not None else ("", "")
            out.append(Sentence(
                f"{q['source']} 有 " + "、".join(f"{value(c, q[c])} {zh}" for c, zh, _ in said)
                + f"（共读取 {value('rows_read', q['rows_read'])} 行{every_shop[0]}）。",
                f"{q['source']}: " + ", ".join(f"{value(c, q[c])} {en}" for c, _, en in said)
                + f" of {value('rows_read', q['rows_read'])} read{every_shop[1]}.",
                (page.source("quality", q, (*(c for c, _, _ in said), "rows_read")),),
            ))
    failed = [c for c in page.rows("checks") if c["passed"] is False]
    if failed:
        out.append(Sentence(
            "未通过的数据检查：" + "、".join(c["check_name"] for c in failed) + "。",
            "Data checks that failed: " + ", ".join(c["check_name"] for c in failed) + ".",
            tuple(page.source("checks", c, ("passed",)) for c in failed),
        ))
    if not out and now is not None:
        rules = page.rules
        out.append(Sentence(
            "未发现超出阈值的问题。", "No threshold was crossed.", (),
            (f"large_change = {pct(rules.large_change)}", f"ROI band = {rules.roi_low:g}–{rules.roi_high:g}",
             f"late_rate_alarm = {pct(rules.late_rate_alarm)}", f"return_rate_alarm = {pct(rules.return_rate_alarm)}"),
        ))
    return out


# The target rules: of those whose growth is known, the one that proposes the most months, the first
# on a tie: (growth column, the months it multiplies, how many months before the target's they are,
# the rule in 中文 and English)
PLAN_RULES = (
    ("gmv_yoy", "monthly_year_before_next", 12, "去年同期 × (1 + 本季同比)", "the same month last year × (1 + this quarter's YoY)"),
    ("gmv_qoq", "monthly", 3, "本季同位月 × (1 + 本季环比)", "the same month of this quarter × (1 + this quarter's QoQ)"),
)


def plan(page: Page) -> list[Sentence]:
    """下季度计划: a proposed GMV target per month of the next quarter, by PLAN_RULES. A month whose
    target would be 0 (no sales in its base month, or a fall of 100%) proposes nothing."""
    now = page.headline(page.quarter)
    if now is None:
        return []
    next_quarter = shift_quarter(page.quarter, 1)
    candidates = []
    for rate_column, table, shift, rule, rule_en in PLAN_RULES:
        if now.get(rate_column) is None:
            continue
        factor = Decimal(1) + Decimal(repr(float(now[rate_column])))
        targets = [(shift_month(m["month"], shift), m, (Decimal(m["gmv"]) * factor).quantize(Decimal("0.01"), ROUND_HALF_UP))
                   for m in page.rows(table) if m.get("gmv")]
        candidates.append(([t for t in targets if t[2] > 0], rate_column, rule, rule_en))
    if not candidates or not max(len(c[0]) for c in candidates):
        return []
    targets, rate_column, rule, rule_en = max(candidates, key=lambda c: len(c[0]))  # the first of the most months
    rate = now[rate_column]
    zh = "、".join(f"{month} {money_of(t)}（{m['month']} {value('gmv', m['gmv'])}）" for month, m, t in targets)
    en = ", ".join(f"{month} {money_of(t)} ({m['month']} {value('gmv', m['gmv'])})" for month, m, t in targets)
    growth_shown = value(rate_column, rate)
    return [Sentence(
        f"下季度（{next_quarter}）建议目标按 {rule}（{growth_shown}）计：{zh}。",
        f"Proposed targets for {next_quarter}, by {rule_en} ({growth_shown}): {en}.",
        (page.source("headline", now, (rate_column,)),
         *(page.source("monthly", m, ("gmv",)) for _, m, _ in targets)),
        (f"target = gmv × (1 + {rate_column}), {rate_column} unrounded, to the cent",),
    )]


RULES = (
    ("sales", "销售与目标", "Sales against target", sales),
    ("moves", "指标变化", "What moved", what_moved),
    ("channels", "渠道", "Channels", channels),
    ("campaigns", "大促", "Campaign days", campaigns),
    ("logistics", "物流", "Logistics", logistics),
    ("risks", "存在的问题", "Problems", risks),
    ("plan", "下季度计划", "Next quarter", plan),
)


def draft(quarter: str, shop: str | None, tables: dict[str, list[dict]], rules: SummaryRules) -> list[Paragraph]:
    """The 数据总结 of one page: a paragraph per rule that has something to say, in RULES' order."""
    page = Page(quarter, shop, tables, rules)
    paragraphs = []
    for topic, zh, en, rule in RULES:
        sentences = rule(page)
        if sentences:
            paragraphs.append(Paragraph(topic, zh, en, tuple(sentences)))
    return paragraphs
