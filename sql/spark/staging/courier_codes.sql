-- Generated from sql/staging/courier_codes.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__courier_codes
SELECT
  courier,
  courier_name_zh,
  courier_group
FROM default_courier_codes
ORDER BY
  courier NULLS LAST
