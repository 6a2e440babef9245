-- Up Migration
-- The spec's ER diagram: orders (id, user_id, total, status) and order_items. user_id refers to
-- user-service's users, which live in another database: no SQL foreign key can span it, so
-- the gateway's verified x-subject is the owner. Money is NUMERIC(12,2), never a float; the
-- total is computed by the service from the items with integer arithmetic and stored here.
CREATE TABLE orders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  total numeric(12,2) NOT NULL,
  currency char(3) NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  -- The payment that paid the order (payment-service's id) and its payment.captured event.
  payment_id text,
  paid_by_event uuid,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT orders_total_positive CHECK (total > 0),
  CONSTRAINT orders_currency_code CHECK (currency ~ '^[A-Z]{3}$'),
  CONSTRAINT orders_status_known CHECK (status IN ('pending', 'paid', 'fulfilled', 'cancelled')),
  CONSTRAINT orders_paid_has_payment CHECK (status IN ('pending', 'cancelled') OR paid_by_event IS NOT NULL)
);

-- ListOrders pages newest first by (created_at, id), per user or across all users (admins).
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);

CREATE TABLE order_items (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  position smallint NOT NULL,
  product_id text NOT NULL,
  quantity integer NOT NULL,
  unit_price numeric(12,2) NOT NULL,
  CONSTRAINT order_items_position_key UNIQUE (order_id, position),
  CONSTRAINT order_items_product_id_length CHECK (char_length(product_id) BETWEEN 1 AND 100),
  CONSTRAINT order_items_quantity_range CHECK (quantity BETWEEN 1 AND 10000),
  CONSTRAINT order_items_unit_price_positive CHECK (unit_price > 0)
);

-- Down Migration
DROP TABLE order_items;
DROP TABLE orders;
