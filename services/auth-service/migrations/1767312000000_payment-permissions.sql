-- Customers pay and read their own payments under their own namespace, as they do orders
-- (the gateway asks payments:create on users/<sub>/payments and payments:read on
-- users/<sub>/payments/<id>; payment-service still checks that the order and payment are theirs).

-- Up Migration
INSERT INTO actions (name, description) VALUES ('payments:create', 'pay an order');

INSERT INTO permissions (action_pattern, resource_pattern) VALUES
  ('payments:create', 'users/{self}/payments'),
  ('payments:read', 'users/{self}/payments/*');

INSERT INTO role_permissions (role, permission_id)
  SELECT 'customer', id FROM permissions
  WHERE (action_pattern, resource_pattern) IN (('payments:create', 'users/{self}/payments'), ('payments:read', 'users/{self}/payments/*'));

-- Down Migration
DELETE FROM permissions
  WHERE (action_pattern, resource_pattern) IN (('payments:create', 'users/{self}/payments'), ('payments:read', 'users/{self}/payments/*'));
DELETE FROM actions WHERE name = 'payments:create';
