-- Generated from sql/staging/buyer_quarters.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__buyer_quarters
WITH buyer_days AS (
  SELECT DISTINCT
    shop_id,
    quarter_start,
    buyer_key,
    paid_day
  FROM staging__paid_orders
), buyer_quarters AS (
  SELECT
    shop_id,
    quarter_start,
    buyer_key,
    CAST(COUNT(*) AS INT) AS paid_days
  FROM buyer_days
  GROUP BY
    shop_id,
    quarter_start,
    buyer_key
), final AS (
  SELECT
    shop_id,
    quarter_start,
    buyer_key,
    paid_days,
    MIN(quarter_start) OVER (PARTITION BY shop_id, buyer_key) AS first_quarter_start
  FROM buyer_quarters
)
SELECT
  *
FROM (
  SELECT
    *
  FROM final
) AS buyer_quarter_rows
