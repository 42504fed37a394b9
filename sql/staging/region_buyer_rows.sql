-- region_buyer_rows(paid): one row per (shop, quarter of payment, delivery region, buyer) of the
-- paid orders in the relation named `paid` (staging.paid_orders, or every paid order of some
-- buyers), and whether any of those orders went through a rural service station. The region KPIs
-- count paid buyers and rural paid buyers from these rows.
create or replace temp macro region_buyer_rows(paid) as table
select
    shop_id,
    quarter_start,
    province,
    city,
    district,
    buyer_id,
    bool_or(rural_station_id is not null) as rural
from query_table(paid)
group by shop_id, quarter_start, province, city, district, buyer_id
