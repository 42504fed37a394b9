"""A deterministic, realistic sample of raw exports that follows the data contract.

Several shops, one of them exported the way Taobao's seller centre does it (GBK, Chinese headers,
`="…"` ids, `元` amounts, `2024/7/1 9:05` times); orders whose state moves across daily batches
(paid -> shipped -> completed, refunded or closed); ~80% mobile; traffic by channel and device with
ad spend; courier volume with a 双11 surge; monthly targets; when asked, weekly behaviour event logs
(Tianchi layout) whose funnel has buyers coming back. Vectorised with NumPy and Polars, so the
same code writes a few MB for the shipped sample or 10 million orders for a benchmark.
"""

from __future__ import annotations

import datetime as dt
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

SHOP_NAMES = ("杭州小铺旗舰店", "山海茶舍", "青禾家居", "云朵童装", "北岸户外", "米粒零食", "素年女装", "木作文创")
CATEGORIES = (
    ("女装/连衣裙", "女装/T恤", "配饰/围巾"),
    ("茶叶/绿茶", "茶叶/乌龙茶", "茶具/茶杯"),
    ("家居/收纳", "家居/床品", "家居/灯具"),
    ("童装/外套", "童装/裤子", "童鞋"),
    ("户外/帐篷", "户外/背包", "户外/服装"),
    ("零食/坚果", "零食/糕点", "零食/果干"),
    ("女装/衬衫", "女装/半身裙", "女装/外套"),
    ("文具/笔记本", "文创/摆件", "文具/钢笔"),
)
# (channel, weight of visitors, paid?)
CHANNELS = (
    ("手淘搜索", 0.34, False), ("猜你喜欢", 0.14, False), ("直通车", 0.12, True),
    ("淘宝客", 0.07, True), ("引力魔方", 0.05, True), ("淘宝直播", 0.06, False),
    ("逛逛", 0.03, False), ("聚划算", 0.04, False), ("直接访问", 0.05, False),
    ("购物车", 0.05, False), ("我的淘宝", 0.03, False), ("微信", 0.02, False),
)
ORDER_CHANNELS = [c for c, _, _ in CHANNELS] + [None]
ORDER_CHANNEL_WEIGHTS = np.array([w for _, w, _ in CHANNELS] + [0.03])
ADDRESSES = (
    ("浙江省", "杭州市", "西湖区"), ("浙江", "宁波市", "鄞州区"), ("上海", "上海市", "浦东新区"),
    ("江苏省", "苏州市", "工业园区"), ("广东省", "广州市", "天河区"), ("广东", "深圳市", "南山区"),
    ("北京", "北京市", "朝阳区"), ("四川省", "成都市", "武侯区"), ("湖北省", "武汉市", "洪山区"),
    ("山东省", "青岛市", "市南区"), ("河南省", "周口市", "郸城县"), ("安徽省", "阜阳市", "临泉县"),
    ("云南省", "大理白族自治州", "宾川县"), ("广西", "桂林市", "阳朔县"),
)
ADDRESS_WEIGHTS = np.array([10, 6, 9, 7, 8, 8, 9, 6, 5, 4, 3, 3, 2, 2], dtype=float)
RURAL_ADDRESSES = {10, 11, 12, 13}  # county-level addresses, where rural service stations sell
COURIERS = ("中通快递", "圆通速递", "韵达快递", "申通快递", "顺丰速运", "百世快递", "邮政EMS", "极兔速递")
COURIER_SHARES = np.array([0.22, 0.17, 0.16, 0.12, 0.07, 0.08, 0.09, 0.09])
# Companies a larger courier export adds (benchmarks), after the eight every sample has.
MORE_COURIERS = ("京东物流", "宅急送", "天天快递", "优速快递")
MORE_COURIER_SHARES = np.array([0.06, 0.01, 0.01, 0.02])
REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
REGION_SHARES = np.array([0.36, 0.22, 0.14, 0.11, 0.09, 0.04, 0.04])
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
TAOBAO_STATUS = {
    "pending": "等待买家付款", "paid": "买家已付款，等待卖家发货", "shipped": "卖家已发货，等待买家确认",
    "completed": "交易成功", "closed": "交易关闭", "refunded": "交易关闭",
}
API_STATUS = {
    "pending": "WAIT_BUYER_PAY", "paid": "WAIT_SELLER_SEND_GOODS", "shipped": "WAIT_BUYER_CONFIRM_GOODS",
    "completed": "TRADE_FINISHED", "closed": "TRADE_CLOSED", "refunded": "TRADE_CLOSED",
}
DAY = np.timedelta64(1, "D")
# A visit's pages viewed beyond the first (mean), and the chance that it adds the item to the cart,
# favours it, or buys it: pv ≫ cart > fav > buy, near the Tianchi set's mix.
VISIT_PAGES = 2.2
VISIT_ACTIONS = {"cart": 0.16, "fav": 0.09, "buy": 0.03}
# The shop's regulars (this share of its users, who also visit most) act on a visit this many times
# as often: they are most of the users who buy again on another day.
REGULARS, REGULAR_KEENNESS = 0.05, 4.0
EVENT_ITEMS = 400  # items a shop lists, the first ones viewed most
# When shoppers are about, by China hour: orders are placed and shops browsed after work, late.
HOUR_WEIGHTS = np.array([2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 8, 9, 9, 6], float)


