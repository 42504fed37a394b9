-- marts.monthly_target_tracking: each month's sales against its target, and the (fiscal) year to
-- date (contract §6). One row per (month, shop) with any paid order, traffic or target; the rows
-- of the months in build_quarters, whose years to date read the months before them in the year.
create or replace temp table mart_rows as
with

-- From the start of the (fiscal) year of the first quarter computed.
first_month as (
    select year_start(min(quarter_start), $fiscal_start_month) as month_start
    from build_quarters
),

-- From the paid orders summed per day, shop, category and device (staging.paid_days).
sales as (
    select shop_id, date_trunc('month', paid_day)::date as month_start, metric_gmv(gmv) as gmv
    from staging.paid_days
    where paid_day >= (select month_start from first_month)
    group by all
),

targets as (
    select shop_id, month as month_start, target_gmv
    from staging.targets
    where month >= (select month_start from first_month)
),

traffic_months as (
    select distinct shop_id, date_trunc('month', date)::date as month_start
    from staging.traffic
    where date >= (select month_start from first_month)
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

year_to_date as (
    select
        month_start,
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
),

-- Filtered after the window, which needs the year's earlier months.
final as (
    select month, shop_id, gmv, target_gmv, target_completion, ytd_gmv, ytd_target_gmv
    from year_to_date
    where quarter_start(month_start, $fiscal_start_month) in (select quarter_start from build_quarters)
    order by month_start, shop_id
)

select * from final
