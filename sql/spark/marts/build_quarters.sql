-- Generated from sql/marts/build_quarters.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view build_quarters
WITH months AS (
  SELECT DISTINCT
    (
      MAKE_DATE(
        (
          (
            YEAR((
              month
            )) * 12 + MONTH((
              month
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
              month
            )) * 12 + MONTH((
              month
            )) - (
              :fiscal_start_month
            )
          ) DIV 3 * 3 + (
            :fiscal_start_month
          ) - 1
        ) % 12 + 1,
        1
      )
    ) AS quarter_start
  FROM (
    SELECT
      EXPLODE(CAST(:months AS ARRAY<DATE>)) AS month
  )
), touched AS (
  SELECT DISTINCT
    (
      MAKE_DATE(
        (
          (
            YEAR((
              month
            )) * 12 + MONTH((
              month
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
              month
            )) * 12 + MONTH((
              month
            )) - (
              :fiscal_start_month
            )
          ) DIV 3 * 3 + (
            :fiscal_start_month
          ) - 1
        ) % 12 + 1,
        1
      )
    ) AS quarter_start
  FROM (
    SELECT
      EXPLODE(CAST(:touched_months AS ARRAY<DATE>)) AS month
  )
), final AS (
  SELECT
    quarter_start,
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
    ) AS quarter
  FROM months
  WHERE
    quarter_start IN (
      SELECT
        quarter_start
      FROM touched
    )
    OR (
      :reaches_later
      AND quarter_start > (
        SELECT
          MIN(quarter_start)
        FROM touched
      )
    )
)
SELECT
  *
FROM final
ORDER BY
  quarter_start NULLS LAST