@dataclass(frozen=True)
class SampleSpec:
    seed: int = 7
    start: dt.date = dt.date(2024, 7, 1)
    days: int = 184
    orders_per_day: int = 10
    shops: int = 3
    # Traffic and courier files also cover this many days before `start` (orders do not).
    history_days: int = 0
    # Express companies (at most 12) and regions of the courier export.
    couriers: int = len(COURIERS)
    regions: int = len(REGIONS)
    # Write shop01 the way the seller centre exports it (GBK, Chinese headers); else every shop
    # is a canonical UTF-8 export.
    seller_centre_shop: bool = True
    # Behaviour events (events/, Tianchi layout) a shop logs on a day of average sales, scaled by the
    # day's orders; 0 writes none (the benchmarks' workloads measure the other sources).
    events_per_day: int = 0

    @property
    def context_start(self) -> dt.date:
        """First day of the traffic and courier files."""
        return self.start - dt.timedelta(days=self.history_days)

    @property
    def context_days(self) -> int:
        return self.history_days + self.days

    @property
    def shop_ids(self) -> list[str]:
        return [f"shop{i + 1:02d}" for i in range(self.shops)]


def day_factors(spec: SampleSpec) -> np.ndarray:
    """Relative sales of each day: weekends, 双11 (and the lull before it), 双12, 618."""
    dates = [spec.start + dt.timedelta(days=i) for i in range(spec.days)]
    factor = np.ones(spec.days)
    for i, d in enumerate(dates):
        md = (d.month, d.day)
        if d.weekday() >= 5:
            factor[i] *= 1.15
        if md == (11, 11):
            factor[i] *= 6.0
        elif md in ((11, 10), (11, 12)):
            factor[i] *= 1.8
        elif d.month == 11 and d.day < 10:
            factor[i] *= 0.8
        elif md == (12, 12) or md == (6, 18):
            factor[i] *= 3.0
    return factor


