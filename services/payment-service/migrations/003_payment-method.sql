-- Up Migration
-- The provider's payment method token (Stripe PaymentMethod id, pm_...; no card data) of the
-- request that created the payment: recovery finishes a payment that a crash or an outage left
-- pending or authorized, without the client (services/README.md "Orders and payments").
ALTER TABLE payments ADD COLUMN payment_method text;
-- Recovery's scan: unfinished payments, oldest change first.
CREATE INDEX payments_unfinished_idx ON payments (updated_at) WHERE status IN ('pending', 'authorized');

-- Down Migration
DROP INDEX payments_unfinished_idx;
ALTER TABLE payments DROP COLUMN payment_method;
