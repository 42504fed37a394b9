select * from marts.quarterly_shop_kpis
