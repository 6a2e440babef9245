-- Up Migration
-- A payment holds its order while it charges (services/README.md "Orders and payments"): status
-- 'paying' with payment_id naming the payment, set before any money moves; a cancel is refused
-- while it stands, and only that payment's outcome ends it (paid, or back to pending).
ALTER TABLE orders DROP CONSTRAINT orders_status_known;
ALTER TABLE orders ADD CONSTRAINT orders_status_known CHECK (status IN ('pending', 'paying', 'paid', 'fulfilled', 'cancelled'));
ALTER TABLE orders DROP CONSTRAINT orders_paid_has_payment;
ALTER TABLE orders ADD CONSTRAINT orders_paid_has_payment CHECK (status IN ('pending', 'paying', 'cancelled') OR paid_by_event IS NOT NULL);
ALTER TABLE orders ADD CONSTRAINT orders_paying_has_payment CHECK (status <> 'paying' OR payment_id IS NOT NULL);

-- Down Migration
UPDATE orders SET status = 'pending', payment_id = NULL WHERE status = 'paying';
ALTER TABLE orders DROP CONSTRAINT orders_paying_has_payment;
ALTER TABLE orders DROP CONSTRAINT orders_paid_has_payment;
ALTER TABLE orders ADD CONSTRAINT orders_paid_has_payment CHECK (status IN ('pending', 'cancelled') OR paid_by_event IS NOT NULL);
ALTER TABLE orders DROP CONSTRAINT orders_status_known;
ALTER TABLE orders ADD CONSTRAINT orders_status_known CHECK (status IN ('pending', 'paid', 'fulfilled', 'cancelled'));
