-- staging.courier: one row per (period_start, period_end, courier, region), latest loaded row winning.
create or replace table staging.courier as
with

ranked as (
    select
        *,
        row_number() over (
            partition by period_start, period_end, courier, region
            order by batch_date desc nulls last, file_name desc, line desc
        ) as version_rank
    from lake_courier
),

final as (
    select * exclude (version_rank)
    from ranked
    where version_rank = 1
)

select * from final
