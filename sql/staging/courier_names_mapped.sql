-- courier_names_mapped: the distinct courier names of `courier_name_source` (every orders and
-- courier lake file, or only the files new since staging.courier_names was built) with their code.
-- A name takes the code of the first alias (staging.couriers, by priority) it equals or starts
-- with, case-insensitively; an unmatched name is kept as given (contract §4).
create or replace temp view courier_names_mapped as
with

names as (
    select distinct courier as courier_name
    from courier_name_source
    where courier is not null
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
