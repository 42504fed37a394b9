-- marts.quarterly_region_kpis: sales by delivery region, and through rural service stations
-- (农村淘宝), per shop and quarter (contract §6), the rows of the quarters in build_quarters. The rural figures are the same metrics over the
-- orders placed through a station (other orders' values nulled, which the aggregates skip); buyers
-- from staging.region_buyers, the distinct-buyer state by region.
create or replace temp table mart_rows as
with

orders as (
    select
        *,
        rural_station_id is not null as is_rural
    from staging.paid_orders
    where quarter_start in (select quarter_start from build_quarters)
),

sales as (
    select
        quarter_start,
        quarter,
        shop_id,
        province,
        city,
        district,
        metric_paid_orders(order_id) as paid_orders,
        metric_gmv(paid_amount) as gmv,
        metric_paid_orders(case when is_rural then order_id end) as rural_paid_orders,
        metric_gmv(case when is_rural then paid_amount end) as rural_gmv,
        count(distinct rural_station_id) as rural_station_count
    from orders
    group by quarter_start, quarter, shop_id, province, city, district
),

buyers as (
    select
        quarter_start,
        shop_id,
        province,
        city,
        district,
        metric_state_paid_buyers(buyer_id) as paid_buyers,
        metric_state_paid_buyers(case when rural then buyer_id end) as rural_paid_buyers
    from staging.region_buyers
    where quarter_start in (select quarter_start from build_quarters)
    group by quarter_start, shop_id, province, city, district
),

final as (
    select
        s.quarter,
        s.shop_id,
        s.province,
        s.city,
        s.district,
        s.paid_orders,
        s.gmv,
        coalesce(b.paid_buyers, 0) as paid_buyers,
        s.rural_paid_orders,
        s.rural_gmv,
        coalesce(b.rural_paid_buyers, 0) as rural_paid_buyers,
        s.rural_station_count
    from sales as s
    -- a region may be unknown (null): matched as a value
    left join buyers as b
        on b.quarter_start = s.quarter_start
        and b.shop_id = s.shop_id
        and b.province is not distinct from s.province
        and b.city is not distinct from s.city
        and b.district is not distinct from s.district
    order by s.quarter_start, s.shop_id, s.province, s.city, s.district
)

select * from final
