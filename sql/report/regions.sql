-- Sales of $quarter by province, with the rural service stations' share (农村淘宝).
select
    province,
    sum(paid_orders) as paid_orders,
    sum(gmv) as gmv,
    sum(rural_paid_orders) as rural_paid_orders,
    sum(rural_gmv) as rural_gmv,
    rate_rural_gmv_share(sum(rural_gmv), sum(gmv)) as rural_gmv_share,
    sum(rural_station_count) as rural_stations
from marts.quarterly_region_kpis
where ($shop is null or shop_id = $shop) and quarter = $quarter
group by province
order by gmv desc, province
