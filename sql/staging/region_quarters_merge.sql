-- A merge into staging.region_quarters, step 2: the touched groups replaced by their moved values;
-- a group left with no paid order is gone, as it is from a build of the whole table.
create or replace temp table region_quarters_next as
select
    c.quarter_start, c.quarter, c.shop_id, c.province, c.city, c.district,
    coalesce(q.paid_orders, 0) + c.paid_orders as paid_orders,
    (coalesce(q.gmv, 0) + c.gmv)::decimal(18, 2) as gmv,
    coalesce(q.paid_buyers, 0) + c.paid_buyers as paid_buyers,
    coalesce(q.rural_paid_orders, 0) + c.rural_paid_orders as rural_paid_orders,
    (coalesce(q.rural_gmv, 0) + c.rural_gmv)::decimal(18, 2) as rural_gmv,
    coalesce(q.rural_paid_buyers, 0) + c.rural_paid_buyers as rural_paid_buyers,
    coalesce(q.rural_station_count, 0) + c.rural_station_count as rural_station_count
from region_quarters_changes as c
left join staging.region_quarters as q
    on q.quarter_start = c.quarter_start and q.shop_id = c.shop_id
    and q.province is not distinct from c.province and q.city is not distinct from c.city
    and q.district is not distinct from c.district;

delete from staging.region_quarters as q
using region_quarters_changes as c
where q.quarter_start = c.quarter_start and q.shop_id = c.shop_id
    and q.province is not distinct from c.province and q.city is not distinct from c.city
    and q.district is not distinct from c.district;

insert into staging.region_quarters by name
select * from region_quarters_next
where paid_orders > 0
