-- orders_current: among the rows of `orders_source` (the whole lake, or only the files new since
-- staging.orders was built; `row_id` tells its rows apart), each order's current state: the row
-- with the greatest (batch date, file name, line); rejected rows never reached the lake, so they
-- never win. Shop aliases, courier codes and channel groups come from the reference tables.
create or replace temp view orders_current as
with

mapped as not materialized (
    select
        coalesce(s.shop_id, o.shop_id) as shop_id,
        o.order_id,
        o.buyer_id,
        o.status,
        o.created_at,
        o.paid_at,
        o.shipped_at,
        o.completed_at,
        o.total_amount,
        o.paid_amount,
        o.refund_amount,
        o.item_count,
        o.category,
        o.channel,
        o.is_mobile,
        o.province,
        o.city,
        o.district,
        o.courier,
        o.tracking_no,
        o.rural_station_id,
        o.batch_date,
        o.file_name,
        o.line,
        o.file_index,
        o.row_id
    from orders_source as o
    left join staging.shops as s on s.alias = o.shop_id
),

-- Each lake file's place in the order versions rank by: its batch date (a null one lowest, as in
-- orders_matches), then its file name. A lake file holds one raw file, so both are the same on
-- every row of it.
file_ranks as (
    select
        file_index,
        rank() over (order by coalesce(batch_date, date '0001-01-01'), file_name) as file_rank
    from (
        select file_index, min(batch_date) as batch_date, min(file_name) as file_name
        from orders_source
        group by file_index
    )
),

-- The latest version of each order by a hash aggregate over one integer, (file rank, line), then
-- its row, found by its integer row id: a window would sort every version of every order with all
-- its columns, a join on (file name, line) hashes text, and the same arg_max keyed by the struct
-- (batch date, file name, line) took 10.3 against 5.7 s over the 27.9 M versions of 10.2 M orders.
-- (file name, line) is unique, so there are no ties.
latest as (
    select arg_max(m.row_id, (f.file_rank::hugeint << 64) + m.line) as row_id
    from mapped as m
    join file_ranks as f using (file_index)
    group by m.shop_id, m.order_id
),

current_rows as (
    select m.*
    from mapped as m
    semi join latest as l on l.row_id = m.row_id
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
