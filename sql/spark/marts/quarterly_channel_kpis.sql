-- Generated from sql/marts/quarterly_channel_kpis.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view mart_rows
WITH traffic AS (
  SELECT
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
    ) AS quarter_start,
    shop_id,
    channel_group,
    channel,
    SUM(pv) AS pv,
    SUM(uv) AS uv_days,
    SUM(ad_spend) AS ad_spend
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
  GROUP BY ALL
), orders AS (
  SELECT
    quarter_start,
    shop_id,
    channel_group,
    channel,
    gmv,
    paid_buyers,
    buyer_days
  FROM staging__channel_quarters
  WHERE
    quarter_start IN (
      SELECT
        quarter_start
      FROM build_quarters
    )
), shop_traffic AS (
  SELECT
    quarter_start,
    shop_id,
    SUM(uv_days) AS shop_uv_days
  FROM traffic
  GROUP BY ALL
), channels AS (
  SELECT
    quarter_start,
    shop_id,
    channel_group,
    channel
  FROM traffic
  UNION
  SELECT
    quarter_start,
    shop_id,
    channel_group,
    channel
  FROM orders
), final AS (
  SELECT
    (
      CASE
        WHEN (
          :fiscal_start_month
        ) = 1
        THEN DATE_FORMAT((
          k.quarter_start
        ), 'yyyy') || 'Q' || QUARTER((
          k.quarter_start
        ))
        ELSE 'FY' || CAST((
          YEAR((
            k.quarter_start
          ) - MAKE_YM_INTERVAL(0, (
            :fiscal_start_month
          ) - 1)) + 1
        ) AS STRING) || 'Q' || QUARTER((
          k.quarter_start
        ) - MAKE_YM_INTERVAL(0, (
          :fiscal_start_month
        ) - 1))
      END
    ) AS quarter,
    k.shop_id,
    k.channel_group,
    k.channel,
    CAST(COALESCE(t.pv, 0) AS BIGINT) AS pv,
    CAST(COALESCE(t.uv_days, 0) AS BIGINT) AS uv_days,
    (
      (
        CASE
          WHEN (
            (
              s.shop_uv_days
            )
          ) IS NULL OR (
            (
              s.shop_uv_days
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              COALESCE(t.uv_days, 0)
            )
          ) AS DOUBLE) / CAST((
            (
              s.shop_uv_days
            )
          ) AS DOUBLE)
        END
      )
    ) AS uv_share,
    CAST(COALESCE(t.ad_spend, 0) AS DECIMAL(18, 2)) AS ad_spend,
    CAST(COALESCE(o.gmv, 0) AS DECIMAL(18, 2)) AS gmv,
    COALESCE(o.paid_buyers, 0) AS paid_buyers,
    COALESCE(o.buyer_days, 0) AS buyer_days,
    (
      (
        CASE
          WHEN (
            (
              COALESCE(t.uv_days, 0)
            )
          ) IS NULL
          OR (
            (
              COALESCE(t.uv_days, 0)
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              COALESCE(o.buyer_days, 0)
            )
          ) AS DOUBLE) / CAST((
            (
              COALESCE(t.uv_days, 0)
            )
          ) AS DOUBLE)
        END
      )
    ) AS conversion_rate,
    (
      (
        CASE
          WHEN (
            (
              COALESCE(t.ad_spend, 0)
            )
          ) IS NULL
          OR (
            (
              COALESCE(t.ad_spend, 0)
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              COALESCE(o.gmv, 0)
            )
          ) AS DOUBLE) / CAST((
            (
              COALESCE(t.ad_spend, 0)
            )
          ) AS DOUBLE)
        END
      )
    ) AS roi
  FROM channels AS k
  LEFT JOIN traffic AS t
    USING (quarter_start, shop_id, channel_group, channel)
  LEFT JOIN orders AS o
    USING (quarter_start, shop_id, channel_group, channel)
  LEFT JOIN shop_traffic AS s
    USING (quarter_start, shop_id)
  ORDER BY
    k.quarter_start NULLS LAST,
    k.shop_id NULLS LAST,
    k.channel_group NULLS LAST,
    k.channel NULLS LAST
)
SELECT
  *
FROM final
