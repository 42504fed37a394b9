-- orders_current: among the rows of `orders_source` (the whole lake, or only the files new since
-- staging.orders was built), each order's current state: the row with the greatest (batch date,
-- file name, line); rejected rows never reached the lake, so they never win. Shop aliases, courier
-- codes and channel groups come from the reference tables.
create or replace temp view orders_current as
with

mapped as (
    select
        o.* exclude (shop_id),
        coalesce(s.shop_id, o.shop_id) as shop_id
    from orders_source as o
    left join staging.shops as s on s.alias = o.shop_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by shop_id, order_id
            order by batch_date desc, file_name desc, line desc
        ) as version_rank
    from mapped
),

current_rows as (
    select * exclude (version_rank)
    from ranked
    where version_rank = 1
),

final as (
    select
        r.shop_id,
        r.order_id,
        r.buyer_id,
        r.status,
        r.created_at,
        r.paid_at,
        r.shipped_at,
        r.completed_at,
        r.total_amount,
        r.paid_amount,
        r.refund_amount,
        r.item_count,
        r.category,
        coalesce(ch.channel, r.channel, 'unknown') as channel,
        coalesce(ch.channel_group, 'other') as channel_group,
        r.is_mobile,
        r.province,
        r.city,
        r.district,
        n.courier,
        r.courier as courier_name,
        r.tracking_no,
        r.rural_station_id,
        r.batch_date,
        r.file_name,
        r.line
    from current_rows as r
    left join staging.courier_names as n on n.courier_name = r.courier
    left join staging.channels as ch on lower(ch.channel) = lower(r.channel)
)

select * from final
