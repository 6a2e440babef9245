-- Up Migration
-- The spec's ER diagram: payments (an order is "paid by" at most one successful payment).
-- order_id and user_id live in other services' databases, so they are not foreign keys here.
CREATE TABLE payments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL,
  user_id uuid NOT NULL,
  -- Exact decimal, never a float; the currency's minor units are checked by the service.
  amount numeric(12, 2) NOT NULL,
  currency char(3) NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  provider text NOT NULL,
  -- The provider's PaymentIntent id once it answered; the refund's id once refunded.
  provider_reference text,
  refund_reference text,
  failure_reason text,
  -- Idempotency-Key of the request that created the row, unique per user, and a hash of the
  -- request's body: the same key with a different body is refused, not replayed.
  idempotency_key text NOT NULL,
  request_fingerprint text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT payments_idempotency_key_key UNIQUE (user_id, idempotency_key),
  CONSTRAINT payments_amount_positive CHECK (amount > 0),
  CONSTRAINT payments_currency_code CHECK (currency ~ '^[A-Z]{3}$'),
  CONSTRAINT payments_status_known CHECK (status IN ('pending', 'authorized', 'captured', 'failed', 'refunded')),
  CONSTRAINT payments_failed_has_reason CHECK ((status = 'failed') = (failure_reason IS NOT NULL)),
  CONSTRAINT payments_success_has_reference CHECK (status IN ('pending', 'failed') OR provider_reference IS NOT NULL),
  CONSTRAINT payments_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 255)
);

-- At most one successful payment per order: the backstop behind the service's order lock.
CREATE UNIQUE INDEX payments_one_success_per_order ON payments (order_id) WHERE status IN ('authorized', 'captured');
CREATE INDEX payments_order_id_idx ON payments (order_id);

-- Down Migration
DROP TABLE payments;
