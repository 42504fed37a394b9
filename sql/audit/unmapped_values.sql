-- audit.unmapped_values: courier names and channels no reference row maps, with their row counts,
-- so the load report can say what fell into `other` or kept its name (contract §4, §5).
create or replace table audit.unmapped_values as
with

courier_rows as (
    select 'orders' as source, courier_name from staging.orders where courier_name is not null
    union all
    select 'courier' as source, courier_name from staging.courier
),

unmapped_couriers as (
    select 'courier' as kind, r.source, r.courier_name as value, count(*) as rows
    from courier_rows as r
    join staging.courier_names as n using (courier_name)
    where not n.is_mapped
    group by r.source, r.courier_name
),

channel_rows as (
    select 'orders' as source, channel from staging.orders where channel <> 'unknown'
    union all
    select 'traffic' as source, channel from staging.traffic
),

unmapped_channels as (
    select 'channel' as kind, r.source, r.channel as value, count(*) as rows
    from channel_rows as r
    anti join staging.channels as c on lower(c.channel) = lower(r.channel)
    group by r.source, r.channel
),

final as (
    select * from unmapped_couriers
    union all
    select * from unmapped_channels
)

select * from final
order by kind, source, value
