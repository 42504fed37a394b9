-- staging.courier_names: every courier name seen in orders and courier files, with its code.
-- A name takes the code of the first alias (staging.couriers, by priority) it equals or starts
-- with, case-insensitively; an unmatched name is kept as given (contract §4).
create or replace table staging.courier_names as
with

names as (
    select distinct courier as courier_name from lake_orders where courier is not null
    union
    select distinct courier as courier_name from lake_courier where courier is not null
),

matched as (
    select n.courier_name, arg_min(c.courier, c.priority) as courier
    from names as n
    join staging.couriers as c on starts_with(lower(n.courier_name), lower(c.alias))
    group by n.courier_name
),

final as (
    select
        n.courier_name,
        coalesce(m.courier, n.courier_name) as courier,
        m.courier is not null as is_mapped
    from names as n
    left join matched as m using (courier_name)
)

select * from final
order by courier_name
