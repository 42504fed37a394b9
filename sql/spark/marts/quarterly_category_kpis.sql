-- Generated from sql/marts/quarterly_category_kpis.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view mart_rows
WITH orders AS (
  SELECT
    *
  FROM staging__paid_days
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
    category,
    (
      CAST(COALESCE(SUM((
        paid_orders
      )), 0) AS BIGINT)
    ) AS paid_orders,
    COALESCE(SUM(items), 0) AS items,
    (
      CAST(COALESCE(SUM((
        gmv
      )), 0) AS DECIMAL(18, 2))
    ) AS gmv,
    (
      (
        CASE
          WHEN (
            (
              (
                CAST(COALESCE(SUM((
                  gmv
                )), 0) AS DECIMAL(18, 2))
              )
            )
          ) IS NULL
          OR (
            (
              (
                CAST(COALESCE(SUM((
                  gmv
                )), 0) AS DECIMAL(18, 2))
              )
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              (
                CAST(COALESCE(SUM((
                  refund_amount
                )), 0) AS DECIMAL(18, 2))
              )
            )
          ) AS DOUBLE) / CAST((
            (
              (
                CAST(COALESCE(SUM((
                  gmv
                )), 0) AS DECIMAL(18, 2))
              )
            )
          ) AS DOUBLE)
        END
      )
    ) AS refund_rate
  FROM orders
  GROUP BY
    quarter_start,
    quarter,
    shop_id,
    category
  ORDER BY
    quarter_start NULLS LAST,
    shop_id NULLS LAST,
    category NULLS LAST
)
SELECT
  *
FROM final
