-- staging.courier_days: each courier row spread over the days of its period in whole parcels:
-- day k of a D-day period gets round(n·k/D) − round(n·(k−1)/D), so the days of any span (a quarter,
-- a campaign) add up to the contract's split and a period's days add up to its total.
create or replace table staging.courier_days as
with

days as (
    select
        c.*,
        date_diff('day', c.period_start, c.period_end) + 1 as period_days,
        unnest(range(1, date_diff('day', c.period_start, c.period_end) + 2)) as day_number
    from staging.courier as c
),

final as (
    select
        (period_start + (day_number - 1)::integer)::date as day,
        courier,
        region,
        items_in_first_days(collected, day_number, period_days)
            - items_in_first_days(collected, day_number - 1, period_days) as collected,
        -- the same parcels spread evenly, for the peak day (contract §6)
        collected::double / period_days as collected_even,
        items_in_first_days(delivered, day_number, period_days)
            - items_in_first_days(delivered, day_number - 1, period_days) as delivered,
        items_in_first_days(returned, day_number, period_days)
            - items_in_first_days(returned, day_number - 1, period_days) as returned,
        items_in_first_days(late, day_number, period_days)
            - items_in_first_days(late, day_number - 1, period_days) as late,
        items_in_first_days(complaints, day_number, period_days)
            - items_in_first_days(complaints, day_number - 1, period_days) as complaints,
        period_start,
        period_end
    from days
)

select * from final
