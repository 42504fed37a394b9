-- staging.campaigns: campaign days; the user's reference/campaigns.csv rows replace the default
-- 双11 / 双12 / 618 of the same campaign and year (by start date), the last row given winning.
create or replace table staging.campaigns as
with

user_rows as (
    select
        campaign,
        start_date,
        end_date,
        row_number() over (
            partition by campaign, year(start_date) order by file_name desc, line desc
        ) as version_rank
    from lake_campaigns
),

user_campaigns as (
    select campaign, start_date, end_date, 'reference/campaigns.csv' as defined_in
    from user_rows
    where version_rank = 1
),

defaults as (
    select d.campaign, d.start_date, d.end_date, 'default' as defined_in
    from default_campaigns as d
    anti join user_campaigns as u
        on u.campaign = d.campaign and year(u.start_date) = year(d.start_date)
),

final as (
    select * from user_campaigns
    union all
    select * from defaults
)

select * from final
order by start_date, campaign
