-- Every quarter the published shop table has, in order.
select distinct quarter from marts.quarterly_shop_kpis order by quarter
