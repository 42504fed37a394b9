-- staging.channel_quarters: the paid orders of each quarter, shop and channel, summed and with their
-- distinct buyers and buyer-days counted (the sales side of marts.quarterly_channel_kpis). Built
-- whole with staging.paid_orders, and moved by each merge into it (channel_quarters_changes).
--
-- Grouped by the 64-bit hash of the group's columns: DuckDB keeps a grouped distinct count's group
-- columns beside every distinct value, and text columns made the distinct counts twice as slow.
-- `hash_groups_apart` stops the build should two groups ever share a hash.
create or replace table staging.channel_quarters as
with

paid as (
    select
        *,
        hash(quarter_start, shop_id, channel_group, channel) as group_hash
    from staging.paid_orders
),

by_hash as (
    select
        any_value(quarter_start) as quarter_start,
        any_value(shop_id) as shop_id,
        any_value(channel_group) as channel_group,
        any_value(channel) as channel,
        metric_paid_orders(order_id) as paid_orders,
        metric_gmv(paid_amount) as gmv,
        metric_paid_buyers(buyer_key) as paid_buyers,
        metric_buyer_days(buyer_key, paid_day) as buyer_days
    from paid
    group by group_hash
),

group_count as (
    select count(*) as n
    from (select distinct quarter_start, shop_id, channel_group, channel from paid)
)

select *
from by_hash
where hash_groups_apart((select count(*) from by_hash), (select n from group_count))
