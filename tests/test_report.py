"""The quarterly report: its numbers are the warehouse's, its pages open offline, and it renders."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from assets.lib.report import write_report
from conftest import Deployment, chromium_or_skip, screenshot, unavailable

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The shipped sample (data/raw), run once, with its 2024Q4 report: 3 shops, couriers, campaigns."""
    deployment = Deployment(tmp_path_factory.mktemp("sample"))
    shutil.copytree(PROJECT / "data" / "raw", deployment.raw)
    assert deployment.run().success
    out = deployment.root / "reports"
    write_report(deployment.warehouse, "2024Q4", out)
    return deployment, out / "2024Q4"


@pytest.fixture(scope="module")
def report(tiny_published, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    files = write_report(tiny_published.warehouse, "2024Q3", out)
    return out / "2024Q3", files


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    """The cells of the first table after a `## heading` line."""
    section = markdown.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


@pytest.mark.slow
def test_files_for_all_shops_and_each_shop(report, tiny_published):
    folder, files = report
    shops = [s for (s,) in tiny_published.query(
        "select distinct shop_id from marts.quarterly_shop_kpis where quarter = '2024Q3' order by 1")]
    assert shops == ["A", "B"]
    for page in (folder / "index.html", folder / "report.md", *(folder / s / n for s in shops for n in ("index.html", "report.md"))):
        assert page in files and page.stat().st_size > 1000, page
    charts = {p.name for p in (folder / "img").glob("*.png")}
    assert {"monthly.png", "trends.png"} <= charts


@pytest.mark.slow
def test_the_pages_open_offline(report):
    folder, files = report
    for page in [f for f in files if f.suffix in (".html", ".md")]:
        text = page.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, page
        for target in re.findall(r'(?:src="|\]\()([^")]+)', text):  # every image and link is a local file
            assert (page.parent / target).exists(), (page, target)


@pytest.mark.slow
def test_headline_numbers_are_the_warehouse_numbers(report, tiny_published):
    folder, _ = report
    rows = {r[0]: r[1:] for r in table_rows((folder / "A" / "report.md").read_text(encoding="utf-8"), "核心指标 Headline")}
    # worked out by hand from tests/fixtures/tiny: shop A's paid July orders 200 + 100 + 50 + 80 (o5 is
    # rejected); targets 100 + 200 + 300 for July to September
    assert rows["支付金额 GMV"][0] == "430.00"
    assert rows["目标 Target"][0] == "600.00"
    assert rows["目标完成率 Target completion"][0] == "71.7%"
    # and every other number as the warehouse has it
    (kpis,) = tiny_published.rows("select * from marts.quarterly_shop_kpis where quarter = '2024Q3' and shop_id = 'A'")
    (previous,) = tiny_published.rows("select * from marts.quarterly_shop_kpis where quarter = '2024Q2' and shop_id = 'A'")
    money = lambda v: "–" if v is None else f"{Decimal(v):,.2f}"  # noqa: E731
    share = lambda v: "–" if v is None else f"{100 * float(v):.1f}%"  # noqa: E731
    expected = {
        "支付金额 GMV": money(kpis["gmv"]),
        "净销售额 Net sales": money(kpis["net_sales"]),
        "支付订单数 Paid orders": str(kpis["paid_orders"]),
        "支付买家数 Paid buyers": str(kpis["paid_buyers"]),
        "客单价 Average order value per buyer": money(kpis["aov"]),
        "支付转化率 Conversion": share(kpis["conversion_rate"]),
        "无线支付占比 Mobile share of GMV": share(kpis["mobile_gmv_share"]),
        "复购率 Repurchase rate": share(kpis["repurchase_rate"]),
        "退款率 Refund rate": share(kpis["refund_rate"]),
        "环比 QoQ": share(kpis["gmv_qoq"]),
    }
    assert {k: rows[k][0] for k in expected} == expected
    assert rows["支付金额 GMV"][1] == money(previous["gmv"])  # the previous-quarter column


@pytest.mark.slow
def test_all_shops_add_up_and_monthly_targets_match(report, tiny_published):
    folder, _ = report
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    rows = {r[0]: r[1:] for r in table_rows(markdown, "核心指标 Headline")}
    (total,) = tiny_published.query("select sum(gmv) from marts.quarterly_shop_kpis where quarter = '2024Q3'")[0]
    assert rows["支付金额 GMV"][0] == f"{total:,.2f}"
    # a buyer of several shops is one buyer of all shops
    ((buyers,),) = tiny_published.query(
        "select count(distinct buyer_id) from staging.orders where paid_at >= '2024-07-01' and paid_at < '2024-10-01'")
    assert rows["支付买家数 Paid buyers"][0] == f"{buyers:,}"
    # shop B has no targets, so all shops have none where B has a row (July, and so the quarter): B's
    # GMV would count against nobody's target. The all-shops target used to be A's alone, 100 + 200
    # + 300, against both shops' GMV. In August and September only A has rows.
    assert [m[2:] for m in table_rows(markdown, "月度目标 Monthly GMV against target")] == [
        ["–", "–"], ["200.00", "0.0%"], ["300.00", "0.0%"]]
    assert rows["目标 Target"][0] == "–" and rows["目标完成率 Target completion"][0] == "–"
    shop_a = (folder / "A" / "report.md").read_text(encoding="utf-8")
    assert table_rows(shop_a, "月度目标 Monthly GMV against target") == [
        ["2024-07", "430.00", "100.00", "430.0%"],
        ["2024-08", "0.00", "200.00", "0.0%"],
        ["2024-09", "0.00", "300.00", "0.0%"],
    ]


@pytest.mark.slow
def test_a_quarter_without_data_or_a_bad_label_is_a_clear_error(tiny_published, tmp_path):
    with pytest.raises(ValueError, match=r"no data for 2023Q1 \(quarters in it: 2024Q2, 2024Q3\)"):
        write_report(tiny_published.warehouse, "2023Q1", tmp_path)
    with pytest.raises(ValueError, match="must look like 2024Q3"):
        write_report(tiny_published.warehouse, "2024-07", tmp_path)


@pytest.mark.slow
def test_the_cli_writes_the_report(tiny_published, tmp_path):
    from pipelines.cli import main

    result = CliRunner().invoke(
        main, ["report", "2024q3", "--warehouse", str(tiny_published.warehouse), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "2024Q3" / "index.html").exists()
    assert "Wrote 6 pages" in result.output
    # and the all-shops 数据总结, as summary.md beside the pages has it
    # (shop B has no target, so all shops have none for the quarter)
    assert "数据总结 2024Q3" in result.output and "本季度支付金额 ¥430.00。" in result.output
    assert (tmp_path / "2024Q3" / "summary.md").read_text(encoding="utf-8").startswith(
        "**销售与目标 Sales against target**\n\n本季度支付金额 ¥430.00。未达成目标的月份：2024-08 完成 0.0%")


def test_thresholds_out_of_range_stop_the_report_by_their_variable(tiny_published, tmp_path, monkeypatch):
    from pipelines.cli import main

    monkeypatch.setenv("TAOBAO_OPS_REPORT_ROI_HIGH", "2")
    result = CliRunner().invoke(
        main, ["report", "2024Q3", "--warehouse", str(tiny_published.warehouse), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "the report's thresholds are not valid: TAOBAO_OPS_REPORT_ROI_HIGH: the ROI band's high end 2.0 is below its low end 3.0" in result.output
    assert not (tmp_path / "2024Q3").exists()


@pytest.mark.slow
def test_the_dagster_asset_writes_the_quarter_of_its_partition(tiny_published, tmp_path):
    from dagster import materialize

    from assets.report import quarterly_report

    settings = tiny_published.settings(reports_dir=str(tmp_path))
    result = materialize([quarterly_report], resources={"settings": settings}, partition_key="2024-07-01")
    assert result.success
    assert (tmp_path / "2024Q3" / "A" / "report.md").exists()
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["quarter"].value == "2024Q3"
    assert event.materialization.metadata["summary"].value.startswith("**销售与目标 Sales against target**")


@pytest.mark.slow
def test_the_sample_quarter_matches_the_warehouse_section_by_section(sample):
    deployment, folder = sample
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    q = "'2024Q4'"
    headline = {r[0]: r[1] for r in table_rows(markdown, "核心指标 Headline")}
    ((gmv, orders, ad_spend),) = deployment.query(
        f"select sum(gmv), sum(paid_orders), sum(ad_spend) from marts.quarterly_shop_kpis where quarter = {q}")
    assert (headline["支付金额 GMV"], headline["支付订单数 Paid orders"], headline["推广花费 Ad spend"]) == (
        f"{gmv:,.2f}", f"{orders:,}", f"{ad_spend:,.2f}")
    assert headline["投入产出比 ROI"] == f"{gmv / ad_spend:.2f}"

    couriers = table_rows(markdown, "快递 Courier volume and service")
    expected = deployment.query(
        f"select courier, sum(collected) from marts.quarterly_courier_kpis where quarter = {q} group by 1 order by 2 desc, 1")
    assert [(c[0], c[1]) for c in couriers] == [(name, f"{n:,}") for name, n in expected]
    # a company's peak day: its busiest day over all regions, from the spread-out days
    (courier, peak, peak_collected) = deployment.query(
        "select courier, arg_max(day, collected), max(collected) from (select courier, day, sum(collected_even) as collected"
        f" from staging.courier_days where quarter_label(quarter_start(day, 1), 1) = {q} group by 1, 2)"
        " group by 1 order by 1 limit 1")[0]
    row = next(c for c in couriers if c[0] == courier)
    assert (row[3], row[4]) == (peak.isoformat(), f"{int(peak_collected):,}")

    campaigns = table_rows(markdown, "大促 Campaign days")
    assert len(campaigns) == deployment.query(f"select count(*) from marts.quarterly_campaign_kpis where quarter = {q}")[0][0]
    assert any(c[0] == "双11" for c in campaigns)

    regions = table_rows(markdown, "地区与农村淘宝 Regions and rural service stations")
    assert sum(Decimal(r[2].replace(",", "")) for r in regions) == gmv  # every paid order has its province
    (stations,) = deployment.query(f"select sum(rural_station_count) from marts.quarterly_region_kpis where quarter = {q}")[0]
    assert sum(int(r[6].replace(",", "")) for r in regions) == stations

    quality = {r[0]: r for r in table_rows(markdown, "数据质量 Data quality")}
    ((files,),) = deployment.query(
        "select count(distinct file_name) from audit.loads where source = 'orders' and batch_date between '2024-10-01' and '2024-12-31'")
    assert quality["orders"][1] == f"{files:,}" and quality["orders"][2] == "0"


def funnel_from_the_event_files(folder: Path) -> list[tuple]:
    """The sample's funnel per quarter and shop, worked out from its event files as the contract
    defines it: the shop is the folder, the day the China day (UTC + 8 h); pv counts pv events,
    the user steps distinct users, repeat buyers those who bought on two days or more."""
    return duckdb.sql("""
        with files as (
            select user_id, behavior, timestamp, filename from read_csv($csv, header = false, filename = true,
                columns = {'user_id': 'BIGINT', 'item_id': 'BIGINT', 'category_id': 'BIGINT', 'behavior': 'VARCHAR',
                           'timestamp': 'BIGINT'})
            union all
            select user_id, behavior, timestamp, filename from read_parquet($parquet, filename = true)
        ),
        events as (
            select split_part(filename, '/', -2) as shop_id, user_id, behavior,
                date '1970-01-01' + ((timestamp + 8 * 3600) // 86400)::integer as day
            from files
        ),
        quartered as (select *, year(day) || 'Q' || quarter(day) as quarter from events),
        buying_days as (
            select quarter, shop_id, user_id, count(distinct day) as days
            from quartered where behavior = 'buy' group by all
        )
        select quarter, shop_id,
            count(*) filter (behavior = 'pv') as pv,
            count(distinct user_id) as uv,
            count(distinct user_id) filter (behavior = 'fav') as fav_users,
            count(distinct user_id) filter (behavior = 'cart') as cart_users,
            count(distinct user_id) filter (behavior = 'buy') as buyers,
            (select count(*) from buying_days b where b.quarter = q.quarter and b.shop_id = q.shop_id and b.days >= 2)
        from quartered q
        group by all
        order by all
    """, params={"csv": f"{folder}/*/*.csv*", "parquet": f"{folder}/*/*.parquet"}).fetchall()


@pytest.mark.slow
def test_the_samples_events_give_each_shop_and_quarter_its_funnel(sample):
    deployment, folder = sample
    events = PROJECT / "data" / "raw" / "events"
    funnel = deployment.query(
        "select quarter, shop_id, pv, uv, fav_users, cart_users, buyers, repeat_buyers, conversion_rate,"
        " repurchase_rate from marts.quarterly_funnel order by quarter, shop_id")
    assert [row[:2] for row in funnel] == [(q, s) for q in ("2024Q3", "2024Q4") for s in ("shop01", "shop02", "shop03")]
    assert [row[:8] for row in funnel] == funnel_from_the_event_files(events)
    for *_, buyers, repeat_buyers, conversion_rate, repurchase_rate in funnel:
        assert 0.01 <= conversion_rate <= 0.10 and repeat_buyers > 0 and repurchase_rate == repeat_buyers / buyers
    # users come back across weeks: shop02's 2024Q4 visitors are fewer than its weeks' added up
    q4 = int(dt.datetime(2024, 9, 30, 16, tzinfo=dt.timezone.utc).timestamp())  # 2024-10-01 00:00 China time
    ((weekly_users,),) = duckdb.sql(
        "select sum(n) from (select count(distinct column0) as n from read_csv($path, header = false, filename = true)"
        " where column4 >= $q4 group by filename)", params={"path": f"{events}/shop02/*.csv", "q4": q4}).fetchall()
    assert funnel[4][:2] == ("2024Q4", "shop02") and funnel[4][3] < weekly_users
    # the sample's traffic files cover every day: no traffic comes from the events
    assert deployment.query("select count(*) from staging.traffic where channel = 'unknown'") == [(0,)]
    assert f"## {FUNNEL_HEADING}" in (folder / "report.md").read_text(encoding="utf-8")
    assert (folder / "img" / "funnel.png").exists()


# Two shops' behaviour funnels in 2024Q3, put into a copy of the tiny warehouse (which has no events;
# its 2024Q2 keeps none), worked out by hand:
# - A: pv 100, uv 40, fav 8 (20.0%), cart 12 (30.0%), buyers 10 (25.0%), repeat 4 (40.0% of 10)
# - B: pv 50, uv 10, fav 3 (30.0%), cart 6 (60.0%), buyers 5 (50.0%), repeat 1 (20.0% of 5)
# - all shops, a user of each shop a different person: pv 150, uv 50, fav 11 (22.0%), cart 18
#   (36.0%), buyers 15 (30.0%, where the shops' rates averaged give 37.5%), repeat 5 (33.3% of 15,
#   averaged 30.0%)
FUNNEL_ROWS = [
    # quarter, shop_id, pv, uv, fav_users, cart_users, buyers, conversion_rate, repeat_buyers, repurchase_rate
    ("2024Q3", "A", 100, 40, 8, 12, 10, 0.25, 4, 0.4),
    ("2024Q3", "B", 50, 10, 3, 6, 5, 0.5, 1, 0.2),
]
FUNNEL_HEADING = "行为漏斗 Behaviour funnel"


@pytest.fixture(scope="module")
def funnel(tiny_published, tmp_path_factory):
    """The tiny warehouse with FUNNEL_ROWS, and its reports of 2024Q3 (events) and 2024Q2 (none)."""
    root = tmp_path_factory.mktemp("funnel")
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(tiny_published.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select count(*) from marts.quarterly_funnel").fetchone() == (0,)
        con.executemany(
            "insert into marts.quarterly_funnel (quarter, shop_id, pv, uv, fav_users, cart_users, buyers,"
            " conversion_rate, repeat_buyers, repurchase_rate) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", FUNNEL_ROWS)
    out = root / "reports"
    files = write_report(warehouse, "2024Q3", out) + write_report(warehouse, "2024Q2", out)
    return out, files


def section_tables(markdown: str, heading: str) -> list[list[list[str]]]:
    """The cells of every table of the `## heading` section, table by table."""
    section = markdown.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    tables = [block.splitlines() for block in section.split("\n\n") if block.startswith("|")]
    return [[[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]] for rows in tables]


FUNNEL_STEPS = ["步骤 Step", "数量 Count", "比率 Rate", "口径 Definition"]


@pytest.mark.slow
def test_the_all_shops_funnel_adds_up_the_shops_users_and_recomputes_the_rates(funnel):
    out, _ = funnel
    markdown = (out / "2024Q3" / "report.md").read_text(encoding="utf-8")
    steps, shops = section_tables(markdown, FUNNEL_HEADING)
    assert steps == [
        ["浏览量 Page views (PV)", "150", "", ""],
        ["访客数 Visitors (UV)", "50", "", ""],
        ["收藏人数 Favourited", "11", "22.0%", "收藏率 = fav_users / uv"],
        ["加购人数 Added to cart", "18", "36.0%", "加购率 = cart_users / uv"],
        ["购买人数 Bought", "15", "30.0%", "购买转化率 = buyers / uv"],
        ["复购人数 Bought on ≥ 2 days", "5", "33.3%", "复购率 = repeat_buyers / buyers"],
    ]
    assert shops == [
        ["A", "100", "40", "8", "20.0%", "12", "30.0%", "10", "25.0%", "4", "40.0%"],
        ["B", "50", "10", "3", "30.0%", "6", "60.0%", "5", "50.0%", "1", "20.0%"],
    ]
    assert "UV and each step's users are the shops' sums" in markdown


@pytest.mark.slow
def test_a_shops_funnel_is_its_own_row(funnel):
    out, _ = funnel
    markdown = (out / "2024Q3" / "B" / "report.md").read_text(encoding="utf-8")
    (steps,) = section_tables(markdown, FUNNEL_HEADING)  # no table of shops on a shop's page
    assert [row[1:3] for row in steps] == [["50", ""], ["10", ""], ["3", "30.0%"], ["6", "60.0%"], ["5", "50.0%"], ["1", "20.0%"]]
    assert "shops' sums" not in markdown


@pytest.mark.slow
def test_the_html_carries_the_funnel_and_its_chart(funnel):
    out, files = funnel
    for folder in (out / "2024Q3", out / "2024Q3" / "A"):
        html = (folder / "index.html").read_text(encoding="utf-8")
        assert f"<h2>{FUNNEL_HEADING}</h2>" in html and '<img src="img/funnel.png"' in html
        assert "<th>" + "</th><th>".join(FUNNEL_STEPS) + "</th>" in html
        chart = folder / "img" / "funnel.png"
        assert chart in files and chart.read_bytes().startswith(b"\x89PNG")
    html = (out / "2024Q3" / "index.html").read_text(encoding="utf-8")
    assert "<td>收藏人数 Favourited</td><td>11</td><td>22.0%</td>" in html
    assert "<tr><td>A</td><td>100</td><td>40</td>" in html


@pytest.mark.slow
def test_a_quarter_without_events_has_no_funnel(funnel):
    out, files = funnel
    for folder in (out / "2024Q2", out / "2024Q2" / "A"):
        assert FUNNEL_HEADING not in (folder / "report.md").read_text(encoding="utf-8")
        assert FUNNEL_HEADING not in (folder / "index.html").read_text(encoding="utf-8")
        assert not (folder / "img" / "funnel.png").exists()
    assert (out / "2024Q2" / "img" / "monthly.png") in files  # the rest of the report is there


@pytest.mark.slow
def test_the_html_renders_in_headless_chromium(sample):
    _, folder = sample
    browser = chromium_or_skip(window="1200,2000")
    try:
        browser.get((folder / "index.html").as_uri())
        body = browser.find_element("tag name", "body").text
        assert "全部店铺 All shops" in body
        # the 数据总结 first, each sentence with its source as a title and a numbered note
        assert body.index("数据总结 Summary") < body.index("核心指标 Headline")
        assert "本季度支付金额 ¥382,489.45，目标 ¥405,000.00，目标完成率 94.4%。" in body
        first = browser.find_element("css selector", ".summary p[lang=zh-CN] span[title]")
        assert first.get_attribute("title") == (
            "marts.quarterly_shop_kpis [quarter=2024Q4, shop_id=all]: gmv, target_gmv, target_completion")
        assert first.is_displayed()
        notes = browser.find_elements("css selector", ".summary ol.sources li")
        links = browser.find_elements("css selector", ".summary p[lang=zh-CN] sup a")
        assert len(notes) == len(links) > 10
        assert {a.get_attribute("href").rsplit("#", 1)[1] for a in links} == {li.get_attribute("id") for li in notes}
        widths = browser.execute_script("return Array.from(document.images).map(i => i.naturalWidth)")
        assert widths and all(w > 0 for w in widths)  # every chart loaded from disk
        # beside the report; `make docs-images` copies it to docs/img/report.png (the README's picture)
        saved = screenshot(browser, folder / "report.png")
    finally:
        browser.quit()
    assert saved.stat().st_size > 20_000


@pytest.mark.slow
def test_the_funnel_renders_in_headless_chromium(funnel):
    out, _ = funnel
    browser = chromium_or_skip(window="1200,2000")
    try:
        browser.get((out / "2024Q3" / "index.html").as_uri())
        assert FUNNEL_HEADING in browser.find_element("tag name", "body").text
        chart = browser.find_element("css selector", 'img[src="img/funnel.png"]')
        assert browser.execute_script("return arguments[0].naturalWidth", chart) > 0  # loaded from disk
        browser.execute_script("arguments[0].scrollIntoView()", chart)
        saved = screenshot(browser, out / "funnel.png")
    finally:
        browser.quit()
    assert saved.stat().st_size > 20_000


# Names the charts and the pages show: channels, couriers, campaigns, as in the shipped sample
CHINESE_NAMES = "手淘搜索 直通车 引力魔方 淘宝客 顺丰速运 中通快递 德邦快递 双11 全部店铺"


def test_the_charts_and_the_pages_name_a_font_that_draws_the_chinese_names():
    """Without a CJK font the channel and courier names are boxes (docs/img/report.png had them)."""
    import subprocess

    from matplotlib import font_manager

    from assets.lib.report import _pyplot

    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        listed = ""
    installed = {name.strip() for line in listed.splitlines() for name in line.split(",")}
    if not installed:
        unavailable("no CJK font installed: on Debian `apt-get install fonts-wqy-microhei` (.ci/browser does)")

    # the pages: Chromium takes the first family of the CSS list that fontconfig has
    template = (PROJECT / "assets" / "lib" / "report_templates" / "report.html.j2").read_text(encoding="utf-8")
    css = [f.strip().strip('"') for f in re.search(r"body \{ font-family: ([^;]+);", template).group(1).split(",")]
    assert installed & set(css), (css, sorted(installed))

    # the charts: matplotlib draws each character with the first family of the list that has it;
    # its fonts scanned afresh (a font cache made before the font was installed does not know it)
    fonts = font_manager.FontManager()
    families = _pyplot().rcParams["font.family"]

    def draws_all(family: str) -> bool:
        try:
            path = fonts.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            return False
        font = font_manager.get_font(path)
        return all(font.get_char_index(ord(c)) for c in CHINESE_NAMES.replace(" ", ""))

    assert any(draws_all(f) for f in families), families


def test_a_cjk_font_installed_after_matplotlib_listed_its_fonts_is_drawn_with(monkeypatch):
    """matplotlib's font list is a cache made the first time it ran: a font installed later is not
    in it (this machine's was so, and the README's chart drew boxes). The charts add it."""
    from matplotlib import font_manager

    from assets.lib.report import CJK_FONTS, _pyplot

    scanned = font_manager.FontManager()  # every installed font, scanned now
    if not {f.name for f in scanned.ttflist} & set(CJK_FONTS):
        unavailable("no CJK font installed: on Debian `apt-get install fonts-wqy-microhei` (.ci/browser does)")
    stale = font_manager.FontManager()
    stale.ttflist = [f for f in stale.ttflist if f.name not in CJK_FONTS]  # listed before the font came
    monkeypatch.setattr(font_manager, "fontManager", stale)
    _pyplot()
    assert {f.name for f in stale.ttflist} & set(CJK_FONTS)
    family = next(f for f in CJK_FONTS if f in {x.name for x in stale.ttflist})
    assert stale.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)


# -- 数据总结: the summary at the top of each page -----------------------------------------------

def summary_section(markdown: str) -> tuple[list[tuple[str, int]], list[str], dict[int, str]]:
    """A page's 数据总结 as written: its Chinese sentences with their footnote numbers, its English
    lines, and the footnotes."""
    section = markdown.split("## 数据总结 Summary\n", 1)[1].split("\n## ", 1)[0]
    sentences, english, notes = [], [], {}
    for line in section.splitlines():
        if note := re.match(r"\[\^(\d+)\]: (.*)$", line):
            notes[int(note[1])] = note[2]
        elif line.startswith("*") and not line.startswith("**"):
            english.append(line.strip("*"))
        elif "[^" in line:
            pieces = re.split(r"\[\^(\d+)\]", line)
            sentences += [(text, int(n)) for text, n in zip(pieces[::2], pieces[1::2])]
    return sentences, english, notes


# shop01's 2024Q4 in the shipped sample, sentence by sentence. By hand from its mart rows
# (test_every_summary_number_is_its_source_rows_value checks each shown value against them):
# GMV 127,734.94 of 135,000.00 (94.6%, 7,265.06 short); October 39,652.16 of 46,000.00 (6,347.84
# short) and December 42,819.85 of 44,000.00 (1,180.15 short) missed, November did not; refund rate
# 8.2% -> 7.3% is the one change of 10% or more (−11%); no channel's share moved 2 pp (我的淘宝
# 3.279% from 3.252% gained most, 手淘搜索 32.440% from 32.470% lost most); every paid ROI
# is below 3; no 2023 rows, so nothing on YoY, and next quarter's months are October to December
# × (1 + gmv_qoq 8.296…%): 42,941.89, 49,018.16, 46,372.39. 德邦 (DBL) reports weeks without delivered
# parcels, so it has no late or return rate, and is named as such.
SHOP01_2024Q4 = [
    "本季度支付金额 ¥127,734.94，目标 ¥135,000.00，目标完成率 94.6%。",
    "未达成目标的月份：2024-10 完成 86.2%（¥39,652.16 / 目标 ¥46,000.00，差 ¥6,347.84）、"
    "2024-12 完成 97.3%（¥42,819.85 / 目标 ¥44,000.00，差 ¥1,180.15）。",
    "与上季度（2024Q3）相比，退款率下降 0.9 个百分点（8.2% → 7.3%）。",
    "各渠道访客占比与上季度相比变化均小于 2.0 个百分点，上升最多的是我的淘宝，下降最多的是手淘搜索。",
    "付费渠道 ROI 不在健康区间 3–5：直通车 0.85、淘宝客 0.83、引力魔方 0.91。",
    "内容渠道访客占比合计 8.2%（淘宝直播 5.5%、逛逛 2.7%）。",
    "双11（1 天）支付金额 ¥7,613.16，是日常日均 ¥1,271.70 的 5.99 倍。",
    "双12（1 天）支付金额 ¥3,018.36，是日常日均 ¥1,310.48 的 2.30 倍。",
    "各快递揽收占比（快递数据不分店铺）：ZTO 22.0%（峰值日 2024-11-11，213,647,000 件）、YTO 17.0%（峰值日 2024-11-11，"
    "168,298,000 件）、YUNDA 16.0%（峰值日 2024-11-11，155,936,000 件）、STO 12.0%（峰值日 2024-11-11，122,792,000 件）、"
    "JTEXPRESS 9.0%（峰值日 2024-11-11，86,857,000 件）、EMS 9.0%（峰值日 2024-11-11，89,329,000 件）、BEST 8.0%"
    "（峰值日 2024-11-11，81,229,000 件）、SF 7.0%（峰值日 2024-11-11，67,014,000 件）、DBL 0.1%（峰值日 2024-10-21，424,068 件）。",
    "各快递超时率均不高于 5.0%，退件率均不高于 3.0%（DBL 无此数据）。",
    "季度目标未完成：¥127,734.94 / 目标 ¥135,000.00，完成率 94.6%，差 ¥7,265.06。",
    "付费渠道投入产出偏离健康区间 3–5：直通车 0.85、淘宝客 0.83、引力魔方 0.91。",
    "下季度（2025Q1）建议目标按 本季同位月 × (1 + 本季环比)（8.3%）计：2025-01 ¥42,941.89（2024-10 ¥39,652.16）、"
    "2025-02 ¥49,018.16（2024-11 ¥45,262.93）、2025-03 ¥46,372.39（2024-12 ¥42,819.85）。",
]


@pytest.mark.slow
def test_the_samples_2024q4_summary_sentence_by_sentence(sample):
    deployment, folder = sample
    sentences, english, notes = summary_section((folder / "shop01" / "report.md").read_text(encoding="utf-8"))
    assert [text for text, _ in sentences] == SHOP01_2024Q4
    assert [n for _, n in sentences] == list(range(1, len(SHOP01_2024Q4) + 1)) == sorted(notes)
    assert len(english) == 7  # a line under each paragraph
    assert english[0].startswith("GMV was ¥127,734.94 against a target of ¥135,000.00: 94.6% of target.")
    assert notes[1] == "marts.quarterly_shop_kpis [quarter=2024Q4, shop_id=shop01]: gmv, target_gmv, target_completion"
    # the numbers a rule works out, from the mart rows
    (gmv, target, qoq), = deployment.query(
        "select gmv, target_gmv, gmv_qoq from marts.quarterly_shop_kpis where quarter = '2024Q4' and shop_id = 'shop01'")
    assert f"差 ¥{target - gmv:,.2f}" in SHOP01_2024Q4[10]
    months = deployment.query("select month, gmv from marts.monthly_target_tracking where shop_id = 'shop01' and month >= '2024-10' order by 1")
    factor = Decimal(1) + Decimal(repr(qoq))
    for (month, month_gmv), next_month in zip(months, ("2025-01", "2025-02", "2025-03")):
        assert f"{next_month} ¥{(month_gmv * factor).quantize(Decimal('0.01')):,}（{month} ¥{month_gmv:,}）" in SHOP01_2024Q4[-1]


def _key_filter(source) -> tuple[str, list]:
    return " and ".join(f"{column} = ?" for column, _ in source.key), [v for _, v in source.key]


@pytest.mark.slow
def test_every_summary_number_is_its_source_rows_value(sample):
    """On every page of the sample's 2024Q4: each sentence's footnote names its sources; a source that
    is one mart row of one shop is read back from the published mart, any other from the page's own
    table (all shops add the shops' rows up, couriers come from staging), and every column it names
    appears in the sentence as the page shows it."""
    from assets.lib.narrative import ALL_SHOPS, SECTION_SOURCES, SummaryRules, value
    from assets.lib.report import read, summary

    deployment, folder = sample
    checked_in_marts = 0
    for shop in (None, "shop01", "shop02", "shop03"):
        page = folder / (shop or "") / "report.md"
        written, _, notes = summary_section(page.read_text(encoding="utf-8"))
        data = read(deployment.warehouse, "2024Q4", shop, 1)
        drafted = [s for _, numbered in summary(data, SummaryRules()) for _, s in numbered]
        assert [(s.zh, s.provenance) for s in drafted] == [(text, notes[n]) for text, n in written]
        for sentence in drafted:
            for source in sentence.sources:
                key = dict(source.key)
                complete = len(key) == len(SECTION_SOURCES[source.section][1])
                if not complete:  # "every row of the page's table": a claim over all of them, see test_narrative
                    continue
                if source.table.startswith("marts.") and ALL_SHOPS not in key.values():
                    where, params = _key_filter(source)
                    rows = deployment.rows(f"select {', '.join(source.columns)} from {source.table} where {where}", params)
                    checked_in_marts += 1
                else:
                    table = "monthly_year_before_next" if source.section == "monthly" and key["month"] < "2024-10" else source.section
                    if source.section == "channels" and key["quarter"] == "2024Q3":
                        table = "channels_previous"
                    rows = [r for r in data.tables[table].dicts()
                            if all(str(r.get(k, v)) == v for k, v in key.items() if k in r)]
                    if source.section == "headline":
                        rows = [r for r in rows if r["quarter"] == key["quarter"]]
                assert len(rows) == 1, (page, source)
                for column in source.columns:
                    assert value(column, rows[0][column]) in sentence.zh, (page, sentence.zh, source, column)
    assert checked_in_marts > 30


@pytest.mark.slow
def test_the_tiny_shops_summary_worked_by_hand(report):
    """tests/fixtures/tiny, shop A: July's paid orders 200 + 100 + 50 + 80 = 430.00 against targets of
    100, 200 and 300 for July to September; 2024Q2 had one order of 100.00 by one buyer. So 71.7% of
    600.00; August and September missed by all of their targets; QoQ GMV ×4.3 (+330%), AOV 100 -> 215
    (+115%), buyers 1 -> 2 (+100%); October's proposal 430.00 × 4.3 = 1,849.00, none for the months
    without sales; one order line of the quarter's files rejected."""
    folder, _ = report
    sentences, english, _ = summary_section((folder / "A" / "report.md").read_text(encoding="utf-8"))
    assert [text for text, _ in sentences] == [
        "本季度支付金额 ¥430.00，目标 ¥600.00，目标完成率 71.7%。",
        "未达成目标的月份：2024-08 完成 0.0%（¥0.00 / 目标 ¥200.00，差 ¥200.00）、2024-09 完成 0.0%（¥0.00 / 目标 ¥300.00，差 ¥300.00）。",
        "与上季度（2024Q2）相比，支付金额增长 330.0%（¥100.00 → ¥430.00）；客单价增长 115.0%（¥100.00 → ¥215.00）；"
        "支付买家数增长 100.0%（1 → 2）。",
        "付费渠道 ROI 不在健康区间 3–5：直通车 0.00。",
        "季度目标未完成：¥430.00 / 目标 ¥600.00，完成率 71.7%，差 ¥170.00。",
        "付费渠道投入产出偏离健康区间 3–5：直通车 0.00。",
        "orders 有 1 行被拒绝（共读取 8 行，文件不分店铺）。",
        "下季度（2024Q4）建议目标按 本季同位月 × (1 + 本季环比)（330.0%）计：2024-10 ¥1,849.00（2024-07 ¥430.00）。",
    ]
    assert english[-1] == ("Proposed targets for 2024Q4, by the same month of this quarter × (1 + this quarter's QoQ) "
                           "(330.0%): 2024-10 ¥1,849.00 (2024-07 ¥430.00).")


@pytest.mark.slow
def test_names_are_text_on_both_pages(tiny_published, tmp_path):
    """A channel named like markup stays its name: the HTML page escaped nothing before (its template
    is report.html.j2, and autoescape looked for .html), so a quote ended the new title attributes."""
    from assets.lib.report import read, render

    data = read(tiny_published.warehouse, "2024Q3", "A", 1)
    channels = data.tables["channels"]
    name = '<b>"直通车"</b> *x*'
    channels.rows = [tuple(name if v == "直通车" else v for v in row) for row in channels.rows]
    render(data, tmp_path, [])
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<b>" not in html and "&lt;b&gt;&#34;直通车&#34;&lt;/b&gt; *x*" in html
    assert 'title="marts.quarterly_channel_kpis [quarter=2024Q3, shop_id=A, channel_group=paid, channel=&lt;b&gt;' in html
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "付费渠道 ROI 不在健康区间 3–5：\\<b\\>\"直通车\"\\</b\\> \\*x\\* 0.00。" in markdown
    assert "channel=\\<b\\>\"直通车\"\\</b\\> \\*x\\*]: roi" in markdown
