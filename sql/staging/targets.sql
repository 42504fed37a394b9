-- staging.targets: one monthly sales target per (shop, month), the last row given winning.
create or replace table staging.targets as
with

mapped as (
    select
        t.* exclude (shop_id),
        coalesce(s.shop_id, t.shop_id) as shop_id
    from lake_targets as t
    left join staging.shops as s on s.alias = t.shop_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by shop_id, month
            order by file_name desc, line desc
        ) as version_rank
    from mapped
),

final as (
    select shop_id, month, target_gmv, file_name, line
    from ranked
    where version_rank = 1
)

select * from final
