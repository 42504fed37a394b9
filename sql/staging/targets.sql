-- staging.targets: one monthly sales target per (shop, month), the last row given winning.
create or replace table staging.targets as
with

mapped as not materialized (
    select
        t.* exclude (shop_id),
        coalesce(s.shop_id, t.shop_id) as shop_id
    from lake_targets as t
    left join staging.shops as s on s.alias = t.shop_id
),

-- The last row given of each key by a hash aggregate over (file name, line), which is unique.
latest as (
    select max({'file_name': file_name, 'line': line}) as version
    from mapped
    group by shop_id, month
),

current_rows as (
    select m.*
    from mapped as m
    semi join latest as l on l.version.file_name = m.file_name and l.version.line = m.line
),

final as (
    select shop_id, month, target_gmv, file_name, line
    from current_rows
)

select * from final
