-- A merge into staging.region_quarters, step 1: how each (quarter, shop, region) the merge into
-- staging.paid_orders touched moves, as in channel_quarters_changes: sums by the delta's rows,
-- distinct buyers (all, and rural) and stations by the pairs the delta names, +1 for a pair with
-- paid orders now and none before, -1 for the reverse. "Now" is the paid orders of the delta's
-- buyers (paid_orders_of_delta_buyers), and of its stations, in the delta's quarters.
create or replace temp table region_quarters_changes as
with

delta as (
    select
        quarter_start, quarter, shop_id, province, city, district, buyer_key, rural_station_id, paid_amount, n,
        case when rural_station_id is not null then n else 0 end as rural_n
    from paid_orders_delta
),

buyers_now as (
    select quarter_start, shop_id, province, city, district, buyer_key,
        count(*) as n,
        count(rural_station_id) as rural_n
    from paid_orders_of_delta_buyers
    group by all
),

buyer_moves as (
    select d.quarter_start, d.shop_id, d.province, d.city, d.district,
        sum(distinct_move(w.n, d.n)) as paid_buyers,
        sum(distinct_move(w.rural_n, d.rural_n)) as rural_paid_buyers
    from (
        select quarter_start, shop_id, province, city, district, buyer_key, sum(n) as n, sum(rural_n) as rural_n
        from delta
        group by all
    ) as d
    left join buyers_now as w
        on w.quarter_start = d.quarter_start and w.shop_id = d.shop_id
        and w.province is not distinct from d.province and w.city is not distinct from d.city
        and w.district is not distinct from d.district and w.buyer_key = d.buyer_key
    group by all
),

stations_now as (
    select quarter_start, shop_id, province, city, district, rural_station_id, count(*) as n
    from staging.paid_orders
    where rural_station_id in (select rural_station_id from delta where rural_station_id is not null)
        and quarter_start in (select quarter_start from delta)
    group by all
),

station_moves as (
    select d.quarter_start, d.shop_id, d.province, d.city, d.district,
        sum(distinct_move(w.n, d.n)) as rural_station_count
    from (
        select quarter_start, shop_id, province, city, district, rural_station_id, sum(n) as n
        from delta
        where rural_station_id is not null
        group by all
    ) as d
    left join stations_now as w
        on w.quarter_start = d.quarter_start and w.shop_id = d.shop_id
        and w.province is not distinct from d.province and w.city is not distinct from d.city
        and w.district is not distinct from d.district and w.rural_station_id = d.rural_station_id
    group by all
),

sums as (
    select quarter_start, quarter, shop_id, province, city, district,
        sum(n) as paid_orders,
        metric_gmv(n * paid_amount) as gmv,
        sum(rural_n) as rural_paid_orders,
        metric_gmv(rural_n * paid_amount) as rural_gmv
    from delta
    group by all
)

select s.quarter_start, s.quarter, s.shop_id, s.province, s.city, s.district,
    s.paid_orders, s.gmv,
    coalesce(b.paid_buyers, 0) as paid_buyers,
    s.rural_paid_orders,
    s.rural_gmv,
    coalesce(b.rural_paid_buyers, 0) as rural_paid_buyers,
    coalesce(t.rural_station_count, 0) as rural_station_count
from sums as s
left join buyer_moves as b
    on b.quarter_start = s.quarter_start and b.shop_id = s.shop_id
    and b.province is not distinct from s.province and b.city is not distinct from s.city
    and b.district is not distinct from s.district
left join station_moves as t
    on t.quarter_start = s.quarter_start and t.shop_id = s.shop_id
    and t.province is not distinct from s.province and t.city is not distinct from s.city
    and t.district is not distinct from s.district
