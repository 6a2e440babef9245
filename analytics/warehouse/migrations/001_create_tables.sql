-- The analytics warehouse (issue 9): tables the Flink job (analytics/) upserts into. Runs unchanged
-- on PostgreSQL 15 and Amazon Redshift: explicit VARCHAR(n) (bytes on Redshift), NUMERIC(p,s),
-- BIGINT, TIMESTAMP in UTC, informational primary keys (the job upserts by them: DELETE + INSERT).
-- Columns and keys must match analytics/src/main/java/platform/analytics/WarehouseTable.java.
CREATE SCHEMA IF NOT EXISTS analytics;

-- Every de-duplicated event, as received.
CREATE TABLE IF NOT EXISTS analytics.raw_events (
  event_id VARCHAR(36) NOT NULL,
  topic VARCHAR(249) NOT NULL,
  type VARCHAR(64) NOT NULL,
  order_id VARCHAR(36) NOT NULL,
  occurred_at TIMESTAMP NOT NULL,
  schema_version INTEGER NOT NULL,
  payload VARCHAR(65535) NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset BIGINT NOT NULL,
  PRIMARY KEY (event_id)
);

-- Records the job could not accept (not JSON, missing envelope fields, unknown schemaVersion, bad money).
CREATE TABLE IF NOT EXISTS analytics.rejected_events (
  topic VARCHAR(249) NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset BIGINT NOT NULL,
  kafka_timestamp TIMESTAMP,
  reason VARCHAR(1024) NOT NULL,
  raw_value VARCHAR(65535),
  PRIMARY KEY (topic, kafka_partition, kafka_offset)
);

-- Orders and money per currency: orders and order_value from order.created, captured and
-- refunded from payment.captured and payment.refunded. Sums are NUMERIC(20,2): events carry at
-- most 2 fraction digits (0 for JPY).
CREATE TABLE IF NOT EXISTS analytics.revenue_per_minute (
  bucket_start TIMESTAMP NOT NULL,
  currency VARCHAR(3) NOT NULL,
  orders BIGINT NOT NULL,
  order_value NUMERIC(20,2) NOT NULL,
  captured NUMERIC(20,2) NOT NULL,
  refunded NUMERIC(20,2) NOT NULL,
  PRIMARY KEY (bucket_start, currency)
);

CREATE TABLE IF NOT EXISTS analytics.revenue_per_hour (
  bucket_start TIMESTAMP NOT NULL,
  currency VARCHAR(3) NOT NULL,
  orders BIGINT NOT NULL,
  order_value NUMERIC(20,2) NOT NULL,
  captured NUMERIC(20,2) NOT NULL,
  refunded NUMERIC(20,2) NOT NULL,
  PRIMARY KEY (bucket_start, currency)
);

-- Payment outcomes: succeeded = payment.captured, failed = payment.failed; success_rate is
-- succeeded / (succeeded + failed) rounded half-even to 4 places, NULL without outcomes.
CREATE TABLE IF NOT EXISTS analytics.payment_outcomes_per_minute (
  bucket_start TIMESTAMP NOT NULL,
  succeeded BIGINT NOT NULL,
  failed BIGINT NOT NULL,
  success_rate NUMERIC(5,4),
  PRIMARY KEY (bucket_start)
);

CREATE TABLE IF NOT EXISTS analytics.payment_outcomes_per_hour (
  bucket_start TIMESTAMP NOT NULL,
  succeeded BIGINT NOT NULL,
  failed BIGINT NOT NULL,
  success_rate NUMERIC(5,4),
  PRIMARY KEY (bucket_start)
);

-- One row per order: when it was created, paid and fulfilled, and the latencies between (NULL
-- until both ends are known).
CREATE TABLE IF NOT EXISTS analytics.order_funnel (
  order_id VARCHAR(36) NOT NULL,
  created_at TIMESTAMP,
  paid_at TIMESTAMP,
  fulfilled_at TIMESTAMP,
  created_to_paid_ms BIGINT,
  paid_to_fulfilled_ms BIGINT,
  created_to_fulfilled_ms BIGINT,
  PRIMARY KEY (order_id)
);
