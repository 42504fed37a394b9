-- Generated from sql/marts/quarterly_campaign_kpis.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view mart_rows
WITH campaign_days AS (
  SELECT
    campaign,
    start_date,
    EXPLODE(CAST(SEQUENCE(start_date, end_date, INTERVAL '1' DAY) AS ARRAY<DATE>)) AS day
  FROM staging__campaigns
), built_campaign_days AS (
  SELECT
    *
  FROM campaign_days
  SEMI JOIN (
    SELECT DISTINCT
      campaign,
      start_date
    FROM campaign_days
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
  )
    USING (campaign, start_date)
), any_campaign_day AS (
  SELECT DISTINCT
    day
  FROM campaign_days
), shop_quarters AS (
  SELECT DISTINCT
    shop_id,
    quarter_start
  FROM staging__paid_days
  WHERE
    quarter_start IN (
      SELECT
        quarter_start
      FROM build_quarters
    )
  UNION
  SELECT DISTINCT
    shop_id,
    (
      MAKE_DATE(
        (
          (
            YEAR((
              date
            )) * 12 + MONTH((
              date
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
              date
            )) * 12 + MONTH((
              date
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
  FROM staging__traffic
  WHERE
    (
      MAKE_DATE(
        (
          (
            YEAR((
              date
            )) * 12 + MONTH((
              date
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
              date
            )) * 12 + MONTH((
              date
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
  UNION
  SELECT DISTINCT
    shop_id,
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
    )
  FROM staging__targets
  WHERE
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
    ) IN (
      SELECT
        quarter_start
      FROM build_quarters
    )
), shops AS (
  SELECT DISTINCT
    shop_id
  FROM shop_quarters
), baseline_days AS (
  SELECT DISTINCT
    c.campaign,
    c.start_date,
    CAST((
      c.start_date - CAST(offset_days AS INT)
    ) AS DATE) AS day
  FROM (
    SELECT DISTINCT
      campaign,
      start_date
    FROM built_campaign_days
  ) AS c, (
    SELECT
      EXPLODE(SEQUENCE(1, 28)) AS offset_days
  ) AS r
  WHERE
    NOT CAST((
      c.start_date - CAST(offset_days AS INT)
    ) AS DATE) IN (
      SELECT
        day
      FROM any_campaign_day
    )
), daily_sales AS (
  SELECT
    shop_id,
    paid_day AS day,
    (
      CAST(COALESCE(SUM((
        gmv
      )), 0) AS DECIMAL(18, 2))
    ) AS gmv,
    (
      CAST(COALESCE(SUM((
        paid_orders
      )), 0) AS BIGINT)
    ) AS paid_orders
  FROM staging__paid_days
  WHERE
    paid_day IN (
      SELECT
        day
      FROM built_campaign_days
      UNION
      SELECT
        day
      FROM baseline_days
    )
  GROUP BY ALL
), baseline AS (
  SELECT
    s.shop_id,
    b.campaign,
    b.start_date,
    (
      (
        CASE
          WHEN (
            COUNT(*)
          ) IS NULL OR (
            COUNT(*)
          ) = 0
          THEN NULL
          ELSE CAST((
            COALESCE(SUM((
              d.gmv
            )), 0)
          ) AS DOUBLE) / CAST((
            COUNT(*)
          ) AS DOUBLE)
        END
      )
    ) AS baseline_daily_gmv
  FROM shops AS s
  CROSS JOIN baseline_days AS b
  LEFT JOIN daily_sales AS d
    ON d.shop_id = s.shop_id AND d.day = b.day
  GROUP BY ALL
), collected AS (
  SELECT
    day,
    SUM(collected) AS collected
  FROM staging__courier_days
  WHERE
    day IN (
      SELECT
        day
      FROM built_campaign_days
    )
  GROUP BY ALL
), campaign_quarters AS (
  SELECT
    s.shop_id,
    c.campaign,
    c.start_date,
    (
      MAKE_DATE(
        (
          (
            YEAR((
              c.day
            )) * 12 + MONTH((
              c.day
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
              c.day
            )) * 12 + MONTH((
              c.day
            )) - (
              :fiscal_start_month
            )
          ) DIV 3 * 3 + (
            :fiscal_start_month
          ) - 1
        ) % 12 + 1,
        1
      )
    ) AS quarter_start,
    COUNT(*) AS campaign_days,
    CAST(COALESCE(SUM(d.gmv), 0) AS DECIMAL(18, 2)) AS gmv,
    COALESCE(SUM(d.paid_orders), 0) AS paid_orders,
    CAST(COALESCE(SUM(p.collected), 0) AS BIGINT) AS collected
  FROM shops AS s
  CROSS JOIN built_campaign_days AS c
  LEFT JOIN daily_sales AS d
    ON d.shop_id = s.shop_id AND d.day = c.day
  LEFT JOIN collected AS p
    ON p.day = c.day
  GROUP BY ALL
), final AS (
  SELECT
    (
      CASE
        WHEN (
          :fiscal_start_month
        ) = 1
        THEN DATE_FORMAT((
          q.quarter_start
        ), 'yyyy') || 'Q' || QUARTER((
          q.quarter_start
        ))
        ELSE 'FY' || CAST((
          YEAR((
            q.quarter_start
          ) - MAKE_YM_INTERVAL(0, (
            :fiscal_start_month
          ) - 1)) + 1
        ) AS STRING) || 'Q' || QUARTER((
          q.quarter_start
        ) - MAKE_YM_INTERVAL(0, (
          :fiscal_start_month
        ) - 1))
      END
    ) AS quarter,
    q.shop_id,
    q.campaign,
    q.campaign_days,
    q.gmv,
    q.paid_orders,
    b.baseline_daily_gmv,
    (
      (
        CASE
          WHEN (
            (
              b.baseline_daily_gmv
            )
          ) IS NULL
          OR (
            (
              b.baseline_daily_gmv
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              CASE
                WHEN (
                  (
                    q.campaign_days
                  )
                ) IS NULL OR (
                  (
                    q.campaign_days
                  )
                ) = 0
                THEN NULL
                ELSE CAST((
                  (
                    q.gmv
                  )
                ) AS DOUBLE) / CAST((
                  (
                    q.campaign_days
                  )
                ) AS DOUBLE)
              END
            )
          ) AS DOUBLE) / CAST((
            (
              b.baseline_daily_gmv
            )
          ) AS DOUBLE)
        END
      )
    ) AS uplift,
    q.collected
  FROM campaign_quarters AS q
  SEMI JOIN shop_quarters AS s
    USING (shop_id, quarter_start)
  LEFT JOIN baseline AS b
    USING (shop_id, campaign, start_date)
  ORDER BY
    q.quarter_start NULLS LAST,
    q.shop_id NULLS LAST,
    q.start_date NULLS LAST,
    q.campaign NULLS LAST
)
SELECT
  *
FROM final
