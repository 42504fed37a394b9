-- staging.couriers: courier aliases in the order they are tried — the user's reference/couriers.csv
-- first, then the shipped defaults, then each code itself. A name matches the first alias it equals
-- or starts with, case-insensitively (contract §4).
create or replace table staging.couriers as
with

user_rows as (
    select
        alias,
        courier,
        row_number() over (partition by lower(alias) order by file_name desc, line desc) as version_rank,
        row_number() over (order by file_name, line) as position
    from lake_couriers
),

user_aliases as (
    select alias, upper(courier) as courier, position as priority, 'reference/couriers.csv' as defined_in
    from user_rows
    where version_rank = 1
),

default_aliases as (
    select d.alias, d.courier, 100000 + d.priority as priority, 'default' as defined_in
    from default_couriers as d
    anti join user_aliases as u on lower(u.alias) = lower(d.alias)
),

codes as (
    select courier as alias, courier, 200000 + row_number() over (order by courier) as priority, 'code' as defined_in
    from default_courier_codes
),

final as (
    select * from user_aliases
    union all
    select * from default_aliases
    union all
    select * from codes
)

select * from final
order by priority
