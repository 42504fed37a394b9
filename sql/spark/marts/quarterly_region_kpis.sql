-- Generated from sql/marts/quarterly_region_kpis.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view mart_rows
WITH regions AS (
  SELECT
    *
  FROM staging__region_quarters
  WHERE
    quarter_start IN (
      SELECT
        quarter_start
      FROM build_quarters
    )
), final AS (
  SELECT
    quarter,
    shop_id,
    province,
    city,
    district,
    paid_orders,
    gmv,
    paid_buyers,
    rural_paid_orders,
    rural_gmv,
    rural_paid_buyers,
    rural_station_count
  FROM regions
  ORDER BY
    quarter_start NULLS LAST,
    shop_id NULLS LAST,
    province NULLS LAST,
    city NULLS LAST,
    district NULLS LAST
)
SELECT
  *
FROM final
