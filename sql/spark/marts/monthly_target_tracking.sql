-- Generated from sql/marts/monthly_target_tracking.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view mart_rows
WITH first_month AS (
  SELECT
    (
      CAST((
        DATE_TRUNC(
          'YEAR',
          CAST((
            MIN(quarter_start)
          ) AS DATE) - MAKE_YM_INTERVAL(0, (
            :fiscal_start_month
          ) - 1)
        ) + MAKE_YM_INTERVAL(0, (
          :fiscal_start_month
        ) - 1)
      ) AS DATE)
    ) AS month_start
  FROM build_quarters
), sales AS (
  SELECT
    shop_id,
    CAST(DATE_TRUNC('MONTH', paid_day) AS DATE) AS month_start,
    (
      CAST(COALESCE(SUM((
        gmv
      )), 0) AS DECIMAL(18, 2))
    ) AS gmv
  FROM staging__paid_days
  WHERE
    paid_day >= (
      SELECT
        month_start
      FROM first_month
    )
  GROUP BY ALL
), targets AS (
  SELECT
    shop_id,
    month AS month_start,
    target_gmv
  FROM staging__targets
  WHERE
    month >= (
      SELECT
        month_start
      FROM first_month
    )
), traffic_months AS (
  SELECT DISTINCT
    shop_id,
    CAST(DATE_TRUNC('MONTH', date) AS DATE) AS month_start
  FROM staging__traffic
  WHERE
    date >= (
      SELECT
        month_start
      FROM first_month
    )
), months AS (
  SELECT
    shop_id,
    month_start
  FROM sales
  UNION
  SELECT
    shop_id,
    month_start
  FROM targets
  UNION
  SELECT
    shop_id,
    month_start
  FROM traffic_months
), base AS (
  SELECT
    m.shop_id,
    m.month_start,
    (
      CAST((
        DATE_TRUNC(
          'YEAR',
          CAST((
            m.month_start
          ) AS DATE) - MAKE_YM_INTERVAL(0, (
            :fiscal_start_month
          ) - 1)
        ) + MAKE_YM_INTERVAL(0, (
          :fiscal_start_month
        ) - 1)
      ) AS DATE)
    ) AS year_start,
    CAST(COALESCE(s.gmv, 0) AS DECIMAL(18, 2)) AS gmv,
    t.target_gmv
  FROM months AS m
  LEFT JOIN sales AS s
    USING (shop_id, month_start)
  LEFT JOIN targets AS t
    USING (shop_id, month_start)
), year_to_date AS (
  SELECT
    month_start,
    DATE_FORMAT(month_start, 'yyyy-MM') AS month,
    shop_id,
    gmv,
    target_gmv,
    (
      (
        CASE
          WHEN (
            (
              target_gmv
            )
          ) IS NULL OR (
            (
              target_gmv
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              gmv
            )
          ) AS DOUBLE) / CAST((
            (
              target_gmv
            )
          ) AS DOUBLE)
        END
      )
    ) AS target_completion,
    CAST((
      SUM(gmv) OVER year_to_date
    ) AS DECIMAL(18, 2)) AS ytd_gmv,
    CAST((
      COALESCE(SUM(target_gmv) OVER year_to_date, 0)
    ) AS DECIMAL(18, 2)) AS ytd_target_gmv
  FROM base
  WINDOW year_to_date AS (
    PARTITION BY shop_id, year_start
    ORDER BY month_start NULLS LAST
    rows BETWEEN UNBOUNDED preceding AND CURRENT ROW
  )
), final AS (
  SELECT
    month,
    shop_id,
    gmv,
    target_gmv,
    target_completion,
    ytd_gmv,
    ytd_target_gmv
  FROM year_to_date
  WHERE
    (
      MAKE_DATE(
        (
          (
            YEAR((
              month_start
            )) * 12 + MONTH((
              month_start
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
              month_start
            )) * 12 + MONTH((
              month_start
            )) - (
              :fiscal_start_month
            )
          ) DIV 3 * 3 + (
            :fiscal_start_month
          ) - 1
        ) % 12 + 1,
        1
      )
    ) IN (
      SELECT
        quarter_start
      FROM build_quarters
    )
  ORDER BY
    month_start NULLS LAST,
    shop_id NULLS LAST
)
SELECT
  *
FROM final
