-- Generated from sql/marts/quarterly_shop_kpis.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view mart_rows
WITH read_quarters AS (
  SELECT
    quarter_start
  FROM build_quarters
  UNION
  SELECT
    CAST((
      quarter_start - INTERVAL '3' MONTH
    ) AS DATE)
  FROM build_quarters
  UNION
  SELECT
    CAST((
      quarter_start - INTERVAL '12' MONTH
    ) AS DATE)
  FROM build_quarters
), buyer_kpis AS (
  SELECT
    shop_id,
    quarter_start,
    (
      COUNT((
        buyer_key
      ))
    ) AS paid_buyers,
    (
      COALESCE(SUM((
        paid_days
      )), 0)
    ) AS buyer_days,
    (
      COUNT(*) FILTER(WHERE
        (
          paid_days
        ) >= 2)
    ) AS repeat_buyers,
    (
      COUNT(*) FILTER(WHERE
        (
          first_quarter_start
        ) < (
          quarter_start
        ))
    ) AS returning_buyers
  FROM staging__buyer_quarters
  WHERE
    quarter_start IN (
      SELECT
        quarter_start
      FROM build_quarters
    )
  GROUP BY
    shop_id,
    quarter_start
), order_kpis AS (
  SELECT
    shop_id,
    quarter_start,
    (
      CAST(COALESCE(SUM((
        gmv
      )), 0) AS DECIMAL(18, 2))
    ) AS gmv,
    (
      CAST(COALESCE(SUM((
        refund_amount
      )), 0) AS DECIMAL(18, 2))
    ) AS refund_amount,
    (
      CAST(COALESCE(SUM((
        paid_orders
      )), 0) AS BIGINT)
    ) AS paid_orders,
    (
      CAST(COALESCE(SUM((
        gmv
      )) FILTER(WHERE
        (
          is_mobile
        )), 0) AS DECIMAL(18, 2))
    ) AS mobile_gmv,
    (
      SUM((
        gmv
      )) FILTER(WHERE
        NOT (
          is_mobile
        ) IS NULL)
    ) AS device_known_gmv
  FROM staging__paid_days
  WHERE
    quarter_start IN (
      SELECT
        quarter_start
      FROM read_quarters
    )
  GROUP BY
    shop_id,
    quarter_start
), traffic_kpis AS (
  SELECT
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
    ) AS quarter_start,
    SUM(pv) AS pv,
    SUM(uv) AS uv_days,
    (
      SUM((
        bounced_visits
      ))
    ) AS bounced_visits,
    (
      SUM((
        visits
      )) FILTER(WHERE
        NOT (
          bounced_visits
        ) IS NULL)
    ) AS bounce_base_visits,
    (
      SUM((
        uv
      )) FILTER(WHERE
        (
          device
        ) = 'mobile')
    ) AS mobile_uv_days,
    (
      SUM((
        uv
      )) FILTER(WHERE
        (
          device
        ) IN ('mobile', 'pc'))
    ) AS device_uv_days,
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
      FROM read_quarters
    )
  GROUP BY
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
), target_kpis AS (
  SELECT
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
    ) AS quarter_start,
    CASE WHEN COUNT(DISTINCT month) = 3 THEN SUM(target_gmv) END AS target_gmv
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
      FROM read_quarters
    )
  GROUP BY
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
), shop_quarters AS (
  SELECT
    shop_id,
    quarter_start
  FROM order_kpis
  UNION
  SELECT
    shop_id,
    quarter_start
  FROM traffic_kpis
  UNION
  SELECT
    shop_id,
    quarter_start
  FROM target_kpis
), base AS (
  SELECT
    k.quarter_start,
    k.shop_id,
    CAST(COALESCE(o.gmv, 0) AS DECIMAL(18, 2)) AS gmv,
    CAST(COALESCE(o.refund_amount, 0) AS DECIMAL(18, 2)) AS refund_amount,
    COALESCE(o.paid_orders, 0) AS paid_orders,
    COALESCE(b.paid_buyers, 0) AS paid_buyers,
    CAST(COALESCE(b.buyer_days, 0) AS BIGINT) AS buyer_days,
    CAST(COALESCE(t.pv, 0) AS BIGINT) AS pv,
    CAST(COALESCE(t.uv_days, 0) AS BIGINT) AS uv_days,
    t.bounced_visits,
    t.bounce_base_visits,
    t.mobile_uv_days,
    t.device_uv_days,
    o.mobile_gmv,
    o.device_known_gmv,
    COALESCE(b.repeat_buyers, 0) AS repeat_buyers,
    COALESCE(b.returning_buyers, 0) AS returning_buyers,
    CAST(COALESCE(t.ad_spend, 0) AS DECIMAL(18, 2)) AS ad_spend,
    CAST(g.target_gmv AS DECIMAL(18, 2)) AS target_gmv
  FROM shop_quarters AS k
  LEFT JOIN order_kpis AS o
    USING (shop_id, quarter_start)
  LEFT JOIN buyer_kpis AS b
    USING (shop_id, quarter_start)
  LEFT JOIN traffic_kpis AS t
    USING (shop_id, quarter_start)
  LEFT JOIN target_kpis AS g
    USING (shop_id, quarter_start)
), final AS (
  SELECT
    (
      CASE
        WHEN (
          :fiscal_start_month
        ) = 1
        THEN DATE_FORMAT((
          cur.quarter_start
        ), 'yyyy') || 'Q' || QUARTER((
          cur.quarter_start
        ))
        ELSE 'FY' || CAST((
          YEAR((
            cur.quarter_start
          ) - MAKE_YM_INTERVAL(0, (
            :fiscal_start_month
          ) - 1)) + 1
        ) AS STRING) || 'Q' || QUARTER((
          cur.quarter_start
        ) - MAKE_YM_INTERVAL(0, (
          :fiscal_start_month
        ) - 1))
      END
    ) AS quarter,
    cur.shop_id,
    cur.gmv,
    cur.refund_amount,
    (
      CAST((
        (
          cur.gmv
        ) - (
          cur.refund_amount
        )
      ) AS DECIMAL(18, 2))
    ) AS net_sales,
    (
      (
        CASE
          WHEN (
            (
              cur.gmv
            )
          ) IS NULL OR (
            (
              cur.gmv
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.refund_amount
            )
          ) AS DOUBLE) / CAST((
            (
              cur.gmv
            )
          ) AS DOUBLE)
        END
      )
    ) AS refund_rate,
    cur.paid_orders,
    cur.paid_buyers,
    (
      (
        CASE
          WHEN (
            (
              cur.paid_buyers
            )
          ) IS NULL OR (
            (
              cur.paid_buyers
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.gmv
            )
          ) AS DOUBLE) / CAST((
            (
              cur.paid_buyers
            )
          ) AS DOUBLE)
        END
      )
    ) AS aov,
    (
      (
        CASE
          WHEN (
            (
              cur.paid_orders
            )
          ) IS NULL OR (
            (
              cur.paid_orders
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.gmv
            )
          ) AS DOUBLE) / CAST((
            (
              cur.paid_orders
            )
          ) AS DOUBLE)
        END
      )
    ) AS avg_order_value,
    cur.buyer_days,
    cur.pv,
    cur.uv_days,
    (
      (
        CASE
          WHEN (
            (
              cur.uv_days
            )
          ) IS NULL OR (
            (
              cur.uv_days
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.buyer_days
            )
          ) AS DOUBLE) / CAST((
            (
              cur.uv_days
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
              cur.uv_days
            )
          ) IS NULL OR (
            (
              cur.uv_days
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.gmv
            )
          ) AS DOUBLE) / CAST((
            (
              cur.uv_days
            )
          ) AS DOUBLE)
        END
      )
    ) AS uv_value,
    (
      (
        CASE
          WHEN (
            (
              cur.bounce_base_visits
            )
          ) IS NULL
          OR (
            (
              cur.bounce_base_visits
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.bounced_visits
            )
          ) AS DOUBLE) / CAST((
            (
              cur.bounce_base_visits
            )
          ) AS DOUBLE)
        END
      )
    ) AS bounce_rate,
    (
      (
        CASE
          WHEN (
            (
              cur.device_uv_days
            )
          ) IS NULL
          OR (
            (
              cur.device_uv_days
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.mobile_uv_days
            )
          ) AS DOUBLE) / CAST((
            (
              cur.device_uv_days
            )
          ) AS DOUBLE)
        END
      )
    ) AS mobile_uv_share,
    (
      (
        CASE
          WHEN (
            (
              cur.device_known_gmv
            )
          ) IS NULL
          OR (
            (
              cur.device_known_gmv
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            COALESCE((
              cur.mobile_gmv
            ), 0)
          ) AS DOUBLE) / CAST((
            (
              cur.device_known_gmv
            )
          ) AS DOUBLE)
        END
      )
    ) AS mobile_gmv_share,
    cur.repeat_buyers,
    (
      (
        CASE
          WHEN (
            (
              cur.paid_buyers
            )
          ) IS NULL OR (
            (
              cur.paid_buyers
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.repeat_buyers
            )
          ) AS DOUBLE) / CAST((
            (
              cur.paid_buyers
            )
          ) AS DOUBLE)
        END
      )
    ) AS repurchase_rate,
    cur.returning_buyers,
    (
      (
        cur.paid_buyers
      ) - (
        cur.returning_buyers
      )
    ) AS new_buyers,
    cur.ad_spend,
    (
      (
        CASE
          WHEN (
            (
              cur.ad_spend
            )
          ) IS NULL OR (
            (
              cur.ad_spend
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.gmv
            )
          ) AS DOUBLE) / CAST((
            (
              cur.ad_spend
            )
          ) AS DOUBLE)
        END
      )
    ) AS roi,
    cur.target_gmv,
    (
      (
        CASE
          WHEN (
            (
              cur.target_gmv
            )
          ) IS NULL OR (
            (
              cur.target_gmv
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.gmv
            )
          ) AS DOUBLE) / CAST((
            (
              cur.target_gmv
            )
          ) AS DOUBLE)
        END
      )
    ) AS target_completion,
    (
      (
        CASE
          WHEN (
            (
              prev.gmv
            )
          ) IS NULL OR (
            (
              prev.gmv
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.gmv
            )
          ) AS DOUBLE) / CAST((
            (
              prev.gmv
            )
          ) AS DOUBLE)
        END
      ) - 1
    ) AS gmv_qoq,
    (
      (
        CASE
          WHEN (
            (
              last_year.gmv
            )
          ) IS NULL OR (
            (
              last_year.gmv
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              cur.gmv
            )
          ) AS DOUBLE) / CAST((
            (
              last_year.gmv
            )
          ) AS DOUBLE)
        END
      ) - 1
    ) AS gmv_yoy
  FROM base AS cur
  LEFT JOIN base AS prev
    ON prev.shop_id = cur.shop_id
    AND prev.quarter_start = CAST((
      cur.quarter_start - INTERVAL '3' MONTH
    ) AS DATE)
  LEFT JOIN base AS last_year
    ON last_year.shop_id = cur.shop_id
    AND last_year.quarter_start = CAST((
      cur.quarter_start - INTERVAL '12' MONTH
    ) AS DATE)
  WHERE
    cur.quarter_start IN (
      SELECT
        quarter_start
      FROM build_quarters
    )
  ORDER BY
    cur.quarter_start NULLS LAST,
    cur.shop_id NULLS LAST
)
SELECT
  *
FROM final
