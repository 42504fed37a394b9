-- Generated from sql/marts/quarterly_courier_service.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view mart_rows
WITH shipped AS (
  SELECT
    CASE
      WHEN (
        SELECT
          COUNT(*)
        FROM build_quarters
      ) = 1
      THEN (
        SELECT
          MIN(quarter_start)
        FROM build_quarters
      )
      ELSE (
        MAKE_DATE(
          (
            (
              YEAR((
                shipped_at
              )) * 12 + MONTH((
                shipped_at
              )) - (
                :fiscal_start_month
              )
            ) DIV 3 * 3 + (
              :fiscal_start_month
            ) - 1
          ) DIV 12,
          (
            (
              YEAR((
                shipped_at
              )) * 12 + MONTH((
                shipped_at
              )) - (
                :fiscal_start_month
              )
            ) DIV 3 * 3 + (
              :fiscal_start_month
            ) - 1
          ) % 12 + 1,
          1
        )
      )
    END AS quarter_start,
    courier,
    (
      CAST((
        UNIX_MICROS(CAST((
          shipped_at
        ) AS TIMESTAMP)) - UNIX_MICROS(CAST((
          paid_at
        ) AS TIMESTAMP))
      ) AS DOUBLE) / 1000000 / 3600
    ) AS hours_paid_to_shipped,
    (
      CAST((
        UNIX_MICROS(CAST((
          completed_at
        ) AS TIMESTAMP)) - UNIX_MICROS(CAST((
          shipped_at
        ) AS TIMESTAMP))
      ) AS DOUBLE) / 1000000 / 3600
    ) AS hours_shipped_to_completed
  FROM staging__orders
  WHERE
    NOT shipped_at IS NULL
    AND NOT courier IS NULL
    AND shipped_at >= (
      SELECT
        MIN(quarter_start)
      FROM build_quarters
    )
    AND shipped_at < (
      SELECT
        MAX(quarter_start) + INTERVAL '3' MONTH
      FROM build_quarters
    )
), final AS (
  SELECT
    (
      CASE
        WHEN (
          :fiscal_start_month
        ) = 1
        THEN DATE_FORMAT((
          quarter_start
        ), 'yyyy') || 'Q' || QUARTER((
          quarter_start
        ))
        ELSE 'FY' || CAST((
          YEAR((
            quarter_start
          ) - MAKE_YM_INTERVAL(0, (
            :fiscal_start_month
          ) - 1)) + 1
        ) AS STRING) || 'Q' || QUARTER((
          quarter_start
        ) - MAKE_YM_INTERVAL(0, (
          :fiscal_start_month
        ) - 1))
      END
    ) AS quarter,
    courier,
    COUNT(*) AS shipped_orders,
    MEDIAN(hours_paid_to_shipped) AS median_hours_paid_to_shipped,
    MEDIAN(hours_shipped_to_completed) AS median_hours_shipped_to_completed
  FROM shipped
  SEMI JOIN build_quarters
    USING (quarter_start)
  GROUP BY
    quarter_start,
    courier
  ORDER BY
    quarter_start NULLS LAST,
    courier NULLS LAST
)
SELECT
  *
FROM final
