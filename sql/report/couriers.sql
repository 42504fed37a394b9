-- Parcel volume of $quarter by courier company, its peak day (from the days of its periods, spread
-- evenly as in the mart), late and return rates, and order service times. Counted from the courier
-- days with the mart's own metrics (the late and returned parcels of the rows that give delivered).
with days as (
    select courier, day, sum(collected_even) as collected_even
    from staging.courier_days
    where quarter_label(quarter_start(day, $fiscal_start_month), $fiscal_start_month) = $quarter
    group by courier, day
),
peaks as (
    select courier, arg_max(day, (collected_even, -epoch(day))) as peak_day, max(collected_even) as peak_day_collected
    from days
    group by courier
),
volume as (
    select
        courier,
        sum(collected) as collected,
        sum(delivered) as delivered,
        metric_late_with_delivered(late, delivered) as late_with_delivered,
        metric_returned_with_delivered(returned, delivered) as returned_with_delivered,
        sum(complaints) as complaints
    from staging.courier_days
    where quarter_label(quarter_start(day, $fiscal_start_month), $fiscal_start_month) = $quarter
    group by courier
)
select
    v.courier,
    v.collected,
    rate_collected_share(v.collected, sum(v.collected) over ()) as collected_share,
    p.peak_day,
    p.peak_day_collected,
    rate_late(v.late_with_delivered, v.delivered) as late_rate,
    rate_return(v.returned_with_delivered, v.delivered) as return_rate,
    v.complaints,
    s.shipped_orders,
    s.median_hours_paid_to_shipped,
    s.median_hours_shipped_to_completed
from volume as v
left join peaks as p using (courier)
left join marts.quarterly_courier_service as s on s.courier = v.courier and s.quarter = $quarter
order by v.collected desc, v.courier
