-- Generated from sql/staging/paid_orders.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__paid_orders
SELECT
  *
FROM (
  SELECT
    shop_id,
    order_id,
    b.buyer_key,
    paid_at,
    CAST(paid_at AS DATE) AS paid_day,
    (
      MAKE_DATE(
        (
          (
            YEAR((
              paid_at
            )) * 12 + MONTH((
              paid_at
            )) - (
              (
                :fiscal_start_month
              )
            )
          ) DIV 3 * 3 + (
            (
              :fiscal_start_month
            )
          ) - 1
        ) DIV 12,
        (
          (
            YEAR((
              paid_at
            )) * 12 + MONTH((
              paid_at
            )) - (
              (
                :fiscal_start_month
              )
            )
          ) DIV 3 * 3 + (
            (
              :fiscal_start_month
            )
          ) - 1
        ) % 12 + 1,
        1
      )
    ) AS quarter_start,
    (
      CASE
        WHEN (
          (
            :fiscal_start_month
          )
        ) = 1
        THEN DATE_FORMAT(
          (
            (
              MAKE_DATE(
                (
                  (
                    YEAR((
                      paid_at
                    )) * 12 + MONTH((
                      paid_at
                    )) - (
                      (
                        :fiscal_start_month
                      )
                    )
                  ) DIV 3 * 3 + (
                    (
                      :fiscal_start_month
                    )
                  ) - 1
                ) DIV 12,
                (
                  (
                    YEAR((
                      paid_at
                    )) * 12 + MONTH((
                      paid_at
                    )) - (
                      (
                        :fiscal_start_month
                      )
                    )
                  ) DIV 3 * 3 + (
                    (
                      :fiscal_start_month
                    )
                  ) - 1
                ) % 12 + 1,
                1
              )
            )
          ),
          'yyyy'
        ) || 'Q' || QUARTER(
          (
            (
              MAKE_DATE(
                (
                  (
                    YEAR((
                      paid_at
                    )) * 12 + MONTH((
                      paid_at
                    )) - (
                      (
                        :fiscal_start_month
                      )
                    )
                  ) DIV 3 * 3 + (
                    (
                      :fiscal_start_month
                    )
                  ) - 1
                ) DIV 12,
                (
                  (
                    YEAR((
                      paid_at
                    )) * 12 + MONTH((
                      paid_at
                    )) - (
                      (
                        :fiscal_start_month
                      )
                    )
                  ) DIV 3 * 3 + (
                    (
                      :fiscal_start_month
                    )
                  ) - 1
                ) % 12 + 1,
                1
              )
            )
          )
        )
        ELSE 'FY' || CAST((
          YEAR(
            (
              (
                MAKE_DATE(
                  (
                    (
                      YEAR((
                        paid_at
                      )) * 12 + MONTH((
                        paid_at
                      )) - (
                        (
                          :fiscal_start_month
                        )
                      )
                    ) DIV 3 * 3 + (
                      (
                        :fiscal_start_month
                      )
                    ) - 1
                  ) DIV 12,
                  (
                    (
                      YEAR((
                        paid_at
                      )) * 12 + MONTH((
                        paid_at
                      )) - (
                        (
                          :fiscal_start_month
                        )
                      )
                    ) DIV 3 * 3 + (
                      (
                        :fiscal_start_month
                      )
                    ) - 1
                  ) % 12 + 1,
                  1
                )
              )
            ) - MAKE_YM_INTERVAL(0, (
              (
                :fiscal_start_month
              )
            ) - 1)
          ) + 1
        ) AS STRING) || 'Q' || QUARTER(
          (
            (
              MAKE_DATE(
                (
                  (
                    YEAR((
                      paid_at
                    )) * 12 + MONTH((
                      paid_at
                    )) - (
                      (
                        :fiscal_start_month
                      )
                    )
                  ) DIV 3 * 3 + (
                    (
                      :fiscal_start_month
                    )
                  ) - 1
                ) DIV 12,
                (
                  (
                    YEAR((
                      paid_at
                    )) * 12 + MONTH((
                      paid_at
                    )) - (
                      (
                        :fiscal_start_month
                      )
                    )
                  ) DIV 3 * 3 + (
                    (
                      :fiscal_start_month
                    )
                  ) - 1
                ) % 12 + 1,
                1
              )
            )
          ) - MAKE_YM_INTERVAL(0, (
            (
              :fiscal_start_month
            )
          ) - 1)
        )
      END
    ) AS quarter,
    paid_amount,
    refund_amount,
    item_count,
    is_mobile,
    category,
    channel,
    channel_group,
    province,
    city,
    district,
    rural_station_id
  FROM staging__orders AS o
  LEFT JOIN staging__buyers AS b
    ON b.buyer_id = o.buyer_id
  WHERE
    NOT paid_at IS NULL
) AS paid_order_rows
