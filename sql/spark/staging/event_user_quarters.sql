-- Generated from sql/staging/event_user_quarters.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__event_user_quarters
SELECT
  *
FROM (
  SELECT
    shop_id,
    quarter_start,
    user_key,
    CAST(SUM(pv) AS BIGINT) AS pv,
    CAST(SUM(cart) AS BIGINT) AS cart,
    CAST(SUM(fav) AS BIGINT) AS fav,
    CAST(SUM(buy) AS BIGINT) AS buy,
    CAST(COALESCE(COUNT(DISTINCT (
      date - quarter_start
    )) FILTER(WHERE
      buy > 0), 0) AS INT) AS buy_days
  FROM staging__event_days
  GROUP BY
    shop_id,
    quarter_start,
    user_key
) AS event_user_quarter_rows
