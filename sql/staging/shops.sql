-- staging.shops: other spellings of a shop (a shop name, a numeric id) -> its shop_id.
create or replace table staging.shops as
with

ranked as (
    select
        alias,
        shop_id,
        row_number() over (partition by alias order by file_name desc, line desc) as version_rank
    from lake_shops
),

final as (
    select alias, shop_id
    from ranked
    where version_rank = 1
)

select * from final
order by alias
