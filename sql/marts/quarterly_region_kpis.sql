-- marts.quarterly_region_kpis: sales by delivery region, and through rural service stations
-- (农村淘宝), per shop and quarter (contract §6), the rows of the quarters in build_quarters. The rural figures are the same metrics over the
-- orders placed through a station (other orders' values nulled, which the aggregates skip).
create or replace temp table mart_rows as
with

orders as (
    select
        *,
        rural_station_id is not null as is_rural
    from staging.paid_orders
    where quarter_start in (select quarter_start from build_quarters)
),

final as (
    select
        quarter,
        shop_id,
        province,
        city,
        district,
        metric_paid_orders(order_id) as paid_orders,
        metric_gmv(paid_amount) as gmv,
        metric_paid_buyers(buyer_key) as paid_buyers,
        metric_paid_orders(case when is_rural then order_id end) as rural_paid_orders,
        metric_gmv(case when is_rural then paid_amount end) as rural_gmv,
        metric_paid_buyers(case when is_rural then buyer_key end) as rural_paid_buyers,
        count(distinct rural_station_id) as rural_station_count
    from orders
    group by quarter_start, quarter, shop_id, province, city, district
    order by quarter_start, shop_id, province, city, district
)

select * from final
