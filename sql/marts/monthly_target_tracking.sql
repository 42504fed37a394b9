-- marts.monthly_target_tracking: each month's sales against its target, and the (fiscal) year to
-- date (contract §6). One row per (month, shop) with any paid order, traffic or target.
create or replace table marts.monthly_target_tracking as
with

sales as (
    select shop_id, date_trunc('month', paid_day)::date as month_start, metric_gmv(paid_amount) as gmv
    from staging.paid_orders
    group by all
),

targets as (
    select shop_id, month as month_start, target_gmv
    from staging.targets
),

traffic_months as (
    select distinct shop_id, date_trunc('month', date)::date as month_start
    from staging.traffic
),

months as (
    select shop_id, month_start from sales
    union
    select shop_id, month_start from targets
    union
    select shop_id, month_start from traffic_months
),

base as (
    select
        m.shop_id,
        m.month_start,
        year_start(m.month_start, $fiscal_start_month) as year_start,
        coalesce(s.gmv, 0)::decimal(18, 2) as gmv,
        t.target_gmv
    from months as m
    left join sales as s using (shop_id, month_start)
    left join targets as t using (shop_id, month_start)
),

final as (
    select
        strftime(month_start, '%Y-%m') as month,
        shop_id,
        gmv,
        target_gmv,
        rate_target_completion(gmv, target_gmv) as target_completion,
        (sum(gmv) over year_to_date)::decimal(18, 2) as ytd_gmv,
        (coalesce(sum(target_gmv) over year_to_date, 0))::decimal(18, 2) as ytd_target_gmv
    from base
    window year_to_date as (
        partition by shop_id, year_start order by month_start
        rows between unbounded preceding and current row
    )
    order by month_start, shop_id
)

select * from final
