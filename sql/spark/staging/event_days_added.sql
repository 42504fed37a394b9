-- Generated from sql/staging/event_days_added.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view event_days_added
SELECT
  e.date,
  (
    MAKE_DATE(
      (
        (
          YEAR((
            e.date
          )) * 12 + MONTH((
            e.date
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
            e.date
          )) * 12 + MONTH((
            e.date
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
  COALESCE(s.shop_id, e.shop_id) AS shop_id,
  e.user_key,
  e.pv,
  e.cart,
  e.fav,
  e.buy,
  e.file_name
FROM event_day_source AS e
LEFT JOIN staging__shops AS s
  ON s.alias = e.shop_id
