-- staging.courier: one row per (period_start, period_end, courier code, region), latest loaded
-- row winning; courier names mapped to codes first, so two spellings of one company meet.
create or replace table staging.courier as
with

mapped as not materialized (
    select
        c.* exclude (courier),
        n.courier,
        c.courier as courier_name
    from lake_courier as c
    join staging.courier_names as n on n.courier_name = c.courier
),

-- The latest version of each key by a hash aggregate over the version columns alone, then its
-- row: a window would sort every version with all its columns. A null batch date ranks lowest
-- (nulls last, descending, before); (file name, line) is unique, so there are no ties.
latest as (
    select max({
        'batch_date': coalesce(batch_date, date '0001-01-01'), 'file_name': file_name, 'line': line
    }) as version
    from mapped
    group by period_start, period_end, courier, region
),

current_rows as (
    select m.*
    from mapped as m
    semi join latest as l on l.version.file_name = m.file_name and l.version.line = m.line
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
    from current_rows
)

select * from final
