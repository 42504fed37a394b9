-- Generated from sql/staging/channel_quarters.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__channel_quarters
WITH paid AS (
  SELECT
    *,
    XXHASH64(
      quarter_start,
      quarter_start IS NULL,
      shop_id,
      shop_id IS NULL,
      channel_group,
      channel_group IS NULL,
      channel,
      channel IS NULL
    ) AS group_hash
  FROM staging__paid_orders
), by_hash AS (
  SELECT
    ANY_VALUE(quarter_start) IGNORE NULLS AS quarter_start,
    ANY_VALUE(shop_id) IGNORE NULLS AS shop_id,
    ANY_VALUE(channel_group) IGNORE NULLS AS channel_group,
    ANY_VALUE(channel) IGNORE NULLS AS channel,
    (
      COUNT((
        order_id
      ))
    ) AS paid_orders,
    (
      CAST(COALESCE(SUM((
        paid_amount
      )), 0) AS DECIMAL(18, 2))
    ) AS gmv,
    (
      COUNT(DISTINCT (
        buyer_key
      ))
    ) AS paid_buyers,
    (
      COUNT(DISTINCT ((
          buyer_key
        ), (
          paid_day
      )))
    ) AS buyer_days
  FROM paid
  GROUP BY
    group_hash
), group_count AS (
  SELECT
    COUNT(*) AS n
  FROM (
    SELECT DISTINCT
      quarter_start,
      shop_id,
      channel_group,
      channel
    FROM paid
  )
)
SELECT
  *
FROM by_hash
WHERE
  (
    CASE
      WHEN (
        (
          SELECT
            COUNT(*)
          FROM by_hash
        )
      ) = (
        (
          SELECT
            n
          FROM group_count
        )
      )
      THEN TRUE
      ELSE RAISE_ERROR(
        'two groups of a mart share a 64-bit hash (' || (
          (
            SELECT
              COUNT(*)
            FROM by_hash
          )
        ) || ' hashes for ' || (
          (
            SELECT
              n
            FROM group_count
          )
        ) || ' groups); report this as a bug'
      )
    END
  )
