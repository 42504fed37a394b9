-- staging.traffic: one row per (date, shop, channel, device), latest loaded row winning;
-- total rows (汇总/合计/总计/全部) and `all` rows of a split channel-day left out so nothing counts twice.
create or replace table staging.traffic as
with

ranked as (
    select
        *,
        row_number() over (
            partition by date, shop_id, channel, device
            order by batch_date desc, file_name desc, line desc
        ) as version_rank
    from lake_traffic
),

current_rows as (
    select * exclude (version_rank)
    from ranked
    where version_rank = 1
        and channel not in ('汇总', '合计', '总计', '全部')
),

split_by_device as (
    select distinct date, shop_id, channel
    from current_rows
    where device in ('mobile', 'pc')
),

final as (
    select c.*
    from current_rows as c
    anti join split_by_device as s
        on c.date = s.date and c.shop_id = s.shop_id and c.channel = s.channel
        and c.device = 'all'
)

select * from final