def _orders(spec: SampleSpec, shop_index: int, rng: np.random.Generator) -> pl.DataFrame:
    """One shop's orders, one row each with every event time; states are cut into batches later."""
    counts = rng.poisson(day_factors(spec) * spec.orders_per_day * rng.uniform(0.7, 1.3))
    day = np.repeat(np.arange(spec.days), counts)
    n = day.size
    shop = np.full(n, shop_index)
    start = np.datetime64(spec.start, "s")
    hours = rng.choice(24, n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    created = start + day * DAY + (hours * 3600 + rng.integers(0, 3600, n)).astype("timedelta64[s]")

    # Buyers: a skewed draw from the shop's pool, so some come back within and across quarters.
    pool = max(50, int(n * 0.6))
    buyer = (pool * rng.random(n) ** 1.7).astype(np.int64)

    paid_ok = rng.random(n) < 0.95
    paid = created + rng.exponential(180, n).astype("timedelta64[s]")
    shipped = paid + rng.integers(2 * 3600, 48 * 3600, n).astype("timedelta64[s]")
    fate = rng.random(n)  # < .07 full refund, < .12 partial refund, else completed
    final = shipped + rng.integers(1 * 86400, 10 * 86400, n).astype("timedelta64[s]")
    closed_unpaid = created + np.timedelta64(1, "D")

    items = 1 + rng.poisson(0.4, n)
    price = np.round(rng.lognormal(np.log(75), 0.55, n), 0) + 0.9
    postage = np.where(rng.random(n) < 0.3, 8.0, 0.0)
    total = np.round(price * items + postage, 2)
    discount = np.where(rng.random(n) < 0.4, np.round(total * rng.uniform(0.02, 0.15, n), 2), 0.0)
    paid_amount = np.round(total - discount, 2)
    refund = np.where(fate < 0.07, paid_amount, np.where(fate < 0.12, np.round(paid_amount * rng.uniform(0.1, 0.5, n), 2), 0.0))

    address = rng.choice(len(ADDRESSES), n, p=ADDRESS_WEIGHTS / ADDRESS_WEIGHTS.sum())
    rural = np.isin(address, list(RURAL_ADDRESSES)) & (rng.random(n) < 0.35)
    station = np.where(rural, rng.integers(1, 40, n), 0)
    courier = rng.choice(len(COURIERS), n, p=COURIER_SHARES)
    channel = rng.choice(len(ORDER_CHANNELS), n, p=ORDER_CHANNEL_WEIGHTS / ORDER_CHANNEL_WEIGHTS.sum())
    category = rng.integers(0, 3, n)

    frame = pl.DataFrame(
        {
            "shop": shop, "seq": np.arange(n), "created_at": created.astype("datetime64[us]"),
            "buyer": buyer, "paid_ok": paid_ok, "paid_at": paid.astype("datetime64[us]"),
            "shipped_at": shipped.astype("datetime64[us]"), "final_at": final.astype("datetime64[us]"),
            "closed_unpaid_at": closed_unpaid.astype("datetime64[us]"), "fate": fate, "items": items, "total": total,
            "paid_amount": paid_amount, "refund": refund, "address": address, "station": station,
            "courier": courier, "channel": channel, "category": category,
            "mobile": rng.random(n) < 0.8, "amended": rng.random(n) < 0.03,
            "address_alt": rng.choice(len(ADDRESSES), n), "phone": rng.integers(10**7, 10**8, n),
            "surname": rng.integers(0, len(SURNAMES), n), "masked": rng.random(n) < 0.01,
        }
    )
    return frame


def _order_rows(orders: pl.DataFrame, spec: SampleSpec) -> pl.DataFrame:
    """Cut every order into the daily batches where its state changed, as of each batch's end."""
    start = dt.datetime.combine(spec.start, dt.time())
    horizon = start + dt.timedelta(days=spec.days)
    final_event = pl.when(pl.col("paid_ok")).then(pl.col("final_at")).otherwise(pl.col("closed_unpaid_at"))
    ship_event = pl.when(pl.col("paid_ok")).then(pl.col("shipped_at"))

    created_day = orders.with_columns(batch=pl.col("created_at").dt.truncate("1d"))
    ship_day = orders.filter(pl.col("paid_ok") & (ship_event < horizon)).with_columns(batch=ship_event.dt.truncate("1d"))
    final_day = orders.filter(final_event < horizon).with_columns(batch=final_event.dt.truncate("1d"))
    rows = (
        pl.concat([created_day, ship_day, final_day])
        .unique(["seq", "batch"], keep="first", maintain_order=True)
        .with_columns(end=pl.col("batch") + pl.duration(days=1))
    )
    paid_seen = pl.col("paid_ok") & (pl.col("paid_at") < pl.col("end"))
    shipped_seen = pl.col("paid_ok") & (pl.col("shipped_at") < pl.col("end"))
    final_seen = final_event < pl.col("end")
    status = (
        pl.when(~pl.col("paid_ok") & final_seen).then(pl.lit("closed"))
        .when(pl.col("paid_ok") & final_seen & (pl.col("fate") < 0.07)).then(pl.lit("refunded"))
        .when(pl.col("paid_ok") & final_seen).then(pl.lit("completed"))
        .when(shipped_seen).then(pl.lit("shipped"))
        .when(paid_seen).then(pl.lit("paid"))
        .otherwise(pl.lit("pending"))
    )
    return rows.with_columns(
        status=status,
        paid_at_v=pl.when(paid_seen).then(pl.col("paid_at")),
        shipped_at_v=pl.when(shipped_seen).then(pl.col("shipped_at")),
        completed_at_v=pl.when(pl.col("paid_ok") & final_seen & (pl.col("fate") >= 0.07)).then(pl.col("final_at")),
        paid_amount_v=pl.when(paid_seen).then(pl.col("paid_amount")).otherwise(0.0),
        refund_v=pl.when(pl.col("paid_ok") & final_seen).then(pl.col("refund")).otherwise(0.0),
    ).drop("end")


def _lookup(values, index: pl.Expr) -> pl.Expr:
    """values[index], null where the index is out of range."""
    return index.replace_strict(dict(enumerate(values)), default=None, return_dtype=pl.String)


def _address_text(index: pl.Expr) -> pl.Expr:
    texts = [f"{p} {c} {d} 幸福路{10 + i}号({310000 + i * 101})" for i, (p, c, d) in enumerate(ADDRESSES)]
    return _lookup(texts, index)


def _common(rows: pl.DataFrame, spec: SampleSpec) -> pl.DataFrame:
    return rows.with_columns(
        order_id=(pl.lit(3_900_000_000_000_000_000, pl.Int64) + pl.col("shop") * 10**13 + pl.col("seq")).cast(pl.String),
        buyer_id=pl.concat_str(pl.lit("tb_"), pl.col("shop").cast(pl.String), pl.lit("_"), pl.col("buyer").cast(pl.String).str.pad_start(6, "0")),
        category_name=_category_expr(),
        channel_name=_lookup(ORDER_CHANNELS[:-1], pl.col("channel")),
        courier_name=pl.when(pl.col("shipped_at_v").is_not_null()).then(_lookup(COURIERS, pl.col("courier"))),
        tracking=pl.when(pl.col("shipped_at_v").is_not_null()).then(
            (pl.lit(7_700_000_000_000, pl.Int64) + pl.col("seq") * 7 + pl.col("shop")).cast(pl.String)
        ),
        station_id=pl.when(pl.col("station") > 0).then(pl.format("村淘{}号站", pl.col("station"))),
        batch_day=pl.col("batch").dt.date(),
    )


def _category_expr() -> pl.Expr:
    flat = {s * 3 + c: CATEGORIES[s % len(CATEGORIES)][c] for s in range(len(CATEGORIES) * 4) for c in range(3)}
    return (pl.col("shop") * 3 + pl.col("category")).replace_strict(flat, return_dtype=pl.String)


def _money_text(amount: pl.Expr) -> pl.Expr:
    """`317.70`: two decimals, as the seller centre writes money."""
    cents = (amount * 100).round(0).cast(pl.Int64)
    return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.pad_start(2, "0"))


