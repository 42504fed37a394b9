-- staging.region_quarters: the paid orders of each quarter, shop and delivery region, and of those
-- placed through a rural service station (农村淘宝), summed and with their distinct buyers and
-- stations counted (marts.quarterly_region_kpis reads it). Built whole with staging.paid_orders,
-- and moved by each merge into it (region_quarters_changes). The rural figures are the same metrics
-- over the rural orders (other orders' values nulled, which the aggregates skip).
--
-- Grouped by the 64-bit hash of the group's columns, as staging.channel_quarters is (five text
-- columns made the distinct buyers cost ~2 s of a 10 M-order quarter where this takes ~1 s).
create or replace table staging.region_quarters as
with

paid as (
    select
        *,
        rural_station_id is not null as is_rural,
        hash(quarter_start, quarter, shop_id, province, city, district) as group_hash
    from staging.paid_orders
),

by_hash as (
    select
        any_value(quarter_start) as quarter_start,
        any_value(quarter) as quarter,
        any_value(shop_id) as shop_id,
        any_value(province) as province,
        any_value(city) as city,
        any_value(district) as district,
        metric_paid_orders(order_id) as paid_orders,
        metric_gmv(paid_amount) as gmv,
        metric_paid_buyers(buyer_key) as paid_buyers,
        metric_paid_orders(case when is_rural then order_id end) as rural_paid_orders,
        metric_gmv(case when is_rural then paid_amount end) as rural_gmv,
        metric_paid_buyers(case when is_rural then buyer_key end) as rural_paid_buyers,
        count(distinct rural_station_id) as rural_station_count
    from paid
    group by group_hash
),

group_count as (
    select count(*) as n
    from (select distinct quarter_start, quarter, shop_id, province, city, district from paid)
)

select *
from by_hash
where hash_groups_apart((select count(*) from by_hash), (select n from group_count))
