-- Generated from sql/staging/orders.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__orders
SELECT
  *
FROM orders_current
