-- marts.quarterly_region_kpis: sales by delivery region, and through rural service stations
-- (农村淘宝), per shop and quarter (contract §6), the rows of the quarters in build_quarters. The
-- numbers are counted in staging.region_quarters, which follows staging.paid_orders.
create or replace temp table mart_rows as
with

-- Kept per quarter, shop and region with staging.paid_orders (region_quarters.sql).
regions as (
    select *
    from staging.region_quarters
    where quarter_start in (select quarter_start from build_quarters)
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
    from regions
    order by quarter_start, shop_id, province, city, district
)

select * from final