def _taobao_export(rows: pl.DataFrame) -> pl.DataFrame:
    """The seller centre's order export: Chinese headers and its value quirks."""
    time_fmt = "%Y/%-m/%-d %-H:%M"
    yuan = lambda c: pl.format("{}元", _money_text(pl.col(c)))  # noqa: E731
    return rows.select(
        pl.format('="{}"', pl.col("order_id")).alias("订单编号"),
        pl.when(pl.col("masked")).then(pl.lit("t**8")).otherwise(pl.col("buyer_id")).alias("买家会员名"),
        yuan("paid_amount_v").alias("买家实际支付金额"),
        pl.col("status").replace_strict(TAOBAO_STATUS, return_dtype=pl.String).alias("订单状态"),
        yuan("total").alias("总金额"),
        _money_text(pl.col("refund_v")).alias("退款金额"),
        pl.concat_str(_lookup(list(SURNAMES), pl.col("surname")), pl.lit("某")).alias("收货人姓名"),
        _address_text(pl.col("address")).alias("收货地址"),
        pl.format("'138{}", pl.col("phone")).alias("联系手机"),
        pl.col("created_at").dt.strftime(time_fmt).alias("订单创建时间"),
        pl.col("paid_at_v").dt.strftime(time_fmt).alias("订单付款时间"),
        pl.col("shipped_at_v").dt.strftime(time_fmt).alias("发货时间"),
        pl.col("completed_at_v").dt.strftime(time_fmt).alias("交易成功时间"),
        pl.col("items").cast(pl.String).alias("宝贝总数量"),
        pl.col("courier_name").alias("物流公司"),
        pl.format('="{}"', pl.col("tracking")).alias("物流单号"),
        pl.when(pl.col("mobile")).then(pl.lit("手机订单")).alias("是否手机订单"),
        pl.lit(SHOP_NAMES[0]).alias("店铺名称"),
        pl.col("category_name").alias("类目"),
        pl.col("channel_name").alias("来源渠道"),
        pl.when(pl.col("amended")).then(_address_text(pl.col("address_alt"))).alias("修改后的收货地址"),
        pl.col("station_id").alias("村淘服务站"),
    )


def _canonical_export(rows: pl.DataFrame, shop_id: str, api_codes: bool) -> pl.DataFrame:
    """A shop's export from an ERP: canonical English headers, ISO times, provinces split out."""
    iso = "%Y-%m-%dT%H:%M:%S+08:00"
    status = pl.col("status")
    if api_codes:
        status = status.replace_strict(API_STATUS, return_dtype=pl.String)
    return rows.select(
        pl.col("order_id"),
        pl.lit(shop_id).alias("shop_id"),
        pl.col("buyer_id"),
        status.alias("status"),
        pl.col("created_at").dt.strftime(iso).alias("created_at"),
        pl.col("paid_at_v").dt.strftime(iso).alias("paid_at"),
        pl.col("shipped_at_v").dt.strftime(iso).alias("shipped_at"),
        pl.col("completed_at_v").dt.strftime(iso).alias("completed_at"),
        pl.col("total").round(2).alias("total_amount"),
        pl.col("paid_amount_v").round(2).alias("paid_amount"),
        pl.col("refund_v").round(2).alias("refund_amount"),
        pl.col("items").alias("item_count"),
        pl.col("category_name").alias("category"),
        pl.col("channel_name").alias("channel"),
        pl.col("mobile").alias("is_mobile"),
        _lookup([a[0] for a in ADDRESSES], pl.col("address")).alias("province"),
        _lookup([a[1] for a in ADDRESSES], pl.col("address")).alias("city"),
        _lookup([a[2] for a in ADDRESSES], pl.col("address")).alias("district"),
        pl.col("courier_name").alias("courier"),
        pl.col("tracking").alias("tracking_no"),
        pl.col("station_id").alias("rural_station_id"),
    )


