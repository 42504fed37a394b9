-- staging.courier: one row per (period_start, period_end, courier code, region), latest loaded
-- row winning; courier names mapped to codes first, so two spellings of one company meet.
create or replace table staging.courier as
with

mapped as (
    select
        c.* exclude (courier),
        n.courier,
        c.courier as courier_name
    from lake_courier as c
    join staging.courier_names as n on n.courier_name = c.courier
),

ranked as (
    select
        *,
        row_number() over (
            partition by period_start, period_end, courier, region
            order by batch_date desc nulls last, file_name desc, line desc
        ) as version_rank
    from mapped
),

final as (
    select
        period_start,
        period_end,
        courier,
        courier_name,
        region,
        collected,
        delivered,
        returned,
        late,
        complaints,
        batch_date,
        file_name,
        line
    from ranked
    where version_rank = 1
)

select * from final
