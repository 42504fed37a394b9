-- marts.quarterly_category_kpis: sales per product category, per shop and quarter (contract §6),
-- the rows of the quarters in build_quarters.
create or replace temp table mart_rows as
with

-- The paid orders summed per day, shop, category and device, kept with staging.paid_orders (paid_days.sql).
orders as (
    select *
    from staging.paid_days
    where quarter_start in (select quarter_start from build_quarters)
),

final as (
    select
        quarter,
        shop_id,
        category,
        metric_state_paid_orders(paid_orders) as paid_orders,
        coalesce(sum(items), 0) as items,
        metric_gmv(gmv) as gmv,
        rate_refund(metric_refund_amount(refund_amount), metric_gmv(gmv)) as refund_rate
    from orders
    group by quarter_start, quarter, shop_id, category
    order by quarter_start, shop_id, category
)

select * from final
