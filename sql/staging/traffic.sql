-- staging.traffic: one row per (date, shop, channel, device), latest loaded row winning;
-- total rows (汇总/合计/总计/全部) and the `all` row of a channel-day split by device left out, so
-- nothing counts twice. Shop aliases and channel spellings are mapped first, so two spellings of
-- one channel meet. A (date, shop) that no traffic file covers takes the event logs' pv and uv, if any.
create or replace table staging.traffic as
with

mapped as not materialized (
    select
        t.* exclude (shop_id, channel),
        coalesce(s.shop_id, t.shop_id) as shop_id,
        coalesce(ch.channel, t.channel) as channel,
        coalesce(ch.channel_group, 'other') as channel_group
    from lake_traffic as t
    left join staging.shops as s on s.alias = t.shop_id
    left join staging.channels as ch on lower(ch.channel) = lower(t.channel)
),

-- The latest version of each key by a hash aggregate over the version columns alone, then its
-- row: a window would sort every version with all its columns. A null batch date ranks lowest
-- (nulls last, descending, before); (file name, line) is unique, so there are no ties.
latest as (
    select max({
        'batch_date': coalesce(batch_date, date '0001-01-01'), 'file_name': file_name, 'line': line
    }) as version
    from mapped
    group by date, shop_id, channel, device
),

current_rows as (
    select m.*
    from mapped as m
    semi join latest as l on l.version.file_name = m.file_name and l.version.line = m.line
    where not m.is_total
),

split_by_device as (
    select distinct date, shop_id, channel
    from current_rows
    where device in ('mobile', 'pc')
),

final as (
    select
        c.date,
        c.shop_id,
        c.channel,
        c.channel_group,
        c.device,
        c.pv,
        c.uv,
        c.visits,
        c.bounced_visits,
        c.ad_spend,
        c.cart_users,
        c.fav_users,
        c.batch_date,
        c.file_name,
        c.line
    from current_rows as c
    anti join split_by_device as s
        on c.date = s.date and c.shop_id = s.shop_id and c.channel = s.channel
        and c.device = 'all'
),

-- The (date, shop) pairs a traffic file covers, in any row.
covered as (
    select distinct date, shop_id
    from mapped
),

-- The event logs' daily traffic (contract §8) where no traffic file covers the day.
from_events as (
    select
        e.date,
        e.shop_id,
        'unknown' as channel,
        coalesce(ch.channel_group, 'other') as channel_group,
        'all' as device,
        e.pv,
        e.uv,
        null::bigint as visits,
        null::bigint as bounced_visits,
        null::decimal(18, 2) as ad_spend,
        null::bigint as cart_users,
        null::bigint as fav_users,
        null::date as batch_date,
        'events' as file_name,
        null::bigint as line
    from staging.event_traffic as e
    left join staging.channels as ch on lower(ch.channel) = 'unknown'
    anti join covered as c on c.date = e.date and c.shop_id = e.shop_id
)

select * from final
union all by name
select * from from_events
