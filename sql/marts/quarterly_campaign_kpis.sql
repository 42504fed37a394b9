-- marts.quarterly_campaign_kpis: sales on campaign days (双11, 双12, 618 …) against the days before
-- (contract §6). One row per (quarter, shop, campaign) of the campaigns in the reference table
-- whose days fall in a quarter where the shop has any order, traffic or target data; the rows of
-- the quarters in build_quarters, which read the days before each campaign.
create or replace temp table mart_rows as
with

campaign_days as (
    select
        campaign,
        start_date,
        unnest(generate_series(start_date, end_date, interval 1 day))::date as day
    from staging.campaigns
),

-- The campaigns with a day in a quarter computed, and the days the quarter's rows read.
built_campaign_days as (
    select *
    from campaign_days
    semi join (
        select distinct campaign, start_date
        from campaign_days
        where quarter_start(day, $fiscal_start_month) in (select quarter_start from build_quarters)
    ) using (campaign, start_date)
),

any_campaign_day as (
    select distinct day from campaign_days
),

-- The quarters in which each shop has any order, traffic or target data (contract §6).
shop_quarters as (
    select distinct shop_id, quarter_start
    from staging.paid_days
    where quarter_start in (select quarter_start from build_quarters)
    union
    select distinct shop_id, quarter_start(date, $fiscal_start_month)
    from staging.traffic
    where quarter_start(date, $fiscal_start_month) in (select quarter_start from build_quarters)
    union
    select distinct shop_id, quarter_start(month, $fiscal_start_month)
    from staging.targets
    where quarter_start(month, $fiscal_start_month) in (select quarter_start from build_quarters)
),

shops as (
    select distinct shop_id from shop_quarters
),

-- The 28 calendar days before each campaign starts, leaving out days inside any campaign.
baseline_days as (
    select distinct c.campaign, c.start_date, (c.start_date - offset_days::integer)::date as day
    from (select distinct campaign, start_date from built_campaign_days) as c,
        (select unnest(range(1, 29)) as offset_days) as r
    where (c.start_date - offset_days::integer)::date not in (select day from any_campaign_day)
),

-- From the paid orders summed per day, shop, category and device (staging.paid_days).
daily_sales as (
    select shop_id, paid_day as day, metric_gmv(gmv) as gmv, metric_state_paid_orders(paid_orders) as paid_orders
    from staging.paid_days
    where paid_day in (select day from built_campaign_days union select day from baseline_days)
    group by all
),

baseline as (
    select
        s.shop_id,
        b.campaign,
        b.start_date,
        -- a day without sales counts as 0, so the mean is over the days, not the sales rows
        metric_baseline_daily_gmv(d.gmv) as baseline_daily_gmv
    from shops as s
    cross join baseline_days as b
    left join daily_sales as d on d.shop_id = s.shop_id and d.day = b.day
    group by all
),

collected as (
    select day, sum(collected) as collected
    from staging.courier_days
    where day in (select day from built_campaign_days)
    group by all
),

campaign_quarters as (
    select
        s.shop_id,
        c.campaign,
        c.start_date,
        quarter_start(c.day, $fiscal_start_month) as quarter_start,
        count(*) as campaign_days,
        coalesce(sum(d.gmv), 0)::decimal(18, 2) as gmv,
        coalesce(sum(d.paid_orders), 0) as paid_orders,
        coalesce(sum(p.collected), 0)::bigint as collected
    from shops as s
    cross join built_campaign_days as c
    left join daily_sales as d on d.shop_id = s.shop_id and d.day = c.day
    left join collected as p on p.day = c.day
    group by all
),

final as (
    select
        quarter_label(q.quarter_start, $fiscal_start_month) as quarter,
        q.shop_id,
        q.campaign,
        q.campaign_days,
        q.gmv,
        q.paid_orders,
        b.baseline_daily_gmv,
        rate_uplift(q.gmv, q.campaign_days, b.baseline_daily_gmv) as uplift,
        q.collected
    from campaign_quarters as q
    semi join shop_quarters as s using (shop_id, quarter_start)
    left join baseline as b using (shop_id, campaign, start_date)
    order by q.quarter_start, q.shop_id, q.start_date, q.campaign
)

select * from final