def _write_csv(
    frame: pl.DataFrame, path: Path, encoding: str = "utf-8", quote_style: str = "necessary", header: bool = True
) -> int:
    """Write a CSV in the given encoding; the seller centre writes `="…"` ids without quoting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = frame.write_csv(quote_style=quote_style, include_header=header).encode(encoding)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return len(data)


def _write_orders(rows: pl.DataFrame, spec: SampleSpec, shop: int, out: Path) -> tuple[int, int]:
    """One shop's order rows as daily export files, formatted once and split by batch day."""
    rows = rows.sort("batch_day", "seq")
    if shop == 0 and spec.seller_centre_shop:
        export, encoding, quote = _taobao_export(rows), "gbk", "never"
        name = "ExportOrderList{:%Y%m%d}2359.csv"
    else:
        shop_id = spec.shop_ids[shop]
        export, encoding, quote = _canonical_export(rows, shop_id, api_codes=shop % 2 == 0), "utf-8", "necessary"
        name = f"orders_{shop_id}_{{:%Y-%m-%d}}" + (".csv.gz" if shop % 3 == 2 else ".csv")
    export = export.with_columns(rows["batch_day"].alias("_batch_day"))
    files = written = 0
    for (batch_day,), part in export.partition_by("_batch_day", as_dict=True, maintain_order=True).items():
        written += _write_csv(part.drop("_batch_day"), out / "orders" / name.format(batch_day), encoding, quote)
        files += 1
    return files, written


def _day_array(spec: SampleSpec) -> np.ndarray:
    """The days of the traffic and courier files."""
    return np.datetime64(spec.context_start, "D") + np.arange(spec.context_days)


def _weeks(spec: SampleSpec) -> list[tuple[dt.date, dt.date]]:
    """Weekly export windows of the traffic and courier files."""
    return _week_windows(spec.context_start, spec.context_days)


