-- What a merge into staging.paid_orders changed, for the group states kept with it
-- (staging.channel_quarters, staging.region_quarters): each distinct row it added counted +1, each
-- it removed -1, over the columns those states read. A row removed and added back as it was (a later
-- status of an order that leaves its payment where it was) cancels out. Then the paid orders, as
-- they are now, of the delta's buyers in its quarters: where the states' distinct counts look.
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
having sum(n) <> 0;

create or replace temp table paid_orders_of_delta_buyers as
select quarter_start, shop_id, buyer_key, paid_day, channel_group, channel, province, city, district, rural_station_id
from staging.paid_orders
where buyer_key in (select buyer_key from paid_orders_delta)
    and quarter_start in (select quarter_start from paid_orders_delta)
