-- marts.quarterly_courier_kpis: parcels per courier and region from courier files (contract §6),
-- multi-day periods split by days in whole parcels (staging.courier_days); the peak day spreads a
-- period's parcels evenly over its days. The rows of the quarters in build_quarters.
create or replace temp table mart_rows as
with

days as (
    select *, quarter_start(day, $fiscal_start_month) as quarter_start
    from staging.courier_days
    where quarter_start(day, $fiscal_start_month) in (select quarter_start from build_quarters)
),

daily as (
    select quarter_start, courier, region, day, sum(collected_even) as collected
    from days
    group by all
),

peaks as (
    select
        quarter_start,
        courier,
        region,
        -- compared to 1e-6 parcel, so float noise cannot break a tie; the earliest day wins one
        arg_max(day, (round(collected, 6), -epoch(day))) as peak_day,
        arg_max(collected, (round(collected, 6), -epoch(day))) as peak_day_collected,
        count(distinct day) as days_covered
    from daily
    group by all
),

totals as (
    select
        quarter_start,
        courier,
        region,
        sum(collected) as collected,
        sum(delivered) as delivered,
        sum(returned) as returned,
        sum(late) as late,
        sum(complaints) as complaints,
        metric_late_with_delivered(late, delivered) as late_with_delivered,
        metric_returned_with_delivered(returned, delivered) as returned_with_delivered
    from days
    group by all
),

region_totals as (
    select quarter_start, region, sum(collected) as region_collected
    from totals
    group by all
),

final as (
    select
        quarter_label(t.quarter_start, $fiscal_start_month) as quarter,
        t.courier,
        t.region,
        t.collected::bigint as collected,
        t.delivered::bigint as delivered,
        t.returned::bigint as returned,
        t.late::bigint as late,
        t.complaints::bigint as complaints,
        rate_collected_share(t.collected, r.region_collected) as collected_share,
        p.peak_day,
        p.peak_day_collected,
        rate_avg_daily_collected(t.collected, p.days_covered) as avg_daily_collected,
        rate_peak_ratio(p.peak_day_collected, rate_avg_daily_collected(t.collected, p.days_covered)) as peak_ratio,
        rate_late(t.late_with_delivered, t.delivered) as late_rate,
        rate_return(t.returned_with_delivered, t.delivered) as return_rate
    from totals as t
    join peaks as p using (quarter_start, courier, region)
    join region_totals as r using (quarter_start, region)
    order by t.quarter_start, t.courier, t.region
)

select * from final
