-- Generated from sql/staging/region_quarters.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__region_quarters
WITH paid AS (
  SELECT
    *,
    NOT rural_station_id IS NULL AS is_rural,
    XXHASH64(
      quarter_start,
      quarter_start IS NULL,
      quarter,
      quarter IS NULL,
      shop_id,
      shop_id IS NULL,
      province,
      province IS NULL,
      city,
      city IS NULL,
      district,
      district IS NULL
    ) AS group_hash
  FROM staging__paid_orders
), by_hash AS (
  SELECT
    ANY_VALUE(quarter_start) IGNORE NULLS AS quarter_start,
    ANY_VALUE(quarter) IGNORE NULLS AS quarter,
    ANY_VALUE(shop_id) IGNORE NULLS AS shop_id,
    ANY_VALUE(province) IGNORE NULLS AS province,
    ANY_VALUE(city) IGNORE NULLS AS city,
    ANY_VALUE(district) IGNORE NULLS AS district,
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
      COUNT((
        CASE WHEN is_rural THEN order_id END
      ))
    ) AS rural_paid_orders,
    (
      CAST(COALESCE(SUM((
        CASE WHEN is_rural THEN paid_amount END
      )), 0) AS DECIMAL(18, 2))
    ) AS rural_gmv,
    (
      COUNT(DISTINCT (
        CASE WHEN is_rural THEN buyer_key END
      ))
    ) AS rural_paid_buyers,
    COUNT(DISTINCT rural_station_id) AS rural_station_count
  FROM paid
  GROUP BY
    group_hash
), group_count AS (
  SELECT
    COUNT(*) AS n
  FROM (
    SELECT DISTINCT
      quarter_start,
      quarter,
      shop_id,
      province,
      city,
      district
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
