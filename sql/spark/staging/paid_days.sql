-- Generated from sql/staging/paid_days.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__paid_days
SELECT
  paid_day,
  quarter_start,
  quarter,
  shop_id,
  category,
  is_mobile,
  (
    COUNT((
      order_id
    ))
  ) AS paid_orders,
  COALESCE(SUM(item_count), 0) AS items,
  COALESCE(SUM(paid_amount), 0) AS gmv,
  COALESCE(SUM(refund_amount), 0) AS refund_amount
FROM staging__paid_orders
GROUP BY ALL
