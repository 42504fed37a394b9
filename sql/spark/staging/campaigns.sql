-- Generated from sql/staging/campaigns.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__campaigns
WITH user_rows AS (
  SELECT
    campaign,
    start_date,
    end_date,
    ROW_NUMBER() OVER (PARTITION BY campaign, YEAR(start_date) ORDER BY file_name DESC, line DESC) AS version_rank
  FROM lake_campaigns
), user_campaigns AS (
  SELECT
    campaign,
    start_date,
    end_date,
    'reference/campaigns.csv' AS defined_in
  FROM user_rows
  WHERE
    version_rank = 1
), defaults AS (
  SELECT
    d.campaign,
    d.start_date,
    d.end_date,
    'default' AS defined_in
  FROM default_campaigns AS d
  ANTI JOIN user_campaigns AS u
    ON u.campaign = d.campaign AND YEAR(u.start_date) = YEAR(d.start_date)
), final AS (
  SELECT
    *
  FROM user_campaigns
  UNION ALL
  SELECT
    *
  FROM defaults
)
SELECT
  *
FROM final
ORDER BY
  start_date NULLS LAST,
  campaign NULLS LAST
