-- What a merge into staging.paid_orders changed, for the group states kept with it
-- (staging.channel_quarters, staging.region_quarters): each distinct row it added counted +1, each
-- it removed -1, over the columns those states read. A row removed and added back as it was (a later
-- status of an order that leaves its payment where it was) cancels out.
create or replace temp table paid_orders_delta as
with

changes as (
    select
        quarter_start, quarter, shop_id, buyer_key, paid_day, paid_amount,
        channel_group, channel, province, city, district, rural_station_id,
        1 as n
    from paid_orders_added
    union all
    select
        quarter_start, quarter, shop_id, buyer_key, paid_day, paid_amount,
        channel_group, channel, province, city, district, rural_station_id,
        -1 as n
    from paid_orders_replaced
)

select
    quarter_start, quarter, shop_id, buyer_key, paid_day, paid_amount,
    channel_group, channel, province, city, district, rural_station_id,
    sum(n)::bigint as n
from changes
group by all
having sum(n) <> 0
