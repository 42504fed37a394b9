-- A merge into staging.channel_quarters, step 2: the touched groups replaced by their moved values;
-- a group left with no paid order is gone, as it is from a build of the whole table.
create or replace temp table channel_quarters_next as
select
    c.quarter_start, c.shop_id, c.channel_group, c.channel,
    coalesce(q.paid_orders, 0) + c.paid_orders as paid_orders,
    (coalesce(q.gmv, 0) + c.gmv)::decimal(18, 2) as gmv,
    coalesce(q.paid_buyers, 0) + c.paid_buyers as paid_buyers,
    coalesce(q.buyer_days, 0) + c.buyer_days as buyer_days
from channel_quarters_changes as c
left join staging.channel_quarters as q
    on q.quarter_start = c.quarter_start and q.shop_id = c.shop_id
    and q.channel_group is not distinct from c.channel_group and q.channel is not distinct from c.channel;

delete from staging.channel_quarters as q
using channel_quarters_changes as c
where q.quarter_start = c.quarter_start and q.shop_id = c.shop_id
    and q.channel_group is not distinct from c.channel_group and q.channel is not distinct from c.channel;

insert into staging.channel_quarters by name
select * from channel_quarters_next
where paid_orders > 0
