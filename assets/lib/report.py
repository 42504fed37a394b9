"""The quarterly operations report (季度运营总结): numbers read from the published warehouse through
the SQL in sql/report/ (which uses the warehouse's own metric macros), charts drawn with matplotlib
into PNG files beside the pages, and the same content as HTML and Markdown.

Layout for quarter Q under `out`:

    out/Q/index.html, out/Q/report.md          all shops together, linking to each shop
    out/Q/<shop_id>/index.html, report.md      one shop
    out/Q/img/*.png, out/Q/<shop_id>/img/*.png  the charts (no network needed to open any page)
    out/Q/summary.md                            the all-shops 数据总结 alone, without its notes
    out/Q/taobao-ops-Q.xlsx                     the quarter's marts as a workbook (assets/lib/export.py), linked
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .export import read_marts, write_workbook
from .formats import percent, show
from .glossary import COLUMNS, column_of
from .narrative import Paragraph, Sentence, SummaryRules, draft, shift_quarter
from .quarters import check_quarter, workbook_name
from .sql import fetch_with_columns

TEMPLATES = Path(__file__).parent / "report_templates"
# The charts' font families for Chinese, the first installed one used; and how their files are named.
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC")
CJK_FONT_FILES = ("wqy-microhei", "notosanscjk", "notosanssc")
SUMMARY_FILE = "summary.md"  # the all-shops 数据总结 alone, beside the pages (the command prints it)
SECTIONS = ("headline", "monthly", "channels", "funnel", "campaigns", "couriers", "regions", "quality", "checks")
# Tables the 数据总结 (assets/lib/narrative.py) reads besides: name -> (the section's query, quarters
# from the page's): the channel mix a quarter earlier, and the months a year before the next quarter.
OTHER_QUARTERS = {"channels_previous": ("channels", -1), "monthly_year_before_next": ("monthly", -3)}


@dataclass
class Table:
    columns: list[str]
    rows: list[tuple]

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in self.rows]


@dataclass
class ReportData:
    quarter: str
    shop: str | None  # None: all shops
    shops: list[str]
    tables: dict[str, Table] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.quarter} {'全部店铺 All shops' if self.shop is None else '店铺 Shop ' + self.shop}"

    @property
    def current(self) -> dict | None:
        rows = [r for r in self.tables["headline"].dicts() if r["quarter"] == self.quarter]
        return rows[0] if rows else None

    @property
    def funnel(self) -> dict | None:
        """The page's funnel row (all shops, or the shop; sql/report/funnel.sql gives it first), or
        None when the quarter has no behaviour events."""
        rows = self.tables["funnel"].dicts()
        return rows[0] if rows else None

    def previous_year(self) -> dict | None:
        """The same quarter a year earlier, when the warehouse has it."""
        label = re.sub(r"\d{4}", lambda m: str(int(m.group()) - 1), self.quarter, count=1)
        rows = [r for r in self.tables["headline"].dicts() if r["quarter"] == label]
        return rows[0] if rows else None


def cell(row: dict, column: str, table: str | None = None) -> str:
    """A page's cell: row[column] shown as the glossary says (assets/lib/formats.py), as `table`'s
    column where the row is read from a table that gives the column its own meaning."""
    return show(column, row[column], table)


def _query(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> Table:
    return Table(*fetch_with_columns(con, f"report/{name}", params))


def read(warehouse: Path, quarter: str, shop: str | None, fiscal_start_month: int) -> ReportData:
    """Every number of one report, from the published file (opened read-only)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        shops = [s for (s,) in con.execute(
            "select distinct shop_id from marts.quarterly_shop_kpis where quarter = ? order by 1", [quarter]
        ).fetchall()]
        params = {"quarter": quarter, "shop": shop, "fiscal_start_month": fiscal_start_month}
        data = ReportData(quarter, shop, shops)
        for name in SECTIONS:
            data.tables[name] = _query(con, name, params)
        for name, (section, quarters) in OTHER_QUARTERS.items():
            data.tables[name] = _query(con, section, {**params, "quarter": shift_quarter(quarter, quarters)})
    return data


