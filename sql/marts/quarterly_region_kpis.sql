-- marts.quarterly_region_kpis: sales by delivery region, and through rural service stations
-- (农村淘宝), per shop and quarter (contract §6), the rows of the quarters in build_quarters. The rural figures are the same metrics over the
-- orders placed through a station (other orders' values nulled, which the aggregates skip).
create or replace temp table mart_rows as
with

orders as (
    select
        *,
        rural_station_id is not null as is_rural,
        hash(quarter_start, quarter, shop_id, province, city, district) as group_hash
    from staging.paid_orders
    where quarter_start in (select quarter_start from build_quarters)
),

-- Grouped by the 64-bit hash of the group's columns: DuckDB keeps a grouped distinct count's group
-- columns beside every distinct value, and five text columns made the distinct buyers cost ~2 s
-- of a 10 M-order quarter where this takes ~1 s. `hash_groups_apart` stops the build should two
-- groups ever share a hash, so a count is never merged into another group's.
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
    from orders
    group by group_hash
),

group_count as (
    select count(*) as n
    from (select distinct quarter_start, quarter, shop_id, province, city, district from orders)
),

final as (
    select
        quarter,
        shop_id,
        province,
        city,
        district,
        paid_orders,
        gmv,
        paid_buyers,
        rural_paid_orders,
        rural_gmv,
        rural_paid_buyers,
        rural_station_count
    from by_hash
    where hash_groups_apart((select count(*) from by_hash), (select n from group_count))
    order by quarter_start, shop_id, province, city, district
)

select * from final
