-- Generated from sql/marts/quarterly_courier_kpis.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view mart_rows
WITH days AS (
  SELECT
    *,
    (
      MAKE_DATE(
        (
          (
            YEAR((
              day
            )) * 12 + MONTH((
              day
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
              day
            )) * 12 + MONTH((
              day
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
  FROM staging__courier_days
  WHERE
    (
      MAKE_DATE(
        (
          (
            YEAR((
              day
            )) * 12 + MONTH((
              day
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
              day
            )) * 12 + MONTH((
              day
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
), daily AS (
  SELECT
    quarter_start,
    courier,
    region,
    day,
    SUM(collected_even) AS collected
  FROM days
  GROUP BY ALL
), peaks AS (
  SELECT
    quarter_start,
    courier,
    region,
    MAX_BY(
      day,
      (
        ROUND(collected, 6),
        -CAST(UNIX_MICROS(CAST(day AS TIMESTAMP)) AS DOUBLE) / 1000000
      )
    ) AS peak_day,
    MAX_BY(
      collected,
      (
        ROUND(collected, 6),
        -CAST(UNIX_MICROS(CAST(day AS TIMESTAMP)) AS DOUBLE) / 1000000
      )
    ) AS peak_day_collected,
    COUNT(DISTINCT day) AS days_covered
  FROM daily
  GROUP BY ALL
), totals AS (
  SELECT
    quarter_start,
    courier,
    region,
    SUM(collected) AS collected,
    SUM(delivered) AS delivered,
    SUM(returned) AS returned,
    SUM(late) AS late,
    SUM(complaints) AS complaints,
    (
      SUM((
        late
      )) FILTER(WHERE
        NOT (
          delivered
        ) IS NULL)
    ) AS late_with_delivered,
    (
      SUM((
        returned
      )) FILTER(WHERE
        NOT (
          delivered
        ) IS NULL)
    ) AS returned_with_delivered
  FROM days
  GROUP BY ALL
), region_totals AS (
  SELECT
    quarter_start,
    region,
    SUM(collected) AS region_collected
  FROM totals
  GROUP BY ALL
), final AS (
  SELECT
    (
      CASE
        WHEN (
          :fiscal_start_month
        ) = 1
        THEN DATE_FORMAT((
          t.quarter_start
        ), 'yyyy') || 'Q' || QUARTER((
          t.quarter_start
        ))
        ELSE 'FY' || CAST((
          YEAR((
            t.quarter_start
          ) - MAKE_YM_INTERVAL(0, (
            :fiscal_start_month
          ) - 1)) + 1
        ) AS STRING) || 'Q' || QUARTER((
          t.quarter_start
        ) - MAKE_YM_INTERVAL(0, (
          :fiscal_start_month
        ) - 1))
      END
    ) AS quarter,
    t.courier,
    t.region,
    CAST(t.collected AS BIGINT) AS collected,
    CAST(t.delivered AS BIGINT) AS delivered,
    CAST(t.returned AS BIGINT) AS returned,
    CAST(t.late AS BIGINT) AS late,
    CAST(t.complaints AS BIGINT) AS complaints,
    (
      (
        CASE
          WHEN (
            (
              r.region_collected
            )
          ) IS NULL
          OR (
            (
              r.region_collected
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              t.collected
            )
          ) AS DOUBLE) / CAST((
            (
              r.region_collected
            )
          ) AS DOUBLE)
        END
      )
    ) AS collected_share,
    p.peak_day,
    p.peak_day_collected,
    (
      (
        CASE
          WHEN (
            (
              p.days_covered
            )
          ) IS NULL OR (
            (
              p.days_covered
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              t.collected
            )
          ) AS DOUBLE) / CAST((
            (
              p.days_covered
            )
          ) AS DOUBLE)
        END
      )
    ) AS avg_daily_collected,
    (
      (
        CASE
          WHEN (
            (
              (
                (
                  CASE
                    WHEN (
                      (
                        p.days_covered
                      )
                    ) IS NULL OR (
                      (
                        p.days_covered
                      )
                    ) = 0
                    THEN NULL
                    ELSE CAST((
                      (
                        t.collected
                      )
                    ) AS DOUBLE) / CAST((
                      (
                        p.days_covered
                      )
                    ) AS DOUBLE)
                  END
                )
              )
            )
          ) IS NULL
          OR (
            (
              (
                (
                  CASE
                    WHEN (
                      (
                        p.days_covered
                      )
                    ) IS NULL OR (
                      (
                        p.days_covered
                      )
                    ) = 0
                    THEN NULL
                    ELSE CAST((
                      (
                        t.collected
                      )
                    ) AS DOUBLE) / CAST((
                      (
                        p.days_covered
                      )
                    ) AS DOUBLE)
                  END
                )
              )
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              p.peak_day_collected
            )
          ) AS DOUBLE) / CAST((
            (
              (
                (
                  CASE
                    WHEN (
                      (
                        p.days_covered
                      )
                    ) IS NULL OR (
                      (
                        p.days_covered
                      )
                    ) = 0
                    THEN NULL
                    ELSE CAST((
                      (
                        t.collected
                      )
                    ) AS DOUBLE) / CAST((
                      (
                        p.days_covered
                      )
                    ) AS DOUBLE)
                  END
                )
              )
            )
          ) AS DOUBLE)
        END
      )
    ) AS peak_ratio,
    (
      (
        CASE
          WHEN (
            (
              t.delivered
            )
          ) IS NULL OR (
            (
              t.delivered
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              t.late_with_delivered
            )
          ) AS DOUBLE) / CAST((
            (
              t.delivered
            )
          ) AS DOUBLE)
        END
      )
    ) AS late_rate,
    (
      (
        CASE
          WHEN (
            (
              t.delivered
            )
          ) IS NULL OR (
            (
              t.delivered
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              t.returned_with_delivered
            )
          ) AS DOUBLE) / CAST((
            (
              t.delivered
            )
          ) AS DOUBLE)
        END
      )
    ) AS return_rate
  FROM totals AS t
  JOIN peaks AS p
    USING (quarter_start, courier, region)
  JOIN region_totals AS r
    USING (quarter_start, region)
  ORDER BY
    t.quarter_start NULLS LAST,
    t.courier NULLS LAST,
    t.region NULLS LAST
)
SELECT
  *
FROM final