# Headline rows: (key, 中文, English); each value shown as its glossary entry says.
HEADLINE = (
    ("gmv", "支付金额", "GMV"),
    ("target_gmv", "目标", "Target"),
    ("target_completion", "目标完成率", "Target completion"),
    ("gmv_qoq", "环比", "QoQ"),
    ("gmv_yoy", "同比", "YoY"),
    ("net_sales", "净销售额", "Net sales"),
    ("paid_orders", "支付订单数", "Paid orders"),
    ("paid_buyers", "支付买家数", "Paid buyers"),
    ("aov", "客单价", "Average order value per buyer"),
    ("avg_order_value", "笔单价", "Value per order"),
    ("uv_days", "访客数", "Visitors (UV-days)"),
    ("conversion_rate", "支付转化率", "Conversion"),
    ("bounce_rate", "跳失率", "Bounce rate"),
    ("mobile_gmv_share", "无线支付占比", "Mobile share of GMV"),
    ("repurchase_rate", "复购率", "Repurchase rate"),
    ("refund_rate", "退款率", "Refund rate"),
    ("ad_spend", "推广花费", "Ad spend"),
    ("roi", "投入产出比", "ROI"),
)
TRENDS = (
    ("conversion_rate", "Conversion 转化率"),
    ("aov", "AOV 客单价"),
    ("bounce_rate", "Bounce 跳失率"),
    ("mobile_gmv_share", "Mobile share 无线占比"),
    ("repurchase_rate", "Repurchase 复购率"),
    ("refund_rate", "Refund 退款率"),
)

# The behaviour funnel (marts.quarterly_funnel), step by step: (count, English, the step's rate, what
# the rate is of); the Chinese names are the glossary's for that table.
FUNNEL_TABLE = "marts.quarterly_funnel"
FUNNEL = (
    ("pv", "Page views (PV)", None, None),
    ("uv", "Visitors (UV)", None, None),
    ("fav_users", "Favourited", "fav_rate", "uv"),
    ("cart_users", "Added to cart", "cart_rate", "uv"),
    ("buyers", "Bought", "conversion_rate", "uv"),
    ("repeat_buyers", "Bought on ≥ 2 days", "repurchase_rate", "buyers"),
)


# -- charts -----------------------------------------------------------------------------------

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Chinese channel and courier names: a CJK font where one is installed, else DejaVu (boxes).
    _know_installed_cjk_fonts()
    plt.rcParams["font.family"] = [*CJK_FONTS, "DejaVu Sans"]
    plt.rcParams["axes.spines.top"] = plt.rcParams["axes.spines.right"] = False
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Glyph .* missing from font")
    return plt


def _know_installed_cjk_fonts() -> None:
    """matplotlib lists the fonts it found in a cache made the first time it ran: a CJK font
    installed after that is not in it, and the charts drew boxes for the Chinese names (the README's
    picture had them). When the list knows none of CJK_FONTS, the installed font files of those
    families are added to it."""
    from matplotlib import font_manager

    fonts = font_manager.fontManager
    if {f.name for f in fonts.ttflist} & set(CJK_FONTS):
        return
    for path in font_manager.findSystemFonts():
        if any(marker in Path(path).name.lower() for marker in CJK_FONT_FILES):
            fonts.addfont(path)


