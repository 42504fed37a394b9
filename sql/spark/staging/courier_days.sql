-- Generated from sql/staging/courier_days.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__courier_days
WITH days AS (
  SELECT
    c.*,
    DATEDIFF(DAY, c.period_start, c.period_end) + 1 AS period_days,
    EXPLODE(
      IF(
        (
          DATEDIFF(DAY, c.period_start, c.period_end) + 2 - 1
        ) < 1,
        ARRAY(),
        SEQUENCE(1, (
          DATEDIFF(DAY, c.period_start, c.period_end) + 2 - 1
        ))
      )
    ) AS day_number
  FROM staging__courier AS c
), final AS (
  SELECT
    CAST((
      period_start + CAST((
        day_number - 1
      ) AS INT)
    ) AS DATE) AS day,
    courier,
    region,
    (
      (
        (
          2 * (
            collected
          ) * (
            day_number
          ) + (
            period_days
          )
        ) DIV (
          2 * (
            period_days
          )
        )
      )
    ) - (
      (
        (
          2 * (
            collected
          ) * (
            day_number - 1
          ) + (
            period_days
          )
        ) DIV (
          2 * (
            period_days
          )
        )
      )
    ) AS collected,
    CAST(collected AS DOUBLE) / period_days AS collected_even,
    (
      (
        (
          2 * (
            delivered
          ) * (
            day_number
          ) + (
            period_days
          )
        ) DIV (
          2 * (
            period_days
          )
        )
      )
    ) - (
      (
        (
          2 * (
            delivered
          ) * (
            day_number - 1
          ) + (
            period_days
          )
        ) DIV (
          2 * (
            period_days
          )
        )
      )
    ) AS delivered,
    (
      (
        (
          2 * (
            returned
          ) * (
            day_number
          ) + (
            period_days
          )
        ) DIV (
          2 * (
            period_days
          )
        )
      )
    ) - (
      (
        (
          2 * (
            returned
          ) * (
            day_number - 1
          ) + (
            period_days
          )
        ) DIV (
          2 * (
            period_days
          )
        )
      )
    ) AS returned,
    (
      (
        (
          2 * (
            late
          ) * (
            day_number
          ) + (
            period_days
          )
        ) DIV (
          2 * (
            period_days
          )
        )
      )
    ) - (
      (
        (
          2 * (
            late
          ) * (
            day_number - 1
          ) + (
            period_days
          )
        ) DIV (
          2 * (
            period_days
          )
        )
      )
    ) AS late,
    (
      (
        (
          2 * (
            complaints
          ) * (
            day_number
          ) + (
            period_days
          )
        ) DIV (
          2 * (
            period_days
          )
        )
      )
    ) - (
      (
        (
          2 * (
            complaints
          ) * (
            day_number - 1
          ) + (
            period_days
          )
        ) DIV (
          2 * (
            period_days
          )
        )
      )
    ) AS complaints,
    period_start,
    period_end
  FROM days
)
SELECT
  *
FROM final
