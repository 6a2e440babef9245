-- Hourly funnel latency: per hour (of the step's start) and step, how many orders completed the
-- step and the average, median and 95th percentile of its latency in ms. Redshift requires every
-- PERCENTILE_CONT of a statement to order by the same expression, so the steps are unpivoted
-- into one latency_ms column first. Casts keep the result types equal on PostgreSQL and Redshift
-- (Redshift's AVG of BIGINT would truncate to an integer).
CREATE OR REPLACE VIEW analytics.order_funnel_latency_hourly AS
SELECT
  hour_start,
  step,
  COUNT(*) AS orders,
  CAST(AVG(latency_ms) AS NUMERIC(20,1)) AS avg_ms,
  CAST(PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY latency_ms) AS NUMERIC(20,1)) AS p50_ms,
  CAST(PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY latency_ms) AS NUMERIC(20,1)) AS p95_ms
FROM (
  SELECT DATE_TRUNC('hour', created_at) AS hour_start, CAST('created_to_paid' AS VARCHAR(32)) AS step,
         CAST(created_to_paid_ms AS DOUBLE PRECISION) AS latency_ms
  FROM analytics.order_funnel WHERE created_to_paid_ms IS NOT NULL
  UNION ALL
  SELECT DATE_TRUNC('hour', paid_at), CAST('paid_to_fulfilled' AS VARCHAR(32)),
         CAST(paid_to_fulfilled_ms AS DOUBLE PRECISION)
  FROM analytics.order_funnel WHERE paid_to_fulfilled_ms IS NOT NULL
  UNION ALL
  SELECT DATE_TRUNC('hour', created_at), CAST('created_to_fulfilled' AS VARCHAR(32)),
         CAST(created_to_fulfilled_ms AS DOUBLE PRECISION)
  FROM analytics.order_funnel WHERE created_to_fulfilled_ms IS NOT NULL
) AS steps
GROUP BY hour_start, step;
