-- A merge into staging.region_quarters, step 2: the touched groups moved by their changes; a group
-- left with no paid order is gone, as it is from a build of the whole table.
merge into staging.region_quarters as q
using region_quarters_changes as c
    on q.quarter_start = c.quarter_start and q.shop_id = c.shop_id
    and q.province is not distinct from c.province and q.city is not distinct from c.city
    and q.district is not distinct from c.district
when matched and q.paid_orders + c.paid_orders = 0 then delete
when matched then update set
    paid_orders = q.paid_orders + c.paid_orders,
    gmv = q.gmv + c.gmv,
    paid_buyers = q.paid_buyers + c.paid_buyers,
    rural_paid_orders = q.rural_paid_orders + c.rural_paid_orders,
    rural_gmv = q.rural_gmv + c.rural_gmv,
    rural_paid_buyers = q.rural_paid_buyers + c.rural_paid_buyers,
    rural_station_count = q.rural_station_count + c.rural_station_count
when not matched then insert by name
