-- channel_buyer_rows(paid): one row per (shop, quarter of payment, channel, buyer) of the paid
-- orders in the relation named `paid` (staging.paid_orders, or every paid order of some buyers):
-- the distinct days the buyer paid on through that channel in that quarter. The channel KPIs count
-- paid buyers and buyer-days from these rows.
create or replace temp macro channel_buyer_rows(paid) as table
with

buyer_days as (
    select distinct shop_id, quarter_start, channel_group, channel, buyer_id, paid_day
    from query_table(paid)
),

final as (
    select
        shop_id,
        quarter_start,
        channel_group,
        channel,
        buyer_id,
        count(*)::integer as paid_days
    from buyer_days
    group by shop_id, quarter_start, channel_group, channel, buyer_id
)

select * from final
