-- A merge into staging.channel_quarters, step 2: the touched groups moved by their changes; a group
-- left with no paid order is gone, as it is from a build of the whole table.
merge into staging.channel_quarters as q
using channel_quarters_changes as c
    on q.quarter_start = c.quarter_start and q.shop_id = c.shop_id
    and q.channel_group is not distinct from c.channel_group and q.channel is not distinct from c.channel
when matched and q.paid_orders + c.paid_orders = 0 then delete
when matched then update set
    paid_orders = q.paid_orders + c.paid_orders,
    gmv = q.gmv + c.gmv,
    paid_buyers = q.paid_buyers + c.paid_buyers,
    buyer_days = q.buyer_days + c.buyer_days
when not matched then insert by name
