"""The columns each raw source accepts (contract §2–§4): canonical name, aliases, type, required.

Aliases are listed in priority order: where a file has several columns that map to one canonical
name, the first listed one that has a value wins, row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(str, Enum):
    ID = "id"
    STRING = "string"
    STATUS = "status"
    TIMESTAMP = "timestamp"
    DATE = "date"
    MONEY = "money"
    INT = "int"
    RATE = "rate"
    BOOL = "bool"
    DEVICE = "device"
    MONTH = "month"
    ADDRESS = "address"
    PERSONAL = "personal"  # dropped at ingest, never stored


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    required: bool = False
    # Aliases whose blank cell means a definite value (Taobao's 是否手机订单: blank = not mobile).
    blank_means: dict[str, str] = field(default_factory=dict)
    # Personal data kept only as a pseudonym: never echoed in a reject reason or raw line.
    personal: bool = False

    @property
    def header_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


ORDERS = (
    Column("order_id", Kind.ID, ("订单编号",), required=True),
    Column("shop_id", Kind.STRING, ("店铺id", "店铺名称")),
    Column("buyer_id", Kind.ID, ("买家会员名",), required=True, personal=True),
    Column("status", Kind.STATUS, ("订单状态",), required=True),
    Column("created_at", Kind.TIMESTAMP, ("订单创建时间",), required=True),
    Column("paid_at", Kind.TIMESTAMP, ("订单付款时间",)),
    Column("shipped_at", Kind.TIMESTAMP, ("发货时间",)),
    Column("completed_at", Kind.TIMESTAMP, ("确认收货时间", "交易成功时间")),
    Column("total_amount", Kind.MONEY, ("总金额",), required=True),
    Column("paid_amount", Kind.MONEY, ("买家实际支付金额",)),
    Column("refund_amount", Kind.MONEY, ("退款金额",)),
    Column("item_count", Kind.INT, ("宝贝总数量",)),
    Column("category", Kind.STRING, ("类目",)),
    Column("channel", Kind.STRING, ("来源渠道",)),
    Column("is_mobile", Kind.BOOL, ("是否手机订单",), blank_means={"是否手机订单": "否"}),
    Column("address", Kind.ADDRESS, ("修改后的收货地址", "收货地址")),
    Column("province", Kind.STRING),
    Column("city", Kind.STRING),
    Column("district", Kind.STRING),
    Column("courier", Kind.STRING, ("物流公司",)),
    Column("tracking_no", Kind.ID, ("物流单号",)),
    Column("rural_station_id", Kind.STRING, ("村淘服务站",)),
    Column("receiver_name", Kind.PERSONAL, ("收货人姓名",)),
    Column("phone", Kind.PERSONAL, ("联系手机", "联系电话")),
)

TRAFFIC = (
    Column("date", Kind.DATE, ("统计日期", "日期"), required=True),
    Column("shop_id", Kind.STRING, ("店铺id", "店铺名称")),
    # The most detailed source column present wins.
    Column("channel", Kind.STRING, ("来源明细", "流量来源", "来源"), required=True),
    Column("device", Kind.DEVICE, ("终端", "设备")),
    Column("pv", Kind.INT, ("浏览量",), required=True),
    Column("uv", Kind.INT, ("访客数",), required=True),
    Column("visits", Kind.INT, ("访问次数", "进店次数")),
    Column("bounced_visits", Kind.INT, ("跳失次数",)),
    Column("bounce_rate", Kind.RATE, ("跳失率",)),
    Column("ad_spend", Kind.MONEY, ("花费", "推广花费")),
    Column("cart_users", Kind.INT, ("加购人数",)),
    Column("fav_users", Kind.INT, ("收藏人数",)),
)

COURIER = (
    Column("period_start", Kind.DATE, ("date", "日期", "开始日期"), required=True),
    Column("period_end", Kind.DATE, ("结束日期",)),
    Column("courier", Kind.STRING, ("快递公司", "物流公司"), required=True),
    Column("region", Kind.STRING, ("区域", "网点", "城市")),
    Column("collected", Kind.INT, ("揽收量", "揽件数"), required=True),
    Column("delivered", Kind.INT, ("派送量", "投递量", "派件数")),
    Column("returned", Kind.INT, ("退货量", "退件数")),
    Column("late", Kind.INT, ("超时件数",)),
    Column("complaints", Kind.INT, ("投诉数",)),
)

TARGETS = (
    Column("shop_id", Kind.STRING, ("店铺id", "店铺名称")),
    Column("month", Kind.MONTH, ("月份",), required=True),
    Column("target_gmv", Kind.MONEY, ("目标", "目标金额", "目标销售额"), required=True),
)

# Behaviour event logs (contract §8): the Tianchi layout, as a header or, without one, in this order.
EVENTS = (
    Column("user_id", Kind.ID, ("用户id",), required=True, personal=True),
    Column("item_id", Kind.ID, ("商品id",), required=True),
    Column("category_id", Kind.ID, ("类目id",), required=True),
    Column("behavior", Kind.STRING, ("behaviour", "behavior_type", "行为类型"), required=True),
    Column("timestamp", Kind.INT, ("ts", "时间戳"), required=True),
    Column("shop_id", Kind.STRING, ("店铺id", "店铺名称")),
)

# Reference files (contract §5): a user's rows replace the shipped defaults with the same key.
CHANNELS = (
    Column("channel", Kind.STRING, ("渠道", "来源明细"), required=True),
    Column("channel_group", Kind.STRING, ("渠道分组", "分组"), required=True),
)
COURIERS = (
    Column("alias", Kind.STRING, ("别名",), required=True),
    Column("courier", Kind.STRING, ("快递公司", "代码"), required=True),
)
CAMPAIGNS = (
    Column("campaign", Kind.STRING, ("活动", "活动名称"), required=True),
    Column("start_date", Kind.DATE, ("开始日期",), required=True),
    Column("end_date", Kind.DATE, ("结束日期",), required=True),
)
SHOPS = (
    Column("alias", Kind.STRING, ("别名", "店铺名称"), required=True),
    Column("shop_id", Kind.STRING, ("店铺id",), required=True),
)

SOURCES: dict[str, tuple[Column, ...]] = {
    "orders": ORDERS,
    "traffic": TRAFFIC,
    "courier": COURIER,
    "events": EVENTS,
    "targets": TARGETS,
    "channels": CHANNELS,
    "couriers": COURIERS,
    "campaigns": CAMPAIGNS,
    "shops": SHOPS,
}
REFERENCE = ("targets", "channels", "couriers", "campaigns", "shops")
# Where each source's files are dropped (reference files by name: reference/channels*.csv …), and
# whether their names must carry a batch date.
FOLDERS = {name: ("reference" if name in REFERENCE else name) for name in SOURCES}
DATED = {name: name not in REFERENCE for name in SOURCES}

# The header unit that scales a count column (contract §4): 揽收量(万件) is in units of 10,000.
UNIT_SCALE = {"万件": 10_000, "亿件": 100_000_000, "件": 1}
