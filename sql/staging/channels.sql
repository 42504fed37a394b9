-- staging.channels: channel -> channel group; the user's reference/channels.csv rows replace the
-- shipped defaults for the same channel (compared case-insensitively), the last row given winning.
create or replace table staging.channels as
with

user_rows as (
    select
        channel,
        channel_group,
        row_number() over (partition by lower(channel) order by file_name desc, line desc) as version_rank
    from lake_channels
),

user_channels as (
    select channel, channel_group, 'reference/channels.csv' as defined_in
    from user_rows
    where version_rank = 1
),

defaults as (
    select d.channel, d.channel_group, 'default' as defined_in
    from default_channels as d
    anti join user_channels as u on lower(u.channel) = lower(d.channel)
),

final as (
    select * from user_channels
    union all
    select * from defaults
)

select * from final
order by channel_group, channel
