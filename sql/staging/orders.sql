-- staging.orders: each order's current state, the loaded row with the greatest
-- (batch date, file name, line); rejected rows never reached the lake, so they never win.
create or replace table staging.orders as
with

ranked as (
    select
        *,
        row_number() over (
            partition by shop_id, order_id
            order by batch_date desc, file_name desc, line desc
        ) as version_rank
    from lake_orders
),

final as (
    select * exclude (version_rank)
    from ranked
    where version_rank = 1
)

select * from final
