"""What an analyst would write instead: pandas, every file read, groupby, re-run each day.

    python bench/pandas_kpis.py RAW_DIR OUT.parquet

Computes quarterly_shop_kpis the straightforward way: read every orders and traffic export,
keep each order's latest row (greatest batch date in the file name, then file name), group by shop
and quarter. Its result must equal the pipeline's before any time is reported."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def read_folder(folder: Path, **options) -> pd.DataFrame:
    frames = []
    for path in sorted(folder.iterdir()):
        if not path.name.endswith((".csv", ".csv.gz")):
            continue
        frame = pd.read_csv(path, **options)
        frame["file_name"] = path.name
        frame["batch_date"] = DATE.search(path.name).group(1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def latest(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    return frame.sort_values(["batch_date", "file_name"]).drop_duplicates(key, keep="last")


def div(a: pd.Series, b: pd.Series) -> pd.Series:
    b = b.astype(float)
    return (a.astype(float) / b.where(b != 0)).astype(float)


def main(raw: Path, out: Path) -> None:
    aliases = pd.read_csv(raw / "reference" / "shops.csv", dtype=str).set_index("alias")["shop_id"]

    def shop(ids: pd.Series) -> pd.Series:
        return ids.map(aliases).fillna(ids)

    t = order_kpis(raw, shop).join(traffic_kpis(raw, shop), how="outer").join(target_kpis(raw, shop), how="outer")
    shop_table(t).sort_values(["quarter", "shop_id"]).to_parquet(out, index=False)


BY = ["shop_id", "quarter"]


def order_kpis(raw: Path, shop) -> pd.DataFrame:
    """Per shop and quarter of payment: sums in cents, orders, buyers, buyer-days, repeat and
    returning buyers, of each order's latest row."""
    orders = read_folder(
        raw / "orders",
        usecols=["order_id", "shop_id", "buyer_id", "paid_at", "paid_amount", "refund_amount", "is_mobile"],
        dtype={"order_id": str, "shop_id": str, "buyer_id": str, "paid_at": str},
    )
    orders["shop_id"] = shop(orders["shop_id"])
    orders = latest(orders, ["shop_id", "order_id"])
    paid = orders[orders["paid_at"].notna()].copy()
    paid["paid_at"] = pd.to_datetime(paid["paid_at"], utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    paid["paid_day"] = paid["paid_at"].dt.normalize()
    paid["quarter"] = paid["paid_at"].dt.to_period("Q")
    # Amounts in cents, so that sums are exact.
    paid["paid_cents"] = (paid["paid_amount"] * 100).round().astype("int64")
    paid["refund_cents"] = (paid["refund_amount"] * 100).round().astype("int64")
    paid["mobile_cents"] = paid["paid_cents"].where(paid["is_mobile"] == True, 0)  # noqa: E712
    paid["known_cents"] = paid["paid_cents"].where(paid["is_mobile"].notna())

    kpis = paid.groupby(BY).agg(
        gmv=("paid_cents", "sum"), refund_amount=("refund_cents", "sum"), paid_orders=("order_id", "size"),
        paid_buyers=("buyer_id", "nunique"), mobile_gmv=("mobile_cents", "sum"), device_known_gmv=("known_cents", "sum"),
    )
    kpis["buyer_days"] = paid.drop_duplicates(["shop_id", "quarter", "buyer_id", "paid_day"]).groupby(BY).size()
    days = paid.groupby(["shop_id", "quarter", "buyer_id"])["paid_day"].nunique().rename("paid_days").reset_index()
    first = paid.groupby(["shop_id", "buyer_id"])["paid_at"].min().rename("first_paid_at").reset_index()
    days = days.merge(first, on=["shop_id", "buyer_id"])
    days["repeat"] = days["paid_days"] >= 2
    days["returning"] = days["first_paid_at"] < days["quarter"].dt.start_time
    return kpis.join(days.groupby(BY)[["repeat", "returning"]].sum().rename(
        columns={"repeat": "repeat_buyers", "returning": "returning_buyers"}))


def traffic_kpis(raw: Path, shop) -> pd.DataFrame:
    """Per shop and quarter: the latest traffic rows summed."""
    traffic = read_folder(raw / "traffic", dtype={"shop_id": str, "channel": str, "device": str})
    traffic["shop_id"] = shop(traffic["shop_id"])
    traffic = latest(traffic, ["date", "shop_id", "channel", "device"])
    traffic["quarter"] = pd.to_datetime(traffic["date"]).dt.to_period("Q")
    traffic["spend_cents"] = (traffic["ad_spend"] * 100).round().astype("int64")
    traffic["mobile_uv"] = traffic["uv"].where(traffic["device"] == "mobile", 0)
    traffic["device_uv"] = traffic["uv"].where(traffic["device"].isin(["mobile", "pc"]), 0)
    traffic["bounce_base"] = traffic["visits"].where(traffic["bounced_visits"].notna())
    return traffic.groupby(BY).agg(
        pv=("pv", "sum"), uv_days=("uv", "sum"), bounced_visits=("bounced_visits", "sum"),
        bounce_base_visits=("bounce_base", "sum"), mobile_uv_days=("mobile_uv", "sum"),
        device_uv_days=("device_uv", "sum"), ad_spend=("spend_cents", "sum"),
    )


def target_kpis(raw: Path, shop) -> pd.DataFrame:
    """Per shop and quarter: the target in cents when all three months have one."""
    targets = pd.read_csv(raw / "reference" / "targets.csv", dtype={"shop_id": str, "month": str})
    targets["shop_id"] = shop(targets["shop_id"])
    targets = targets.drop_duplicates(["shop_id", "month"], keep="last")
    targets["quarter"] = pd.PeriodIndex(targets["month"], freq="M").asfreq("Q")
    goal = targets.groupby(BY).agg(months=("month", "nunique"), target_gmv=("target_gmv", "sum"))
    goal["target_gmv"] = (goal["target_gmv"] * 100).where(goal["months"] == 3)
    return goal[["target_gmv"]]


def shop_table(t: pd.DataFrame) -> pd.DataFrame:
    """quarterly_shop_kpis from the joined sums: the rates, QoQ and YoY."""
    for column in ("gmv", "refund_amount", "paid_orders", "paid_buyers", "buyer_days", "repeat_buyers",
                   "returning_buyers", "pv", "uv_days", "ad_spend"):
        t[column] = t[column].fillna(0)
    t = t.reset_index()
    previous = t.set_index(["shop_id", "quarter"])["gmv"]
    t["gmv_prev"] = [previous.get((s, q - 1), np.nan) for s, q in zip(t["shop_id"], t["quarter"])]
    t["gmv_last_year"] = [previous.get((s, q - 4), np.nan) for s, q in zip(t["shop_id"], t["quarter"])]

    return pd.DataFrame({
        "quarter": t["quarter"].astype(str),
        "shop_id": t["shop_id"],
        "gmv": t["gmv"] / 100,
        "refund_amount": t["refund_amount"] / 100,
        "net_sales": (t["gmv"] - t["refund_amount"]) / 100,
        "refund_rate": div(t["refund_amount"], t["gmv"]),
        "paid_orders": t["paid_orders"].astype("int64"),
        "paid_buyers": t["paid_buyers"].astype("int64"),
        "aov": div(t["gmv"] / 100, t["paid_buyers"]),
        "avg_order_value": div(t["gmv"] / 100, t["paid_orders"]),
        "buyer_days": t["buyer_days"].astype("int64"),
        "pv": t["pv"].astype("int64"),
        "uv_days": t["uv_days"].astype("int64"),
        "conversion_rate": div(t["buyer_days"], t["uv_days"]),
        "uv_value": div(t["gmv"] / 100, t["uv_days"]),
        "bounce_rate": div(t["bounced_visits"], t["bounce_base_visits"]),
        "mobile_uv_share": div(t["mobile_uv_days"], t["device_uv_days"]),
        "mobile_gmv_share": div(t["mobile_gmv"].fillna(0), t["device_known_gmv"]),
        "repeat_buyers": t["repeat_buyers"].astype("int64"),
        "repurchase_rate": div(t["repeat_buyers"], t["paid_buyers"]),
        "returning_buyers": t["returning_buyers"].astype("int64"),
        "new_buyers": (t["paid_buyers"] - t["returning_buyers"]).astype("int64"),
        "ad_spend": t["ad_spend"] / 100,
        "roi": div(t["gmv"], t["ad_spend"]),
        "target_gmv": t["target_gmv"] / 100,
        "target_completion": div(t["gmv"], t["target_gmv"]),
        "gmv_qoq": div(t["gmv"], t["gmv_prev"]) - 1,
        "gmv_yoy": div(t["gmv"], t["gmv_last_year"]) - 1,
    })


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
