"""The tables the pipeline builds with SQL: the staging tables and the marts, and the SQL files of
each. Plain data, without Dagster: the assets (assets/staging.py, assets/marts.py) are made from it,
and so is the lineage of their SQL (sql_lineage.py, at build time), which the assets need to be made:
deriving it must not wait for them."""

from dataclasses import dataclass
from typing import Callable

from .incremental import (
    COURIER_NAMES_SQL, EVENTS_SQL, ORDERS_SQL, PAID_SQL, Inputs, build_courier_names, build_event_days, build_orders,
    build_paid_orders, inputs_of,
)


@dataclass(frozen=True)
class StagingTable:
    description: str
    key_prefix: str = "staging"
    # sql files, default: <prefix>/<name>; what they read is what the table reads (`inputs`)
    sql: tuple[str, ...] = ()
    # Builds the table itself with its `sql`, merging what is new when it can
    # (assets/lib/incremental.py); it registers the lake views it needs.
    build: Callable | None = None
    # Left as it is when none of its lake files, upstream tables or SQL changed since it was built.
    skip_unchanged: bool = False

    def sql_files(self, name: str) -> tuple[str, ...]:
        """The SQL files that build it, by default <prefix>/<name>."""
        return self.sql or (f"{self.key_prefix}/{name}",)

    def inputs(self, name: str) -> Inputs:
        """The lakes and staging tables its SQL reads."""
        return inputs_of(self.sql_files(name))


TABLES = {
    "shops": StagingTable("Other spellings of a shop -> its shop_id (reference/shops.csv)."),
    "channels": StagingTable(
        "Channel -> channel group: shipped defaults, replaced row by row by reference/channels.csv.",
    ),
    "campaigns": StagingTable(
        "Campaign days: 双11 / 双12 / 618 of every year by default, replaced by reference/campaigns.csv.",
    ),
    "couriers": StagingTable(
        "Courier aliases in the order they are tried (user's first), and each code's name and group.",
        sql=("staging/couriers", "staging/courier_codes"),
    ),
    "courier_names": StagingTable(
        "Every courier name seen in orders and courier files, with its code (or kept as given).",
        sql=COURIER_NAMES_SQL,
        build=lambda con, settings: build_courier_names(con, settings.lake_dir),
    ),
    "orders": StagingTable(
        "Each order's current state: among its loaded rows, the one with the greatest (batch date, "
        "file name, line). Buyers are pseudonyms; no receiver data.",
        sql=ORDERS_SQL,
        build=lambda con, settings: build_orders(con, settings.lake_dir),
    ),
    "event_days": StagingTable(
        "Behaviour events per (China day, shop, user) and file, with the distinct-user state of each "
        "(shop, quarter) and the daily traffic of event logs kept with it.",
        sql=EVENTS_SQL,
        build=lambda con, settings: build_event_days(con, settings.lake_dir, settings.sql_params()),
    ),
    "traffic": StagingTable(
        "One row per (date, shop, channel, device), latest wins; total rows and the `all` row of a "
        "channel-day split by device left out; the event logs' daily pv and uv (channel `unknown`, "
        "device `all`) for the (date, shop) pairs no traffic file covers.",
        skip_unchanged=True,
    ),
    "courier": StagingTable(
        "One row per (period, courier, region), latest wins; courier names as codes.",
        skip_unchanged=True,
    ),
    "targets": StagingTable(
        "Monthly sales target per (shop, month).", skip_unchanged=True
    ),
    "paid_orders": StagingTable(
        "The paid orders with the day and (fiscal) quarter of payment: the grain of every order metric.",
        sql=PAID_SQL,
        build=lambda con, settings: build_paid_orders(con, settings.sql_params()),
    ),
    "courier_days": StagingTable(
        "Courier rows spread over the days of their periods in whole parcels that add up.",
        skip_unchanged=True,
    ),
    "unmapped_values": StagingTable(
        "Courier names and channels that no reference row maps, with their row counts.",
        key_prefix="audit",
    ),
}


QUARTER = "quarter"
ADDRESS = ("province", "city", "district")
# The quarter of a monthly row, under the same fiscal setting as the month's table.
QUARTER_OF_MONTH = "quarter_label(quarter_start(strptime(month, '%Y-%m'), $fiscal_start_month), $fiscal_start_month)"


@dataclass(frozen=True)
class Mart:
    # Its grain: the columns that name one of its rows (contract §6). Its rows are replaced by it,
    # and its key check (assets/quality.py) holds it to it: one row per key, no part of it null but
    # those in `nullable`.
    keys: tuple[str, ...]
    # Its rows read earlier quarters (QoQ/YoY, returning buyers, years to date, a campaign's
    # baseline days): a changed quarter is computed again with every later one.
    reaches_later: bool = False
    owner: str = "team:analytics"
    # Key parts the contract lets be null: an order's category and address parts are optional
    # (contract §2, "a missing part is null"), and the orders without one are a row of their own.
    nullable: tuple[str, ...] = ()

    @property
    def never_null(self) -> tuple[str, ...]:
        return tuple(k for k in self.keys if k not in self.nullable)

    @property
    def quarter_of(self) -> str:
        """SQL giving a row's quarter label; it may use the bound `$fiscal_start_month`."""
        return QUARTER_OF_MONTH if "month" in self.keys else QUARTER


MARTS = {
    "quarterly_shop_kpis": Mart(("quarter", "shop_id"), reaches_later=True),
    "quarterly_channel_kpis": Mart(("quarter", "shop_id", "channel_group", "channel")),
    "monthly_target_tracking": Mart(("month", "shop_id"), reaches_later=True),
    "quarterly_campaign_kpis": Mart(("quarter", "shop_id", "campaign"), reaches_later=True),
    "quarterly_courier_kpis": Mart(("quarter", "courier", "region")),
    "quarterly_courier_service": Mart(("quarter", "courier")),
    "quarterly_region_kpis": Mart(("quarter", "shop_id", *ADDRESS), nullable=ADDRESS),
    "quarterly_category_kpis": Mart(("quarter", "shop_id", "category"), nullable=("category",)),
    "quarterly_funnel": Mart(("quarter", "shop_id")),
}
