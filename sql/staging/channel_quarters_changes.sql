-- A merge into staging.channel_quarters, step 1: how each (quarter, shop, channel) the merge into
-- staging.paid_orders touched moves. Sums move by the delta's rows. A distinct count moves by the
-- pairs (group, buyer) or (group, buyer, day) the delta names: +1 for one that has paid orders now
-- and had none before, -1 for the reverse; "before" is "now" less the delta. "Now" is only the paid
-- orders of the delta's buyers in its quarters (paid_orders_of_delta_buyers), not the quarter.
create or replace temp table channel_quarters_changes as
with

delta as (
    select quarter_start, shop_id, channel_group, channel, buyer_key, paid_day, paid_amount, n
    from paid_orders_delta
),

now as (
    select quarter_start, shop_id, channel_group, channel, buyer_key, paid_day
    from paid_orders_of_delta_buyers
),

day_moves as (
    select d.quarter_start, d.shop_id, d.channel_group, d.channel, d.buyer_key, d.paid_day,
        distinct_move(w.n, d.n) as buyer_days
    from (select quarter_start, shop_id, channel_group, channel, buyer_key, paid_day, sum(n) as n from delta group by all) as d
    left join (select quarter_start, shop_id, channel_group, channel, buyer_key, paid_day, count(*) as n from now group by all) as w
        on w.quarter_start = d.quarter_start and w.shop_id = d.shop_id
        and w.channel_group is not distinct from d.channel_group and w.channel is not distinct from d.channel
        and w.buyer_key = d.buyer_key and w.paid_day = d.paid_day
),

buyer_moves as (
    select d.quarter_start, d.shop_id, d.channel_group, d.channel,
        distinct_move(w.n, d.n) as paid_buyers
    from (select quarter_start, shop_id, channel_group, channel, buyer_key, sum(n) as n from delta group by all) as d
    left join (select quarter_start, shop_id, channel_group, channel, buyer_key, count(*) as n from now group by all) as w
        on w.quarter_start = d.quarter_start and w.shop_id = d.shop_id
        and w.channel_group is not distinct from d.channel_group and w.channel is not distinct from d.channel
        and w.buyer_key = d.buyer_key
),

sums as (
    select quarter_start, shop_id, channel_group, channel, sum(n) as paid_orders, metric_gmv(n * paid_amount) as gmv
    from delta
    group by all
),

buyers as (
    select quarter_start, shop_id, channel_group, channel, sum(paid_buyers) as paid_buyers
    from buyer_moves
    group by all
),

days as (
    select quarter_start, shop_id, channel_group, channel,
        sum(buyer_days) as buyer_days
    from day_moves
    group by all
)

select s.quarter_start, s.shop_id, s.channel_group, s.channel, s.paid_orders, s.gmv,
    coalesce(b.paid_buyers, 0) as paid_buyers, coalesce(d.buyer_days, 0) as buyer_days
from sums as s
left join buyers as b
    on b.quarter_start = s.quarter_start and b.shop_id = s.shop_id
    and b.channel_group is not distinct from s.channel_group and b.channel is not distinct from s.channel
left join days as d
    on d.quarter_start = s.quarter_start and d.shop_id = s.shop_id
    and d.channel_group is not distinct from s.channel_group and d.channel is not distinct from s.channel
