"""Fixed vocabularies of the contract: order statuses and provinces (§2)."""

from __future__ import annotations

import polars as pl

STATUS_MAP: dict[str, str] = {
    "等待买家付款": "pending",
    "wait_buyer_pay": "pending",
    "买家已付款,等待卖家发货": "paid",
    "wait_seller_send_goods": "paid",
    "卖家已发货,等待买家确认": "shipped",
    "卖家部分发货": "shipped",
    "买家已签收": "shipped",
    "wait_buyer_confirm_goods": "shipped",
    "seller_consigned_part": "shipped",
    "trade_buyer_signed": "shipped",
    "交易成功": "completed",
    "trade_finished": "completed",
    "交易关闭": "closed",
    "交易被淘宝关闭": "closed",
    "trade_closed": "closed",
    "trade_closed_by_taobao": "closed",
    "退款成功": "refunded",
}
STATUSES = ("pending", "paid", "shipped", "completed", "closed", "refunded")
STATUS_MAP.update({s: s for s in STATUSES})

# Short name -> official full name of every province-level division.
PROVINCES: dict[str, str] = {
    "北京": "北京市", "天津": "天津市", "上海": "上海市", "重庆": "重庆市",
    "河北": "河北省", "山西": "山西省", "辽宁": "辽宁省", "吉林": "吉林省", "黑龙江": "黑龙江省",
    "江苏": "江苏省", "浙江": "浙江省", "安徽": "安徽省", "福建": "福建省", "江西": "江西省",
    "山东": "山东省", "河南": "河南省", "湖北": "湖北省", "湖南": "湖南省", "广东": "广东省",
    "海南": "海南省", "四川": "四川省", "贵州": "贵州省", "云南": "云南省", "陕西": "陕西省",
    "甘肃": "甘肃省", "青海": "青海省", "台湾": "台湾省",
    "内蒙古": "内蒙古自治区", "广西": "广西壮族自治区", "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区", "新疆": "新疆维吾尔自治区",
    "香港": "香港特别行政区", "澳门": "澳门特别行政区",
}
_FULL_TO_FULL = {full: full for full in PROVINCES.values()}


def province_expr(s: pl.Expr) -> pl.Expr:
    """A province as its official full name (`浙江` -> `浙江省`); an unknown name is kept as given."""
    lookup = {**PROVINCES, **_FULL_TO_FULL}
    return s.replace_strict(lookup, default=s, return_dtype=pl.String)


_PROVINCE_NAMES = sorted({*PROVINCES, *PROVINCES.values()}, key=len, reverse=True)
# `省 市 区 详细地址(邮编)`, with or without spaces: the province must be a known one, the city and
# district must end like one; the street part is never captured.
ADDRESS_PATTERN = (
    r"^(?<province>" + "|".join(_PROVINCE_NAMES) + r")\s*"
    r"(?:(?<city>[^\s]+?(?:自治州|地区|市|盟))\s*"
    r"(?:(?<district>[^\s]+?(?:区|县|市|旗)))?)?"
)


def address_parts(address: pl.Expr) -> pl.Expr:
    """A struct of province (full official name), city and district; null where not recognisable."""
    parts = address.str.extract_groups(ADDRESS_PATTERN)
    return pl.struct(
        province_expr(parts.struct.field("province")).alias("province"),
        parts.struct.field("city").alias("city"),
        parts.struct.field("district").alias("district"),
    )