def _save(fig, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    _pyplot().close(fig)
    return f"img/{path.name}"


def draw_charts(data: ReportData, folder: Path, rules: SummaryRules) -> dict[str, str]:
    """PNG charts under folder/img; returns chart name -> relative path for the pages. A chart whose
    table has no rows is left out."""
    plt = _pyplot()
    charts: dict[str, str] = {}
    for name, (table, draw) in CHARTS.items():
        rows = data.tables[table].dicts()
        if rows:
            charts[name] = _save(draw(plt, rows, rules), folder / "img" / f"{name}.png")
    return charts


def _monthly_chart(plt, monthly: list[dict], rules: SummaryRules):
    """GMV bars by month, the target as a dashed line where one is set, each bar labelled with its
    target completion."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    months = [m["month"] for m in monthly]
    ax.bar(months, [float(m["gmv"] or 0) for m in monthly], color="#ff5000", label="GMV")
    targets = [float(m["target_gmv"]) if m["target_gmv"] is not None else None for m in monthly]
    if any(t is not None for t in targets):
        ax.plot(months, [t if t is not None else float("nan") for t in targets], "o--", color="#333",
                label="Target")
    for x, m in enumerate(monthly):
        if m["target_completion"] is not None:
            ax.annotate(percent(m["target_completion"]), (x, float(m["gmv"] or 0)), ha="center",
                        va="bottom", fontsize=8)
    ax.set_title("Monthly GMV vs target")
    ax.legend(frameon=False)
    return fig


def _channel_charts(plt, channels: list[dict], rules: SummaryRules):
    """Side by side: each channel's share of visitors, and the ROI of the paid ones against the
    healthy band."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 0.35 * len(channels) + 1.6))
    names = [c["channel"] for c in channels][::-1]
    left.barh(names, [float(c["uv_share"] or 0) * 100 for c in channels][::-1], color="#1f77b4")
    left.set_title("Visitor share by channel (%)")
    paid = [c for c in channels if c["roi"] is not None]
    low, high = rules.roi_band
    right.axvspan(low, high, color="#2ca02c", alpha=0.15, label=f"healthy ROI {low:g}–{high:g}")
    right.barh([c["channel"] for c in paid][::-1], [float(c["roi"]) for c in paid][::-1], color="#ff5000")
    right.set_title("ROI of paid channels")
    right.legend(frameon=False, loc="lower right")
    return fig


def _trend_charts(plt, history: list[dict], rules: SummaryRules):
    """One small line chart per headline trend (TRENDS) over the quarters of `history`."""
    fig, axes = plt.subplots(2, 3, figsize=(10, 4.8))
    labels = [h["quarter"] for h in history]
    for ax, (key, title) in zip(axes.flat, TRENDS):
        kind = COLUMNS[key].shown_as
        values = [float(h[key]) * (100 if kind == "percent" else 1) if h[key] is not None else float("nan")
                  for h in history]
        ax.plot(labels, values, "o-", color="#ff5000")
        ax.set_title(title + (" (%)" if kind == "percent" else ""), fontsize=10)
        ax.tick_params(labelsize=8)
    return fig


def _courier_chart(plt, couriers: list[dict], rules: SummaryRules):
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(couriers) + 1.4))
    ax.barh([c["courier"] for c in couriers][::-1], [int(c["collected"] or 0) for c in couriers][::-1],
            color="#7f7f7f")
    ax.set_title("Parcels collected by courier")
    return fig


def _funnel_chart(plt, funnel: list[dict], rules: SummaryRules):
    """The page's funnel (its first row): the user steps as bars centred on one axis, each with its
    count and its rate; pv, events rather than users and so of another scale, in the title."""
    page = funnel[0]
    steps = [(key, en, rate) for key, en, rate, _ in FUNNEL if key != "pv"]
    counts = [int(page[key]) for key, _, _ in steps]
    widest = max(counts)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(steps) + 1.2))
    names = [f"{column_of(FUNNEL_TABLE, key).zh} {en}" for key, en, _ in steps][::-1]
    ax.barh(names, counts[::-1], left=[(widest - n) / 2 for n in counts[::-1]], color="#ff5000")
    for y, ((key, _, rate), n) in enumerate(zip(steps[::-1], counts[::-1])):
        label = show(key, n, FUNNEL_TABLE) + (f"  {show(rate, page[rate], FUNNEL_TABLE)}" if rate else "")
        ax.annotate(label, (widest / 2, y), ha="center", va="center", fontsize=9, color="#222")
    ax.set_xticks([])
    ax.spines[["bottom", "left"]].set_visible(False)
    ax.set_title(f"Funnel 行为漏斗 (PV {show('pv', page['pv'], FUNNEL_TABLE)})")
    return fig


# chart name (its file img/<name>.png) -> the report table it draws, and how
CHARTS = {
    "monthly": ("monthly", _monthly_chart),
    "channels": ("channels", _channel_charts),
    "funnel": ("funnel", _funnel_chart),
    "trends": ("headline", _trend_charts),
    "couriers": ("couriers", _courier_chart),
}


# -- pages ------------------------------------------------------------------------------------

_MARKDOWN_TEXT = re.compile(r"([\\`*_\[\]<>|])")
_MARKDOWN_NOTE = re.compile(r"([\\`*<>|])")


def markdown_text(text: str) -> str:
    """Text for a Markdown page: a channel or courier named `*x*` or `<b>` stays that text."""
    return _MARKDOWN_TEXT.sub(r"\\\1", text)


