-- Up Migration
-- The transactional outbox (services/shared/src/outbox.ts; generated from OUTBOX_MIGRATION_SQL, do not edit).
-- id orders publishing; an aggregate's rows are published in id order (message_key = order id).
CREATE TABLE outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id uuid NOT NULL,
  topic text NOT NULL,
  message_key text NOT NULL,
  event_type text NOT NULL,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  sent_at timestamptz,
  CONSTRAINT outbox_event_id_key UNIQUE (event_id)
);
-- The relay's scan: unsent rows in id order, and "is an earlier row of this key still unsent?".
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_unsent_key_idx ON outbox (message_key, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Consumers: events already applied (processOnce), kept longer than the topics' retention.
CREATE TABLE processed_events (
  event_id uuid PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE processed_events;
DROP TABLE outbox;
