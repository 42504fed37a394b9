-- Generated from sql/staging/event_traffic.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__event_traffic
SELECT
  *
FROM (
  SELECT
    date,
    shop_id,
    CAST(SUM(pv) AS BIGINT) AS pv,
    CAST(COUNT(DISTINCT user_key) AS BIGINT) AS uv
  FROM staging__event_days
  GROUP BY
    date,
    shop_id
) AS event_traffic_rows