def markdown_note(text: str) -> str:
    """A footnote's text, its [key] brackets and column_names kept as they are."""
    return _MARKDOWN_NOTE.sub(r"\\\1", text)


def _environment() -> Environment:
    env = Environment(
        # the templates are named *.html.j2: "html" alone matched none, and names went into the page raw
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html.j2"]), trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md=markdown_text, md_note=markdown_note)
    env.globals.update(
        HEADLINE=HEADLINE, FUNNEL=FUNNEL, FUNNEL_TABLE=FUNNEL_TABLE, cell=cell, column_of=column_of,
    )
    return env


def summary(data: ReportData, rules: SummaryRules, tables: dict[str, list[dict]] | None = None
            ) -> list[tuple[Paragraph, list[tuple[int, Sentence]]]]:
    """The page's 数据总结 (assets/lib/narrative.py) from the tables the page shows (`tables`: them
    as dicts, when the caller has them): each paragraph with its sentences numbered through the page
    (their footnotes)."""
    tables = tables if tables is not None else {name: table.dicts() for name, table in data.tables.items()}
    numbered, n = [], 0
    for paragraph in draft(data.quarter, data.shop, tables, rules):
        numbered.append((paragraph, [(n := n + 1, sentence) for sentence in paragraph.sentences]))
    return numbered


def render(
    data: ReportData, folder: Path, links: list[tuple[str, str]], rules: SummaryRules | None = None,
    workbook: str | None = None, summary_file: str | None = None,
) -> list[Path]:
    """Write folder/index.html and folder/report.md (and the charts); returns the files written.
    `workbook`: the quarter's Excel workbook relative to the folder, linked when given;
    `summary_file`: a file of the folder to write the page's 数据总结 alone to."""
    rules = rules or SummaryRules()
    folder.mkdir(parents=True, exist_ok=True)
    charts = draw_charts(data, folder, rules)
    env = _environment()
    tables = {name: table.dicts() for name, table in data.tables.items()}
    paragraphs = summary(data, rules, tables)
    context = {
        "data": data, "now": data.current, "last_year": data.previous_year(), "funnel": data.funnel, "charts": charts,
        "links": links, "workbook": workbook, "summary": paragraphs, "ROI_BAND": rules.roi_band, "t": tables,
    }
    written = []
    for template, name in (("report.html.j2", "index.html"), ("report.md.j2", "report.md")):
        path = folder / name
        path.write_text(env.get_template(template).render(**context), encoding="utf-8")
        written.append(path)
    if summary_file:
        (folder / summary_file).write_text(summary_markdown(paragraphs) + "\n", encoding="utf-8")
        written.append(folder / summary_file)
    return written + [folder / rel for rel in charts.values()]


def summary_markdown(paragraphs: list[tuple[Paragraph, list[tuple[int, Sentence]]]]) -> str:
    """A page's 数据总结 as Markdown without its notes (the terminal, the Dagster UI's metadata)."""
    return "\n\n".join(
        f"**{p.zh_title} {p.en_title}**\n\n" + "".join(markdown_text(s.zh) for _, s in numbered) + "\n\n*"
        + " ".join(markdown_text(s.en) for _, s in numbered) + "*"
        for p, numbered in paragraphs
    )


def write_report(
    warehouse: Path, quarter: str, out: Path, fiscal_start_month: int = 1, rules: SummaryRules | None = None
) -> list[Path]:
    """All shops together, then each shop; returns every file written. `rules`: the 数据总结's
    thresholds (the defaults when None)."""
    check_quarter(warehouse, quarter)
    overall = read(warehouse, quarter, None, fiscal_start_month)
    root = out / quarter
    # the quarter's workbook beside the pages, which link it (taobao-ops export writes it alone)
    workbook = workbook_name(quarter)
    written = [write_workbook(read_marts(warehouse, quarter, fiscal_start_month), root / workbook)]
    written += render(
        overall, root, [(shop, f"{shop}/index.html") for shop in overall.shops], rules, workbook, SUMMARY_FILE
    )
    for shop in overall.shops:
        written += render(
            read(warehouse, quarter, shop, fiscal_start_month), root / shop, [("全部店铺 All shops", "../index.html")], rules,
            f"../{workbook}",
        )
    return written