def _week_windows(first: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """Weekly export windows (first day, last day = batch date) over `days` days from `first`, the
    last one possibly short."""
    windows, end = [], first + dt.timedelta(days=days - 1)
    while first <= end:
        last = min(first + dt.timedelta(days=6), end)
        windows.append((first, last))
        first = last + dt.timedelta(days=1)
    return windows


def _traffic(spec: SampleSpec, rng: np.random.Generator, daily_orders: np.ndarray) -> pl.DataFrame:
    """Visitors by shop, day, channel and device, sized so that conversion lands near 3–4%."""
    names = [c for c, _, _ in CHANNELS]
    weights = np.array([w for _, w, _ in CHANNELS])
    paid = np.array([p for _, _, p in CHANNELS])
    frames = []
    days = spec.context_days
    for shop in range(spec.shops):
        # Days of history before the orders get visitors as on an average day of the shop.
        orders = np.concatenate([np.full(spec.history_days, daily_orders[shop].mean()), daily_orders[shop]])
        uv_total = np.maximum(30, orders / rng.uniform(0.028, 0.042, days))
        for device, share in (("mobile", 0.8), ("pc", 0.2)):
            uv = np.rint(np.outer(uv_total * share, weights * rng.uniform(0.85, 1.15, len(names)))).astype(np.int64)
            shape = uv.shape
            pv = np.rint(uv * rng.uniform(2.2, 4.5, shape)).astype(np.int64)
            visits = np.rint(uv * rng.uniform(1.05, 1.3, shape)).astype(np.int64)
            bounced = np.rint(visits * rng.uniform(0.3, 0.6, shape)).astype(np.int64)
            spend = np.where(paid[None, :], np.round(uv * rng.uniform(2.5, 5.5, shape), 2), 0.0)
            frames.append(
                pl.DataFrame(
                    {
                        "shop": np.full(uv.size, shop),
                        "date": np.repeat(_day_array(spec), len(names)),
                        "channel": np.tile(names, days),
                        "device": np.full(uv.size, device),
                        "pv": pv.ravel(), "uv": uv.ravel(), "visits": visits.ravel(),
                        "bounced_visits": bounced.ravel(), "ad_spend": spend.ravel(),
                        "cart_users": np.rint(uv.ravel() * 0.06).astype(np.int64),
                        "fav_users": np.rint(uv.ravel() * 0.03).astype(np.int64),
                    }
                )
            )
    return pl.concat(frames)


def _write_traffic(traffic: pl.DataFrame, spec: SampleSpec, out: Path) -> tuple[int, int]:
    files = written = 0
    for first, last in _weeks(spec):
        week = traffic.filter(pl.col("date").is_between(first, last))
        for shop in range(spec.shops):
            part = week.filter(pl.col("shop") == shop).sort("date", "channel", "device")
            if shop == 0 and spec.seller_centre_shop:
                total = part.group_by("date").agg(pl.col("pv", "uv", "visits", "bounced_visits", "ad_spend").sum()).with_columns(
                    channel=pl.lit("汇总"), device=pl.lit("all")
                )
                part = pl.concat([part.drop("shop", "cart_users", "fav_users"), total.select(part.drop("shop", "cart_users", "fav_users").columns)]).sort("date", "channel", "device")
                export = part.select(
                    pl.col("date").dt.strftime("%Y-%m-%d").alias("统计日期"),
                    pl.lit(SHOP_NAMES[0]).alias("店铺名称"),
                    pl.col("channel").alias("来源明细"),
                    pl.col("device").replace_strict({"mobile": "无线端", "pc": "PC端", "all": "所有终端"}).alias("终端"),
                    pl.col("uv").alias("访客数"),
                    pl.col("pv").alias("浏览量"),
                    pl.col("visits").alias("访问次数"),
                    pl.format("{}%", (pl.col("bounced_visits") / pl.col("visits") * 100).fill_nan(0).round(2)).alias("跳失率"),
                    pl.col("ad_spend").round(2).alias("花费(元)"),
                )
                name = f"生意参谋_流量来源_{last:%Y-%m-%d}.csv"
                written += _write_csv(export, out / "traffic" / name, encoding="gbk")
            else:
                shop_id = spec.shop_ids[shop]
                export = part.select(
                    "date", pl.lit(shop_id).alias("shop_id"), "channel", "device", "pv", "uv", "visits",
                    "bounced_visits", pl.col("ad_spend").round(2), "cart_users", "fav_users",
                )
                written += _write_csv(export, out / "traffic" / f"traffic_{shop_id}_{last:%Y-%m-%d}.csv")
            files += 1
    return files, written


def _courier(spec: SampleSpec, rng: np.random.Generator) -> pl.DataFrame:
    """Daily parcels (in 万件) per courier and region, with the 双11 surge."""
    surge = {(11, 10): 1.6, (11, 11): 2.8, (11, 12): 2.3, (11, 13): 1.8, (11, 14): 1.4, (6, 18): 1.5, (12, 12): 1.4}
    dates = [spec.context_start + dt.timedelta(days=i) for i in range(spec.context_days)]
    factor = np.array([surge.get((d.month, d.day), 1.0) for d in dates])
    national = 35_000 * factor  # 万件 a day across the listed couriers
    couriers, regions = _courier_names(spec.couriers), _region_names(spec.regions)
    courier_shares = np.concatenate([COURIER_SHARES, MORE_COURIER_SHARES])[: len(couriers)]
    big = np.arange(len(regions)) % len(REGIONS)  # each area's big region shares its volume evenly
    region_shares = REGION_SHARES[big] / np.bincount(big, minlength=len(REGIONS))[big]
    shares = np.outer(courier_shares, region_shares)  # couriers x regions
    noise = rng.uniform(0.92, 1.08, (len(dates), *shares.shape))
    collected = np.round(national[:, None, None] * shares[None] * noise, 1)
    delivered = np.round(collected * rng.uniform(0.96, 1.0, collected.shape), 1)
    frame = pl.DataFrame(
        {
            "date": np.repeat(_day_array(spec), shares.size),
            "courier": np.tile(np.repeat(couriers, len(regions)), len(dates)),
            "region": np.tile(regions, len(dates) * len(couriers)),
            "collected": collected.ravel(),
            "delivered": delivered.ravel(),
        }
    )
    return frame.with_columns(
        returned=(pl.col("delivered") * 10_000 * 0.01).round(0).cast(pl.Int64),
        late=(pl.col("delivered") * 10_000 * pl.lit(0.02)).round(0).cast(pl.Int64),
        complaints=(pl.col("delivered") * 1.2).round(0).cast(pl.Int64),
    )


def _courier_names(count: int) -> tuple[str, ...]:
    names = COURIERS + MORE_COURIERS
    if not 1 <= count <= len(names):
        raise ValueError(f"couriers must be between 1 and {len(names)}")
    return names[:count]


def _region_names(count: int) -> tuple[str, ...]:
    """The seven big regions, then numbered areas within them (华东02, 华南02, …)."""
    if count < 1:
        raise ValueError("regions must be at least 1")
    return tuple(
        REGIONS[i] if i < len(REGIONS) else f"{REGIONS[i % len(REGIONS)]}{i // len(REGIONS) + 1:02d}" for i in range(count)
    )


def _write_courier(courier: pl.DataFrame, spec: SampleSpec, rng: np.random.Generator, out: Path) -> tuple[int, int]:
    files = written = 0
    for first, last in _weeks(spec):
        part = courier.filter(pl.col("date").is_between(first, last)).select(
            pl.col("date").alias("日期"), pl.col("courier").alias("快递公司"), pl.col("region").alias("区域"),
            pl.col("collected").alias("揽收量(万件)"), pl.col("delivered").alias("派送量(万件)"),
            pl.col("returned").alias("退件数"), pl.col("late").alias("超时件数"), pl.col("complaints").alias("投诉数"),
        )
        written += _write_csv(part, out / "courier" / f"express_volume_{last:%Y-%m-%d}.csv")
        # 德邦 reports whole weeks nationally, one row per week: periods that can straddle a quarter.
        weekly = pl.DataFrame(
            {
                "period_start": [first], "period_end": [last], "courier": ["德邦快递"], "region": ["全国"],
                "collected": [int(rng.integers(2_000_000, 3_000_000) * (last - first).days / 6 + 1)],
                "delivered": [None], "returned": [0], "late": [0], "complaints": [0],
            },
            schema_overrides={"delivered": pl.Int64},
        )
        written += _write_csv(weekly, out / "courier" / f"debang_weekly_{last:%Y-%m-%d}.csv")
        files += 2
    return files, written


def _monthly_sales(orders: pl.DataFrame, spec: SampleSpec) -> pl.DataFrame:
    first = spec.start.strftime("%Y-%m")
    last = (spec.start + dt.timedelta(days=spec.days - 1)).strftime("%Y-%m")
    return (
        orders.filter(pl.col("paid_ok"))
        .group_by("shop", month=pl.col("paid_at").dt.strftime("%Y-%m"))
        .agg(pl.col("paid_amount").sum())
        .filter(pl.col("month").is_between(pl.lit(first), pl.lit(last)))
    )


def _write_reference(monthly: pl.DataFrame, spec: SampleSpec, rng: np.random.Generator, out: Path) -> tuple[int, int]:
    """Monthly targets a little off what each shop will sell, and the shop-name alias."""
    monthly = monthly.sort("shop", "month")
    stretch = rng.uniform(0.9, 1.2, monthly.height)
    targets = monthly.with_columns(
        shop_id=pl.when(pl.col("shop") == 0).then(pl.lit(SHOP_NAMES[0])).otherwise(
            _lookup(spec.shop_ids, pl.col("shop"))
        ),
        target_gmv=((pl.col("paid_amount") * stretch / 1000).round(0) * 1000).cast(pl.Int64),
    ).select("shop_id", "month", "target_gmv")
    written = _write_csv(targets, out / "reference" / "targets.csv")
    shops = pl.DataFrame({"alias": [SHOP_NAMES[0]], "shop_id": [spec.shop_ids[0]]})
    written += _write_csv(shops, out / "reference" / "shops.csv")
    return 2, written


def _visits(spec: SampleSpec, shop: int, rng: np.random.Generator, daily_orders: np.ndarray) -> pl.DataFrame:
    """One shop's visits (a user browsing the shop on a China day): as many a day as its orders
    call for, each viewing a few pages and now and then adding to cart, favouring or buying. Users
    come from a skewed pool, so regulars return across weeks and some buy on several days."""
    per_visit = 1 + VISIT_PAGES + sum(VISIT_ACTIONS.values())
    counts = rng.poisson(spec.events_per_day * daily_orders / spec.orders_per_day / per_visit)
    n = int(counts.sum())
    pool = max(100, n // 2)  # half as many users as visits: most come once, regulars often
    user = (pool * rng.random(n) ** 2).astype(np.int64)
    keen = np.where(user < pool * REGULARS, REGULAR_KEENNESS, 1.0)
    hours = rng.choice(24, n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    return pl.DataFrame(
        {
            "day": np.repeat(np.arange(spec.days), counts),
            "user": user,
            "second": hours * 3600 + rng.integers(0, 3600, n),
            "pv": 1 + rng.poisson(VISIT_PAGES, n),
            **{action: rng.random(n) < chance * keen for action, chance in VISIT_ACTIONS.items()},
            "item": (EVENT_ITEMS * rng.random(n) ** 2).astype(np.int64),
        }
    ).with_row_index("visit")


def _events(visits: pl.DataFrame, spec: SampleSpec, shop: int, rng: np.random.Generator) -> pl.DataFrame:
    """The visits' events in the Tianchi layout, a minute or so apart: the pages viewed (the
    visit's item first, then others), then cart, fav and buy of the visit's item."""
    views = visits.select("visit", "day", "user", "second", step=pl.int_ranges(0, "pv")).explode("step")
    views = views.with_columns(
        behavior=pl.lit("pv"),
        item=pl.when(pl.col("step") == 0).then(visits["item"].gather(views["visit"]))
        .otherwise(pl.Series((EVENT_ITEMS * rng.random(views.height) ** 2).astype(np.int64))),
    )
    actions = [
        visits.filter(action).select("visit", "day", "user", "second", "item", step=pl.col("pv") + k, behavior=pl.lit(action))
        for k, action in enumerate(VISIT_ACTIONS)
    ]
    events = pl.concat([views, *actions], how="diagonal")
    start = (spec.start - dt.date(1970, 1, 1)).days * 86400 - 8 * 3600  # 00:00 China time, in UTC
    offset = pl.col("step") * 60 + pl.Series(rng.integers(0, 60, events.height))
    return events.select(  # each shop's users numbered apart: an event user is the shop's own
        user_id=shop * 1_000_000 + 1 + pl.col("user"),
        item_id=1_000_000 + shop * 10_000 + pl.col("item"),
        category_id=1_000 + shop * 3 + pl.col("item") % 3,
        behavior=pl.col("behavior"),
        timestamp=start + pl.col("day") * 86400 + pl.min_horizontal(pl.col("second") + offset, 86399),
        day=pl.col("day"),
    ).sort("timestamp", "user_id", maintain_order=True)


def _write_events(events: pl.DataFrame, spec: SampleSpec, shop: int, out: Path) -> tuple[int, int]:
    """Weekly logs in the shop's folder, without a header: gzipped, but shop02's plain and shop01's
    first week Parquet, so every format the contract accepts is read."""
    shop_id, files, written = spec.shop_ids[shop], 0, 0
    for week, (first, last) in enumerate(_week_windows(spec.start, spec.days)):
        days = ((first - spec.start).days, (last - spec.start).days)
        part = events.filter(pl.col("day").is_between(*days)).drop("day")
        path = out / "events" / shop_id / f"events_{last:%Y-%m-%d}"
        if shop == 0 and week == 0:
            path = path.with_suffix(".parquet")
            path.parent.mkdir(parents=True, exist_ok=True)
            part.write_parquet(path)
            written += path.stat().st_size
        else:
            written += _write_csv(part, path.with_name(path.name + (".csv" if shop == 1 else ".csv.gz")), header=False)
        files += 1
    return files, written


def _write_shop_events(spec: SampleSpec, shop: int, daily_orders: np.ndarray, out: Path) -> tuple[int, int]:
    """One shop's behaviour logs, from a random stream of their own: the other files stay the same
    bytes with events or without."""
    rng = np.random.default_rng([spec.seed, shop, 2])
    return _write_events(_events(_visits(spec, shop, rng, daily_orders), spec, shop, rng), spec, shop, out)


def write_sample(spec: SampleSpec, out: Path, progress=None) -> dict[str, int]:
    """Write the sample under `out` (orders/, traffic/, courier/, reference/, and events/ unless
    `events_per_day` is 0); returns counts.

    Shop by shop, each from its own random stream, so memory follows one shop's orders and the
    output does not depend on how the work is split."""
    if spec.shops < 1 or spec.days < 1 or spec.orders_per_day < 1:
        raise ValueError("shops, days and orders-per-day must be at least 1")
    if spec.events_per_day < 0:
        raise ValueError("events-per-day must be at least 0")
    status = progress.status("Generating orders…") if progress else None
    if status:
        status.start()
    files = written = orders_total = rows_total = 0
    daily = np.zeros((spec.shops, spec.days))
    monthly = []
    try:
        for shop in range(spec.shops):
            if status:
                status.update(f"Writing the orders of shop {shop + 1} of {spec.shops}…")
            orders = _orders(spec, shop, np.random.default_rng([spec.seed, shop]))
            rows = _common(_order_rows(orders, spec), spec)
            f, w = _write_orders(rows, spec, shop, out)
            files, written = files + f, written + w
            orders_total, rows_total = orders_total + orders.height, rows_total + rows.height
            days = (orders["created_at"].dt.date() - spec.start).dt.total_days().value_counts()
            for d, n in days.iter_rows():
                daily[shop, d] = n
            monthly.append(_monthly_sales(orders, spec))
        if status:
            status.update("Writing traffic, courier and reference files…")
        rng = np.random.default_rng([spec.seed, spec.shops, 1])
        for f, w in (
            _write_traffic(_traffic(spec, rng, daily), spec, out),
            _write_courier(_courier(spec, rng), spec, rng, out),
            _write_reference(pl.concat(monthly), spec, rng, out),
            *(_write_shop_events(spec, s, daily[s], out) for s in range(spec.shops) if spec.events_per_day),
        ):
            files, written = files + f, written + w
    finally:
        if status:
            status.stop()
    return {"files": files, "bytes": written, "orders": orders_total, "order_rows": rows_total}
