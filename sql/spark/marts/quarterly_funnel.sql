-- Generated from sql/marts/quarterly_funnel.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view mart_rows
WITH users AS (
  SELECT
    shop_id,
    quarter_start,
    CAST(SUM(pv) AS BIGINT) AS pv,
    (
      COUNT((
        user_key
      ))
    ) AS uv,
    (
      COUNT(*) FILTER(WHERE
        (
          cart
        ) > 0)
    ) AS cart_users,
    (
      COUNT(*) FILTER(WHERE
        (
          fav
        ) > 0)
    ) AS fav_users,
    (
      COUNT(*) FILTER(WHERE
        (
          buy
        ) > 0)
    ) AS buyers,
    (
      COUNT(*) FILTER(WHERE
        (
          buy_days
        ) >= 2)
    ) AS repeat_buyers
  FROM staging__event_user_quarters
  WHERE
    quarter_start IN (
      SELECT
        quarter_start
      FROM build_quarters
    )
  GROUP BY
    shop_id,
    quarter_start
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
    shop_id,
    pv,
    uv,
    cart_users,
    fav_users,
    buyers,
    (
      (
        CASE
          WHEN (
            (
              uv
            )
          ) IS NULL OR (
            (
              uv
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              buyers
            )
          ) AS DOUBLE) / CAST((
            (
              uv
            )
          ) AS DOUBLE)
        END
      )
    ) AS conversion_rate,
    repeat_buyers,
    (
      (
        CASE
          WHEN (
            (
              buyers
            )
          ) IS NULL OR (
            (
              buyers
            )
          ) = 0
          THEN NULL
          ELSE CAST((
            (
              repeat_buyers
            )
          ) AS DOUBLE) / CAST((
            (
              buyers
            )
          ) AS DOUBLE)
        END
      )
    ) AS repurchase_rate
  FROM users
  ORDER BY
    quarter_start NULLS LAST,
    shop_id NULLS LAST
)
SELECT
  *
FROM final
