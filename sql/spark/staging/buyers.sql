-- Generated from sql/staging/buyers.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table_if_missing staging__buyers
SELECT
  CAST(NULL AS STRING) AS buyer_id,
  CAST(NULL AS BIGINT) AS buyer_key
WHERE
  FALSE
