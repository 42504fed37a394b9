"""The grain of each published mart: the columns that name one of its rows (contract §6). The marts
(assets/marts.py) replace their rows by it and the key checks (assets/quality.py) hold them to it:
one row per key, and no part of a key null but the parts the contract lets be null. An order's
category and the parts of its address are optional (contract §2: "a missing part is null"): the
orders without one are a row of their own, keyed by the null."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Grain:
    keys: tuple[str, ...]
    nullable: tuple[str, ...] = ()  # key parts that may be null

    @property
    def never_null(self) -> tuple[str, ...]:
        return tuple(k for k in self.keys if k not in self.nullable)


ADDRESS = ("province", "city", "district")

MART_GRAINS: dict[str, Grain] = {
    "quarterly_shop_kpis": Grain(("quarter", "shop_id")),
    "quarterly_channel_kpis": Grain(("quarter", "shop_id", "channel_group", "channel")),
    "monthly_target_tracking": Grain(("month", "shop_id")),
    "quarterly_campaign_kpis": Grain(("quarter", "shop_id", "campaign")),
    "quarterly_courier_kpis": Grain(("quarter", "courier", "region")),
    "quarterly_courier_service": Grain(("quarter", "courier")),
    "quarterly_region_kpis": Grain(("quarter", "shop_id", *ADDRESS), nullable=ADDRESS),
    "quarterly_category_kpis": Grain(("quarter", "shop_id", "category"), nullable=("category",)),
}
